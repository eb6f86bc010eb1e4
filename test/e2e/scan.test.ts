/**
 * Vulnerability scanning end to end on the real server: the advisory fixtures imported with the CLI
 * (`cargohold vulndb import`), images whose layers the test writes from the ground-truth inputs (Debian 12
 * with npm, PyPI and Go layers on top; Alpine 3.20) pushed over /v2/, scanned through the ECR API with the AWS
 * CLI v2 (start-image-scan, `wait image-scan-complete`, describe-image-scan-findings, describe-images) and with
 * `cargohold scan` / `cargohold sbom --attach`; findings equal expected-findings.json. A docker-pushed image
 * (the busybox rootfs image, and the same rootfs with Alpine's package database) is scanned the same way.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ecrCli } from '../helpers/aws-cli.ts';
import { assertAvailable, hasDocker, skipUnless, startDockerd, type RunningDockerd } from '../helpers/dockerd.ts';
import { BUSYBOX_BIN, hasBusybox, importBusyboxImage } from '../helpers/images.ts';
import { OciClient } from '../helpers/oci-client.ts';
import { startCargohold, type RunningServer } from '../helpers/server.ts';
import { buildLayer, buildTar, groundTruthEntries, type TestLayer } from '../../src/scan/inventory/test-layers.ts';
import { expectedFindings, VULNDB_FIXTURES } from '../../src/scan/testing.ts';
import { readFileSync } from 'node:fs';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const expected = expectedFindings();

let s: RunningServer;
let oci: OciClient;
const { cli } = ecrCli(() => s);

/** `cargohold …` against the server's data directory; resolves with exit code, stdout and stderr. */
async function cargohold(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'bin/cargohold.js'), ...args, '--data-dir', s.dataDir], { cwd: ROOT, env: { ...process.env, CARGOHOLD_LOG_LEVEL: 'warn' }, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: Number(err.code), stdout: String(err.stdout ?? ''), stderr: String(err.stderr ?? '') };
  }
}

const AWS_CLI_BIN = '/usr/bin/aws';
function awsEnv(): NodeJS.ProcessEnv {
  const c = s.credentials!;
  return { PATH: process.env.PATH, HOME: process.env.HOME, AWS_ACCESS_KEY_ID: c.accessKeyId, AWS_SECRET_ACCESS_KEY: c.secretAccessKey, AWS_DEFAULT_REGION: c.region, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_PAGER: '' };
}

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Pushes an image of `layers` over /v2/; returns its manifest digest. */
async function pushImage(repo: string, tag: string, layers: TestLayer[]): Promise<string> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) }, config: {} }));
  await oci.pushBlob(repo, config);
  for (const l of layers) await oci.pushBlob(repo, l.blob);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.blob.length })),
  }));
  const res = await oci.putManifest(repo, tag, manifest, OCI_MANIFEST);
  assert.equal(res.status, 201, res.text());
  return sha256(manifest);
}

interface BasicFinding { name: string; severity: string; uri?: string; attributes: { key: string; value: string }[] }
const attr = (f: BasicFinding, key: string) => f.attributes.find((a) => a.key === key)?.value;
const basicKey = (f: BasicFinding) => `${attr(f, 'package_name')} ${attr(f, 'package_version')} ${f.name} ${attr(f, 'fixed_version') ?? 'unfixed'}`;

/** StartImageScan, `aws ecr wait image-scan-complete`, then every finding (the CLI paginates). */
async function scanWithAwsCli(repo: string, tag: string): Promise<{ findings: BasicFinding[]; counts: Record<string, number> }> {
  const started = await cli(['start-image-scan', '--repository-name', repo, '--image-id', `imageTag=${tag}`]);
  assert.ok(started.ok, !started.ok ? started.stderr : '');
  assert.equal(started.json.imageScanStatus.status, 'IN_PROGRESS');
  const waited = await cli(['wait', 'image-scan-complete', '--repository-name', repo, '--image-id', `imageTag=${tag}`]);
  assert.ok(waited.ok, !waited.ok ? waited.stderr : '');
  const out = await cli(['describe-image-scan-findings', '--repository-name', repo, '--image-id', `imageTag=${tag}`, '--page-size', '50']);
  assert.ok(out.ok, !out.ok ? out.stderr : '');
  assert.equal(out.json.imageScanStatus.status, 'COMPLETE');
  return { findings: out.json.imageScanFindings.findings ?? [], counts: out.json.imageScanFindings.findingSeverityCounts ?? {} };
}

