/**
 * Protocol: monolithic blob pushes — POST then PUT, single-request POST ?digest=, digest verification,
 * unknown sessions, the empty blob and sha512 digests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  digestOf,
  EMPTY_BLOB_DIGEST,
  expectError,
  expectLocationPath,
  expectStatus,
  parseUploadRange,
  randomBlob,
  sha256,
  uniqueRepo,
  type OciClient,
} from '../helpers/oci-client.ts';
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

/** Asserts the blob is fully readable (GET bytes + HEAD headers). */
async function expectBlob(repo: string, digest: string, data: Buffer) {
  const get = await c.getBlob(repo, digest);
  expectStatus(get, 200);
  assert.deepEqual(get.body, data);
  assert.equal(get.header('docker-content-digest'), digest);
  const head = await c.headBlob(repo, digest);
  expectStatus(head, 200);
  assert.equal(head.header('content-length'), String(data.length));
}

describe('POST then PUT', () => {
  it('POST /blobs/uploads/ answers 202 with Location, Docker-Upload-UUID and Range: 0-0', async () => {
    const repo = uniqueRepo('mono');
    const res = await c.startUpload(repo);
    expectStatus(res, 202);
    const loc = res.header('location');
    const uuid = res.header('docker-upload-uuid');
    assert.ok(loc, 'Location');
    assert.ok(uuid && uuid.length > 0, 'Docker-Upload-UUID');
    assert.ok(loc.includes(uuid), `Location ${loc} should contain the session id ${uuid}`);
    assert.equal(res.header('range'), '0-0');
  });

  it('each POST opens a distinct session', async () => {
    const repo = uniqueRepo('mono');
    const a = await c.startUpload(repo);
    const b = await c.startUpload(repo);
    expectStatus(a, 202);
    expectStatus(b, 202);
    assert.notEqual(a.header('docker-upload-uuid'), b.header('docker-upload-uuid'));
    assert.notEqual(a.header('location'), b.header('location'));
  });

  it('PUT <location>?digest= with the whole blob answers 201 with Location /v2/<name>/blobs/<digest> and Docker-Content-Digest', async () => {
    const repo = uniqueRepo('mono');
    const data = randomBlob(4096);
    const digest = sha256(data);
    const loc = await c.openSession(repo);
    const res = await c.completeUpload(loc, digest, data);
    expectStatus(res, 201);
    expectLocationPath(c, res, `/v2/${repo}/blobs/${digest}`);
    assert.equal(res.header('docker-content-digest'), digest);
    const viaLocation = await c.get(res.header('location')!);
    expectStatus(viaLocation, 200);
    assert.deepEqual(viaLocation.body, data);
    await expectBlob(repo, digest, data);
  });

  it('a completed session is gone: a second PUT answers 404 BLOB_UPLOAD_UNKNOWN', async () => {
    const repo = uniqueRepo('mono');
    const data = randomBlob(100);
    const loc = await c.openSession(repo);
    expectStatus(await c.completeUpload(loc, sha256(data), data), 201);
    expectError(await c.completeUpload(loc, sha256(data), data), 404, ['BLOB_UPLOAD_UNKNOWN']);
    expectError(await c.get(loc), 404, ['BLOB_UPLOAD_UNKNOWN']);
  });

  it('pushing the same blob twice succeeds both times', async () => {
    const repo = uniqueRepo('mono');
    const data = randomBlob(300);
    const d1 = await c.pushBlob(repo, data);
    const d2 = await c.pushBlob(repo, data);
    assert.equal(d1, d2);
    await expectBlob(repo, d1, data);
  });

  it('digest mismatch on PUT answers 400 DIGEST_INVALID and no blob becomes visible', async () => {
    const repo = uniqueRepo('mono');
    const data = randomBlob(2048);
    const claimed = sha256(randomBlob(16));
    const loc = await c.openSession(repo);
    expectError(await c.completeUpload(loc, claimed, data), 400, ['DIGEST_INVALID']);
    expectError(await c.getBlob(repo, claimed), 404, ['BLOB_UNKNOWN']);
    expectError(await c.getBlob(repo, sha256(data)), 404, ['BLOB_UNKNOWN']);
  });

  it('PUT without the digest parameter answers 400 DIGEST_INVALID', async () => {
    const repo = uniqueRepo('mono');
    const data = randomBlob(64);
    const loc = await c.openSession(repo);
    expectError(await c.completeUpload(loc, undefined, data), 400, ['DIGEST_INVALID']);
    expectError(await c.getBlob(repo, sha256(data)), 404, ['BLOB_UNKNOWN']);
  });

  it('PUT with an empty digest parameter answers 400 DIGEST_INVALID', async () => {
    const repo = uniqueRepo('mono');
    const loc = await c.openSession(repo);
    expectError(await c.completeUpload(loc, '', randomBlob(10)), 400, ['DIGEST_INVALID']);
  });
});

