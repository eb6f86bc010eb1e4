/**
 * ECR image and layer operations against the running server, driven by the real clients: the AWS SDK for
 * JavaScript v3, the AWS CLI v2 (/usr/bin/aws) and docker (a private dockerd). "One service, two front ends":
 * an image pushed with InitiateLayerUpload/UploadLayerPart/CompleteLayerUpload + PutImage pulls and runs with
 * docker; a docker-pushed image is the same bytes to BatchGetImage/DescribeImages; tag moves, immutability
 * (PutImage and docker push), signed layer downloads, paginators and CLI auto-pagination.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  BatchCheckLayerAvailabilityCommand,
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CompleteLayerUploadCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  GetDownloadUrlForLayerCommand,
  InitiateLayerUploadCommand,
  ListImageReferrersCommand,
  ListImagesCommand,
  paginateDescribeImages,
  paginateListImages,
  PutImageCommand,
  PutImageTagMutabilityCommand,
  UploadLayerPartCommand,
  type ImageDetail,
} from '@aws-sdk/client-ecr';
import tarStream from 'tar-stream';
import { assertAvailable, hasDocker, skipUnless, startDockerd, type RunningDockerd } from '../helpers/dockerd.ts';
import { hasBusybox, importBusyboxImage, writeBusyboxRootfs } from '../helpers/images.ts';
import { startCargohold, type RunningServer } from '../helpers/server.ts';
import { ecrCli } from '../helpers/aws-cli.ts';

const ACCOUNT = '123456789012';
const MiB = 1024 * 1024;
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

let s: RunningServer;
let ecr: ECRClient;

before(async () => {
  s = await startCargohold({ ecrSemantics: true, env: { CARGOHOLD_LOG_LEVEL: 'warn' } });
  const c = s.credentials!;
  ecr = new ECRClient({ endpoint: s.url, region: c.region, credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey }, maxAttempts: 1 });
});
after(async () => {
  ecr?.destroy();
  await s?.stop();
});

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Expects the SDK call to fail with this exception name (HTTP 400) and, when given, message. */
async function rejects(p: Promise<unknown>, name: string, message?: string | RegExp): Promise<Error & Record<string, unknown>> {
  let caught: (Error & Record<string, unknown>) | undefined;
  await assert.rejects(p, (e: Error & Record<string, unknown> & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(e.name, name, e.message);
    assert.equal(e.$metadata?.httpStatusCode, 400);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    caught = e;
    return true;
  });
  return caught!;
}

const { cli, cliFails } = ecrCli(() => s);

function tar(files: Record<string, Buffer | string>): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => { chunks.push(c as Buffer); });
  const ended = new Promise<void>((resolve, reject) => { pack.on('end', resolve); pack.on('error', reject); });
  for (const [name, body] of Object.entries(files)) pack.entry({ name, mode: 0o644, mtime: new Date('2024-01-01T00:00:00Z'), uid: 0, gid: 0 }, body);
  pack.finalize();
  return ended.then(() => Buffer.concat(chunks));
}