/** What expected-findings.json says one Debian/Alpine image must report, as `package version id fixed`. */
function expectedDistro(kind: 'debian-12' | 'alpine-3.20'): string[] {
  if (kind === 'debian-12') {
    return expected['debian-12'].flatMap((e: any) => [
      ...e.fixed.map((x: any) => `${e.binary} ${e.binary_version} ${x.id} ${x.fixed_version}`),
      ...e.unfixed.map((x: any) => `${e.binary} ${e.binary_version} ${x.id} unfixed`),
    ]).sort();
  }
  return expected['alpine-3.20'].flatMap((e: any) => e.osv_ids.map((x: any) => `${e.package} ${e.version} ${x.id} ${x.fixed_version}`)).sort();
}

/** Checks language findings (JSON report: id + aliases) against expected ids and fixed versions per package. */
function checkLanguage(findings: any[], key: 'npm' | 'pypi' | 'go', nameField: string, versionOf: (v: string) => string): void {
  for (const e of expected[key]) {
    const mine = findings.filter((f) => f.package === e[nameField] && versionOf(f.version) === e.version);
    const ids = new Set<string>(e.ids.map((x: any) => x.id));
    const covered = new Set(mine.flatMap((f) => [f.id, ...f.aliases]).filter((x) => ids.has(x)));
    assert.deepEqual([...covered].sort(), [...ids].sort(), `${key} ${e[nameField]} ${e.version}`);
    for (const f of mine) {
      const fixes = e.ids.filter((x: any) => x.id === f.id || f.aliases.includes(x.id)).map((x: any) => x.fixed_version ?? 'unfixed');
      assert.ok(fixes.length > 0 && fixes.includes(f.fixedVersion ?? 'unfixed'), `${e[nameField]} ${f.id} fixed ${f.fixedVersion}`);
    }
  }
}