describe('single-request POST', () => {
  it('POST /blobs/uploads/?digest= with the body answers 201 with Location and Docker-Content-Digest', distTodo('no single-request monolithic upload (answers 202)'), async () => {
    const repo = uniqueRepo('single');
    const data = randomBlob(5000);
    const digest = sha256(data);
    const res = await c.startUpload(repo, { query: { digest }, body: data, headers: { 'Content-Type': 'application/octet-stream' } });
    expectStatus(res, 201);
    expectLocationPath(c, res, `/v2/${repo}/blobs/${digest}`);
    assert.equal(res.header('docker-content-digest'), digest);
    await expectBlob(repo, digest, data);
  });

  it('single-request POST with a wrong digest answers 400 DIGEST_INVALID and stores nothing', distTodo('no single-request monolithic upload'), async () => {
    const repo = uniqueRepo('single');
    const data = randomBlob(500);
    const claimed = sha256(randomBlob(8));
    const res = await c.startUpload(repo, { query: { digest: claimed }, body: data, headers: { 'Content-Type': 'application/octet-stream' } });
    expectError(res, 400, ['DIGEST_INVALID']);
    expectError(await c.getBlob(repo, claimed), 404, ['BLOB_UNKNOWN']);
    expectError(await c.getBlob(repo, sha256(data)), 404, ['BLOB_UNKNOWN']);
  });
});

describe('unknown and foreign sessions', () => {
  const unknownId = '3f1e5a0c-9b7d-4c2a-8e6f-0a1b2c3d4e5f';
  it('GET/PATCH/PUT/DELETE on an unknown upload id answer 404 BLOB_UPLOAD_UNKNOWN', distTodo('answers 400 BLOB_UPLOAD_INVALID without its _state token'), async () => {
    const repo = uniqueRepo('unknown');
    await c.pushBlob(repo, randomBlob(10));
    const path = `/v2/${repo}/blobs/uploads/${unknownId}`;
    expectError(await c.get(path), 404, ['BLOB_UPLOAD_UNKNOWN']);
    expectError(await c.patchChunk(path, randomBlob(10), 0), 404, ['BLOB_UPLOAD_UNKNOWN']);
    const data = randomBlob(10);
    expectError(await c.completeUpload(path, sha256(data), data), 404, ['BLOB_UPLOAD_UNKNOWN']);
    expectError(await c.delete(path), 404, ['BLOB_UPLOAD_UNKNOWN']);
  });

  it('a session opened in repository A is unknown under repository B (404 BLOB_UPLOAD_UNKNOWN)', distTodo('answers 400 BLOB_UPLOAD_INVALID (state token mismatch)'), async () => {
    const a = uniqueRepo('sess-a');
    const b = uniqueRepo('sess-b');
    await c.pushBlob(b, randomBlob(10));
    const loc = await c.openSession(a);
    const u = c.url(loc);
    const foreign = `${u.pathname.replace(`/v2/${a}/`, `/v2/${b}/`)}${u.search}`;
    assert.notEqual(foreign, `${u.pathname}${u.search}`);
    const data = randomBlob(32);
    expectError(await c.completeUpload(foreign, sha256(data), data), 404, ['BLOB_UPLOAD_UNKNOWN']);
    expectError(await c.getBlob(b, sha256(data)), 404, ['BLOB_UNKNOWN']);
    // The session still works in its own repository.
    expectStatus(await c.completeUpload(loc, sha256(data), data), 201);
  });
});

