import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { sha256Digest } from '../core/digest.ts';
import { buildLayer, groundTruthEntries, type TestLayer } from '../scan/inventory/test-layers.ts';
import { SCAN_REMATCH_JOB } from '../scan/service.ts';
import { expectedFindings, VULNDB_FIXTURES } from '../scan/testing.ts';
import { importVulnDb } from '../scan/vulndb/import.ts';
import { createTestEcr, TEST_ACCOUNT, type TestEcr } from './test-context.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const DAY = 24 * 3600 * 1000;

let t: TestEcr;
let alpine: TestLayer;
let npm: TestLayer;
const expected = expectedFindings();

before(async () => {
  alpine = await buildLayer(groundTruthEntries('alpine-3.20'));
  npm = await buildLayer(groundTruthEntries('npm'));
});
beforeEach(async () => {
  t = await createTestEcr();
  await t.call('CreateRepository', { repositoryName: 'app' });
  await importVulnDb(join(VULNDB_FIXTURES, 'osv', 'alpine'), { store: t.meta.scan, clock: t.clock });
});
afterEach(async () => {
  await t.close();
});
after(() => undefined);

async function putBlob(b: Buffer): Promise<{ digest: string; size: number }> {
  await t.registry.putBlob('app', sha256Digest(b), Readable.from([b]), b.length);
  return { digest: sha256Digest(b), size: b.length };
}

/** Pushes an image of the given layers (PutImage) and returns its digest. */
async function pushImage(tag: string | undefined, layers: TestLayer[], extra: Record<string, unknown> = {}): Promise<{ digest: string; size: number; text: string }> {
  const config = await putBlob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, tag })));
  for (const l of layers) await putBlob(l.blob);
  const text = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.blob.length })),
    ...extra,
  });
  await t.call('PutImage', { repositoryName: 'app', imageManifest: text, ...(tag ? { imageTag: tag } : {}) });
  return { digest: sha256Digest(text), size: Buffer.byteLength(text), text };
}

async function findingsOf(imageId: Record<string, string>, maxResults = 1000): Promise<{ name: string; severity: string; attributes: { key: string; value: string }[] }[]> {
  const out: any[] = [];
  let nextToken: string | undefined;
  for (let i = 0; i < 100; i++) {
    const page = await t.call('DescribeImageScanFindings', { repositoryName: 'app', imageId, maxResults, ...(nextToken ? { nextToken } : {}) });
    out.push(...((page.imageScanFindings as any)?.findings ?? []));
    nextToken = page.nextToken as string | undefined;
    if (!nextToken) break;
  }
  return out;
}

const attr = (f: { attributes: { key: string; value: string }[] }, key: string) => f.attributes.find((a) => a.key === key)?.value;

