import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { sha256Digest } from '../core/digest.ts';
import { EcrError } from './errors.ts';
import { createTestEcr, TEST_ACCOUNT, type TestEcr, expectEcrFailure } from './test-context.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const PUSHED_AT = Date.parse('2026-03-01T12:00:00.500Z') / 1000;
const MiB = 1024 * 1024;

let t: TestEcr;
beforeEach(async () => {
  t = await createTestEcr();
  await t.call('CreateRepository', { repositoryName: 'app' });
  t.authorized.length = 0;
});
afterEach(async () => {
  await t.close();
});

const expectFailure = (op: string, input: Record<string, unknown>, type: string, message?: string | RegExp): Promise<void> => expectEcrFailure(t, op, input, type, message);

async function blob(content: string, name = 'app'): Promise<{ digest: string; size: number }> {
  const b = Buffer.from(content);
  await t.registry.putBlob(name, sha256Digest(b), Readable.from([b]), b.length);
  return { digest: sha256Digest(b), size: b.length };
}

/** Manifest text over a config and one layer pushed to `app` (not the manifest itself). */
async function manifestText(seed: string, extra: Record<string, unknown> = {}): Promise<{ text: string; digest: string; size: number; layer: string }> {
  const config = await blob(`{"seed":"${seed}"}`);
  const layer = await blob(`layer ${seed} `.repeat(10));
  const text = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: layer.size }],
    ...extra,
  }, null, 2);
  return { text, digest: sha256Digest(text), size: config.size + layer.size, layer: layer.digest };
}

describe('PutImage', () => {
  it('stores the exact text and answers the Image shape', async () => {
    const m = await manifestText('p1');
    const out = await t.call('PutImage', { repositoryName: 'app', imageManifest: m.text, imageTag: 'v1' });
    assert.deepEqual(out, {
      image: { registryId: TEST_ACCOUNT, repositoryName: 'app', imageId: { imageDigest: m.digest, imageTag: 'v1' }, imageManifest: m.text, imageManifestMediaType: OCI_MANIFEST },
    });
    assert.deepEqual(t.authorized, ['PutImage@app']);
    const got = await t.registry.getManifest('app', 'v1');
    assert.equal(got.body.toString('utf8'), m.text);
  });

  it('fails with the exact ECR exception for each rule', async () => {
    const m = await manifestText('p2');
    await t.call('PutImage', { repositoryName: 'app', imageManifest: m.text, imageTag: 'v1' });
    await expectFailure('PutImage', { repositoryName: 'app', imageManifest: m.text, imageTag: 'v1' }, 'ImageAlreadyExistsException',
      `Image with digest '${m.digest}' and tag 'v1' already exists in the repository with name 'app' in registry with id '${TEST_ACCOUNT}'`);
    await expectFailure('PutImage', { repositoryName: 'app', imageManifest: m.text, imageDigest: sha256Digest('x') }, 'ImageDigestDoesNotMatchException', /does not match the image digest that Amazon ECR has calculated/);
    await expectFailure('PutImage', { repositoryName: 'app', imageManifest: m.text, imageDigest: 'not a digest' }, 'InvalidParameterException');
    await expectFailure('PutImage', { repositoryName: 'nope', imageManifest: m.text }, 'RepositoryNotFoundException', `The repository with name 'nope' does not exist in the registry with id '${TEST_ACCOUNT}'`);
    await expectFailure('PutImage', { registryId: '210987654321', repositoryName: 'app', imageManifest: m.text }, 'RepositoryNotFoundException');
    await expectFailure('PutImage', { repositoryName: 'app', imageManifest: '{not json' }, 'InvalidParameterException', "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'");
    const noType = JSON.stringify({ schemaVersion: 2, config: JSON.parse(m.text).config, layers: [] });
    await expectFailure('PutImage', { repositoryName: 'app', imageManifest: noType }, 'InvalidParameterException', /Invalid JSON syntax/);
    const ok = await t.call('PutImage', { repositoryName: 'app', imageManifest: noType, imageManifestMediaType: OCI_MANIFEST });
    assert.equal((ok.image as { imageManifestMediaType: string }).imageManifestMediaType, OCI_MANIFEST);
    const missing = JSON.stringify({ ...JSON.parse(m.text), layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256Digest('absent'), size: 6 }] });
    await expectFailure('PutImage', { repositoryName: 'app', imageManifest: missing }, 'LayersNotFoundException', `Layers with digests '[${sha256Digest('absent')}]' required for pushing image into repository with name 'app' in registry with id '${TEST_ACCOUNT}' do not exist`);
    const idx = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sha256Digest('no such manifest'), size: 3 }] });
    await expectFailure('PutImage', { repositoryName: 'app', imageManifest: idx }, 'ReferencedImagesNotFoundException');
    await expectFailure('PutImage', { repositoryName: 'app', imageManifest: m.text, imageTag: 'x'.repeat(301) }, 'InvalidParameterException');
    await expectFailure('PutImage', { repositoryName: 'app', imageManifest: m.text, imageTag: 'bad tag' }, 'InvalidParameterException');
    await expectFailure('PutImage', { repositoryName: 'app' }, 'InvalidParameterException', "Invalid parameter at 'imageManifest' failed to satisfy constraint: 'Member must not be null'");
  });

  it('immutability from PutImageTagMutability: ImageTagAlreadyExistsException, new tags still allowed', async () => {
    const a = await manifestText('ia');
    const b = await manifestText('ib');
    await t.call('PutImage', { repositoryName: 'app', imageManifest: a.text, imageTag: 'v1' });
    await t.call('PutImageTagMutability', { repositoryName: 'app', imageTagMutability: 'IMMUTABLE' });
    await expectFailure('PutImage', { repositoryName: 'app', imageManifest: b.text, imageTag: 'v1' }, 'ImageTagAlreadyExistsException',
      "The image tag 'v1' already exists in the 'app' repository and cannot be overwritten because the tag is immutable.");
    await t.call('PutImage', { repositoryName: 'app', imageManifest: b.text, imageTag: 'v2' });
    await t.call('PutImageTagMutability', { repositoryName: 'app', imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'v*' }] });
    await t.call('PutImage', { repositoryName: 'app', imageManifest: b.text, imageTag: 'v1' });
  });
});

