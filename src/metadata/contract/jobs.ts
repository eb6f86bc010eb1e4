import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { at, type StoreRef } from './fixtures.ts';

export function jobCases(s: StoreRef): void {
  describe('jobs', () => {
    it('enqueue is idempotent per live (kind, key); a finished job frees the key', async () => {
      assert.equal(await s().jobs.enqueue('k', 'repo-a', { n: 1 }, { runAt: at(10) }), true);
      assert.equal(await s().jobs.enqueue('k', 'repo-a', { n: 2 }, { runAt: at(20) }), false);
      assert.equal(await s().jobs.enqueue('k', 'repo-b', null, { runAt: at(10) }), true);
      assert.equal(await s().jobs.enqueue('other', 'repo-a', null, { runAt: at(10) }), true);
      const job = await s().jobs.claim(['k'], 'n1', 1000, at(10));
      assert.ok(job);
      assert.equal(job.key, 'repo-a');
      assert.deepEqual(job.payload, { n: 1 });
      assert.equal(job.attempts, 1);
      // Running still counts as live.
      assert.equal(await s().jobs.enqueue('k', 'repo-a', { n: 3 }, { runAt: at(10) }), false);
      assert.equal(await s().jobs.complete(job.id, 'n1', at(11)), true);
      assert.equal(await s().jobs.enqueue('k', 'repo-a', { n: 4 }, { runAt: at(12) }), true);
    });

    it('an earlier enqueue moves a pending duplicate earlier, never later', async () => {
      await s().jobs.enqueue('k', 'x', null, { runAt: at(50) });
      await s().jobs.enqueue('k', 'x', null, { runAt: at(60) });
      assert.equal(await s().jobs.claim(['k'], 'n1', 1000, at(40)), undefined);
      await s().jobs.enqueue('k', 'x', null, { runAt: at(30) });
      assert.ok(await s().jobs.claim(['k'], 'n1', 1000, at(40)));
    });

    it('claims due jobs of the asked kinds, oldest runAt first, each once', async () => {
      await s().jobs.enqueue('a', '2', null, { runAt: at(20) });
      await s().jobs.enqueue('a', '1', null, { runAt: at(10) });
      await s().jobs.enqueue('b', '0', null, { runAt: at(5) });
      await s().jobs.enqueue('a', 'late', null, { runAt: at(99) });
      assert.deepEqual(await s().jobs.claim([], 'n', 1000, at(30)), undefined);
      const first = await s().jobs.claim(['a'], 'n1', 1000, at(30));
      const second = await s().jobs.claim(['a'], 'n2', 1000, at(30));
      assert.deepEqual([first?.key, second?.key], ['1', '2']);
      assert.equal(await s().jobs.claim(['a'], 'n3', 1000, at(30)), undefined);
      assert.equal((await s().jobs.claim(['a', 'b'], 'n3', 1000, at(30)))?.key, '0');
    });

    it('an expired lease lets another owner take over; the old owner can no longer finish it', async () => {
      await s().jobs.enqueue('k', 'x', null, { runAt: at(0) });
      const job = await s().jobs.claim(['k'], 'old', 1000, at(1));
      assert.ok(job);
      assert.equal(await s().jobs.claim(['k'], 'new', 1000, at(1, 500)), undefined);
      assert.equal(await s().jobs.extend(job.id, 'old', 1000, at(1, 900)), true);
      assert.equal(await s().jobs.claim(['k'], 'new', 1000, at(2, 800)), undefined);
      const taken = await s().jobs.claim(['k'], 'new', 1000, at(3));
      assert.equal(taken?.id, job.id);
      assert.equal(taken?.attempts, 2);
      assert.equal(await s().jobs.extend(job.id, 'old', 1000, at(3)), false);
      assert.equal(await s().jobs.complete(job.id, 'old', at(3)), false);
      assert.equal(await s().jobs.fail(job.id, 'old', 'x', null, at(3)), false);
      assert.equal(await s().jobs.complete(job.id, 'new', at(3)), true);
      const [row] = await s().jobs.list();
      assert.equal(row.state, 'done');
      assert.deepEqual(row.finishedAt, at(3));
    });

    it('fail with retryAt makes it pending again; without, failed for good with the error kept', async () => {
      await s().jobs.enqueue('k', 'x', { p: true }, { runAt: at(0) });
      const job = await s().jobs.claim(['k'], 'n', 1000, at(0));
      assert.ok(job);
      assert.equal(await s().jobs.fail(job.id, 'n', 'boom', at(60), at(1)), true);
      assert.equal(await s().jobs.claim(['k'], 'n', 1000, at(59)), undefined);
      const again = await s().jobs.claim(['k'], 'n', 1000, at(60));
      assert.equal(again?.attempts, 2);
      assert.equal(await s().jobs.fail(job.id, 'n', 'boom twice', null, at(61)), true);
      const [row] = await s().jobs.list({ state: 'failed' });
      assert.equal(row.lastError, 'boom twice');
      assert.deepEqual(row.payload, { p: true });
      assert.equal(await s().jobs.enqueue('k', 'x', null, { runAt: at(62) }), true);
    });

    it('list filters by kind and state, newest first; prune drops finished jobs before a time', async () => {
      for (const key of ['1', '2', '3']) await s().jobs.enqueue('k', key, null, { runAt: at(0) });
      await s().jobs.enqueue('other', '1', null, { runAt: at(0) });
      const j1 = await s().jobs.claim(['k'], 'n', 1000, at(1));
      const j2 = await s().jobs.claim(['k'], 'n', 1000, at(1));
      assert.ok(j1 && j2);
      await s().jobs.complete(j1.id, 'n', at(2));
      await s().jobs.fail(j2.id, 'n', 'e', null, at(5));
      assert.deepEqual((await s().jobs.list({ kind: 'k' })).map((j) => j.key), ['3', '2', '1']);
      assert.deepEqual((await s().jobs.list({ state: 'pending' })).map((j) => j.kind), ['other', 'k']);
      assert.equal((await s().jobs.list({ limit: 1 })).length, 1);
      assert.equal(await s().jobs.prune(at(3)), 1);
      assert.equal(await s().jobs.prune(at(10)), 1);
      assert.equal((await s().jobs.list()).length, 2);
    });

    it('enqueue inside a transaction commits or rolls back with it', async () => {
      await assert.rejects(
        s().transaction(async (tx) => {
          await tx.jobs.enqueue('k', 'rolled-back', null, { runAt: at(0) });
          throw new Error('abort');
        }),
      );
      await s().transaction(async (tx) => {
        await tx.jobs.enqueue('k', 'kept', null, { runAt: at(0) });
      });
      assert.deepEqual((await s().jobs.list()).map((j) => j.key), ['kept']);
    });
  });
}