describe('StartImageScan and DescribeImageScanFindings', () => {
  it('scans in a job; basic findings equal the ground truth; paginated; ECR statuses and errors', async () => {
    await pushImage('v1', [alpine]);
    const before = await t.fail('DescribeImageScanFindings', { repositoryName: 'app', imageId: { imageTag: 'v1' } });
    assert.equal(before.type, 'ScanNotFoundException');
    assert.match(before.message, /Image scan does not exist for the image with '\{imageDigest:'null', imageTag:'v1'\}' in the repository with name 'app' in the registry with id '123456789012'/);

    const started = await t.call('StartImageScan', { repositoryName: 'app', imageId: { imageTag: 'v1' } });
    assert.equal((started.imageScanStatus as any).status, 'IN_PROGRESS');
    assert.equal((started.imageId as any).imageTag, 'v1');
    const pending = await t.call('DescribeImageScanFindings', { repositoryName: 'app', imageId: { imageTag: 'v1' } });
    assert.equal((pending.imageScanStatus as any).status, 'IN_PROGRESS');
    assert.equal(pending.imageScanFindings, undefined);

    assert.equal(await t.jobs.drain(), 1);
    const findings = await findingsOf({ imageTag: 'v1' }, 3);
    const want = expected['alpine-3.20'].flatMap((e: any) => e.osv_ids.map((x: any) => `${e.package} ${e.version} ${x.id} ${x.fixed_version}`)).sort();
    assert.deepEqual(findings.map((f) => `${attr(f, 'package_name')} ${attr(f, 'package_version')} ${f.name} ${attr(f, 'fixed_version')}`).sort(), want);
    for (const f of findings) assert.ok(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED'].includes(f.severity));

    const first = await t.call('DescribeImageScanFindings', { repositoryName: 'app', imageId: { imageTag: 'v1' }, maxResults: 2 });
    assert.equal((first.imageScanStatus as any).status, 'COMPLETE');
    const summary = first.imageScanFindings as any;
    assert.equal(typeof summary.imageScanCompletedAt, 'number');
    assert.equal(typeof summary.vulnerabilitySourceUpdatedAt, 'number');
    assert.equal(Object.values(summary.findingSeverityCounts as Record<string, number>).reduce((a, b) => a + b, 0), findings.length);
    assert.equal(summary.findings.length, 2);
    assert.ok(first.nextToken);

    const limited = await t.fail('StartImageScan', { repositoryName: 'app', imageId: { imageTag: 'v1' } });
    assert.deepEqual(limited, { type: 'LimitExceededException', message: 'The scan quota per image has been exceeded. Wait and try again.' });
    t.clock.advance(DAY);
    assert.equal(((await t.call('StartImageScan', { repositoryName: 'app', imageId: { imageTag: 'v1' } })).imageScanStatus as any).status, 'IN_PROGRESS');

    const missing = await t.fail('StartImageScan', { repositoryName: 'app', imageId: { imageTag: 'nope' } });
    assert.equal(missing.type, 'ImageNotFoundException');
    const noId = await t.fail('StartImageScan', { repositoryName: 'app', imageId: {} });
    assert.equal(noId.type, 'InvalidParameterException');
  });

  it('DescribeImages carries imageScanStatus and imageScanFindingsSummary', async () => {
    const img = await pushImage('v1', [alpine]);
    await pushImage('v2', [npm]);
    await t.call('StartImageScan', { repositoryName: 'app', imageId: { imageDigest: img.digest } });
    await t.jobs.drain();
    const out = await t.call('DescribeImages', { repositoryName: 'app' });
    const details = out.imageDetails as any[];
    const scanned = details.find((d) => d.imageDigest === img.digest);
    assert.equal(scanned.imageScanStatus.status, 'COMPLETE');
    assert.ok(Object.keys(scanned.imageScanFindingsSummary.findingSeverityCounts).length > 0);
    const other = details.find((d) => d.imageDigest !== img.digest);
    assert.equal(other.imageScanStatus, undefined);
  });

  it('an index scans each platform image and reports their union; artifacts are unsupported', async () => {
    const a = await pushImage(undefined, [alpine]);
    const b = await pushImage(undefined, [npm]);
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { mediaType: OCI_MANIFEST, digest: a.digest, size: a.size, platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: OCI_MANIFEST, digest: b.digest, size: b.size, platform: { os: 'linux', architecture: 'arm64' } },
      ],
    });
    await t.call('PutImage', { repositoryName: 'app', imageManifest: index, imageTag: 'multi' });
    await t.call('StartImageScan', { repositoryName: 'app', imageId: { imageTag: 'multi' } });
    await t.jobs.drain();
    const names = new Set((await findingsOf({ imageTag: 'multi' })).map((f) => attr(f, 'package_name')));
    const alpinePackages = expected['alpine-3.20'].filter((e: any) => e.osv_ids.length > 0).map((e: any) => e.package);
    assert.deepEqual([...names].sort(), [...new Set<string>(alpinePackages)].sort(), 'the amd64 (Alpine) platform\'s findings');
    // npm advisories were not imported: the arm64 image has none; importing them and re-matching adds them.
    await importVulnDb(join(VULNDB_FIXTURES, 'osv', 'npm'), { store: t.meta.scan, clock: t.clock });
    await t.jobs.enqueue(SCAN_REMATCH_JOB, 'registry', {}, { runAt: t.clock.now() });
    await t.jobs.drain();
    const after = new Set((await findingsOf({ imageTag: 'multi' })).map((f) => attr(f, 'package_name')));
    assert.ok(after.has('lodash') && after.has('axios') && after.has('busybox'), 're-matched from stored inventories (both platforms)');

    const artifact = await pushImage('sbom', [alpine], { artifactType: 'application/vnd.example+json' });
    const unsupported = await t.fail('StartImageScan', { repositoryName: 'app', imageId: { imageDigest: artifact.digest } });
    assert.equal(unsupported.type, 'UnsupportedImageTypeException');
  });
});