/** Uploads a blob through the ECR layer API in parts of `partSize` bytes; returns its digest. */
async function uploadLayer(repositoryName: string, data: Buffer, partSize = 5 * MiB): Promise<string> {
  const digest = sha256(data);
  const init = await ecr.send(new InitiateLayerUploadCommand({ repositoryName }));
  assert.match(init.uploadId!, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.ok(init.partSize! > 0);
  for (let first = 0; first < data.length; first += partSize) {
    const part = data.subarray(first, Math.min(first + partSize, data.length));
    const r = await ecr.send(new UploadLayerPartCommand({ repositoryName, uploadId: init.uploadId, partFirstByte: first, partLastByte: first + part.length - 1, layerPartBlob: part }));
    assert.equal(r.lastByteReceived, first + part.length - 1);
  }
  const done = await ecr.send(new CompleteLayerUploadCommand({ repositoryName, uploadId: init.uploadId, layerDigests: [digest] }));
  assert.deepEqual({ layerDigest: done.layerDigest, registryId: done.registryId, repositoryName: done.repositoryName, uploadId: done.uploadId }, { layerDigest: digest, registryId: ACCOUNT, repositoryName, uploadId: init.uploadId });
  return digest;
}

interface BuiltImage {
  manifest: string;
  digest: string;
  layers: Array<{ digest: string; size: number }>;
  config: { digest: string; size: number };
  hello: string;
  bigDigest: string;
}

/**
 * A runnable docker image built byte by byte: layer 1 = the busybox rootfs, layer 2 = /hello.txt plus 6 MiB of
 * random bytes (so the layer upload needs two parts), docker schema 2 manifest. Every blob goes through the ECR
 * layer API; `manifest` is left for PutImage.
 */
async function buildImageWithEcr(repositoryName: string): Promise<BuiltImage> {
  const rootfsPath = join(tmpdir(), `cargohold-ecr-rootfs-${randomBytes(4).toString('hex')}.tar`);
  await writeBusyboxRootfs(rootfsPath);
  const tar1 = await readFile(rootfsPath);
  await rm(rootfsPath, { force: true });
  const hello = `hello from PutImage ${randomBytes(4).toString('hex')}\n`;
  const big = randomBytes(6 * MiB);
  const tar2 = await tar({ 'hello.txt': hello, 'big.bin': big });
  const gz1 = gzipSync(tar1);
  const gz2 = gzipSync(tar2, { level: 1 });
  const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
  const config = Buffer.from(JSON.stringify({
    architecture: arch, os: 'linux', config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: [sha256(tar1), sha256(tar2)] },
  }));
  const missing = await ecr.send(new BatchCheckLayerAvailabilityCommand({ repositoryName, layerDigests: [sha256(gz1), sha256(gz2)] }));
  assert.deepEqual(missing.failures?.map((f) => f.failureCode), ['MissingLayerDigest', 'MissingLayerDigest']);
  await uploadLayer(repositoryName, gz1);
  await uploadLayer(repositoryName, gz2);
  await uploadLayer(repositoryName, config);
  const layers = [gz1, gz2].map((g) => ({ digest: sha256(g), size: g.length }));
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST,
    config: { mediaType: DOCKER_CONFIG, size: config.length, digest: sha256(config) },
    layers: layers.map((l) => ({ mediaType: DOCKER_LAYER, size: l.size, digest: l.digest })),
  }, null, 3);
  return { manifest, digest: sha256(manifest), layers, config: { digest: sha256(config), size: config.length }, hello, bigDigest: sha256(big) };
}

/** A small OCI image (config + one layer) uploaded through the layer API, manifest not yet put. */
async function smallImage(repositoryName: string, seed: string, extra: Record<string, unknown> = {}): Promise<{ manifest: string; digest: string }> {
  const layer = Buffer.from(`layer ${seed}`);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(layer)] }, seed }));
  for (const b of [layer, config]) {
    const have = await ecr.send(new BatchCheckLayerAvailabilityCommand({ repositoryName, layerDigests: [sha256(b)] }));
    if (!have.layers?.length) await uploadLayer(repositoryName, b);
  }
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
    ...extra,
  });
  return { manifest, digest: sha256(manifest) };
}

