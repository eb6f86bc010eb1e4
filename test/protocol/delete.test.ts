/**
 * Protocol: content management — deleting manifests (by digest), tags (by tag) and blobs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { expectError, expectStatus, makeImage, randomBlob, sha256, uniqueRepo, type OciClient } from '../helpers/oci-client.ts';
import { distTodo, startTarget, type Target } from './target.ts';

let t: Target;
let c: OciClient;

before(async () => {
  t = await startTarget();
  c = t.client;
});
after(async () => {
  await t?.stop();
});

async function tagsOf(repo: string): Promise<string[] | undefined> {
  const res = await c.get(`/v2/${repo}/tags/list`);
  if (res.status === 404) return undefined;
  expectStatus(res, 200);
  return res.json().tags ?? [];
}

describe('delete manifests', () => {
  it('DELETE by digest answers 202; the manifest and every tag pointing at it then answer 404 MANIFEST_UNKNOWN', async () => {
    const repo = uniqueRepo('del-m');
    const a = makeImage();
    const b = makeImage();
    await c.pushImage(repo, a, 'a1');
    expectStatus(await c.putManifest(repo, 'a2', a.bytes, a.mediaType), 201);
    await c.pushImage(repo, b, 'b1');
    const res = await c.delete(`/v2/${repo}/manifests/${a.digest}`);
    expectStatus(res, 202);
    expectError(await c.getManifest(repo, a.digest), 404, ['MANIFEST_UNKNOWN']);
    expectStatus(await c.headManifest(repo, a.digest), 404);
    expectError(await c.getManifest(repo, 'a1'), 404, ['MANIFEST_UNKNOWN']);
    expectError(await c.getManifest(repo, 'a2'), 404, ['MANIFEST_UNKNOWN']);
    assert.deepEqual(await tagsOf(repo), ['b1']);
    expectStatus(await c.getManifest(repo, 'b1'), 200);
  });

  it('deleting a manifest again answers 404 MANIFEST_UNKNOWN', async () => {
    const repo = uniqueRepo('del-m');
    const a = makeImage();
    await c.pushImage(repo, a, 'v1');
    await c.pushImage(repo, makeImage(), 'other');
    expectStatus(await c.delete(`/v2/${repo}/manifests/${a.digest}`), 202);
    expectError(await c.delete(`/v2/${repo}/manifests/${a.digest}`), 404, ['MANIFEST_UNKNOWN']);
  });

  it('deleting an unknown manifest digest answers 404 MANIFEST_UNKNOWN', async () => {
    const repo = uniqueRepo('del-m');
    await c.pushImage(repo, makeImage(), 'v1');
    expectError(await c.delete(`/v2/${repo}/manifests/${sha256(randomBlob(20))}`), 404, ['MANIFEST_UNKNOWN']);
  });

  it('deleting in an unknown repository answers 404 (NAME_UNKNOWN or MANIFEST_UNKNOWN)', async () => {
    expectError(await c.delete(`/v2/${uniqueRepo('del-none')}/manifests/${sha256(randomBlob(20))}`), 404, ['NAME_UNKNOWN', 'MANIFEST_UNKNOWN']);
  });

  it('a manifest deleted in one repository stays in another', async () => {
    const a = uniqueRepo('del-a');
    const b = uniqueRepo('del-b');
    const img = makeImage();
    await c.pushImage(a, img, 'v1');
    await c.pushImage(b, img, 'v1');
    expectStatus(await c.delete(`/v2/${a}/manifests/${img.digest}`), 202);
    expectError(await c.getManifest(a, img.digest), 404, ['MANIFEST_UNKNOWN']);
    const res = await c.getManifest(b, 'v1');
    expectStatus(res, 200);
    assert.ok(res.body.equals(img.bytes));
  });
});

describe('delete tags', () => {
  it('DELETE /manifests/<tag> answers 202; the tag is gone but the image stays reachable by digest and other tags', distTodo('tag deletion is not supported by 2.8'), async () => {
    const repo = uniqueRepo('del-t');
    const img = makeImage();
    await c.pushImage(repo, img, 'old');
    expectStatus(await c.putManifest(repo, 'keep', img.bytes, img.mediaType), 201);
    expectStatus(await c.delete(`/v2/${repo}/manifests/old`), 202);
    expectError(await c.getManifest(repo, 'old'), 404, ['MANIFEST_UNKNOWN']);
    const byDigest = await c.getManifest(repo, img.digest);
    expectStatus(byDigest, 200);
    assert.ok(byDigest.body.equals(img.bytes));
    expectStatus(await c.getManifest(repo, 'keep'), 200);
    assert.deepEqual(await tagsOf(repo), ['keep']);
  });

  it('deleting an unknown tag answers 404 MANIFEST_UNKNOWN', distTodo('tag deletion is not supported by 2.8'), async () => {
    const repo = uniqueRepo('del-t');
    await c.pushImage(repo, makeImage(), 'v1');
    expectError(await c.delete(`/v2/${repo}/manifests/nope`), 404, ['MANIFEST_UNKNOWN']);
  });
});

describe('delete blobs', () => {
  it('DELETE /blobs/<digest> answers 202; GET and HEAD then answer 404 BLOB_UNKNOWN', async () => {
    const repo = uniqueRepo('del-b');
    const data = randomBlob(600);
    const digest = await c.pushBlob(repo, data);
    expectStatus(await c.delete(`/v2/${repo}/blobs/${digest}`), 202);
    expectError(await c.getBlob(repo, digest), 404, ['BLOB_UNKNOWN']);
    expectStatus(await c.headBlob(repo, digest), 404);
  });

  it('deleting an unknown blob answers 404 BLOB_UNKNOWN', async () => {
    const repo = uniqueRepo('del-b');
    await c.pushBlob(repo, randomBlob(10));
    expectError(await c.delete(`/v2/${repo}/blobs/${sha256(randomBlob(10))}`), 404, ['BLOB_UNKNOWN']);
  });

  it('deleting a blob in an unknown repository answers 404 (BLOB_UNKNOWN or NAME_UNKNOWN)', async () => {
    expectError(await c.delete(`/v2/${uniqueRepo('del-none')}/blobs/${sha256(randomBlob(10))}`), 404, ['BLOB_UNKNOWN', 'NAME_UNKNOWN']);
  });

  it('deleting a blob in one repository leaves it readable in another', async () => {
    const a = uniqueRepo('del-a');
    const b = uniqueRepo('del-b');
    const data = randomBlob(321);
    const digest = await c.pushBlob(a, data);
    await c.pushBlob(b, data);
    expectStatus(await c.delete(`/v2/${a}/blobs/${digest}`), 202);
    expectError(await c.getBlob(a, digest), 404, ['BLOB_UNKNOWN']);
    const res = await c.getBlob(b, digest);
    expectStatus(res, 200);
    assert.deepEqual(res.body, data);
  });

  it('a deleted blob can be pushed again', async () => {
    const repo = uniqueRepo('del-b');
    const data = randomBlob(222);
    const digest = await c.pushBlob(repo, data);
    expectStatus(await c.delete(`/v2/${repo}/blobs/${digest}`), 202);
    await c.pushBlob(repo, data);
    const res = await c.getBlob(repo, digest);
    expectStatus(res, 200);
    assert.deepEqual(res.body, data);
  });
});
