import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { digestHex, digestOf } from '../../core/digest.ts';
import type { BlobStore } from '../blob-store.ts';
import { runBlobStoreContract } from '../blob-store.contract.ts';
import { abortingBody, bodyOf, collectAll, readAll, rejectsWith } from '../contract-helpers.ts';
import { createFsBlobStore } from './fs.ts';

async function tempRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'cargohold-fs-'));
}

runBlobStoreContract('fs', async () => {
  const root = await tempRoot();
  return { store: await createFsBlobStore({ root }), cleanup: () => rm(root, { recursive: true, force: true }) };
});

describe('fs blob store specifics', () => {
  let root: string;
  let store: BlobStore;
  const data = Buffer.from('layered bytes for the fs driver');
  const digest = digestOf(data);
  const exists = (p: string) => stat(p).then(() => true, () => false);
  const tmpFiles = () => readdir(join(root, 'tmp'));

  beforeEach(async () => {
    root = await tempRoot();
    store = await createFsBlobStore({ root });
  });
  afterEach(async () => {
    await store.close();
    await rm(root, { recursive: true, force: true });
  });

  it('creates only the three directories at startup', async () => {
    assert.deepEqual((await readdir(root)).sort(), ['blobs', 'tmp', 'uploads']);
  });

  it('stores files in the documented layout', async () => {
    await store.putBlob(digest, bodyOf(data));
    const hex = digestHex(digest);
    assert.ok(await exists(join(root, 'blobs', 'sha256', hex.slice(0, 2), hex)));
    const d512 = digestOf(data, 'sha512');
    await store.putBlob(d512, bodyOf(data));
    const hex512 = digestHex(d512);
    assert.ok(await exists(join(root, 'blobs', 'sha512', hex512.slice(0, 2), hex512)));

    await store.createUpload('up-1');
    await store.appendUpload('up-1', 0, bodyOf('abc'));
    assert.equal((await stat(join(root, 'uploads', 'up-1'))).size, 3);
    await store.commitUpload('up-1', digestOf('abc'));
    assert.equal(await exists(join(root, 'uploads', 'up-1')), false);
    const hexAbc = digestHex(digestOf('abc'));
    assert.ok(await exists(join(root, 'blobs', 'sha256', hexAbc.slice(0, 2), hexAbc)));
    assert.deepEqual(await tmpFiles(), []);
  });

  it('leaves no temporary file behind after any failed put', async () => {
    await rejectsWith(store.putBlob(digestOf('other'), bodyOf(data)), 'DIGEST_INVALID');
    await rejectsWith(store.putBlob(digest, bodyOf(data), { expectedLength: 3 }), 'SIZE_INVALID');
    await rejectsWith(store.putBlob(digest, bodyOf(data), { expectedLength: 300 }), 'SIZE_INVALID');
    await assert.rejects(store.putBlob(digest, abortingBody(data, 'error')));
    await assert.rejects(store.putBlob(digest, abortingBody(data, 'destroy')));
    assert.deepEqual(await tmpFiles(), []);
    assert.deepEqual(await collectAll(store.list()), []);
    await store.putBlob(digest, bodyOf(data));
    await store.putBlob(digest, bodyOf(data));
    assert.deepEqual(await tmpFiles(), []);
  });

  it('truncates a failed chunk with expectedLength back to the last good size on disk', async () => {
    await store.createUpload('u');
    await store.appendUpload('u', 0, bodyOf('12345'));
    await assert.rejects(store.appendUpload('u', 5, abortingBody(Buffer.alloc(1000, 1)), { expectedLength: 5000 }));
    assert.equal((await stat(join(root, 'uploads', 'u'))).size, 5);
    await rejectsWith(store.appendUpload('u', 5, bodyOf('678'), { expectedLength: 2 }), 'SIZE_INVALID');
    assert.equal((await stat(join(root, 'uploads', 'u'))).size, 5);
  });

  it('keeps the bytes that reached the file when a chunk without length aborts', async () => {
    await store.createUpload('u');
    await assert.rejects(store.appendUpload('u', 0, abortingBody(Buffer.alloc(1000, 7), 'error', 50)));
    assert.equal(await store.uploadSize('u'), 1000);
    assert.deepEqual(await store.commitUpload('u', digestOf(Buffer.alloc(1000, 7))), { size: 1000 });
  });

  it('re-hashes from disk when the running hash does not cover the file', async () => {
    await store.createUpload('u');
    await store.appendUpload('u', 0, bodyOf('abc'));
    await appendFile(join(root, 'uploads', 'u'), 'def'); // bytes the running hash never saw
    await rejectsWith(store.commitUpload('u', digestOf('abc')), 'DIGEST_INVALID');

    await store.createUpload('v');
    await store.appendUpload('v', 0, bodyOf('abc'));
    await appendFile(join(root, 'uploads', 'v'), 'def');
    assert.deepEqual(await store.commitUpload('v', digestOf('abcdef')), { size: 6 });
  });

  it('commits from the running hash without re-reading the file', async () => {
    await store.createUpload('u');
    await store.appendUpload('u', 0, bodyOf('abc'));
    await store.appendUpload('u', 3, bodyOf('def'));
    await writeFile(join(root, 'uploads', 'u'), 'XXXXXX'); // same size: only a re-read would notice
    assert.deepEqual(await store.commitUpload('u', digestOf('abcdef')), { size: 6 });
  });

  it('resumes uploads and serves blobs after a restart (no in-memory state needed)', async () => {
    await store.putBlob(digest, bodyOf(data));
    await store.createUpload('u');
    await store.appendUpload('u', 0, bodyOf(data.subarray(0, 7)));
    await store.close();
    store = await createFsBlobStore({ root });
    assert.deepEqual(await readAll(await store.open(digest)), data);
    assert.equal(await store.uploadSize('u'), 7);
    await store.appendUpload('u', 7, bodyOf(data.subarray(7)));
    assert.deepEqual(await store.commitUpload('u', digest), { size: data.length });
    assert.deepEqual((await collectAll(store.listUploads())).length, 0);
  });

  it('refuses path traversal through upload ids and digests', async () => {
    for (const id of ['../x', '../../x', '..', 'a/../../x', '/etc/passwd']) {
      await rejectsWith(store.createUpload(id), 'BLOB_UPLOAD_UNKNOWN');
      await rejectsWith(store.appendUpload(id, 0, bodyOf('evil')), 'BLOB_UPLOAD_UNKNOWN');
      await store.deleteUpload(id);
    }
    assert.equal(await exists(join(root, 'x')), false);
    await writeFile(join(root, 'secret'), 'do not read');
    assert.equal(await store.stat('sha256:../../secret'), undefined);
    await rejectsWith(store.open('sha256:../../secret'), 'BLOB_UNKNOWN');
    await store.delete('sha256:../../secret');
    assert.ok(await exists(join(root, 'secret')));
  });

  it('ignores stray files when listing', async () => {
    await store.putBlob(digest, bodyOf(data));
    await writeFile(join(root, 'blobs', 'sha256', 'README'), 'x');
    await writeFile(join(root, 'uploads', 'bad name'), 'x');
    assert.deepEqual((await collectAll(store.list())).map((b) => b.digest), [digest]);
    assert.deepEqual(await collectAll(store.listUploads()), []);
  });

  it('sweepTemporary removes only tmp/ files older than the cut-off (what a killed putBlob leaves)', async () => {
    await writeFile(join(root, 'tmp', 'stale'), 'half a body');
    await utimes(join(root, 'tmp', 'stale'), new Date(Date.now() - 7_200_000), new Date(Date.now() - 7_200_000));
    await writeFile(join(root, 'tmp', 'fresh'), 'in flight');
    await store.putBlob(digest, bodyOf(data));
    const cutoff = new Date(Date.now() - 3_600_000);
    const dry = await store.sweepTemporary(cutoff, { dryRun: true });
    assert.deepEqual(dry.map((t) => [t.name, t.size]), [['stale', 11]]);
    assert.deepEqual((await tmpFiles()).sort(), ['fresh', 'stale']);
    assert.deepEqual((await store.sweepTemporary(cutoff)).map((t) => t.name), ['stale']);
    assert.deepEqual(await tmpFiles(), ['fresh']);
    assert.deepEqual(await store.stat(digest), { size: data.length });
  });

  it('keeps serving an opened blob that is deleted meanwhile', async () => {
    await store.putBlob(digest, bodyOf(data));
    const stream = await store.open(digest);
    await store.delete(digest);
    assert.deepEqual(await readAll(stream), data);
  });
});
