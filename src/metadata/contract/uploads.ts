import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { at, type StoreRef } from './fixtures.ts';

export function uploadCases(s: StoreRef): void {
  describe('uploads', () => {
    it('create, get, touch and delete a session', async () => {
      const r = await s().repositories.create('r', at(0));
      const rec = { id: '6f1c6c1e-upload', repositoryId: r.id, createdAt: at(1, 1), updatedAt: at(1, 1) };
      await s().uploads.create(rec);
      assert.deepEqual(await s().uploads.get(rec.id), rec);
      await s().uploads.touch(rec.id, at(9, 9));
      assert.deepEqual(await s().uploads.get(rec.id), { ...rec, updatedAt: at(9, 9) });
      assert.equal(await s().uploads.delete(rec.id), true);
      assert.equal(await s().uploads.delete(rec.id), false);
      assert.equal(await s().uploads.get(rec.id), undefined);
      await s().uploads.touch('no-such-upload', at(10));
      assert.equal(await s().uploads.get('no-such-upload'), undefined);
    });

    it('create with an existing id fails', async () => {
      const r = await s().repositories.create('r', at(0));
      const rec = { id: 'dup', repositoryId: r.id, createdAt: at(1), updatedAt: at(1) };
      await s().uploads.create(rec);
      await assert.rejects(s().uploads.create({ ...rec, createdAt: at(2) }));
      assert.deepEqual(await s().uploads.get('dup'), rec);
    });

    it('listStale returns sessions not updated since `before`, oldest first, up to limit', async () => {
      const r = await s().repositories.create('r', at(0));
      for (const [id, t] of [['u3', 30], ['u1', 10], ['u5', 50], ['u2', 20], ['u4', 40]] as const) {
        await s().uploads.create({ id, repositoryId: r.id, createdAt: at(0), updatedAt: at(t) });
      }
      await s().uploads.touch('u1', at(60));
      assert.deepEqual((await s().uploads.listStale(at(40), 10)).map((u) => u.id), ['u2', 'u3']);
      assert.deepEqual((await s().uploads.listStale(at(100), 3)).map((u) => u.id), ['u2', 'u3', 'u4']);
      assert.deepEqual(await s().uploads.listStale(at(5), 10), []);
      assert.deepEqual(await s().uploads.listStale(at(100), 0), []);
      const stale = await s().uploads.listStale(at(21), 1);
      assert.deepEqual(stale, [{ id: 'u2', repositoryId: r.id, createdAt: at(0), updatedAt: at(20) }]);
    });
  });
}
