import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { digestOf, type Digest } from '../core/digest.ts';
import type { BlobStore } from './blob-store.ts';
import { abortingBody, bodyOf, collectAll, hashStream, largeContent, readAll, rejectsWith, slowBody } from './contract-helpers.ts';

/** A fresh, empty store for one test, and how to dispose of it (called after `store.close()`). */
export interface BlobStoreFixture {
  store: BlobStore;
  cleanup(): Promise<void>;
}

const EMPTY_SHA256 = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const INVALID_UPLOAD_IDS = ['', '.', '..', '../x', 'a/b', 'a\\b', 'a b', 'x'.repeat(129), 'ü', 'id\0'];
const MALFORMED_DIGESTS = ['', 'sha256:../../etc/passwd', `sha256:${'A'.repeat(64)}`, `sha256:${'a'.repeat(63)}`, `md5:${'a'.repeat(32)}`, `sha512:${'a'.repeat(64)}`];

/**
 * The BlobStore contract suite (see `blob-store.ts`). Every driver runs it; it uses only the interface, so
 * a remote driver (S3) can run it too. `factory` is called once per test and must return an empty store.
 */
export function runBlobStoreContract(name: string, factory: () => Promise<BlobStoreFixture>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let fixture: BlobStoreFixture;
    let store: BlobStore;
    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
    });
    afterEach(async () => {
      await store.close();
      await fixture.cleanup();
    });

    const data = Buffer.from('hello, cargohold! 0123456789');
    const digest = digestOf(data);
    const read = async (d: Digest, range?: { start: number; end: number }) => readAll(await store.open(d, range));

    describe('blobs', () => {
      it('puts a blob, then stat/open/list see it', async () => {
        assert.deepEqual(await store.putBlob(digest, bodyOf(data), { expectedLength: data.length }), { size: data.length });
        assert.deepEqual(await store.stat(digest), { size: data.length });
        assert.deepEqual(await read(digest), data);
        const listed = await collectAll(store.list());
        assert.equal(listed.length, 1);
        assert.equal(listed[0].digest, digest);
        assert.equal(listed[0].size, data.length);
        assert.ok(listed[0].modifiedAt instanceof Date);
        assert.equal(typeof store.driver, 'string');
      });

      it('serves inclusive byte ranges', async () => {
        await store.putBlob(digest, bodyOf(data));
        const last = data.length - 1;
        assert.deepEqual(await read(digest, { start: 0, end: 0 }), data.subarray(0, 1));
        assert.deepEqual(await read(digest, { start: last, end: last }), data.subarray(last));
        assert.deepEqual(await read(digest, { start: 3, end: 9 }), data.subarray(3, 10));
        assert.deepEqual(await read(digest, { start: 0, end: last }), data);
      });

      it('offers positional reads when the driver has openReader (optional)', async () => {
        if (!store.openReader) return;
        await store.putBlob(digest, bodyOf(data));
        const reader = await store.openReader(digest);
        try {
          assert.equal(reader.size, data.length);
          const buf = Buffer.alloc(data.length + 8);
          assert.equal(await reader.read(buf, 0, data.length), data.length);
          assert.deepEqual(buf.subarray(0, data.length), data);
          assert.equal(await reader.read(buf, 3, 7), 7);
          assert.deepEqual(buf.subarray(0, 7), data.subarray(3, 10));
          assert.equal(await reader.read(buf, data.length, 4), 0);
        } finally {
          await reader.close();
        }
        await rejectsWith(store.openReader(`sha256:${'0'.repeat(64)}`), 'BLOB_UNKNOWN');
      });

      it('refuses ranges outside the blob with RANGE_NOT_SATISFIABLE', async () => {
        await store.putBlob(digest, bodyOf(data));
        const n = data.length;
        for (const range of [{ start: n, end: n }, { start: 0, end: n }, { start: 5, end: 4 }, { start: -1, end: 2 }]) {
          await rejectsWith(store.open(digest, range), 'RANGE_NOT_SATISFIABLE');
        }
        await store.putBlob(EMPTY_SHA256, bodyOf(''));
        await rejectsWith(store.open(EMPTY_SHA256, { start: 0, end: 0 }), 'RANGE_NOT_SATISFIABLE');
      });

      it('rejects content that does not match its digest and keeps it invisible', async () => {
        const wrong = digestOf('something else');
        await rejectsWith(store.putBlob(wrong, bodyOf(data)), 'DIGEST_INVALID');
        assert.equal(await store.stat(wrong), undefined);
        assert.equal(await store.stat(digest), undefined);
        await rejectsWith(store.open(wrong), 'BLOB_UNKNOWN');
        assert.deepEqual(await collectAll(store.list()), []);
      });

      it('rejects a body shorter or longer than expectedLength with SIZE_INVALID', async () => {
        await rejectsWith(store.putBlob(digest, bodyOf(data), { expectedLength: data.length + 1 }), 'SIZE_INVALID');
        await rejectsWith(store.putBlob(digest, bodyOf(data), { expectedLength: data.length - 1 }), 'SIZE_INVALID');
        assert.equal(await store.stat(digest), undefined);
      });

      it('supports sha512 digests', async () => {
        const d512 = digestOf(data, 'sha512');
        assert.deepEqual(await store.putBlob(d512, bodyOf(data)), { size: data.length });
        assert.deepEqual(await read(d512), data);
        assert.deepEqual(await read(d512, { start: 1, end: 2 }), data.subarray(1, 3));
        await rejectsWith(store.putBlob(digestOf('other', 'sha512'), bodyOf(data)), 'DIGEST_INVALID');
        assert.deepEqual((await collectAll(store.list())).map((b) => b.digest), [d512]);
      });

      it('stores the empty blob', async () => {
        assert.equal(digestOf(''), EMPTY_SHA256);
        assert.deepEqual(await store.putBlob(EMPTY_SHA256, bodyOf(''), { expectedLength: 0 }), { size: 0 });
        assert.deepEqual(await store.stat(EMPTY_SHA256), { size: 0 });
        assert.equal((await read(EMPTY_SHA256)).length, 0);
      });

      it('accepts a put of a blob that already exists (idempotent)', async () => {
        await store.putBlob(digest, bodyOf(data));
        assert.deepEqual(await store.putBlob(digest, bodyOf(data, 3)), { size: data.length });
        assert.deepEqual(await read(digest), data);
        assert.equal((await collectAll(store.list())).length, 1);
      });

      for (const how of ['error', 'destroy'] as const) {
        it(`leaves nothing visible when the body fails mid-way (${how})`, async () => {
          await assert.rejects(store.putBlob(digest, abortingBody(data.subarray(0, 10), how)));
          assert.equal(await store.stat(digest), undefined);
          assert.deepEqual(await collectAll(store.list()), []);
          await store.putBlob(digest, bodyOf(data));
          assert.deepEqual(await read(digest), data);
        });
      }

      it('deletes blobs; deleting an absent blob is a no-op', async () => {
        await store.putBlob(digest, bodyOf(data));
        await store.delete(digest);
        assert.equal(await store.stat(digest), undefined);
        await rejectsWith(store.open(digest), 'BLOB_UNKNOWN');
        assert.deepEqual(await collectAll(store.list()), []);
        await store.delete(digest);
        await store.putBlob(digest, bodyOf(data));
        assert.deepEqual(await read(digest), data);
      });

      it('treats malformed digests as unknown (reads) or invalid (writes)', async () => {
        for (const bad of MALFORMED_DIGESTS) {
          assert.equal(await store.stat(bad), undefined);
          await rejectsWith(store.open(bad), 'BLOB_UNKNOWN');
          await store.delete(bad);
          await rejectsWith(store.putBlob(bad, bodyOf(data)), 'DIGEST_INVALID');
        }
        assert.deepEqual(await collectAll(store.list()), []);
      });

      it('lists every stored blob with its size', async () => {
        const blobs = ['a', 'bb', 'ccc'].map((s) => ({ digest: digestOf(s), size: s.length, body: s }));
        for (const b of blobs) await store.putBlob(b.digest, bodyOf(b.body));
        const listed = (await collectAll(store.list())).map(({ digest: d, size }) => ({ digest: d, size }));
        const byDigest = (x: { digest: string }, y: { digest: string }) => x.digest.localeCompare(y.digest);
        assert.deepEqual(listed.sort(byDigest), blobs.map(({ digest: d, size }) => ({ digest: d, size })).sort(byDigest));
      });
    });

    describe('uploads', () => {
      it('creates, appends, reports size and commits into a blob', async () => {
        await store.createUpload('u1');
        assert.equal(await store.uploadSize('u1'), 0);
        assert.equal(await store.appendUpload('u1', 0, bodyOf(data.subarray(0, 10))), 10);
        assert.equal(await store.uploadSize('u1'), 10);
        assert.equal(await store.appendUpload('u1', 10, bodyOf(data.subarray(10)), { expectedLength: data.length - 10 }), data.length);
        assert.deepEqual(await store.commitUpload('u1', digest), { size: data.length });
        assert.equal(await store.uploadSize('u1'), undefined);
        assert.deepEqual(await collectAll(store.listUploads()), []);
        assert.deepEqual(await read(digest), data);
        await rejectsWith(store.appendUpload('u1', data.length, bodyOf('x')), 'BLOB_UPLOAD_UNKNOWN');
      });

      it('refuses an append at the wrong offset with RANGE_INVALID and the current size', async () => {
        await store.createUpload('u1');
        await store.appendUpload('u1', 0, bodyOf(data.subarray(0, 4)));
        for (const offset of [0, 3, 5, 100]) {
          await rejectsWith(store.appendUpload('u1', offset, bodyOf('zz')), 'RANGE_INVALID', (e) => assert.deepEqual(e.detail, { size: 4 }));
        }
        assert.equal(await store.uploadSize('u1'), 4);
        await store.appendUpload('u1', 4, bodyOf(data.subarray(4)));
        assert.deepEqual(await store.commitUpload('u1', digest), { size: data.length });
      });

      it('keeps nothing of a chunk whose length differs from expectedLength', async () => {
        await store.createUpload('u1');
        await store.appendUpload('u1', 0, bodyOf(data.subarray(0, 4)));
        await rejectsWith(store.appendUpload('u1', 4, bodyOf(data.subarray(4, 10)), { expectedLength: 7 }), 'SIZE_INVALID');
        assert.equal(await store.uploadSize('u1'), 4);
        await rejectsWith(store.appendUpload('u1', 4, bodyOf(data.subarray(4, 10)), { expectedLength: 5 }), 'SIZE_INVALID');
        assert.equal(await store.uploadSize('u1'), 4);
        await store.appendUpload('u1', 4, bodyOf(data.subarray(4)), { expectedLength: data.length - 4 });
        assert.deepEqual(await store.commitUpload('u1', digest), { size: data.length });
        assert.deepEqual(await read(digest), data);
      });

      for (const how of ['error', 'destroy'] as const) {
        it(`resumes after a body that fails mid-chunk (${how}), from uploadSize`, async () => {
          await store.createUpload('u1');
          await store.appendUpload('u1', 0, bodyOf(data.subarray(0, 4)));
          await assert.rejects(store.appendUpload('u1', 4, abortingBody(data.subarray(4, 12), how)));
          const kept = await store.uploadSize('u1');
          assert.ok(kept !== undefined && kept >= 4 && kept <= 12, `kept ${kept} bytes`);
          assert.equal(await store.appendUpload('u1', kept, bodyOf(data.subarray(kept))), data.length);
          assert.deepEqual(await store.commitUpload('u1', digest), { size: data.length });
          assert.deepEqual(await read(digest), data);
        });
      }

      it('keeps nothing of a failed chunk that had an expectedLength', async () => {
        await store.createUpload('u1');
        await store.appendUpload('u1', 0, bodyOf(data.subarray(0, 4)));
        await assert.rejects(store.appendUpload('u1', 4, abortingBody(data.subarray(4, 12)), { expectedLength: 20 }));
        assert.equal(await store.uploadSize('u1'), 4);
        await store.appendUpload('u1', 4, bodyOf(data.subarray(4)));
        assert.deepEqual(await store.commitUpload('u1', digest), { size: data.length });
      });

      it('fails a commit with the wrong digest with DIGEST_INVALID and drops the session', async () => {
        await store.createUpload('u1');
        await store.appendUpload('u1', 0, bodyOf(data));
        const wrong = digestOf('not this');
        await rejectsWith(store.commitUpload('u1', wrong), 'DIGEST_INVALID');
        assert.equal(await store.uploadSize('u1'), undefined);
        assert.equal(await store.stat(wrong), undefined);
        assert.equal(await store.stat(digest), undefined);
        await rejectsWith(store.commitUpload('u1', digest), 'BLOB_UPLOAD_UNKNOWN');
      });

      it('commits when the blob already exists (the upload is dropped)', async () => {
        await store.putBlob(digest, bodyOf(data));
        await store.createUpload('u1');
        await store.appendUpload('u1', 0, bodyOf(data));
        assert.deepEqual(await store.commitUpload('u1', digest), { size: data.length });
        assert.equal(await store.uploadSize('u1'), undefined);
        assert.deepEqual(await read(digest), data);
        assert.equal((await collectAll(store.list())).length, 1);
      });

      it('commits with a sha512 digest', async () => {
        const d512 = digestOf(data, 'sha512');
        await store.createUpload('u1');
        await store.appendUpload('u1', 0, bodyOf(data.subarray(0, 9)));
        await store.appendUpload('u1', 9, bodyOf(data.subarray(9)));
        assert.deepEqual(await store.commitUpload('u1', d512), { size: data.length });
        assert.deepEqual(await read(d512), data);
      });

      it('commits an empty upload as the empty blob (empty appends are fine)', async () => {
        await store.createUpload('u1');
        assert.equal(await store.appendUpload('u1', 0, bodyOf(''), { expectedLength: 0 }), 0);
        assert.deepEqual(await store.commitUpload('u1', EMPTY_SHA256), { size: 0 });
        assert.deepEqual(await store.stat(EMPTY_SHA256), { size: 0 });
      });

      it('deletes uploads; deleting an unknown upload is a no-op', async () => {
        await store.createUpload('u1');
        await store.appendUpload('u1', 0, bodyOf(data));
        await store.deleteUpload('u1');
        assert.equal(await store.uploadSize('u1'), undefined);
        await rejectsWith(store.appendUpload('u1', 0, bodyOf(data)), 'BLOB_UPLOAD_UNKNOWN');
        await store.deleteUpload('u1');
        assert.deepEqual(await collectAll(store.listUploads()), []);
      });

      it('reports unknown upload ids', async () => {
        assert.equal(await store.uploadSize('nope'), undefined);
        await rejectsWith(store.appendUpload('nope', 0, bodyOf(data)), 'BLOB_UPLOAD_UNKNOWN');
        await rejectsWith(store.commitUpload('nope', digest), 'BLOB_UPLOAD_UNKNOWN');
        await store.deleteUpload('nope');
      });

      it('refuses malformed upload ids as BLOB_UPLOAD_UNKNOWN', async () => {
        for (const id of INVALID_UPLOAD_IDS) {
          await rejectsWith(store.createUpload(id), 'BLOB_UPLOAD_UNKNOWN');
          assert.equal(await store.uploadSize(id), undefined);
          await rejectsWith(store.appendUpload(id, 0, bodyOf(data)), 'BLOB_UPLOAD_UNKNOWN');
          await rejectsWith(store.commitUpload(id, digest), 'BLOB_UPLOAD_UNKNOWN');
          await store.deleteUpload(id);
        }
        const longest = 'A-_z9'.repeat(25) + 'abc';
        await store.createUpload(longest);
        assert.equal(await store.uploadSize(longest), 0);
        assert.deepEqual((await collectAll(store.listUploads())).map((u) => u.uploadId), [longest]);
      });

      it('refuses to create an upload that exists with CONFLICT, keeping its bytes', async () => {
        await store.createUpload('u1');
        await store.appendUpload('u1', 0, bodyOf('abc'));
        await rejectsWith(store.createUpload('u1'), 'CONFLICT');
        assert.equal(await store.uploadSize('u1'), 3);
      });

      it('serializes concurrent appends: one wins, the other gets RANGE_INVALID', async () => {
        await store.createUpload('u1');
        const a = Buffer.alloc(4000, 'a');
        const b = Buffer.alloc(3000, 'b');
        const results = await Promise.allSettled([store.appendUpload('u1', 0, slowBody(a)), store.appendUpload('u1', 0, slowBody(b))]);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        assert.equal(won.length, 1);
        assert.equal(lost.length, 1);
        const winner = results[0].status === 'fulfilled' ? a : b;
        await rejectsWith(Promise.reject(lost[0].reason), 'RANGE_INVALID', (e) => assert.deepEqual(e.detail, { size: winner.length }));
        assert.equal(await store.uploadSize('u1'), winner.length);
        assert.deepEqual(await store.commitUpload('u1', digestOf(winner)), { size: winner.length });
        assert.deepEqual(await read(digestOf(winner)), winner);
      });

      it('reports a body that fails while its append waits behind another one', async () => {
        await store.createUpload('u1');
        const a = Buffer.alloc(2000, 'a');
        const first = store.appendUpload('u1', 0, slowBody(a));
        const failing = new Readable({ read() {} });
        const second = store.appendUpload('u1', a.length, failing);
        setImmediate(() => failing.destroy(new Error('client went away')));
        assert.equal(await first, a.length);
        await assert.rejects(second);
        assert.equal(await store.uploadSize('u1'), a.length);
      });

      it('lists upload sessions with their sizes', async () => {
        await store.createUpload('a');
        await store.createUpload('b');
        await store.appendUpload('b', 0, bodyOf('xyz'));
        const listed = await collectAll(store.listUploads());
        assert.ok(listed.every((u) => u.modifiedAt instanceof Date));
        assert.deepEqual(listed.map(({ uploadId, size }) => ({ uploadId, size })).sort((x, y) => x.uploadId.localeCompare(y.uploadId)), [
          { uploadId: 'a', size: 0 },
          { uploadId: 'b', size: 3 },
        ]);
        await store.commitUpload('b', digestOf('xyz'));
        assert.deepEqual((await collectAll(store.listUploads())).map((u) => u.uploadId), ['a']);
      });
    });

    describe('listing for GC reconcile', () => {
      it('list() sees every blob however it was stored, with a modification time', async () => {
        await store.putBlob(digest, bodyOf(data));
        await store.createUpload('via-upload');
        await store.appendUpload('via-upload', 0, bodyOf('uploaded'));
        await store.commitUpload('via-upload', digestOf('uploaded'));
        const before = Date.now();
        const listed = await collectAll(store.list());
        assert.deepEqual(listed.map((b) => b.digest).sort(), [digest, digestOf('uploaded')].sort());
        for (const b of listed) assert.ok(b.modifiedAt.getTime() <= before + 1000 && b.modifiedAt.getTime() > before - 3_600_000);
      });

      it('sweepTemporary never touches blobs or upload sessions, and a dry run changes nothing', async () => {
        await store.putBlob(digest, bodyOf(data));
        await store.createUpload('kept');
        await store.appendUpload('kept', 0, bodyOf('abc'));
        const future = new Date(Date.now() + 3_600_000);
        const dry = await store.sweepTemporary(future, { dryRun: true });
        assert.ok(Array.isArray(dry));
        assert.deepEqual(await store.sweepTemporary(future), dry);
        assert.deepEqual(await store.sweepTemporary(future), []);
        assert.deepEqual(await store.stat(digest), { size: data.length });
        assert.equal(await store.uploadSize('kept'), 3);
        assert.deepEqual((await collectAll(store.list())).map((b) => b.digest), [digest]);
      });
    });

    describe('large blobs (streamed, never held)', () => {
      const MIB = 1024 * 1024;

      it('round-trips a 64 MiB blob through putBlob, with ranges across chunk edges', async () => {
        const big = largeContent(64);
        const bigDigest = big.digest();
        assert.deepEqual(await store.putBlob(bigDigest, big.stream(), { expectedLength: big.size }), { size: big.size });
        assert.deepEqual(await store.stat(bigDigest), { size: big.size });
        assert.deepEqual(await hashStream(await store.open(bigDigest)), { digest: bigDigest, size: big.size });
        for (const [start, end] of [[MIB - 10, MIB + 9], [big.size - 3, big.size - 1], [5 * MIB, 7 * MIB + 1]]) {
          assert.ok((await read(bigDigest, { start, end })).equals(big.slice(start, end)), `range ${start}-${end}`);
        }
      });

      it('round-trips a 64 MiB blob uploaded in chunks', async () => {
        const big = largeContent(64);
        const bigDigest = big.digest();
        await store.createUpload('big');
        let offset = 0;
        for (let part = 0; part < 4; part++) {
          offset = await store.appendUpload('big', offset, big.stream(part * 16, part * 16 + 16), { expectedLength: 16 * MIB });
        }
        assert.equal(offset, big.size);
        assert.deepEqual(await store.commitUpload('big', bigDigest), { size: big.size });
        assert.deepEqual(await hashStream(await store.open(bigDigest)), { digest: bigDigest, size: big.size });
      });
    });
  });
}