describe('special blobs', () => {
  it('the empty blob (sha256:e3b0c442…) can be pushed and pulled', async () => {
    const repo = uniqueRepo('empty');
    const empty = Buffer.alloc(0);
    assert.equal(sha256(empty), EMPTY_BLOB_DIGEST);
    const loc = await c.openSession(repo);
    const res = await c.completeUpload(loc, EMPTY_BLOB_DIGEST, empty);
    expectStatus(res, 201);
    assert.equal(res.header('docker-content-digest'), EMPTY_BLOB_DIGEST);
    const get = await c.getBlob(repo, EMPTY_BLOB_DIGEST);
    expectStatus(get, 200);
    assert.equal(get.body.length, 0);
    assert.equal(get.header('content-length'), '0');
    assert.equal(get.header('docker-content-digest'), EMPTY_BLOB_DIGEST);
    const head = await c.headBlob(repo, EMPTY_BLOB_DIGEST);
    expectStatus(head, 200);
    assert.equal(head.header('content-length'), '0');
  });

  it('a blob with a sha512 digest can be pushed and pulled by that digest', async () => {
    const repo = uniqueRepo('sha512');
    const data = randomBlob(3000);
    const digest = digestOf(data, 'sha512');
    const loc = await c.openSession(repo);
    const res = await c.completeUpload(loc, digest, data);
    expectStatus(res, 201);
    // The spec lets Docker-Content-Digest be the registry's canonical digest (another algorithm) as long as it
    // matches the content; Distribution answers sha256 here.
    const canonical = [digest, sha256(data)];
    assert.ok(canonical.includes(res.header('docker-content-digest') ?? ''), `Docker-Content-Digest ${res.header('docker-content-digest')}`);
    const viaLocation = await c.get(res.header('location') ?? '');
    expectStatus(viaLocation, 200);
    assert.deepEqual(viaLocation.body, data);
    const get = await c.getBlob(repo, digest);
    expectStatus(get, 200);
    assert.deepEqual(get.body, data);
    assert.ok(canonical.includes(get.header('docker-content-digest') ?? ''), `Docker-Content-Digest ${get.header('docker-content-digest')}`);
    const head = await c.headBlob(repo, digest);
    expectStatus(head, 200);
    assert.equal(head.header('content-length'), String(data.length));
  });

  it('a sha512 digest mismatch answers 400 DIGEST_INVALID', async () => {
    const repo = uniqueRepo('sha512');
    const data = randomBlob(100);
    const claimed = digestOf(randomBlob(100), 'sha512');
    const loc = await c.openSession(repo);
    expectError(await c.completeUpload(loc, claimed, data), 400, ['DIGEST_INVALID']);
    expectError(await c.getBlob(repo, claimed), 404, ['BLOB_UNKNOWN']);
  });

  it('a 2 MiB blob round-trips through POST + PUT', async () => {
    const repo = uniqueRepo('big');
    const data = randomBlob(2 * 1024 * 1024 + 17);
    const digest = await c.pushBlob(repo, data);
    await expectBlob(repo, digest, data);
    const res = await c.getBlob(repo, digest, { Range: `bytes=${data.length - 10}-` });
    expectStatus(res, 206);
    assert.deepEqual(res.body, data.subarray(data.length - 10));
  });

  it('the upload POST Range stays 0-0 and the session reports Range 0-0 before any data', async () => {
    const repo = uniqueRepo('range00');
    const loc = await c.openSession(repo);
    const res = await c.get(loc);
    expectStatus(res, 204);
    assert.equal(parseUploadRange(res.header('range')), 0);
  });
});