describe('BatchGetImage', () => {
  it('returns images and failures in ECR shapes', async () => {
    const m = await manifestText('g');
    await t.call('PutImage', { repositoryName: 'app', imageManifest: m.text, imageTag: 'v1' });
    const out = await t.call('BatchGetImage', { repositoryName: 'app', imageIds: [{ imageTag: 'v1' }, { imageDigest: m.digest }, { imageTag: 'nope' }, {}] });
    assert.deepEqual(out, {
      images: [
        { registryId: TEST_ACCOUNT, repositoryName: 'app', imageId: { imageDigest: m.digest, imageTag: 'v1' }, imageManifest: m.text, imageManifestMediaType: OCI_MANIFEST },
        { registryId: TEST_ACCOUNT, repositoryName: 'app', imageId: { imageDigest: m.digest }, imageManifest: m.text, imageManifestMediaType: OCI_MANIFEST },
      ],
      failures: [
        { imageId: { imageTag: 'nope' }, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' },
        { imageId: {}, failureCode: 'MissingDigestAndTag', failureReason: 'Invalid request parameters: both tag and digest cannot be null' },
      ],
    });
    assert.deepEqual(t.authorized, ['PutImage@app', 'BatchGetImage@app']);
    await expectFailure('BatchGetImage', { repositoryName: 'app', imageIds: Array.from({ length: 101 }, () => ({ imageTag: 'v1' })) }, 'InvalidParameterException', /less than or equal to 100/);
    await expectFailure('BatchGetImage', { repositoryName: 'app', imageIds: [] }, 'InvalidParameterException');
    await expectFailure('BatchGetImage', { repositoryName: 'app', imageIds: [{ imageTag: 'v1' }], acceptedMediaTypes: [] }, 'InvalidParameterException');
    const docker = await t.call('BatchGetImage', { repositoryName: 'app', imageIds: [{ imageTag: 'v1' }], acceptedMediaTypes: ['application/vnd.docker.distribution.manifest.v2+json'] });
    assert.deepEqual((docker.failures as Array<{ failureCode: string }>).map((f) => f.failureCode), ['ImageNotFound']);
    await expectFailure('BatchGetImage', { repositoryName: 'ghost', imageIds: [{ imageTag: 'v1' }] }, 'RepositoryNotFoundException');
  });
});

describe('DescribeImages and ListImages', () => {
  it('describes images: tags omitted when untagged, sizes, media types, subject, epoch seconds', async () => {
    const subject = await manifestText('subj');
    await t.call('PutImage', { repositoryName: 'app', imageManifest: subject.text, imageTag: 'b' });
    await t.call('PutImage', { repositoryName: 'app', imageManifest: subject.text, imageTag: 'a' });
    const empty = await blob('{}');
    const sig = JSON.stringify({
      schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.sig',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty.digest, size: empty.size }, layers: [],
      subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.text.length },
    });
    await t.call('PutImage', { repositoryName: 'app', imageManifest: sig });
    const out = await t.call('DescribeImages', { repositoryName: 'app' });
    assert.deepEqual(out, {
      imageDetails: [
        { registryId: TEST_ACCOUNT, repositoryName: 'app', imageDigest: subject.digest, imageTags: ['a', 'b'], imageSizeInBytes: subject.size, imagePushedAt: PUSHED_AT, imageManifestMediaType: OCI_MANIFEST, artifactMediaType: OCI_CONFIG, imageStatus: 'ACTIVE' },
        { registryId: TEST_ACCOUNT, repositoryName: 'app', imageDigest: sha256Digest(sig), imageSizeInBytes: empty.size, imagePushedAt: PUSHED_AT, imageManifestMediaType: OCI_MANIFEST, artifactMediaType: 'application/vnd.example.sig', subjectManifestDigest: subject.digest, imageStatus: 'ACTIVE' },
      ].sort((x, y) => (x.imageDigest < y.imageDigest ? -1 : 1)),
    });
    const byId = await t.call('DescribeImages', { repositoryName: 'app', imageIds: [{ imageTag: 'a' }, { imageDigest: subject.digest }] });
    assert.equal((byId.imageDetails as unknown[]).length, 1);
    await expectFailure('DescribeImages', { repositoryName: 'app', imageIds: [{ imageTag: 'a' }, { imageTag: 'zzz' }] }, 'ImageNotFoundException',
      `The image with imageId {imageDigest:'null', imageTag:'zzz'} does not exist within the repository with name 'app' in the registry with id '${TEST_ACCOUNT}'`);
    await expectFailure('DescribeImages', { repositoryName: 'app', imageIds: [{ imageTag: 'a' }], maxResults: 5 }, 'InvalidParameterException');
    await expectFailure('DescribeImages', { repositoryName: 'app', maxResults: 1001 }, 'InvalidParameterException');
    await expectFailure('DescribeImages', { repositoryName: 'app', maxResults: 0 }, 'InvalidParameterException');
    await expectFailure('DescribeImages', { repositoryName: 'app', filter: { tagStatus: 'tagged' } }, 'InvalidParameterException', /enum value set/);
    await expectFailure('DescribeImages', { repositoryName: 'app', nextToken: 'garbage' }, 'InvalidParameterException', /NextToken/);
    const untagged = await t.call('DescribeImages', { repositoryName: 'app', filter: { tagStatus: 'UNTAGGED' } });
    assert.deepEqual((untagged.imageDetails as Array<{ imageDigest: string }>).map((d) => d.imageDigest), [sha256Digest(sig)]);
    const archived = await t.call('DescribeImages', { repositoryName: 'app', filter: { imageStatus: 'ARCHIVED' } });
    assert.deepEqual(archived, { imageDetails: [] });
  });

  it('pages with signed tokens; ListImages lists (digest, tag) pairs', async () => {
    const digests: string[] = [];
    for (let i = 0; i < 5; i++) {
      t.clock.advance(1000);
      const m = await manifestText(`pg${i}`);
      digests.push(m.digest);
      await t.call('PutImage', { repositoryName: 'app', imageManifest: m.text, ...(i % 2 ? { imageTag: `t${i}` } : {}) });
      if (i === 3) await t.call('PutImage', { repositoryName: 'app', imageManifest: m.text, imageTag: 'extra' });
    }
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const out = await t.call('DescribeImages', { repositoryName: 'app', maxResults: 2, ...(nextToken ? { nextToken } : {}) });
      seen.push(...(out.imageDetails as Array<{ imageDigest: string }>).map((d) => d.imageDigest));
      nextToken = out.nextToken as string | undefined;
    } while (nextToken);
    assert.deepEqual(seen, digests);
    // A token is bound to its operation and repository.
    const first = await t.call('DescribeImages', { repositoryName: 'app', maxResults: 1 });
    await expectFailure('ListImages', { repositoryName: 'app', nextToken: first.nextToken }, 'InvalidParameterException');

    const ids: unknown[] = [];
    nextToken = undefined;
    do {
      const out = await t.call('ListImages', { repositoryName: 'app', maxResults: 2, ...(nextToken ? { nextToken } : {}) });
      ids.push(...(out.imageIds as unknown[]));
      nextToken = out.nextToken as string | undefined;
    } while (nextToken);
    assert.deepEqual(ids, [
      { imageDigest: digests[0] },
      { imageDigest: digests[1], imageTag: 't1' },
      { imageDigest: digests[2] },
      { imageDigest: digests[3], imageTag: 'extra' },
      { imageDigest: digests[3], imageTag: 't3' },
      { imageDigest: digests[4] },
    ]);
    const tagged = await t.call('ListImages', { repositoryName: 'app', filter: { tagStatus: 'TAGGED' } });
    assert.equal((tagged.imageIds as unknown[]).length, 3);
    await t.call('CreateRepository', { repositoryName: 'empty' });
    assert.deepEqual(await t.call('ListImages', { repositoryName: 'empty' }), { imageIds: [] });
    assert.deepEqual(await t.call('DescribeImages', { repositoryName: 'empty' }), { imageDetails: [] });
    await expectFailure('ListImages', { repositoryName: 'ghost' }, 'RepositoryNotFoundException');
  });
});

