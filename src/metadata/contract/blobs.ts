import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { at, dg, rejectsWithKind, type StoreRef } from './fixtures.ts';

export function blobCases(s: StoreRef): void {
  describe('blobs', () => {
    it('put then get round-trips; get of an unknown digest is undefined', async () => {
      await s().blobs.put(dg(1), 1234, 'application/octet-stream', at(1, 5));
      assert.deepEqual(await s().blobs.get(dg(1)), { digest: dg(1), size: 1234, mediaType: 'application/octet-stream', createdAt: at(1, 5) });
      assert.equal(await s().blobs.get(dg(2)), undefined);
    });

    it('sizes beyond 32 bits survive', async () => {
      const big = 5 * 2 ** 32 + 7;
      await s().blobs.put(dg('big'), big, null, at(1));
      assert.equal((await s().blobs.get(dg('big')))?.size, big);
    });

    it('put is idempotent and keeps the first createdAt', async () => {
      await s().blobs.put(dg(1), 10, 'a/b', at(1));
      await s().blobs.put(dg(1), 10, 'a/b', at(9));
      assert.equal((await s().blobs.get(dg(1)))?.createdAt.getTime(), at(1).getTime());
    });

    it('put records a media type learnt later but never replaces a known one', async () => {
      await s().blobs.put(dg(1), 10, null, at(1));
      await s().blobs.put(dg(1), 10, 'first/type', at(2));
      await s().blobs.put(dg(1), 10, 'second/type', at(3));
      await s().blobs.put(dg(1), 10, null, at(4));
      const b = await s().blobs.get(dg(1));
      assert.equal(b?.mediaType, 'first/type');
      assert.equal(b?.createdAt.getTime(), at(1).getTime());
    });

    it('link requires the blob row (BLOB_UNKNOWN) and is idempotent', async () => {
      const r = await s().repositories.create('r', at(0));
      await rejectsWithKind(s().blobs.link(r.id, dg('absent'), at(1)), 'BLOB_UNKNOWN');
      await s().blobs.put(dg(1), 10, null, at(1));
      await s().blobs.link(r.id, dg(1), at(1));
      await s().blobs.link(r.id, dg(1), at(2));
      assert.deepEqual(await s().blobs.getLinked(r.id, dg(1)), await s().blobs.get(dg(1)));
    });

    it('getLinked returns the blob only through the repository\'s own link', async () => {
      const a = await s().repositories.create('a', at(0));
      const b = await s().repositories.create('b', at(0));
      await s().blobs.put(dg(1), 10, 'x/y', at(1));
      assert.equal(await s().blobs.getLinked(a.id, dg(1)), undefined);
      await s().blobs.link(a.id, dg(1), at(1));
      assert.equal((await s().blobs.getLinked(a.id, dg(1)))?.size, 10);
      assert.equal(await s().blobs.getLinked(b.id, dg(1)), undefined);
      assert.equal(await s().blobs.getLinked(a.id, dg(2)), undefined);
    });

    it('unlink removes only that link and reports whether there was one', async () => {
      const a = await s().repositories.create('a', at(0));
      const b = await s().repositories.create('b', at(0));
      await s().blobs.put(dg(1), 10, null, at(1));
      await s().blobs.link(a.id, dg(1), at(1));
      await s().blobs.link(b.id, dg(1), at(1));
      assert.equal(await s().blobs.unlink(a.id, dg(1)), true);
      assert.equal(await s().blobs.unlink(a.id, dg(1)), false);
      assert.equal(await s().blobs.getLinked(a.id, dg(1)), undefined);
      assert.ok(await s().blobs.getLinked(b.id, dg(1)));
      assert.ok(await s().blobs.get(dg(1)), 'the global row stays');
    });

    it('missingLinks keeps input order, drops duplicates and ignores other repositories', async () => {
      const a = await s().repositories.create('a', at(0));
      const b = await s().repositories.create('b', at(0));
      for (const i of [1, 2, 3, 4]) await s().blobs.put(dg(i), i, null, at(1));
      await s().blobs.link(a.id, dg(2), at(1));
      await s().blobs.link(a.id, dg(4), at(1));
      await s().blobs.link(b.id, dg(3), at(1));
      assert.deepEqual(await s().blobs.missingLinks(a.id, [dg(3), dg(1), dg(2), dg(3), dg(5), dg(1), dg(4)]), [dg(3), dg(1), dg(5)]);
      assert.deepEqual(await s().blobs.missingLinks(a.id, [dg(2), dg(4), dg(2)]), []);
      assert.deepEqual(await s().blobs.missingLinks(a.id, []), []);
    });

    it('missingLinks handles long lists', async () => {
      const r = await s().repositories.create('r', at(0));
      const all = Array.from({ length: 1300 }, (_, i) => dg(`long:${i}`));
      await s().transaction(async (tx) => {
        for (let i = 0; i < all.length; i += 2) {
          await tx.blobs.put(all[i], 1, null, at(1));
          await tx.blobs.link(r.id, all[i], at(1));
        }
      });
      const expected = all.filter((_, i) => i % 2 === 1);
      assert.deepEqual(await s().blobs.missingLinks(r.id, [...all, ...all]), expected);
    });

    it('delete removes the global row and every link', async () => {
      const a = await s().repositories.create('a', at(0));
      const b = await s().repositories.create('b', at(0));
      await s().blobs.put(dg(1), 10, null, at(1));
      await s().blobs.link(a.id, dg(1), at(1));
      await s().blobs.link(b.id, dg(1), at(1));
      assert.equal(await s().blobs.delete(dg(1)), true);
      assert.equal(await s().blobs.delete(dg(1)), false);
      assert.equal(await s().blobs.get(dg(1)), undefined);
      assert.equal(await s().blobs.getLinked(a.id, dg(1)), undefined);
      assert.deepEqual(await s().blobs.missingLinks(b.id, [dg(1)]), [dg(1)]);
      // Re-stored later, it is not silently linked again.
      await s().blobs.put(dg(1), 10, null, at(2));
      assert.equal(await s().blobs.getLinked(a.id, dg(1)), undefined);
    });
  });
}
