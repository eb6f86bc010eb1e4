/**
 * Protocol: chunked blob pushes — PATCH with Content-Range, upload status, out-of-order chunks, the final
 * PUT with or without a last chunk, resuming after a dropped connection, and cancelling a session.
 *
 * Offsets: `Range: 0-<end>` where <end> is the offset of the last byte received (Distribution reports
 * `0-0` for an empty session as well).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  expectError,
  expectLocationPath,
  expectStatus,
  parseUploadRange,
  patchAndDrop,
  randomBlob,
  sha256,
  sleep,
  uniqueRepo,
  type OciClient,
  type OciResponse,
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

function expectChunkAccepted(res: OciResponse, end: number, uuid: string | null): string {
  expectStatus(res, 202);
  assert.equal(res.header('range'), `0-${end}`, `${res.what}: Range`);
  const loc = res.header('location');
  assert.ok(loc, `${res.what}: Location`);
  if (uuid) assert.equal(res.header('docker-upload-uuid'), uuid, `${res.what}: Docker-Upload-UUID`);
  return loc;
}

async function expectBlob(repo: string, digest: string, data: Buffer) {
  const get = await c.getBlob(repo, digest);
  expectStatus(get, 200);
  assert.equal(get.body.length, data.length);
  assert.ok(get.body.equals(data), 'blob bytes differ');
  assert.equal(get.header('docker-content-digest'), digest);
}

describe('chunked upload', () => {
  it('PATCH chunks with Content-Range answer 202 with Range 0-<last>, Location and Docker-Upload-UUID; final PUT without body answers 201', async () => {
    const repo = uniqueRepo('chunk');
    const data = randomBlob(3 * 1000 + 123);
    const digest = sha256(data);
    const post = await c.startUpload(repo, { headers: { 'Content-Length': '0' } });
    expectStatus(post, 202);
    const uuid = post.header('docker-upload-uuid');
    assert.ok(uuid);
    let loc = post.header('location')!;
    const bounds = [0, 1000, 2000, data.length];
    for (let i = 0; i < bounds.length - 1; i++) {
      const chunk = data.subarray(bounds[i], bounds[i + 1]);
      const res = await c.patchChunk(loc, chunk, bounds[i]);
      loc = expectChunkAccepted(res, bounds[i + 1] - 1, uuid);
    }
    const put = await c.completeUpload(loc, digest);
    expectStatus(put, 201);
    expectLocationPath(c, put, `/v2/${repo}/blobs/${digest}`);
    assert.equal(put.header('docker-content-digest'), digest);
    await expectBlob(repo, digest, data);
  });

  it('GET on the upload URL answers 204 with Range, Location and Docker-Upload-UUID, before and between chunks', async () => {
    const repo = uniqueRepo('status');
    const post = await c.startUpload(repo, { headers: { 'Content-Length': '0' } });
    expectStatus(post, 202);
    const uuid = post.header('docker-upload-uuid');
    let loc = post.header('location')!;
    const s0 = await c.get(loc);
    expectStatus(s0, 204);
    assert.equal(s0.header('range'), '0-0');
    assert.ok(s0.header('location'));
    assert.equal(s0.header('docker-upload-uuid'), uuid);
    assert.equal(s0.body.length, 0);
    const data = randomBlob(700);
    loc = expectChunkAccepted(await c.patchChunk(loc, data.subarray(0, 500), 0), 499, uuid);
    const s1 = await c.get(loc);
    expectStatus(s1, 204);
    assert.equal(s1.header('range'), '0-499');
    assert.equal(s1.header('docker-upload-uuid'), uuid);
    const next = s1.header('location');
    assert.ok(next);
    // The Location from the status response is usable for the next chunk.
    const fin = await c.completeUpload(next, sha256(data), data.subarray(500), { 'Content-Range': '500-699' });
    expectStatus(fin, 201);
    await expectBlob(repo, sha256(data), data);
  });

  it('final PUT may carry the last chunk (Content-Range + Content-Length)', async () => {
    const repo = uniqueRepo('lastchunk');
    const data = randomBlob(2500);
    const digest = sha256(data);
    let loc = await c.openSession(repo);
    loc = expectChunkAccepted(await c.patchChunk(loc, data.subarray(0, 1024), 0), 1023, null);
    loc = expectChunkAccepted(await c.patchChunk(loc, data.subarray(1024, 2048), 1024), 2047, null);
    const put = await c.completeUpload(loc, digest, data.subarray(2048), { 'Content-Range': `2048-${data.length - 1}` });
    expectStatus(put, 201);
    assert.equal(put.header('docker-content-digest'), digest);
    await expectBlob(repo, digest, data);
  });

  it('a streamed PATCH without Content-Range is accepted (202 with Range)', async () => {
    const repo = uniqueRepo('stream');
    const data = randomBlob(1500);
    let loc = await c.openSession(repo);
    loc = expectChunkAccepted(await c.patchChunk(loc, data), data.length - 1, null);
    const put = await c.completeUpload(loc, sha256(data));
    expectStatus(put, 201);
    await expectBlob(repo, sha256(data), data);
  });

  it('a 3 MiB blob in 1 MiB chunks round-trips', async () => {
    const repo = uniqueRepo('bigchunk');
    const data = randomBlob(3 * 1024 * 1024 + 5);
    const digest = await c.pushBlobChunked(repo, data, 1024 * 1024);
    await expectBlob(repo, digest, data);
  });

  it('an out-of-order chunk answers 416 with the current Range; the session stays usable', distTodo('ignores Content-Range on PATCH (202)'), async () => {
    const repo = uniqueRepo('ooo');
    const data = randomBlob(300);
    let loc = await c.openSession(repo);
    loc = expectChunkAccepted(await c.patchChunk(loc, data.subarray(0, 100), 0), 99, null);
    // Gap: starts at 200 while 100 is expected.
    const gap = await c.patchChunk(loc, data.subarray(200, 300), 200);
    expectError(gap, 416, ['BLOB_UPLOAD_INVALID', 'RANGE_INVALID']);
    assert.equal(gap.header('range'), '0-99');
    // Overlap: re-sends bytes already received.
    const overlap = await c.patchChunk(loc, data.subarray(50, 150), 50);
    expectError(overlap, 416, ['BLOB_UPLOAD_INVALID', 'RANGE_INVALID']);
    assert.equal(overlap.header('range'), '0-99');
    // Nothing from the rejected chunks was kept.
    const status = await c.get(loc);
    expectStatus(status, 204);
    assert.equal(status.header('range'), '0-99');
    loc = expectChunkAccepted(await c.patchChunk(loc, data.subarray(100, 300), 100), 299, null);
    expectStatus(await c.completeUpload(loc, sha256(data)), 201);
    await expectBlob(repo, sha256(data), data);
  });

  it('a first chunk that does not start at 0 answers 416', distTodo('ignores Content-Range on PATCH (202)'), async () => {
    const repo = uniqueRepo('ooo0');
    const loc = await c.openSession(repo);
    expectError(await c.patchChunk(loc, randomBlob(10), 10), 416, ['BLOB_UPLOAD_INVALID', 'RANGE_INVALID']);
  });

  it('a final PUT whose chunk is out of order answers 416 and stores nothing', distTodo('ignores Content-Range on PUT'), async () => {
    const repo = uniqueRepo('ooo-put');
    const data = randomBlob(300);
    let loc = await c.openSession(repo);
    loc = expectChunkAccepted(await c.patchChunk(loc, data.subarray(0, 100), 0), 99, null);
    const res = await c.completeUpload(loc, sha256(data), data.subarray(200), { 'Content-Range': '200-299' });
    expectError(res, 416, ['BLOB_UPLOAD_INVALID', 'RANGE_INVALID']);
    expectError(await c.getBlob(repo, sha256(data)), 404, ['BLOB_UNKNOWN']);
  });

  it('a chunked upload with a wrong final digest answers 400 DIGEST_INVALID and stores nothing', async () => {
    const repo = uniqueRepo('chunkbad');
    const data = randomBlob(800);
    let loc = await c.openSession(repo);
    loc = expectChunkAccepted(await c.patchChunk(loc, data, 0), 799, null);
    const claimed = sha256(randomBlob(8));
    expectError(await c.completeUpload(loc, claimed), 400, ['DIGEST_INVALID']);
    expectError(await c.getBlob(repo, claimed), 404, ['BLOB_UNKNOWN']);
    expectError(await c.getBlob(repo, sha256(data)), 404, ['BLOB_UNKNOWN']);
  });

  it('resumes after a dropped connection: the session reports what it kept and the upload completes with a verified digest', distTodo('a partially written chunk invalidates the session state token'), async (tc) => {
    const repo = uniqueRepo('resume');
    const data = randomBlob(1000 + 512 * 1024 + 4000);
    const digest = sha256(data);
    let loc = await c.openSession(repo);
    loc = expectChunkAccepted(await c.patchChunk(loc, data.subarray(0, 1000), 0), 999, null);

    // Second chunk: declares 512 KiB + 4000 bytes, sends 200 KiB, then the connection drops.
    const second = data.subarray(1000);
    const sent = 200 * 1024;
    const dropped = await patchAndDrop(c, loc, second, 1000, sent);
    assert.ok(dropped.answeredWith === undefined || dropped.answeredWith >= 400, `the server accepted a truncated chunk (${dropped.answeredWith})`);

    // Ask the session where it stands (allow the server a moment to notice the drop).
    await sleep(200);
    let status!: OciResponse;
    for (let i = 0; i < 20; i++) {
      status = await c.get(loc);
      if (status.status === 204) break;
      await sleep(150);
    }
    expectStatus(status, 204);
    const end = parseUploadRange(status.header('range'));
    const kept = end + 1;
    assert.ok(kept >= 1000 && kept <= 1000 + sent, `the session reports ${kept} bytes; expected between 1000 and ${1000 + sent}`);
    loc = status.header('location') ?? loc;
    tc.diagnostic(`after the drop the session kept ${kept} of ${1000 + sent} bytes sent`);

    // Continue from the reported offset and complete; the digest must verify.
    loc = expectChunkAccepted(await c.patchChunk(loc, data.subarray(kept), kept), data.length - 1, null);
    const put = await c.completeUpload(loc, digest);
    expectStatus(put, 201);
    assert.equal(put.header('docker-content-digest'), digest);
    await expectBlob(repo, digest, data);
  });
});

describe('cancelling an upload', () => {
  it('DELETE on the upload URL answers 204; the session is then unknown (404 BLOB_UPLOAD_UNKNOWN)', async () => {
    const repo = uniqueRepo('cancel');
    let loc = await c.openSession(repo);
    loc = expectChunkAccepted(await c.patchChunk(loc, randomBlob(100), 0), 99, null);
    const del = await c.delete(loc);
    expectStatus(del, 204);
    expectError(await c.get(loc), 404, ['BLOB_UPLOAD_UNKNOWN']);
    expectError(await c.patchChunk(loc, randomBlob(10), 100), 404, ['BLOB_UPLOAD_UNKNOWN']);
    const data = randomBlob(10);
    expectError(await c.completeUpload(loc, sha256(data), data), 404, ['BLOB_UPLOAD_UNKNOWN']);
    expectError(await c.delete(loc), 404, ['BLOB_UPLOAD_UNKNOWN']);
  });
});