describe('BatchDeleteImage', () => {
  it('removes tags and images, reports failures', async () => {
    const a = await manifestText('da');
    await t.call('PutImage', { repositoryName: 'app', imageManifest: a.text, imageTag: 'one' });
    await t.call('PutImage', { repositoryName: 'app', imageManifest: a.text, imageTag: 'two' });
    const out = await t.call('BatchDeleteImage', { repositoryName: 'app', imageIds: [{ imageTag: 'one' }, { imageTag: 'gone' }, { imageDigest: 'sha256:zz' }] });
    assert.deepEqual(out, {
      imageIds: [{ imageDigest: a.digest, imageTag: 'one' }],
      failures: [
        { imageId: { imageTag: 'gone' }, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' },
        { imageId: { imageDigest: 'sha256:zz' }, failureCode: 'InvalidImageDigest', failureReason: "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'" },
      ],
    });
    assert.deepEqual(await t.call('BatchDeleteImage', { repositoryName: 'app', imageIds: [{ imageDigest: a.digest }] }), { imageIds: [{ imageDigest: a.digest, imageTag: 'two' }], failures: [] });
    assert.deepEqual(t.authorized.filter((x) => x.startsWith('BatchDelete')), ['BatchDeleteImage@app', 'BatchDeleteImage@app']);
  });
});

describe('layer operations', () => {
  it('BatchCheckLayerAvailability shapes', async () => {
    const m = await manifestText('l');
    await t.call('PutImage', { repositoryName: 'app', imageManifest: m.text });
    const out = await t.call('BatchCheckLayerAvailability', { repositoryName: 'app', layerDigests: [m.layer, sha256Digest('missing'), 'nope'] });
    const size = (await t.registry.statBlob('app', m.layer)).size;
    assert.deepEqual(out, {
      layers: [{ layerDigest: m.layer, layerAvailability: 'AVAILABLE', layerSize: size, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }],
      failures: [
        { layerDigest: sha256Digest('missing'), failureCode: 'MissingLayerDigest', failureReason: 'Could not find layer' },
        { layerDigest: 'nope', failureCode: 'InvalidLayerDigest', failureReason: 'Invalid layer digest' },
      ],
    });
    await expectFailure('BatchCheckLayerAvailability', { repositoryName: 'app', layerDigests: [] }, 'InvalidParameterException');
    await expectFailure('BatchCheckLayerAvailability', { repositoryName: 'app', layerDigests: ['x'.repeat(1001)] }, 'InvalidParameterException');
  });

  it('uploads a layer in parts and completes it; every error has its ECR type', async () => {
    const data = Buffer.alloc(5 * MiB + 100, 3);
    const init = await t.call('InitiateLayerUpload', { repositoryName: 'app' });
    assert.match(init.uploadId as string, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(init.partSize, 10 * MiB);
    const uploadId = init.uploadId as string;
    await expectFailure('CompleteLayerUpload', { repositoryName: 'app', uploadId, layerDigests: [sha256Digest(data)] }, 'EmptyUploadException');
    const part1 = data.subarray(0, 5 * MiB);
    const r1 = await t.call('UploadLayerPart', { repositoryName: 'app', uploadId, partFirstByte: 0, partLastByte: part1.length - 1, layerPartBlob: part1.toString('base64') });
    assert.deepEqual(r1, { registryId: TEST_ACCOUNT, repositoryName: 'app', uploadId, lastByteReceived: part1.length - 1 });
    try {
      await t.call('UploadLayerPart', { repositoryName: 'app', uploadId, partFirstByte: 10, partLastByte: 19, layerPartBlob: Buffer.alloc(10).toString('base64') });
      assert.fail('expected InvalidLayerPartException');
    } catch (e) {
      assert.ok(e instanceof EcrError);
      assert.equal(e.type, 'InvalidLayerPartException');
      assert.deepEqual(e.extra, { registryId: TEST_ACCOUNT, repositoryName: 'app', uploadId, lastValidByteReceived: part1.length - 1 });
    }
    await expectFailure('UploadLayerPart', { repositoryName: 'app', uploadId, partFirstByte: part1.length, partLastByte: part1.length + 5, layerPartBlob: 'AAAA' }, 'InvalidLayerPartException');
    await expectFailure('UploadLayerPart', { repositoryName: 'app', uploadId, partFirstByte: 0, partLastByte: 0, layerPartBlob: '***' }, 'SerializationException');
    await expectFailure('UploadLayerPart', { repositoryName: 'app', uploadId: 'not-a-uuid', partFirstByte: 0, partLastByte: 0, layerPartBlob: 'AA==' }, 'InvalidParameterException');
    await expectFailure('UploadLayerPart', { repositoryName: 'app', uploadId: '00000000-0000-4000-8000-000000000000', partFirstByte: 0, partLastByte: 0, layerPartBlob: 'AA==' }, 'UploadNotFoundException');
    const rest = data.subarray(part1.length);
    await t.call('UploadLayerPart', { repositoryName: 'app', uploadId, partFirstByte: part1.length, partLastByte: data.length - 1, layerPartBlob: rest.toString('base64') });
    const done = await t.call('CompleteLayerUpload', { repositoryName: 'app', uploadId, layerDigests: [sha256Digest(data)] });
    assert.deepEqual(done, { registryId: TEST_ACCOUNT, repositoryName: 'app', uploadId, layerDigest: sha256Digest(data) });
    await expectFailure('CompleteLayerUpload', { repositoryName: 'app', uploadId, layerDigests: [sha256Digest(data)] }, 'UploadNotFoundException');

    const again = (await t.call('InitiateLayerUpload', { repositoryName: 'app' })).uploadId as string;
    await t.call('UploadLayerPart', { repositoryName: 'app', uploadId: again, partFirstByte: 0, partLastByte: 2, layerPartBlob: Buffer.from('abc').toString('base64') });
    await t.call('UploadLayerPart', { repositoryName: 'app', uploadId: again, partFirstByte: 3, partLastByte: 5, layerPartBlob: Buffer.from('def').toString('base64') });
    await expectFailure('CompleteLayerUpload', { repositoryName: 'app', uploadId: again, layerDigests: [sha256Digest('abcdef')] }, 'LayerPartTooSmallException', 'Layer parts must be at least 5 MiB in size.');

    const wrong = (await t.call('InitiateLayerUpload', { repositoryName: 'app' })).uploadId as string;
    await t.call('UploadLayerPart', { repositoryName: 'app', uploadId: wrong, partFirstByte: 0, partLastByte: 2, layerPartBlob: Buffer.from('abc').toString('base64') });
    await expectFailure('CompleteLayerUpload', { repositoryName: 'app', uploadId: wrong, layerDigests: [sha256Digest('abx')] }, 'InvalidLayerException');

    const dup = (await t.call('InitiateLayerUpload', { repositoryName: 'app' })).uploadId as string;
    await t.call('UploadLayerPart', { repositoryName: 'app', uploadId: dup, partFirstByte: 0, partLastByte: data.length - 1, layerPartBlob: data.toString('base64') });
    await expectFailure('CompleteLayerUpload', { repositoryName: 'app', uploadId: dup, layerDigests: [sha256Digest(data)] }, 'LayerAlreadyExistsException');
    await expectFailure('CompleteLayerUpload', { repositoryName: 'app', uploadId: dup, layerDigests: ['bogus'] }, 'InvalidParameterException');
    await expectFailure('InitiateLayerUpload', { repositoryName: 'ghost' }, 'RepositoryNotFoundException');
  });

  it('GetDownloadUrlForLayer: a signed URL on the registry itself', async () => {
    const m = await manifestText('u');
    const loose = await blob('not in any image');
    await expectFailure('GetDownloadUrlForLayer', { repositoryName: 'app', layerDigest: m.layer }, 'LayerInaccessibleException');
    await t.call('PutImage', { repositoryName: 'app', imageManifest: m.text });
    const out = await t.call('GetDownloadUrlForLayer', { repositoryName: 'app', layerDigest: m.layer });
    assert.equal(out.layerDigest, m.layer);
    assert.match(out.downloadUrl as string, new RegExp(`^http://localhost:5000/_cargohold/download/app/${m.layer}\\?expires=\\d+&signature=[0-9a-f]{64}$`));
    await expectFailure('GetDownloadUrlForLayer', { repositoryName: 'app', layerDigest: sha256Digest('nothing') }, 'LayersNotFoundException',
      `The layer with digest ${sha256Digest('nothing')} does not exist within the repository with name 'app' in the registry with id '${TEST_ACCOUNT}'`);
    await expectFailure('GetDownloadUrlForLayer', { repositoryName: 'app', layerDigest: loose.digest }, 'LayerInaccessibleException');
    await expectFailure('GetDownloadUrlForLayer', { repositoryName: 'app', layerDigest: 'bad' }, 'InvalidParameterException');
  });
});

describe('ListImageReferrers', () => {
  it('lists referrers of a subject with filters and 20-a-page paging', async () => {
    const subject = await manifestText('s');
    await t.call('PutImage', { repositoryName: 'app', imageManifest: subject.text, imageTag: 's' });
    const empty = await blob('{}');
    const referrers: string[] = [];
    for (let i = 0; i < 23; i++) {
      const text = JSON.stringify({
        schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: i % 2 ? 'application/vnd.example.sbom' : 'application/vnd.example.sig',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty.digest, size: empty.size }, layers: [],
        subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.text.length },
        annotations: { n: String(i) },
      });
      referrers.push(sha256Digest(text));
      await t.call('PutImage', { repositoryName: 'app', imageManifest: text });
    }
    const first = await t.call('ListImageReferrers', { repositoryName: 'app', subjectId: { imageDigest: subject.digest } });
    const list = first.referrers as Array<Record<string, unknown>>;
    assert.equal(list.length, 20);
    assert.deepEqual(Object.keys(list[0]!).sort(), ['annotations', 'artifactStatus', 'artifactType', 'digest', 'mediaType', 'size']);
    assert.equal(list[0]!.artifactStatus, 'ACTIVE');
    const second = await t.call('ListImageReferrers', { repositoryName: 'app', subjectId: { imageDigest: subject.digest }, nextToken: first.nextToken });
    assert.equal((second.referrers as unknown[]).length, 3);
    assert.equal(second.nextToken, undefined);
    assert.deepEqual([...list, ...(second.referrers as typeof list)].map((r) => r.digest), [...referrers].sort());
    const sboms = await t.call('ListImageReferrers', { repositoryName: 'app', subjectId: { imageDigest: subject.digest }, filter: { artifactTypes: ['application/vnd.example.sbom'] }, maxResults: 50 });
    assert.equal((sboms.referrers as unknown[]).length, 11);
    assert.deepEqual(t.authorized.at(-1), 'BatchGetImage@app');
    await expectFailure('ListImageReferrers', { repositoryName: 'app', subjectId: { imageDigest: subject.digest }, maxResults: 51 }, 'ValidationException');
    await expectFailure('ListImageReferrers', { repositoryName: 'app', subjectId: {} }, 'ValidationException');
    await expectFailure('ListImageReferrers', { repositoryName: 'ghost', subjectId: { imageDigest: subject.digest } }, 'RepositoryNotFoundException');
    assert.deepEqual(await t.call('ListImageReferrers', { repositoryName: 'app', subjectId: { imageDigest: sha256Digest('none') } }), { referrers: [] });
  });
});