describe('ECR image API (SDK v3 + AWS CLI v2)', () => {
  before(async () => {
    for (const repositoryName of ['e2e/images', 'e2e/paging', 'e2e/layers']) await ecr.send(new CreateRepositoryCommand({ repositoryName }));
  });

  it('PutImage / BatchGetImage / DescribeImages / ListImages / BatchDeleteImage, with every error type', async () => {
    const repositoryName = 'e2e/images';
    const a = await smallImage(repositoryName, 'a');
    const b = await smallImage(repositoryName, 'b');
    const put = await ecr.send(new PutImageCommand({ repositoryName, imageManifest: a.manifest, imageTag: 'v1', imageDigest: a.digest }));
    assert.deepEqual(put.image, { registryId: ACCOUNT, repositoryName, imageId: { imageDigest: a.digest, imageTag: 'v1' }, imageManifest: a.manifest, imageManifestMediaType: OCI_MANIFEST });
    await rejects(ecr.send(new PutImageCommand({ repositoryName, imageManifest: a.manifest, imageTag: 'v1' })), 'ImageAlreadyExistsException',
      `Image with digest '${a.digest}' and tag 'v1' already exists in the repository with name '${repositoryName}' in registry with id '${ACCOUNT}'`);
    await rejects(ecr.send(new PutImageCommand({ repositoryName, imageManifest: b.manifest, imageDigest: a.digest })), 'ImageDigestDoesNotMatchException');
    await rejects(ecr.send(new PutImageCommand({ repositoryName, imageManifest: '{"schemaVersion": 2' })), 'InvalidParameterException', /Invalid JSON syntax/);
    await rejects(ecr.send(new PutImageCommand({ repositoryName: 'e2e/none', imageManifest: a.manifest })), 'RepositoryNotFoundException',
      `The repository with name 'e2e/none' does not exist in the registry with id '${ACCOUNT}'`);
    const absent = sha256('absent layer');
    await rejects(ecr.send(new PutImageCommand({ repositoryName, imageManifest: JSON.stringify({ ...JSON.parse(b.manifest), layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: absent, size: 12 }] }) })), 'LayersNotFoundException', new RegExp(absent));
    const index = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: OCI_MANIFEST, digest: b.digest, size: b.manifest.length }] });
    await rejects(ecr.send(new PutImageCommand({ repositoryName, imageManifest: index })), 'ReferencedImagesNotFoundException');

    // Tag move: v1 goes to b, a stays untagged.
    await ecr.send(new PutImageCommand({ repositoryName, imageManifest: b.manifest, imageTag: 'v1' }));
    await ecr.send(new PutImageCommand({ repositoryName, imageManifest: b.manifest, imageTag: 'v2' }));
    const untagged = await ecr.send(new DescribeImagesCommand({ repositoryName, filter: { tagStatus: 'UNTAGGED' } }));
    assert.deepEqual(untagged.imageDetails?.map((d) => [d.imageDigest, d.imageTags]), [[a.digest, undefined]]);
    await ecr.send(new PutImageCommand({ repositoryName, imageManifest: index, imageTag: 'multi' }));

    const got = await ecr.send(new BatchGetImageCommand({ repositoryName, imageIds: [{ imageTag: 'v1' }, { imageDigest: a.digest }, { imageTag: 'nope' }, { imageTag: 'v1', imageDigest: a.digest }, {}, { imageDigest: 'sha256:12' }] }));
    assert.deepEqual(got.images?.map((i) => [i.imageId, i.imageManifest, i.imageManifestMediaType]), [
      [{ imageDigest: b.digest, imageTag: 'v1' }, b.manifest, OCI_MANIFEST],
      [{ imageDigest: a.digest }, a.manifest, OCI_MANIFEST],
    ]);
    assert.deepEqual(got.failures?.map((f) => [f.failureCode, f.failureReason]), [
      ['ImageNotFound', 'Requested image not found'],
      ['ImageTagDoesNotMatchDigest', 'Invalid request parameters: given tag does not map to the given digest'],
      ['MissingDigestAndTag', 'Invalid request parameters: both tag and digest cannot be null'],
      ['InvalidImageDigest', "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'"],
    ]);
    await rejects(ecr.send(new BatchGetImageCommand({ repositoryName, imageIds: Array.from({ length: 101 }, (_, i) => ({ imageTag: `t${i}` })) })), 'InvalidParameterException');

    const described = await ecr.send(new DescribeImagesCommand({ repositoryName }));
    const byDigest = new Map(described.imageDetails?.map((d) => [d.imageDigest, d]));
    const detailB = byDigest.get(b.digest)!;
    assert.deepEqual(detailB.imageTags, ['v1', 'v2']);
    assert.equal(detailB.imageManifestMediaType, OCI_MANIFEST);
    assert.equal(detailB.artifactMediaType, 'application/vnd.oci.image.config.v1+json');
    assert.equal(detailB.imageStatus, 'ACTIVE');
    assert.ok(detailB.imagePushedAt instanceof Date && Math.abs(detailB.imagePushedAt.getTime() - Date.now()) < 60_000);
    const manifestB = JSON.parse(b.manifest);
    assert.equal(detailB.imageSizeInBytes, manifestB.config.size + manifestB.layers[0].size);
    assert.equal(byDigest.get(sha256(index))?.imageSizeInBytes, detailB.imageSizeInBytes);
    assert.equal(byDigest.get(sha256(index))?.artifactMediaType, undefined);
    await rejects(ecr.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag: 'ghost' }] })), 'ImageNotFoundException',
      `The image with imageId {imageDigest:'null', imageTag:'ghost'} does not exist within the repository with name '${repositoryName}' in the registry with id '${ACCOUNT}'`);
    await rejects(ecr.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag: 'v1' }], maxResults: 10 })), 'InvalidParameterException');

    const listed = await ecr.send(new ListImagesCommand({ repositoryName }));
    assert.equal(listed.imageIds?.length, 1 + 2 + 1, 'one row per (digest, tag) pair, untagged once');
    assert.deepEqual(listed.imageIds?.filter((i) => i.imageDigest === b.digest).map((i) => i.imageTag), ['v1', 'v2']);

    const del = await ecr.send(new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageDigest: b.digest }, { imageTag: 'v2' }, { imageDigest: a.digest }, { imageTag: 'ghost' }] }));
    // By digest b is refused (the index lists it); by tag only that tag goes; a goes whole.
    assert.deepEqual(del.imageIds, [{ imageDigest: b.digest, imageTag: 'v2' }, { imageDigest: a.digest }]);
    assert.deepEqual(del.failures?.map((f) => [f.imageId, f.failureCode, f.failureReason]), [
      [{ imageDigest: b.digest }, 'ImageReferencedByManifestList', `Requested image referenced by manifest list: [${sha256(index)}]`],
      [{ imageTag: 'ghost' }, 'ImageNotFound', 'Requested image not found'],
    ]);
    await rejects(ecr.send(new BatchDeleteImageCommand({ repositoryName: 'e2e/none', imageIds: [{ imageTag: 'x' }] })), 'RepositoryNotFoundException');
  });

  it('layer upload errors and GetDownloadUrlForLayer links served by cargohold (Range, expiry by signature)', async () => {
    const repositoryName = 'e2e/layers';
    const init = await ecr.send(new InitiateLayerUploadCommand({ repositoryName }));
    const uploadId = init.uploadId!;
    await rejects(ecr.send(new CompleteLayerUploadCommand({ repositoryName, uploadId, layerDigests: [sha256('x')] })), 'EmptyUploadException');
    await ecr.send(new UploadLayerPartCommand({ repositoryName, uploadId, partFirstByte: 0, partLastByte: 9, layerPartBlob: Buffer.alloc(10, 1) }));
    const gap = await rejects(ecr.send(new UploadLayerPartCommand({ repositoryName, uploadId, partFirstByte: 20, partLastByte: 29, layerPartBlob: Buffer.alloc(10, 1) })), 'InvalidLayerPartException');
    assert.equal(gap.lastValidByteReceived, 9);
    assert.equal(gap.uploadId, uploadId);
    await ecr.send(new UploadLayerPartCommand({ repositoryName, uploadId, partFirstByte: 10, partLastByte: 19, layerPartBlob: Buffer.alloc(10, 2) }));
    await rejects(ecr.send(new CompleteLayerUploadCommand({ repositoryName, uploadId, layerDigests: [sha256(Buffer.concat([Buffer.alloc(10, 1), Buffer.alloc(10, 2)]))] })), 'LayerPartTooSmallException', 'Layer parts must be at least 5 MiB in size.');
    await rejects(ecr.send(new UploadLayerPartCommand({ repositoryName, uploadId: '00000000-0000-4000-8000-000000000000', partFirstByte: 0, partLastByte: 0, layerPartBlob: Buffer.alloc(1) })), 'UploadNotFoundException');
    const wrong = (await ecr.send(new InitiateLayerUploadCommand({ repositoryName }))).uploadId;
    await ecr.send(new UploadLayerPartCommand({ repositoryName, uploadId: wrong, partFirstByte: 0, partLastByte: 2, layerPartBlob: Buffer.from('abc') }));
    await rejects(ecr.send(new CompleteLayerUploadCommand({ repositoryName, uploadId: wrong, layerDigests: [sha256('abd')] })), 'InvalidLayerException');
    await rejects(ecr.send(new InitiateLayerUploadCommand({ repositoryName: 'e2e/none' })), 'RepositoryNotFoundException');

    const img = await smallImage(repositoryName, 'dl');
    const layerDigest = JSON.parse(img.manifest).layers[0].digest as string;
    await rejects(ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName, layerDigest })), 'LayerInaccessibleException');
    const again = (await ecr.send(new InitiateLayerUploadCommand({ repositoryName }))).uploadId;
    await ecr.send(new UploadLayerPartCommand({ repositoryName, uploadId: again, partFirstByte: 0, partLastByte: 7, layerPartBlob: Buffer.from('layer dl') }));
    await rejects(ecr.send(new CompleteLayerUploadCommand({ repositoryName, uploadId: again, layerDigests: [layerDigest] })), 'LayerAlreadyExistsException');
    await ecr.send(new PutImageCommand({ repositoryName, imageManifest: img.manifest, imageTag: 'dl' }));
    const url = (await ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName, layerDigest }))).downloadUrl!;
    assert.ok(url.startsWith(`${s.url}/_cargohold/download/${repositoryName}/${layerDigest}?`), url);
    const whole = await fetch(url);
    assert.equal(whole.status, 200);
    assert.equal(Buffer.from(await whole.arrayBuffer()).toString(), 'layer dl');
    const part = await fetch(url, { headers: { Range: 'bytes=2-4' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), 'bytes 2-4/8');
    assert.equal(await part.text(), 'yer');
    const forged = await fetch(url.replace(/signature=([0-9a-f])/, (_m, c: string) => `signature=${c === '0' ? '1' : '0'}`));
    assert.equal(forged.status, 403);
    await forged.arrayBuffer();
    await rejects(ecr.send(new GetDownloadUrlForLayerCommand({ repositoryName, layerDigest: sha256('never uploaded') })), 'LayersNotFoundException', /does not exist within the repository/);
  });

  it('ListImageReferrers', async () => {
    const repositoryName = 'e2e/images';
    const subject = await smallImage(repositoryName, 'subject');
    await ecr.send(new PutImageCommand({ repositoryName, imageManifest: subject.manifest, imageTag: 'subject' }));
    const sig = await smallImage(repositoryName, 'sig', { artifactType: 'application/vnd.example.sig', subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.manifest.length } });
    await ecr.send(new PutImageCommand({ repositoryName, imageManifest: sig.manifest }));
    const out = await ecr.send(new ListImageReferrersCommand({ repositoryName, subjectId: { imageDigest: subject.digest } }));
    assert.deepEqual(out.referrers, [{ digest: sig.digest, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.sig', size: sig.manifest.length, artifactStatus: 'ACTIVE' }]);
    const none = await ecr.send(new ListImageReferrersCommand({ repositoryName, subjectId: { imageDigest: subject.digest }, filter: { artifactTypes: ['application/other'] } }));
    assert.deepEqual(none.referrers, []);
    const detail = await ecr.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageDigest: sig.digest }] }));
    assert.equal(detail.imageDetails?.[0]?.subjectManifestDigest, subject.digest);
    await rejects(ecr.send(new ListImageReferrersCommand({ repositoryName, subjectId: { imageDigest: subject.digest }, maxResults: 51 })), 'ValidationException');
  });

  it('paginateDescribeImages / paginateListImages and the CLI auto-pagination walk every page', async () => {
    const repositoryName = 'e2e/paging';
    const digests: string[] = [];
    for (let i = 0; i < 7; i++) {
      const img = await smallImage(repositoryName, `page-${i}`);
      digests.push(img.digest);
      await ecr.send(new PutImageCommand({ repositoryName, imageManifest: img.manifest, ...(i % 2 ? { imageTag: `t${i}` } : {}) }));
      if (i === 1) await ecr.send(new PutImageCommand({ repositoryName, imageManifest: img.manifest, imageTag: 'also' }));
    }
    const details: ImageDetail[] = [];
    let pages = 0;
    for await (const page of paginateDescribeImages({ client: ecr, pageSize: 3 }, { repositoryName })) {
      pages++;
      details.push(...(page.imageDetails ?? []));
    }
    assert.equal(pages, 3);
    assert.deepEqual(new Set(details.map((d) => d.imageDigest)), new Set(digests));
    assert.equal(details.length, 7);
    const ids: string[] = [];
    pages = 0;
    for await (const page of paginateListImages({ client: ecr, pageSize: 2 }, { repositoryName })) {
      pages++;
      ids.push(...(page.imageIds ?? []).map((i) => `${i.imageDigest}:${i.imageTag ?? ''}`));
    }
    assert.equal(ids.length, 8);
    assert.equal(new Set(ids).size, 8);
    assert.equal(pages, 4);

    const all = await cli(['describe-images', '--repository-name', repositoryName, '--page-size', '2']);
    assert.ok(all.ok, !all.ok ? all.stderr : '');
    if (all.ok) {
      assert.equal(all.json.imageDetails.length, 7);
      assert.equal(all.json.nextToken, undefined);
      assert.deepEqual(new Set(all.json.imageDetails.map((d: { imageDigest: string }) => d.imageDigest)), new Set(digests));
      assert.equal(typeof all.json.imageDetails[0].imagePushedAt, 'string');
    }
    const tagged = await cli(['list-images', '--repository-name', repositoryName, '--filter', 'tagStatus=TAGGED', '--page-size', '1']);
    assert.ok(tagged.ok && tagged.json.imageIds.length === 4, JSON.stringify(tagged));
    await cliFails(['describe-images', '--repository-name', repositoryName, '--image-ids', 'imageTag=nope'], 'ImageNotFoundException');
    await cliFails(['put-image', '--repository-name', repositoryName, '--image-manifest', '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":1},"layers":[]}'], 'LayersNotFoundException');
    await cliFails(['batch-get-image', '--repository-name', 'e2e/none', '--image-ids', 'imageTag=x'], 'RepositoryNotFoundException');
  });
});

