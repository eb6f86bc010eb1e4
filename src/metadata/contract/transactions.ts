import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { at, dg, manifest, pushImage, type StoreRef } from './fixtures.ts';

export function transactionCases(s: StoreRef): void {
  describe('transactions', () => {
    it('commits every write and returns the callback\'s value', async () => {
      const out = await s().transaction(async (tx) => {
        const r = await tx.repositories.create('tx', at(0));
        await pushImage(tx, r.id, 'm', ['l']);
        await tx.tags.set(r.id, 'latest', dg('manifest:m'), at(1));
        return r.id;
      });
      assert.equal((await s().repositories.get('tx'))?.id, out);
      assert.equal((await s().manifests.getByTag(out, 'latest'))?.digest, dg('manifest:m'));
    });

    it('reads inside the transaction see its own uncommitted writes', async () => {
      await s().transaction(async (tx) => {
        const r = await tx.repositories.create('own', at(0));
        assert.equal((await tx.repositories.get('own'))?.id, r.id);
        const d = await pushImage(tx, r.id, 'm', ['l']);
        await tx.tags.set(r.id, 'latest', d, at(1));
        assert.equal((await tx.manifests.get(r.id, d))?.digest, d);
        assert.equal((await tx.manifests.getByTag(r.id, 'latest'))?.digest, d);
        assert.ok(await tx.blobs.getLinked(r.id, dg('blob:l')));
        assert.equal(await tx.tags.get(r.id, 'latest'), d);
      });
    });

    it('rolls everything back when the callback throws, and rethrows the same error', async () => {
      const r = await s().repositories.create('keep', at(0));
      const d1 = await pushImage(s(), r.id, 'one');
      const d2 = await pushImage(s(), r.id, 'two');
      await s().tags.set(r.id, 'latest', d1, at(1));
      const boom = new Error('boom');
      await assert.rejects(
        s().transaction(async (tx) => {
          await tx.repositories.create('ghost', at(0));
          assert.deepEqual(await tx.tags.set(r.id, 'latest', d2, at(2)), { previous: d1 });
          await tx.manifests.put(manifest(r.id, 'three'), [{ digest: dg('x'), kind: 'blob', size: 1, mediaType: 'x/y' }]);
          await tx.blobs.put(dg('tx-blob'), 1, null, at(2));
          assert.deepEqual(await tx.manifests.delete(r.id, d2), { tags: ['latest'] });
          throw boom;
        }),
        (e) => e === boom,
      );
      assert.equal(await s().repositories.get('ghost'), undefined);
      assert.equal(await s().tags.get(r.id, 'latest'), d1);
      assert.ok(await s().manifests.get(r.id, d2));
      assert.equal(await s().manifests.get(r.id, dg('manifest:three')), undefined);
      assert.deepEqual(await s().manifests.references(r.id, dg('manifest:three')), []);
      assert.equal(await s().blobs.get(dg('tx-blob')), undefined);
    });

    it('a store-level failure inside a transaction rolls back the earlier writes', async () => {
      await assert.rejects(
        s().transaction(async (tx) => {
          await tx.repositories.create('first', at(0));
          await tx.repositories.create('first', at(0));
        }),
      );
      assert.equal(await s().repositories.get('first'), undefined);
    });

    it('nested transaction calls join the outer transaction', async () => {
      const value = await s().transaction(async (tx) => {
        const r = await tx.repositories.create('outer', at(0));
        const inner = await tx.transaction(async (tx2) => {
          await tx2.repositories.create('inner', at(0));
          // The inner handle sees the outer's writes: same transaction.
          assert.equal((await tx2.repositories.get('outer'))?.id, r.id);
          return tx2.transaction(async (tx3) => (await tx3.repositories.get('inner'))?.name);
        });
        assert.equal(inner, 'inner');
        return 42;
      });
      assert.equal(value, 42);
      assert.ok(await s().repositories.get('outer'));
      assert.ok(await s().repositories.get('inner'));
    });

    it('an error thrown in a nested call rolls back the whole outer transaction', async () => {
      await assert.rejects(
        s().transaction(async (tx) => {
          await tx.repositories.create('outer', at(0));
          await tx.transaction(async (tx2) => {
            await tx2.repositories.create('inner', at(0));
            throw new Error('inner failed');
          });
        }),
        /inner failed/,
      );
      assert.equal(await s().repositories.get('outer'), undefined);
      assert.equal(await s().repositories.get('inner'), undefined);
    });

    it('sequential transactions each commit independently', async () => {
      await s().transaction(async (tx) => void (await tx.repositories.create('t1', at(0))));
      await assert.rejects(s().transaction(async (tx) => {
        await tx.repositories.create('t2', at(0));
        throw new Error('no');
      }));
      await s().transaction(async (tx) => void (await tx.repositories.create('t3', at(0))));
      assert.deepEqual(await s().repositories.list({ limit: 10 }), ['t1', 't3']);
    });

    it('concurrent transactions do not interfere', async () => {
      const r = await s().repositories.create('conc', at(0));
      const d = await pushImage(s(), r.id, 'm');
      await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          s().transaction(async (tx) => {
            await tx.tags.set(r.id, `t${i}`, d, at(i));
            if (i % 2) throw new Error(`fail ${i}`);
          }).catch(() => undefined),
        ),
      );
      assert.deepEqual(await s().tags.list(r.id, { limit: 10 }), ['t0', 't2', 't4', 't6']);
    });
  });
}
