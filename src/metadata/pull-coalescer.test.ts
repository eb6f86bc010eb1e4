import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PullCoalescer, type PendingPull } from './pull-coalescer.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PullCoalescer', () => {
  it('writes one row per (repository, digest) per interval, with the latest time', async () => {
    const batches: PendingPull[][] = [];
    const c = new PullCoalescer({ write: async (b) => void batches.push(b), intervalMs: 30 });
    for (let i = 0; i < 1000; i++) c.record(1 + (i % 2), 'sha256:a', 1000 + i);
    c.record(1, 'sha256:b', 5);
    assert.equal(c.size, 3);
    assert.equal(batches.length, 0, 'nothing is written synchronously');
    await sleep(90);
    assert.equal(batches.length, 1);
    const sorted = [...batches[0]].sort((x, y) => x.repositoryId - y.repositoryId || x.digest.localeCompare(y.digest));
    assert.deepEqual(sorted, [
      { repositoryId: 1, digest: 'sha256:a', at: 1998 },
      { repositoryId: 1, digest: 'sha256:b', at: 5 },
      { repositoryId: 2, digest: 'sha256:a', at: 1999 },
    ]);
    await sleep(60);
    assert.equal(batches.length, 1, 'no timer and no write while idle');
    await c.close();
  });

  it('keeps the latest time when older ones arrive later', async () => {
    const batches: PendingPull[][] = [];
    const c = new PullCoalescer({ write: async (b) => void batches.push(b), intervalMs: 60_000 });
    c.record(1, 'd', 50);
    c.record(1, 'd', 10);
    await c.flush();
    assert.deepEqual(batches, [[{ repositoryId: 1, digest: 'd', at: 50 }]]);
    await c.flush();
    assert.equal(batches.length, 1, 'an empty flush writes nothing');
    await c.close();
  });

  it('close flushes what is pending and ignores later records', async () => {
    const batches: PendingPull[][] = [];
    const c = new PullCoalescer({ write: async (b) => void batches.push(b), intervalMs: 60_000 });
    c.record(7, 'd', 1);
    await c.close();
    c.record(7, 'd', 2);
    await c.flush();
    assert.deepEqual(batches, [[{ repositoryId: 7, digest: 'd', at: 1 }]]);
  });

  it('reports background write failures and keeps working', async () => {
    const errors: unknown[] = [];
    let fail = true;
    const written: PendingPull[] = [];
    const c = new PullCoalescer({
      write: async (b) => {
        if (fail) throw new Error('disk on fire');
        written.push(...b);
      },
      intervalMs: 10,
      onError: (e) => errors.push(e),
    });
    c.record(1, 'd', 1);
    await sleep(50);
    assert.equal(errors.length, 1);
    fail = false;
    c.record(1, 'd', 2);
    await sleep(50);
    assert.deepEqual(written, [{ repositoryId: 1, digest: 'd', at: 2 }]);
    await c.close();
  });
});
