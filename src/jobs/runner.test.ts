import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { manualClock } from '../core/clock.ts';
import { createSqliteMetadata } from '../metadata/dialects/sqlite.ts';
import type { MetadataStore } from '../metadata/types.ts';
import { createJobRunner } from './runner.ts';
import type { JobRecord } from './types.ts';

const log = pino({ level: 'silent' });

describe('job runner', () => {
  let meta: MetadataStore;
  beforeEach(async () => {
    meta = await createSqliteMetadata({ path: ':memory:' });
  });
  afterEach(async () => {
    await meta.close();
  });

  it('runs an enqueued job once and records it done', async () => {
    const clock = manualClock();
    const runner = createJobRunner({ meta, clock, log });
    const seen: JobRecord[] = [];
    runner.register('t.echo', async (job) => { seen.push(job); });
    assert.equal(await runner.enqueue('t.echo', 'a', { x: 1 }), true);
    assert.equal(await runner.drain(), 1);
    assert.equal(await runner.drain(), 0);
    assert.deepEqual(seen.map((j) => [j.key, j.payload, j.attempts]), [['a', { x: 1 }, 1]]);
    const [row] = await meta.jobs.list();
    assert.equal(row.state, 'done');
  });

  it('retries a failing job with growing backoff, then marks it failed after maxAttempts', async () => {
    const clock = manualClock();
    const runner = createJobRunner({ meta, clock, log, retryDelayMs: 1000, random: () => 0.5 });
    let calls = 0;
    runner.register('t.fail', async () => { calls++; throw new Error(`attempt ${calls}`); }, { maxAttempts: 3 });
    await runner.enqueue('t.fail', 'k', null);
    assert.equal(await runner.drain(), 1);
    assert.equal(await runner.drain(), 0, 'not due before the backoff');
    clock.advance(999);
    assert.equal(await runner.drain(), 0);
    clock.advance(1);
    assert.equal(await runner.drain(), 1);
    clock.advance(1999);
    assert.equal(await runner.drain(), 0, 'second delay doubles');
    clock.advance(1);
    assert.equal(await runner.drain(), 1);
    clock.advance(1_000_000);
    assert.equal(await runner.drain(), 0, 'failed for good');
    assert.equal(calls, 3);
    const [row] = await meta.jobs.list();
    assert.equal(row.state, 'failed');
    assert.equal(row.lastError, 'attempt 3');
  });

  it('a scheduled job runs every interval and survives a failing run', async () => {
    const clock = manualClock();
    const runner = createJobRunner({ meta, clock, log });
    const runs: number[] = [];
    let fail = false;
    runner.register('t.tick', async () => {
      runs.push(clock.now().getTime());
      if (fail) throw new Error('bad run');
    }, { maxAttempts: 1 });
    const t0 = clock.now().getTime();
    await runner.schedule('t.tick', 'registry', 60_000);
    await runner.schedule('t.tick', 'registry', 60_000); // idempotent, e.g. on every start
    assert.equal(await runner.drain(), 0);
    clock.advance(60_000);
    assert.equal(await runner.drain(), 1);
    clock.advance(59_999);
    assert.equal(await runner.drain(), 0);
    clock.advance(1);
    fail = true;
    assert.equal(await runner.drain(), 1);
    fail = false;
    clock.advance(60_000);
    assert.equal(await runner.drain(), 1);
    assert.deepEqual(runs.map((t) => t - t0), [60_000, 120_000, 180_000]);
    assert.equal((await meta.jobs.list({ state: 'pending' })).length, 1);
  });

  it('respects per-kind concurrency and runs different kinds side by side', async () => {
    const clock = manualClock();
    const runner = createJobRunner({ meta, clock, log, pollIntervalMs: 5 });
    let active = 0;
    let peak = 0;
    const done: string[] = [];
    const slow = async (job: JobRecord): Promise<void> => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 20));
      active--;
      done.push(job.key);
    };
    runner.register('t.slow', slow, { concurrency: 2 });
    for (const k of ['1', '2', '3', '4', '5']) await runner.enqueue('t.slow', k, null);
    runner.start();
    for (let i = 0; i < 200 && done.length < 5; i++) await new Promise((r) => setTimeout(r, 10));
    await runner.stop();
    assert.deepEqual(done.sort(), ['1', '2', '3', '4', '5']);
    assert.equal(peak, 2);
  });

  it('stop aborts a running handler; its job is retried later by another worker', async () => {
    const clock = manualClock();
    const runner = createJobRunner({ meta, clock, log, pollIntervalMs: 5 });
    let aborted = false;
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => { entered = r; });
    runner.register('t.long', (_job, signal) => new Promise<void>((_resolve, reject) => {
      entered();
      signal.addEventListener('abort', () => { aborted = true; reject(signal.reason as Error); });
    }), { leaseMs: 10_000 });
    await runner.enqueue('t.long', 'x', null);
    runner.start();
    await inHandler;
    await runner.stop();
    assert.equal(aborted, true);
    const [row] = await meta.jobs.list();
    assert.equal(row.state, 'running', 'left for the lease to expire, not marked failed');
    const other = createJobRunner({ meta, clock, log, owner: 'other' });
    let resumed = false;
    other.register('t.long', async () => { resumed = true; });
    clock.advance(10_001);
    assert.equal(await other.drain(), 1);
    assert.equal(resumed, true);
  });

  it('a handler that loses its lease is aborted and does not complete the job', async () => {
    const clock = manualClock();
    const a = createJobRunner({ meta, clock, log, owner: 'a' });
    let signalSeen: AbortSignal | undefined;
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    a.register('t.lease', async (_job, signal) => {
      signalSeen = signal;
      clock.advance(200); // the lease (150 ms) runs out while we work
      const b = await meta.jobs.claim(['t.lease'], 'b', 60_000, clock.now());
      assert.ok(b, 'another worker took it over');
      await new Promise((r) => setTimeout(r, 120)); // let a renewal notice
      release();
    }, { leaseMs: 150 });
    await a.enqueue('t.lease', 'x', null);
    await a.drain();
    await gate;
    assert.equal(signalSeen?.aborted, true);
    const [row] = await meta.jobs.list();
    assert.equal(row.state, 'running');
    assert.equal(row.leaseOwner, 'b');
  });
});

describe('job runner across processes sharing one database', () => {
  it('two runners never run the same job twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cargohold-jobs-'));
    const path = join(dir, 'metadata.sqlite');
    const m1 = await createSqliteMetadata({ path });
    const m2 = await createSqliteMetadata({ path });
    try {
      const clock = manualClock();
      const ran: string[] = [];
      const handler = async (job: JobRecord): Promise<void> => {
        ran.push(job.key);
        await new Promise((r) => setTimeout(r, 1));
      };
      const r1 = createJobRunner({ meta: m1, clock, log, owner: 'n1' });
      const r2 = createJobRunner({ meta: m2, clock, log, owner: 'n2' });
      r1.register('t.item', handler, { concurrency: 4 });
      r2.register('t.item', handler, { concurrency: 4 });
      for (let i = 0; i < 60; i++) await m1.jobs.enqueue('t.item', String(i), null, { runAt: clock.now() });
      const [n1, n2] = await Promise.all([r1.drain(), r2.drain()]);
      assert.equal(n1 + n2, 60);
      assert.equal(new Set(ran).size, 60);
      assert.equal(ran.length, 60);
    } finally {
      await m1.close();
      await m2.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
