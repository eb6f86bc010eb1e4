import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { at, byteSorted, dg, pageAll, pushImage, rejectsWithKind, type StoreRef } from './fixtures.ts';

/** Byte order: '-' < '.' < digits < upper case < '_' < lower case. */
const TAGS = ['latest', 'Latest', 'LATEST', 'v1.0', 'v1-0', 'v1_0', 'v10', 'v1.0.1', '1.0', '_x', 'A', 'a', 'Z9', 'v1.0-rc.1'];
const ORDERED = ['1.0', 'A', 'LATEST', 'Latest', 'Z9', '_x', 'a', 'latest', 'v1-0', 'v1.0', 'v1.0-rc.1', 'v1.0.1', 'v10', 'v1_0'];

export function tagCases(s: StoreRef): void {
  describe('tags', () => {
    it('set returns the previous digest: null, then the old one on a move, the same one on a no-op', async () => {
      const r = await s().repositories.create('r', at(0));
      const d1 = await pushImage(s(), r.id, 'one');
      const d2 = await pushImage(s(), r.id, 'two');
      assert.deepEqual(await s().tags.set(r.id, 'latest', d1, at(1)), { previous: null });
      assert.deepEqual(await s().tags.set(r.id, 'latest', d2, at(2)), { previous: d1 });
      assert.deepEqual(await s().tags.set(r.id, 'latest', d2, at(3)), { previous: d2 });
      assert.equal(await s().tags.get(r.id, 'latest'), d2);
      assert.deepEqual(await s().tags.forDigest(r.id, d1), []);
    });

    it('set requires the manifest in the same repository (MANIFEST_UNKNOWN) and changes nothing then', async () => {
      const r = await s().repositories.create('r', at(0));
      const other = await s().repositories.create('other', at(0));
      const d1 = await pushImage(s(), r.id, 'one');
      const foreign = await pushImage(s(), other.id, 'foreign');
      await s().tags.set(r.id, 'latest', d1, at(1));
      await rejectsWithKind(s().tags.set(r.id, 'new', dg('absent'), at(2)), 'MANIFEST_UNKNOWN');
      await rejectsWithKind(s().tags.set(r.id, 'latest', foreign, at(2)), 'MANIFEST_UNKNOWN');
      assert.equal(await s().tags.get(r.id, 'new'), undefined);
      assert.equal(await s().tags.get(r.id, 'latest'), d1);
    });

    it('tags are per repository and case-sensitive', async () => {
      const a = await s().repositories.create('a', at(0));
      const b = await s().repositories.create('b', at(0));
      const da = await pushImage(s(), a.id, 'same');
      const db = await pushImage(s(), b.id, 'other');
      await s().tags.set(a.id, 'latest', da, at(1));
      await s().tags.set(b.id, 'Latest', db, at(1));
      assert.equal(await s().tags.get(a.id, 'latest'), da);
      assert.equal(await s().tags.get(a.id, 'Latest'), undefined);
      assert.equal(await s().tags.get(b.id, 'latest'), undefined);
      assert.equal(await s().tags.get(b.id, 'Latest'), db);
    });

    it('list returns tag names in byte order, paged after `last`', async () => {
      const r = await s().repositories.create('r', at(0));
      const d = await pushImage(s(), r.id, 'one');
      for (const t of TAGS) await s().tags.set(r.id, t, d, at(1));
      assert.deepEqual(ORDERED, byteSorted(TAGS));
      assert.deepEqual(await s().tags.list(r.id, { limit: 100 }), ORDERED);
      assert.deepEqual(await s().tags.list(r.id, { last: 'Latest', limit: 3 }), ['Z9', '_x', 'a']);
      assert.deepEqual(await s().tags.list(r.id, { last: 'v1', limit: 2 }), ['v1-0', 'v1.0']);
      assert.deepEqual(await s().tags.list(r.id, { last: 'v1_0', limit: 5 }), []);
      assert.deepEqual(await s().tags.list(r.id, { limit: 0 }), []);
      for (const limit of [1, 4, 14]) assert.deepEqual(await pageAll((last, l) => s().tags.list(r.id, { last, limit: l }), limit), ORDERED);
      const other = await s().repositories.create('other', at(0));
      assert.deepEqual(await s().tags.list(other.id, { limit: 100 }), []);
    });

    it('forDigest lists the tags on a digest in byte order', async () => {
      const r = await s().repositories.create('r', at(0));
      const d1 = await pushImage(s(), r.id, 'one');
      const d2 = await pushImage(s(), r.id, 'two');
      for (const t of ['b', 'B', 'a-1', 'a.1']) await s().tags.set(r.id, t, d1, at(1));
      await s().tags.set(r.id, 'c', d2, at(1));
      assert.deepEqual(await s().tags.forDigest(r.id, d1), ['B', 'a-1', 'a.1', 'b']);
      assert.deepEqual(await s().tags.forDigest(r.id, dg('none')), []);
    });

    it('delete removes the tag only (the manifest stays) and reports whether it existed', async () => {
      const r = await s().repositories.create('r', at(0));
      const d = await pushImage(s(), r.id, 'one');
      await s().tags.set(r.id, 'latest', d, at(1));
      assert.equal(await s().tags.delete(r.id, 'latest'), true);
      assert.equal(await s().tags.delete(r.id, 'latest'), false);
      assert.equal(await s().tags.get(r.id, 'latest'), undefined);
      assert.equal(await s().manifests.getByTag(r.id, 'latest'), undefined);
      assert.ok(await s().manifests.get(r.id, d));
    });

    it('count counts a repository\'s tags', async () => {
      const r = await s().repositories.create('r', at(0));
      const other = await s().repositories.create('other', at(0));
      const d = await pushImage(s(), r.id, 'one');
      assert.equal(await s().tags.count(r.id), 0);
      for (const t of ['a', 'b', 'c']) await s().tags.set(r.id, t, d, at(1));
      await s().tags.set(r.id, 'a', d, at(2));
      assert.equal(await s().tags.count(r.id), 3);
      assert.equal(await s().tags.count(other.id), 0);
    });

    it('pages 10,000 tags exactly, in byte order, with no gaps or repeats', async () => {
      const r = await s().repositories.create('big', at(0));
      const d = await pushImage(s(), r.id, 'one');
      const seps = ['-', '.', '_', ''];
      const names = Array.from({ length: 10_000 }, (_, i) => `${i % 3 === 0 ? 'V' : 'v'}${i % 97}${seps[i % 4]}${i}`);
      assert.equal(new Set(names).size, names.length);
      await s().transaction(async (tx) => {
        for (const n of names) await tx.tags.set(r.id, n, d, at(1));
      });
      assert.equal(await s().tags.count(r.id), 10_000);
      const expected = byteSorted(names);
      assert.deepEqual(await pageAll((last, limit) => s().tags.list(r.id, { last, limit }), 1000), expected);
      assert.deepEqual(await pageAll((last, limit) => s().tags.list(r.id, { last, limit }), 333), expected);
      assert.deepEqual(await s().tags.list(r.id, { last: expected[4999], limit: 3 }), expected.slice(5000, 5003));
    });
  });
}
