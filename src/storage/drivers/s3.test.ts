import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { systemClock } from '../../core/clock.ts';
import { digestOf } from '../../core/digest.ts';
import { createSqliteMetadata } from '../../metadata/dialects/sqlite.ts';
import { freshBucket, skipUnlessS3, stopTestS3, testS3 } from '../../../test/helpers/s3.ts';
import type { BlobStore } from '../blob-store.ts';
import { runBlobStoreContract } from '../blob-store.contract.ts';
import { bodyOf, collectAll, largeContent, readAll, rejectsWith, slowBody } from '../contract-helpers.ts';
import { createEncryptedBlobStore } from '../encryption/encrypted-store.ts';
import { REGISTRY_SCOPE, createKeyScopes } from '../encryption/key-scopes.ts';
import { createLocalKeyring } from '../encryption/providers/local-keyring.ts';
import { createS3BlobStore, MIN_PART_SIZE } from './s3.ts';

const skip = skipUnlessS3();
const MIB = 1024 * 1024;

describe('S3 blob store (Ceph RGW)', { skip }, () => {
  let client: S3Client;
  let bucket: string;
  let seq = 0;
  before(async () => {
    ({ client, bucket } = await freshBucket(await testS3()));
  });
  after(async () => {
    client?.destroy();
    await stopTestS3();
  });

  /** Every test gets its own key prefix in the shared bucket: an empty store. */
  const newStore = (prefix = `t${++seq}-${randomBytes(3).toString('hex')}`, partSize = MIN_PART_SIZE) => createS3BlobStore({ client, bucket, prefix, partSize });
  const keysUnder = async (prefix: string) => ((await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!);

  runBlobStoreContract('s3', async () => ({ store: newStore(), cleanup: async () => {} }));

  // Encryption at rest over S3: the encrypting layer (its own metadata and keyring) with this driver inside.
  runBlobStoreContract('encrypted over s3', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enc-s3-'));
    const meta = await createSqliteMetadata({ path: join(dir, 'metadata.sqlite') });
    const scopes = createKeyScopes({ provider: createLocalKeyring({ path: join(dir, 'keyring.json'), region: 'us-east-1', accountId: '123456789012' }), store: meta.encryption, clock: systemClock });
    await scopes.ensureRegistryScope();
    const layer = createEncryptedBlobStore({ inner: newStore(), store: meta.encryption, scopes, clock: systemClock });
    return {
      store: { ...layer.scoped(REGISTRY_SCOPE), close: () => layer.close() },
      cleanup: async () => {
        await meta.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });

  describe('s3 specifics', () => {
    let prefix: string;
    let a: BlobStore;
    let b: BlobStore;
    beforeEach(() => {
      prefix = `x${++seq}`;
      // Two stores over the same bucket and prefix: two nodes of one registry.
      a = newStore(prefix);
      b = newStore(prefix);
    });
    afterEach(async () => {
      await a.close();
      await b.close();
    });

    it('positional reads stream a large blob front to back, jump for ranges, and take a known size without a HEAD', async () => {
      const data = randomBytes(6 * MIB + 777);
      const digest = digestOf(data);
      await a.putBlob(digest, bodyOf(data));
      for (const reader of [await a.openReader!(digest), await b.openReader!(digest, { size: data.length })]) {
        try {
          assert.equal(reader.size, data.length);
          const out: Buffer[] = [];
          const buf = Buffer.alloc(MIB);
          for (let pos = 0; pos < data.length;) {
            const n = await reader.read(buf, pos, buf.length);
            assert.ok(n > 0);
            out.push(Buffer.from(buf.subarray(0, n)));
            pos += n;
          }
          assert.deepEqual(Buffer.concat(out), data);
          assert.equal(await reader.read(buf, 5 * MIB + 3, 100), 100);
          assert.deepEqual(buf.subarray(0, 100), data.subarray(5 * MIB + 3, 5 * MIB + 103));
          assert.equal(await reader.read(buf, data.length, 10), 0);
        } finally {
          await reader.close();
        }
      }
    });

    it('a positional read of a blob deleted after it was opened fails with BLOB_UNKNOWN', async () => {
      const data = randomBytes(1000);
      const digest = digestOf(data);
      await a.putBlob(digest, bodyOf(data));
      const reader = await a.openReader!(digest);
      await b.delete(digest);
      try {
        await rejectsWith(reader.read(Buffer.alloc(100), 0, 100), 'BLOB_UNKNOWN');
      } finally {
        await reader.close();
      }
    });

    it('continues an upload on another node and commits it there (re-hash) or back on the first', async () => {
      const big = largeContent(12, MIB);
      await a.createUpload('u1');
      let off = await a.appendUpload('u1', 0, big.stream(0, 3)); // below a part: all in the tail
      off = await b.appendUpload('u1', off, big.stream(3, 9)); // crosses a part boundary on node b
      assert.equal(await a.uploadSize('u1'), 9 * MIB);
      off = await a.appendUpload('u1', off, big.stream(9, 12));
      assert.equal(off, big.size);
      assert.deepEqual(await b.commitUpload('u1', big.digest()), { size: big.size });
      assert.deepEqual(await a.stat(big.digest()), { size: big.size });
      assert.ok((await readAll(await a.open(big.digest(), { start: 5 * MIB - 2, end: 5 * MIB + 1 }))).equals(big.slice(5 * MIB - 2, 5 * MIB + 1)));
      // Nothing of the session remains: no objects, no open multipart upload.
      assert.deepEqual(await keysUnder(`${prefix}/uploads/`), []);
      const open = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `${prefix}/` }));
      assert.deepEqual(open.Uploads ?? [], []);
    });

    it('buffers small chunks (docker-sized) into parts of the configured size', async () => {
      const data = randomBytes(11 * MIB + 123);
      await a.createUpload('u2');
      let off = 0;
      for (let i = 0; i < data.length; i += 700 * 1024) off = await a.appendUpload('u2', off, bodyOf(data.subarray(i, i + 700 * 1024), 64 * 1024));
      assert.equal(off, data.length);
      assert.deepEqual(await a.commitUpload('u2', digestOf(data)), { size: data.length });
      assert.ok((await readAll(await b.open(digestOf(data)))).equals(data));
    });

    it('lets only one of two nodes appending at the same offset win', async () => {
      await a.createUpload('u3');
      const x = Buffer.alloc(40_000, 'x');
      const y = Buffer.alloc(30_000, 'y');
      const results = await Promise.allSettled([a.appendUpload('u3', 0, slowBody(x, 4, 30)), b.appendUpload('u3', 0, slowBody(y, 4, 30))]);
      const won = results.findIndex((r) => r.status === 'fulfilled');
      assert.notEqual(won, -1);
      const lost = results[1 - won];
      assert.equal(lost.status, 'rejected');
      const winner = won === 0 ? x : y;
      await rejectsWith(Promise.reject((lost as PromiseRejectedResult).reason), 'RANGE_INVALID', (e) => assert.deepEqual(e.detail, { size: winner.length }));
      assert.deepEqual(await b.commitUpload('u3', digestOf(winner)), { size: winner.length });
    });

    it('concurrent multi-part appends from two nodes never produce a wrong blob (commit succeeds or says restart)', async () => {
      const x = randomBytes(MIN_PART_SIZE + 1000);
      const y = randomBytes(MIN_PART_SIZE + 2000);
      for (let round = 0; round < 3; round++) {
        const id = `race${round}`;
        await a.createUpload(id);
        const results = await Promise.allSettled([a.appendUpload(id, 0, bodyOf(x, 256 * 1024)), b.appendUpload(id, 0, bodyOf(y, 256 * 1024))]);
        const won = results.findIndex((r) => r.status === 'fulfilled');
        assert.notEqual(won, -1);
        const winner = won === 0 ? x : y;
        try {
          assert.deepEqual(await a.commitUpload(id, digestOf(winner)), { size: winner.length });
          assert.ok((await readAll(await b.open(digestOf(winner)))).equals(winner));
        } catch (err) {
          await rejectsWith(Promise.reject(err), 'BLOB_UPLOAD_INVALID');
          assert.equal(await a.stat(digestOf(winner)), undefined);
          assert.equal(await a.uploadSize(id), undefined, 'the broken session is gone');
        }
      }
    });

    it('refuses to create a session another node created (CONFLICT)', async () => {
      await a.createUpload('u4');
      await rejectsWith(b.createUpload('u4'), 'CONFLICT');
    });

    it('deletes many blobs in batches and presigns GET URLs', async () => {
      const blobs = ['one', 'two', 'three'].map((s) => ({ d: digestOf(s), s }));
      for (const x of blobs) await a.putBlob(x.d, bodyOf(x.s));
      const url = await a.presign!(blobs[0].d, 60);
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'one');
      await a.deleteMany!([blobs[0].d, blobs[1].d, digestOf('absent'), 'sha256:bad']);
      assert.deepEqual((await collectAll(a.list())).map((x) => x.digest), [blobs[2].d]);
    });

    it('writes a large putBlob as a multipart upload to its final key, visible only when complete', async () => {
      const big = largeContent(13, MIB);
      await rejectsWith(a.putBlob(digestOf('not it'), big.stream()), 'DIGEST_INVALID');
      assert.deepEqual(await collectAll(a.list()), []);
      const open = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `${prefix}/` }));
      assert.deepEqual(open.Uploads ?? [], [], 'the refused multipart upload was aborted');
      assert.deepEqual(await a.putBlob(big.digest(), big.stream()), { size: big.size });
      assert.deepEqual(await b.stat(big.digest()), { size: big.size });
    });

    it('keeps sessions out of the blob listing and lists them with their size from any node', async () => {
      await a.createUpload('s1');
      await a.appendUpload('s1', 0, bodyOf('12345'));
      assert.deepEqual((await collectAll(b.listUploads())).map(({ uploadId, size }) => ({ uploadId, size })), [{ uploadId: 's1', size: 5 }]);
      assert.deepEqual(await collectAll(b.list()), []);
      await b.deleteUpload('s1');
      assert.deepEqual(await keysUnder(`${prefix}/uploads/`), []);
    });
  });
});