describe('docker and the ECR API share one image store', { skip: skipUnless(hasDocker()) || skipUnless(hasBusybox()), timeout: 300_000 }, () => {
  const BASE = 'cargohold-test/busybox:1';
  let dockerd: RunningDockerd;
  let built: BuiltImage;

  before(async () => {
    assertAvailable(hasDocker());
    assertAvailable(hasBusybox());
    dockerd = await startDockerd();
    await importBusyboxImage(dockerd, BASE);
    for (const repositoryName of ['e2e/ecr-built', 'e2e/docker']) await ecr.send(new CreateRepositoryCommand({ repositoryName }));
    // docker login with the password GetAuthorizationToken issues (what `aws ecr get-login-password` prints).
    const auth = await ecr.send(new GetAuthorizationTokenCommand({}));
    const token = Buffer.from(auth.authorizationData![0]!.authorizationToken!, 'base64').toString();
    assert.ok(token.startsWith('AWS:'));
    await dockerd.docker(['login', '--username', 'AWS', '--password-stdin', s.host], { input: token.slice(4) });
  }, { timeout: 120_000 });

  after(async () => {
    await dockerd?.stop();
  }, { timeout: 60_000 });

  it('an image pushed with the ECR layer API and PutImage pulls and runs with docker, byte for byte', { timeout: 120_000 }, async () => {
    built = await buildImageWithEcr('e2e/ecr-built');
    const put = await ecr.send(new PutImageCommand({ repositoryName: 'e2e/ecr-built', imageManifest: built.manifest, imageManifestMediaType: DOCKER_MANIFEST, imageTag: 'v1' }));
    assert.equal(put.image?.imageId?.imageDigest, built.digest);
    const ref = `${s.host}/e2e/ecr-built:v1`;
    const pulled = await dockerd.docker(['pull', ref], { timeoutMs: 100_000 });
    assert.match(pulled.stdout, new RegExp(`Digest: ${built.digest}`), pulled.stdout);
    const hello = await dockerd.docker(['run', '--rm', '--network', 'none', ref, 'cat', '/hello.txt'], { timeoutMs: 60_000 });
    assert.equal(hello.stdout, built.hello);
    const big = await dockerd.docker(['run', '--rm', '--network', 'none', ref, 'sha256sum', '/big.bin'], { timeoutMs: 60_000 });
    assert.equal(`sha256:${big.stdout.split(/\s+/)[0]}`, built.bigDigest);
    // The pull is recorded (coalesced writes, about a second).
    await new Promise((r) => setTimeout(r, 1500));
    const detail = (await ecr.send(new DescribeImagesCommand({ repositoryName: 'e2e/ecr-built', imageIds: [{ imageTag: 'v1' }] }))).imageDetails![0]!;
    assert.ok(detail.lastRecordedPullTime instanceof Date && Math.abs(detail.lastRecordedPullTime.getTime() - Date.now()) < 60_000, String(detail.lastRecordedPullTime));
    assert.equal(detail.imageSizeInBytes, built.config.size + built.layers[0]!.size + built.layers[1]!.size);
    assert.equal(detail.artifactMediaType, DOCKER_CONFIG);
  });

  it('a docker-pushed image is the same bytes to BatchGetImage and DescribeImages; a tag move leaves the old image untagged', { timeout: 120_000 }, async () => {
    const ref = `${s.host}/e2e/docker:latest`;
    await dockerd.docker(['tag', BASE, ref]);
    const pushed = await dockerd.docker(['push', ref], { timeoutMs: 60_000 });
    const m = /latest: digest: (sha256:[0-9a-f]{64}) size: (\d+)/.exec(pushed.stdout);
    assert.ok(m, pushed.stdout);
    const digest = m[1]!;
    const got = await ecr.send(new BatchGetImageCommand({ repositoryName: 'e2e/docker', imageIds: [{ imageTag: 'latest' }] }));
    const text = got.images![0]!.imageManifest!;
    assert.equal(sha256(text), digest);
    assert.equal(Buffer.byteLength(text), Number(m[2]));
    assert.equal(got.images![0]!.imageManifestMediaType, DOCKER_MANIFEST);
    const manifest = JSON.parse(text) as { config: { size: number }; layers: Array<{ size: number }> };
    const detail = (await ecr.send(new DescribeImagesCommand({ repositoryName: 'e2e/docker' }))).imageDetails!;
    assert.deepEqual(detail.map((d) => [d.imageDigest, d.imageTags, d.imageSizeInBytes]), [[digest, ['latest'], manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0)]]);

    // Move `latest` with docker to the image built through the ECR API.
    await dockerd.docker(['tag', `${s.host}/e2e/ecr-built:v1`, ref]);
    const moved = await dockerd.docker(['push', ref], { timeoutMs: 60_000 });
    assert.match(moved.stdout, new RegExp(`latest: digest: ${built.digest} `), moved.stdout);
    const after = (await ecr.send(new DescribeImagesCommand({ repositoryName: 'e2e/docker' }))).imageDetails!;
    const tags = new Map(after.map((d) => [d.imageDigest, d.imageTags]));
    assert.deepEqual(tags.get(built.digest), ['latest']);
    assert.ok(tags.has(digest), 'the old image is still there');
    assert.equal(tags.get(digest), undefined, 'and untagged');
  });

  it('immutability: docker push prints tag invalid with ECR wording, PutImage fails with ImageTagAlreadyExistsException, a re-push of the same image works', { timeout: 120_000 }, async () => {
    await ecr.send(new PutImageTagMutabilityCommand({ repositoryName: 'e2e/docker', imageTagMutability: 'IMMUTABLE' }));
    const message = "The image tag 'latest' already exists in the 'e2e/docker' repository and cannot be overwritten because the tag is immutable.";
    const ref = `${s.host}/e2e/docker:latest`;
    await dockerd.docker(['tag', BASE, ref]);
    const refused = await dockerd.docker(['push', ref], { timeoutMs: 60_000, allowFailure: true });
    assert.notEqual(refused.code, 0);
    assert.ok(`${refused.stdout}${refused.stderr}`.includes(`tag invalid: ${message}`), `${refused.stdout}\n${refused.stderr}`);
    const docker = await ecr.send(new BatchGetImageCommand({ repositoryName: 'e2e/docker', imageIds: [{ imageTag: 'latest' }] }));
    assert.equal(docker.images?.[0]?.imageId?.imageDigest, built.digest, 'the tag did not move');
    const other = await ecr.send(new BatchGetImageCommand({ repositoryName: 'e2e/docker', imageIds: [{ imageDigest: (await ecr.send(new DescribeImagesCommand({ repositoryName: 'e2e/docker', filter: { tagStatus: 'UNTAGGED' } }))).imageDetails![0]!.imageDigest! }] }));
    await rejects(ecr.send(new PutImageCommand({ repositoryName: 'e2e/docker', imageManifest: other.images![0]!.imageManifest!, imageTag: 'latest' })), 'ImageTagAlreadyExistsException', message);
    await dockerd.docker(['tag', `${s.host}/e2e/ecr-built:v1`, ref]);
    const same = await dockerd.docker(['push', ref], { timeoutMs: 60_000 });
    assert.match(same.stdout, new RegExp(`latest: digest: ${built.digest} `), same.stdout);
  });
});
