import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBufferPool } from './buffer-pool.ts';

test('a buffer pool lends within its budget, makes the next caller wait, and reuses what comes back', async () => {
  const pool = createBufferPool({ budget: 2, bufferBytes: 1024 });
  const a = await pool.acquire();
  const b = await pool.acquire(4096);
  assert.equal(a.length, 1024);
  assert.equal(b.length, 4096);
  assert.equal(pool.tryAcquire(), undefined, 'the budget is lent');
  let third: Buffer | undefined;
  const waiting = pool.acquire(2000).then((buf) => { third = buf; });
  await new Promise((r) => setImmediate(r));
  assert.equal(third, undefined, 'waits while the budget is lent');
  pool.release(b);
  await waiting;
  assert.equal(third, b, 'the returned buffer is large enough and reused');
  pool.release(a, false);
  assert.equal(pool.lent(), 1);
  assert.equal(pool.tryAcquire(1024, 1), undefined, 'a lower limit counts what is lent');
  const c = pool.tryAcquire(1024, 2);
  assert.ok(c && c !== a, 'a dropped buffer is not handed out again');
});