describe('scanning configuration', () => {
  it('Put/GetRegistryScanningConfiguration, BatchGetRepositoryScanningConfiguration, scan on push', async () => {
    assert.deepEqual(await t.call('GetRegistryScanningConfiguration'), { registryId: TEST_ACCOUNT, scanningConfiguration: { scanType: 'BASIC', rules: [] } });
    const bad = await t.fail('PutRegistryScanningConfiguration', { scanType: 'BASIC', rules: [{ scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: [{ filter: 'app', filterType: 'WILDCARD' }] }] });
    assert.equal(bad.type, 'ValidationException');
    const badFilter = await t.fail('PutRegistryScanningConfiguration', { rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: 'UPPER', filterType: 'WILDCARD' }] }] });
    assert.equal(badFilter.type, 'ValidationException');
    const put = await t.call('PutRegistryScanningConfiguration', { scanType: 'BASIC', rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: 'ap*', filterType: 'WILDCARD' }] }] });
    assert.deepEqual(put, { registryScanningConfiguration: { scanType: 'BASIC', rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: 'ap*', filterType: 'WILDCARD' }] }] } });
    await t.call('CreateRepository', { repositoryName: 'other' });
    const batch = await t.call('BatchGetRepositoryScanningConfiguration', { repositoryNames: ['app', 'other', 'missing'] });
    assert.deepEqual(batch.scanningConfigurations, [
      { repositoryArn: `arn:aws:ecr:us-east-1:${TEST_ACCOUNT}:repository/app`, repositoryName: 'app', scanOnPush: true, scanFrequency: 'SCAN_ON_PUSH', appliedScanFilters: [{ filter: 'ap*', filterType: 'WILDCARD' }] },
      { repositoryArn: `arn:aws:ecr:us-east-1:${TEST_ACCOUNT}:repository/other`, repositoryName: 'other', scanOnPush: false, scanFrequency: 'MANUAL', appliedScanFilters: [] },
    ]);
    assert.deepEqual(batch.failures, [{ repositoryName: 'missing', failureCode: 'REPOSITORY_NOT_FOUND', failureReason: 'REPOSITORY_NOT_FOUND' }]);

    // The push enqueues the scan in its own transaction.
    await pushImage('pushed', [alpine]);
    const status = await t.call('DescribeImageScanFindings', { repositoryName: 'app', imageId: { imageTag: 'pushed' } });
    assert.equal((status.imageScanStatus as any).status, 'IN_PROGRESS');
    await t.jobs.drain();
    assert.ok((await findingsOf({ imageTag: 'pushed' })).length > 0);

    // ENHANCED: Inspector-shaped findings with the package, fixed-in version and fix availability.
    await t.call('PutRegistryScanningConfiguration', { scanType: 'ENHANCED', rules: [{ scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: [{ filter: '*', filterType: 'WILDCARD' }] }] });
    const enhanced = await t.call('DescribeImageScanFindings', { repositoryName: 'app', imageId: { imageTag: 'pushed' } });
    const ef = (enhanced.imageScanFindings as any).enhancedFindings as any[];
    const busybox = ef.find((f) => f.packageVulnerabilityDetails.vulnerabilityId === 'CVE-2023-42364' && f.packageVulnerabilityDetails.vulnerablePackages[0].name === 'busybox');
    assert.equal(busybox.fixAvailable, 'YES');
    assert.equal(busybox.packageVulnerabilityDetails.vulnerablePackages[0].fixedInVersion, '1.36.1-r29');
    assert.equal(busybox.type, 'PACKAGE_VULNERABILITY');
    assert.equal(busybox.resources[0].details.awsEcrContainerImage.repositoryName, 'app');
  });
});