before(async () => {
  s = await startCargohold({ env: { CARGOHOLD_LOG_LEVEL: 'warn' } });
  oci = new OciClient(s.url, { authorization: s.authorization });
  for (const d of ['debian-12', 'alpine', 'npm', 'pypi', 'go']) {
    const r = await cargohold(['vulndb', 'import', join(VULNDB_FIXTURES, 'osv', d)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^imported \d+ advisories/);
  }
}, { timeout: 300_000 });
after(async () => {
  await s?.stop();
});

describe('vulnerability scanning end to end', { timeout: 600_000 }, () => {
  it('vulndb status shows the database and its age', async () => {
    const r = await cargohold(['vulndb', 'status', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const st = JSON.parse(r.stdout);
    assert.equal(st.generation, 5);
    assert.ok(st.advisories > 4000);
    assert.ok(st.ecosystems.some((e: any) => e.ecosystem === 'Debian:12') && st.ecosystems.some((e: any) => e.ecosystem === 'Alpine:v3.20'));
    assert.equal(typeof st.ageSeconds, 'number');
    const text = await cargohold(['vulndb', 'status']);
    assert.match(text.stdout, /^updated \S+ \(\d+ \w+ ago\) from /);
  });

  it('a Debian 12 image with npm, PyPI and Go layers: the ECR API (aws cli) and `cargohold scan` report expected-findings.json', { timeout: 300_000 }, async () => {
    const layers = [
      await buildLayer(groundTruthEntries('debian-12'), 'gzip'),
      await buildLayer(groundTruthEntries('npm'), 'zstd'),
      await buildLayer(groundTruthEntries('pypi'), 'none'),
      await buildLayer(groundTruthEntries('go'), 'gzip'),
    ];
    await pushImage('scan/app', 'v1', layers);
    const { findings, counts } = await scanWithAwsCli('scan/app', 'v1');
    const distro = findings.filter((f) => attr(f, 'package_name') && expected['debian-12'].some((e: any) => e.binary === attr(f, 'package_name')));
    assert.deepEqual(distro.map(basicKey).sort(), expectedDistro('debian-12'));
    assert.equal(Object.values(counts).reduce((a, b) => a + b, 0), findings.length);
    assert.ok(findings.every((f) => ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED'].includes(f.severity)));
    const openssh = findings.find((f) => f.name === 'CVE-2024-6387' && attr(f, 'package_name') === 'openssh-client');
    assert.equal(attr(openssh!, 'fixed_version'), '1:9.2p1-2+deb12u3');

    // The CLI reuses the server's scan (same database generation): same findings, richer JSON.
    const json = await cargohold(['scan', 'scan/app:v1', '--format', 'json']);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout);
    assert.deepEqual(report.findings.map((f: any) => `${f.package} ${f.version} ${f.id} ${f.fixedVersion ?? 'unfixed'}`).sort(), findings.map(basicKey).sort());
    checkLanguage(report.findings, 'npm', 'name', (v) => v);
    checkLanguage(report.findings, 'pypi', 'name', (v) => v);
    checkLanguage(report.findings, 'go', 'module', (v) => v.replace(/^v/, ''));
    // PyPI GHSA/PYSEC pairs that name each other are one finding.
    for (const e of expected.pypi) {
      const mine = report.findings.filter((f: any) => f.package === e.name && f.version === e.version);
      assert.equal(mine.length, e.alias_groups.length, `${e.name}: one finding per alias group`);
    }

    const table = await cargohold(['scan', 'scan/app:v1']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^SEVERITY\s+ID\s+PACKAGE\s+INSTALLED\s+FIXED$/m);
    assert.match(table.stdout, /\bCVE-2024-6387\s+openssh-client\s+1:9\.2p1-2\s+1:9\.2p1-2\+deb12u3$/m);
    assert.match(table.stdout, /\bCVE-2023-45853\s+zlib1g\s+1:1\.2\.13\.dfsg-1\s+\(unfixed\)$/m);

    const gate = await cargohold(['scan', 'scan/app:v1', '--fail-on', 'critical', '--format', 'sarif']);
    assert.equal(gate.code, 3, 'a CRITICAL finding fails the gate');
    const sarif = JSON.parse(gate.stdout);
    assert.equal(sarif.version, '2.1.0');
    assert.equal(sarif.runs[0].results.length, findings.length);
    assert.ok(sarif.runs[0].tool.driver.rules.some((r: any) => r.id === 'CVE-2024-6387'));
    const bad = await cargohold(['scan', 'scan/app:v1', '--fail-on', 'SEVERE']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--fail-on must be one of/);

    const cdx = await cargohold(['scan', 'scan/app:v1', '--format', 'cyclonedx']);
    const bom = JSON.parse(cdx.stdout);
    assert.equal(bom.bomFormat, 'CycloneDX');
    assert.ok(bom.components.some((c: any) => c.purl?.startsWith('pkg:deb/debian/libssl3@3.0.9-1')));
    const refs = new Set(bom.components.map((c: any) => c['bom-ref']));
    for (const v of bom.vulnerabilities) for (const a of v.affects) assert.ok(refs.has(a.ref), `${v.id} affects a component of the BOM`);
  });

  it('an Alpine 3.20 image; DescribeImages shows the status and summary; the SBOM is attached as a referrer', { timeout: 300_000 }, async () => {
    const digest = await pushImage('scan/alpine', '3.20', [await buildLayer(groundTruthEntries('alpine-3.20'))]);
    const { findings } = await scanWithAwsCli('scan/alpine', '3.20');
    assert.deepEqual(findings.map(basicKey).sort(), expectedDistro('alpine-3.20'));
    const again = await cli(['start-image-scan', '--repository-name', 'scan/alpine', '--image-id', 'imageTag=3.20']);
    assert.ok(!again.ok && again.stderr.includes('LimitExceededException'), 'once per image per 24 hours');

    const images = await cli(['describe-images', '--repository-name', 'scan/alpine']);
    assert.ok(images.ok);
    const detail = images.json.imageDetails[0];
    assert.equal(detail.imageScanStatus.status, 'COMPLETE');
    assert.equal(Object.values(detail.imageScanFindingsSummary.findingSeverityCounts as Record<string, number>).reduce((a, b) => a + b, 0), findings.length);

    const sbom = await cargohold(['sbom', 'scan/alpine:3.20', '--attach']);
    assert.equal(sbom.code, 0, sbom.stderr);
    assert.ok(JSON.parse(sbom.stdout).components.some((c: any) => c.name === 'busybox'));
    const referrers = await oci.request('GET', `/v2/scan/alpine/referrers/${digest}`);
    assert.equal(referrers.status, 200);
    const listed = referrers.json().manifests as any[];
    assert.equal(listed.length, 1);
    assert.equal(listed[0].artifactType, 'application/vnd.cyclonedx+json');
    const viaEcr = await cli(['list-image-referrers', '--repository-name', 'scan/alpine', '--subject-id', `imageDigest=${digest}`]);
    if (viaEcr.ok) assert.equal(viaEcr.json.referrers?.[0]?.artifactType, 'application/vnd.cyclonedx+json');
  });

  it('registry scanning rules: scan on push, and GetRegistryScanningConfiguration / BatchGetRepositoryScanningConfiguration', { timeout: 120_000 }, async () => {
    const put = await cli(['put-registry-scanning-configuration', '--scan-type', 'BASIC', '--rules', JSON.stringify([{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: 'scan/push*', filterType: 'WILDCARD' }] }])]);
    assert.ok(put.ok, !put.ok ? put.stderr : '');
    const got = await cli(['get-registry-scanning-configuration']);
    assert.ok(got.ok);
    assert.equal(got.json.scanningConfiguration.rules[0].scanFrequency, 'SCAN_ON_PUSH');
    await pushImage('scan/pushed', 'v1', [await buildLayer(groundTruthEntries('alpine-3.20'))]);
    const batch = await cli(['batch-get-repository-scanning-configuration', '--repository-names', 'scan/pushed', 'scan/app']);
    assert.ok(batch.ok);
    assert.deepEqual(batch.json.scanningConfigurations.map((c: any) => [c.repositoryName, c.scanFrequency]), [['scan/pushed', 'SCAN_ON_PUSH'], ['scan/app', 'MANUAL']]);
    const waited = await cli(['wait', 'image-scan-complete', '--repository-name', 'scan/pushed', '--image-id', 'imageTag=v1']);
    assert.ok(waited.ok, !waited.ok ? waited.stderr : '');
    const out = await cli(['describe-image-scan-findings', '--repository-name', 'scan/pushed', '--image-id', 'imageTag=v1']);
    assert.ok(out.ok);
    assert.deepEqual(out.json.imageScanFindings.findings.map(basicKey).sort(), expectedDistro('alpine-3.20'));
  });
});

describe('a docker-pushed image is scanned end to end', { skip: skipUnless(hasDocker()) || skipUnless(hasBusybox()), timeout: 400_000 }, () => {
  let dockerd: RunningDockerd;
  let work: string;

  before(async () => {
    assertAvailable(hasDocker());
    assertAvailable(hasBusybox());
    dockerd = await startDockerd();
    work = await mkdtemp(join(tmpdir(), 'cargohold-scan-'));
    // docker login with the password GetAuthorizationToken issues (what `aws ecr get-login-password` prints).
    const login = await run(AWS_CLI_BIN, ['--endpoint-url', s.url, 'ecr', 'get-login-password'], { env: awsEnv() });
    await dockerd.docker(['login', '--username', 'AWS', '--password-stdin', s.host], { input: login.stdout.trim() });
  }, { timeout: 120_000 });
  after(async () => {
    await dockerd?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  }, { timeout: 60_000 });

  it('the busybox rootfs image (no package database) completes with no findings; with Alpine\'s package database it reports the Alpine findings', { timeout: 300_000 }, async () => {
    await importBusyboxImage(dockerd, 'cargohold-test/busybox:1');
    const plain = `${s.host}/scan/docker:busybox`;
    await dockerd.docker(['tag', 'cargohold-test/busybox:1', plain]);
    await dockerd.docker(['push', plain], { timeoutMs: 120_000 });
    const busybox = await scanWithAwsCli('scan/docker', 'busybox');
    assert.deepEqual(busybox.findings, []);
    const table = await cargohold(['scan', 'scan/docker:busybox', '--fail-on', 'LOW']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /0 vulnerabilities/);

    // The same rootfs plus /etc/os-release and /lib/apk/db/installed of the Alpine ground truth, `docker import`ed.
    const tarPath = join(work, 'alpine-rootfs.tar');
    await writeFile(tarPath, await buildTar([{ path: '/bin/busybox', content: readFileSync(BUSYBOX_BIN), mode: 0o755 }, ...groundTruthEntries('alpine-3.20')]));
    const ref = `${s.host}/scan/docker:alpine`;
    await dockerd.docker(['import', '--change', 'CMD ["/bin/busybox","sh"]', tarPath, ref], { timeoutMs: 60_000 });
    await dockerd.docker(['push', ref], { timeoutMs: 120_000 });
    const alpine = await scanWithAwsCli('scan/docker', 'alpine');
    assert.deepEqual(alpine.findings.map(basicKey).sort(), expectedDistro('alpine-3.20'));
    const cliScan = await cargohold(['scan', 'scan/docker:alpine', '--format', 'json']);
    assert.deepEqual(JSON.parse(cliScan.stdout).findings.map((f: any) => `${f.package} ${f.version} ${f.id} ${f.fixedVersion ?? 'unfixed'}`).sort(), expectedDistro('alpine-3.20'));
  });
});
