/**
 * Protocol: cross-repository blob mounts and repository isolation.
 *
 * A repository reaches a blob only through its own link: a blob pushed to A is not readable from B by
 * digest, not usable by B's manifests, and not mountable into C by naming B as the source.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { expectError, expectLocationPath, expectStatus, makeImage, makeIndex, randomBlob, sha256, uniqueRepo, type OciClient, type OciResponse } from '../helpers/oci-client.ts';
import { startTarget, type Target } from './target.ts';

let t: Target;
let c: OciClient;

before(async () => {
  t = await startTarget();
  c = t.client;
});
after(async () => {
  await t?.stop();
});

function mount(to: string, digest: string, from: string): Promise<OciResponse> {
  return c.startUpload(to, { query: { mount: digest, from } });
}

/** Asserts a 202 that is a normal, usable upload session, by completing it with `data`. */
async function expectUsableSession(res: OciResponse, to: string, data: Buffer) {
  expectStatus(res, 202);
  const loc = res.header('location');
  assert.ok(loc, 'Location');
  assert.ok(res.header('docker-upload-uuid'), 'Docker-Upload-UUID');
  const put = await c.completeUpload(loc, sha256(data), data);
  expectStatus(put, 201);
  const get = await c.getBlob(to, sha256(data));
  expectStatus(get, 200);
  assert.deepEqual(get.body, data);
}

describe('mount', () => {
  it('mounting a blob that exists in `from` answers 201 with Location and Docker-Content-Digest; the blob is then readable from the target', async () => {
    const from = uniqueRepo('src');
    const to = uniqueRepo('dst');
    const data = randomBlob(1234);
    const digest = await c.pushBlob(from, data);
    expectError(await c.getBlob(to, digest), 404, ['BLOB_UNKNOWN', 'NAME_UNKNOWN']);
    const res = await mount(to, digest, from);
    expectStatus(res, 201);
    expectLocationPath(c, res, `/v2/${to}/blobs/${digest}`);
    assert.equal(res.header('docker-content-digest'), digest);
    const get = await c.getBlob(to, digest);
    expectStatus(get, 200);
    assert.deepEqual(get.body, data);
    const head = await c.headBlob(to, digest);
    expectStatus(head, 200);
    assert.equal(head.header('content-length'), String(data.length));
  });

  it('mounted blobs can back a manifest in the target repository', async () => {
    const from = uniqueRepo('src');
    const to = uniqueRepo('dst');
    const img = makeImage({ layers: 2 });
    await c.pushImage(from, img, 'v1');
    for (const b of [img.config, ...img.layers]) expectStatus(await mount(to, b.digest, from), 201);
    const put = await c.putManifest(to, 'v1', img.bytes, img.mediaType);
    expectStatus(put, 201);
    assert.equal(put.header('docker-content-digest'), img.digest);
  });

  it('mounting from a repository that does not exist answers 202 with a usable upload session', async () => {
    const to = uniqueRepo('dst');
    const data = randomBlob(300);
    const res = await mount(to, sha256(data), uniqueRepo('nosuch'));
    await expectUsableSession(res, to, data);
  });

  it('mounting a blob that `from` does not have answers 202 with a usable upload session', async () => {
    const from = uniqueRepo('src');
    const to = uniqueRepo('dst');
    await c.pushBlob(from, randomBlob(50));
    const data = randomBlob(400);
    const res = await mount(to, sha256(data), from);
    await expectUsableSession(res, to, data);
  });

  it('mounting names the source repository: a blob held only by another repository is not mounted (202) and stays unreadable from the target', async () => {
    const holder = uniqueRepo('holder');
    const from = uniqueRepo('src');
    const to = uniqueRepo('dst');
    const secret = randomBlob(256);
    const digest = await c.pushBlob(holder, secret);
    await c.pushBlob(from, randomBlob(20));
    const res = await mount(to, digest, from);
    expectStatus(res, 202);
    expectError(await c.getBlob(to, digest), 404, ['BLOB_UNKNOWN', 'NAME_UNKNOWN']);
    expectStatus(await c.headBlob(to, digest), 404);
  });
});

describe('repository isolation', () => {
  it('a blob pushed to A is not readable from B by digest (404 BLOB_UNKNOWN)', async () => {
    const a = uniqueRepo('iso-a');
    const b = uniqueRepo('iso-b');
    const data = randomBlob(999);
    const digest = await c.pushBlob(a, data);
    await c.pushBlob(b, randomBlob(10));
    expectError(await c.getBlob(b, digest), 404, ['BLOB_UNKNOWN']);
    expectStatus(await c.headBlob(b, digest), 404);
    expectError(await c.getBlob(b, digest, { Range: 'bytes=0-9' }), 404, ['BLOB_UNKNOWN']);
    // ...nor from a repository that does not exist.
    expectError(await c.getBlob(uniqueRepo('iso-none'), digest), 404, ['BLOB_UNKNOWN', 'NAME_UNKNOWN']);
    // Still readable from A.
    expectStatus(await c.getBlob(a, digest), 200);
  });

  it('a manifest in B cannot reference blobs that only A holds (400 MANIFEST_BLOB_UNKNOWN)', async () => {
    const a = uniqueRepo('iso-a');
    const b = uniqueRepo('iso-b');
    const img = makeImage();
    await c.pushImage(a, img, 'v1');
    expectError(await c.putManifest(b, 'v1', img.bytes, img.mediaType), 400, ['MANIFEST_BLOB_UNKNOWN']);
    expectError(await c.getManifest(b, 'v1'), 404, ['MANIFEST_UNKNOWN', 'NAME_UNKNOWN']);
  });

  it('an index in B cannot reference a manifest that only A holds (400 MANIFEST_BLOB_UNKNOWN)', async () => {
    const a = uniqueRepo('iso-a');
    const b = uniqueRepo('iso-b');
    const img = makeImage();
    await c.pushImage(a, img, 'v1');
    await c.pushImage(b, makeImage(), 'other');
    const idx = makeIndex([img.descriptor]);
    expectError(await c.putManifest(b, 'multi', idx.bytes, idx.mediaType), 400, ['MANIFEST_BLOB_UNKNOWN']);
  });

  it('a manifest pushed to A is not readable from B by digest', async () => {
    const a = uniqueRepo('iso-a');
    const b = uniqueRepo('iso-b');
    const img = makeImage();
    await c.pushImage(a, img, 'v1');
    await c.pushImage(b, makeImage(), 'v1');
    expectError(await c.getManifest(b, img.digest), 404, ['MANIFEST_UNKNOWN']);
  });

  it('pushing the same blob to B after A makes it readable from B', async () => {
    const a = uniqueRepo('iso-a');
    const b = uniqueRepo('iso-b');
    const data = randomBlob(77);
    const digest = await c.pushBlob(a, data);
    await c.pushBlob(b, data);
    const res = await c.getBlob(b, digest);
    expectStatus(res, 200);
    assert.deepEqual(res.body, data);
  });
});
