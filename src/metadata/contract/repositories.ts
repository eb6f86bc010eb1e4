import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { at, byteSorted, dg, pageAll, pushImage, rejectsWithKind, type StoreRef } from './fixtures.ts';

/** Byte order: '-' < '.' < '/' < digits < '_' < lower case. */
const NAMES = ['a_b', 'a/b', 'a.b', 'a-b', 'ab', 'a0', 'a', 'b', 'z/z', 'a/b/c', 'a/b-c', '0', '9lives', 'a__b', 'a--b'];
const ORDERED = ['0', '9lives', 'a', 'a--b', 'a-b', 'a.b', 'a/b', 'a/b-c', 'a/b/c', 'a0', 'a__b', 'a_b', 'ab', 'b', 'z/z'];

export function repositoryCases(s: StoreRef): void {
  describe('repositories', () => {
    it('create returns the new record and get/getById find it', async () => {
      const r = await s().repositories.create('library/alpine', at(5, 123));
      assert.equal(r.name, 'library/alpine');
      assert.equal(typeof r.id, 'number');
      assert.equal(r.createdAt.getTime(), at(5, 123).getTime());
      assert.deepEqual(await s().repositories.get('library/alpine'), r);
      assert.deepEqual(await s().repositories.getById(r.id), r);
    });

    it('create on an existing name throws REPOSITORY_EXISTS and keeps the original', async () => {
      const r = await s().repositories.create('dup', at(1));
      await rejectsWithKind(s().repositories.create('dup', at(2)), 'REPOSITORY_EXISTS');
      assert.deepEqual(await s().repositories.get('dup'), r);
      assert.equal(await s().repositories.count(), 1);
    });

    it('get and getById return undefined when absent', async () => {
      assert.equal(await s().repositories.get('nope'), undefined);
      assert.equal(await s().repositories.getById(424242), undefined);
    });

    it('getOrCreate creates once and then returns the existing record', async () => {
      const a = await s().repositories.getOrCreate('team/app', at(1));
      const b = await s().repositories.getOrCreate('team/app', at(9));
      assert.deepEqual(b, a);
      assert.equal(b.createdAt.getTime(), at(1).getTime());
    });

    it('getOrCreate is race-safe: concurrent callers get the same row', async () => {
      const all = await Promise.all(Array.from({ length: 12 }, (_, i) => s().repositories.getOrCreate('race', at(i))));
      assert.equal(new Set(all.map((r) => r.id)).size, 1);
      assert.equal(await s().repositories.count(), 1);
    });

    it('ids are distinct and not reused after delete', async () => {
      const a = await s().repositories.create('one', at(1));
      const b = await s().repositories.create('two', at(1));
      assert.notEqual(a.id, b.id);
      assert.equal(await s().repositories.delete(b.id), true);
      const c = await s().repositories.create('two', at(2));
      assert.notEqual(c.id, b.id);
    });

    it('list returns names in byte order, paged after `last`', async () => {
      for (const n of NAMES) await s().repositories.create(n, at(1));
      assert.deepEqual(ORDERED, byteSorted(NAMES));
      assert.deepEqual(await s().repositories.list({ limit: 100 }), ORDERED);
      assert.deepEqual(await s().repositories.list({ limit: 3 }), ORDERED.slice(0, 3));
      assert.deepEqual(await s().repositories.list({ last: 'a-b', limit: 4 }), ['a.b', 'a/b', 'a/b-c', 'a/b/c']);
      // `last` need not exist: names strictly greater than it.
      assert.deepEqual(await s().repositories.list({ last: 'a/', limit: 2 }), ['a/b', 'a/b-c']);
      assert.deepEqual(await s().repositories.list({ last: 'z/z', limit: 10 }), []);
      assert.deepEqual(await s().repositories.list({ limit: 0 }), []);
      for (const limit of [1, 2, 5, 15]) {
        assert.deepEqual(await pageAll((last, l) => s().repositories.list({ last, limit: l }), limit), ORDERED);
      }
    });

    it('list pages through many repositories without gaps or repeats', async () => {
      const names = Array.from({ length: 300 }, (_, i) => `ns${i % 7}/repo-${(i * 7919) % 1000}`);
      const unique = [...new Set(names)];
      await s().transaction(async (tx) => {
        for (const n of unique) await tx.repositories.create(n, at(1));
      });
      assert.equal(await s().repositories.count(), unique.length);
      assert.deepEqual(await pageAll((last, limit) => s().repositories.list({ last, limit }), 17), byteSorted(unique));
    });

    it('delete returns false when absent and true once', async () => {
      const r = await s().repositories.create('gone', at(1));
      assert.equal(await s().repositories.delete(r.id), true);
      assert.equal(await s().repositories.delete(r.id), false);
      assert.equal(await s().repositories.get('gone'), undefined);
      assert.equal(await s().repositories.getById(r.id), undefined);
    });

    it('delete cascades to links, manifests, references, tags and uploads but keeps global blobs', async () => {
      const doomed = await s().repositories.create('doomed', at(1));
      const kept = await s().repositories.create('kept', at(1));
      const m1 = await pushImage(s(), doomed.id, 'm1', ['l1', 'l2']);
      await s().tags.set(doomed.id, 'latest', m1, at(2));
      await s().uploads.create({ id: 'up-doomed', repositoryId: doomed.id, createdAt: at(1), updatedAt: at(1) });
      const k1 = await pushImage(s(), kept.id, 'k1', ['l1']);
      await s().tags.set(kept.id, 'latest', k1, at(2));

      assert.equal(await s().repositories.delete(doomed.id), true);

      assert.equal(await s().manifests.get(doomed.id, m1), undefined);
      assert.deepEqual(await s().manifests.references(doomed.id, m1), []);
      assert.equal(await s().tags.get(doomed.id, 'latest'), undefined);
      assert.equal(await s().tags.count(doomed.id), 0);
      assert.equal(await s().blobs.getLinked(doomed.id, dg('blob:l2')), undefined);
      assert.deepEqual(await s().blobs.missingLinks(doomed.id, [dg('blob:l1')]), [dg('blob:l1')]);
      assert.equal(await s().uploads.get('up-doomed'), undefined);
      // Global blob rows are not per-repository; the other repository is untouched.
      assert.ok(await s().blobs.get(dg('blob:l2')));
      assert.ok(await s().blobs.getLinked(kept.id, dg('blob:l1')));
      assert.equal((await s().manifests.getByTag(kept.id, 'latest'))?.digest, k1);
      assert.equal((await s().manifests.references(kept.id, k1)).length, 1);

      // Re-creating the name starts empty.
      const again = await s().repositories.create('doomed', at(3));
      assert.deepEqual(await s().tags.list(again.id, { limit: 10 }), []);
      assert.deepEqual(await s().manifests.list(again.id, { limit: 10 }), []);
    });

    it('count counts repositories', async () => {
      assert.equal(await s().repositories.count(), 0);
      await s().repositories.create('x', at(1));
      await s().repositories.create('y', at(1));
      assert.equal(await s().repositories.count(), 2);
    });
  });
}
