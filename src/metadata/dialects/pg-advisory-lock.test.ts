import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freshDatabase, skipUnlessPostgres, stopTestPostgres, testPostgres } from '../../../test/helpers/postgres.ts';
import { advisoryKeys, createPostgresKeyedLock, type DatabaseKeyedLock } from './pg-advisory-lock.ts';

const skip = skipUnlessPostgres();
const tick = (ms = 2) => new Promise((r) => setTimeout(r, ms));

describe('blob lock across nodes (PostgreSQL advisory locks)', { skip }, () => {
  let url = '';
  let drop: () => Promise<void> = async () => undefined;
  const opened: DatabaseKeyedLock[] = [];
  /** One lock per simulated node: each has its own database session, as separate processes would. */
  const node = () => {
    const l = createPostgresKeyedLock({ url, maxPollMs: 5 });
    opened.push(l);
    return l;
  };
  before(async () => {
    ({ url, drop } = await freshDatabase(await testPostgres()));
  });
  after(async () => {
    for (const l of opened) await l.close();
    await drop();
    await stopTestPostgres();
  });

  it('two nodes never hold the same digest at once', async () => {
    const [a, b] = [node(), node()];
    let inside = 0;
    let most = 0;
    let runs = 0;
    const critical = async () => {
      inside++;
      most = Math.max(most, inside);
      await tick(3);
      inside--;
      runs++;
    };
    await Promise.all(Array.from({ length: 24 }, (_, i) => (i % 2 ? a : b).withLock('sha256:aa', critical)));
    assert.equal(runs, 24);
    assert.equal(most, 1);
  });

  it('different digests are held at the same time on different nodes', async () => {
    const [a, b] = [node(), node()];
    // Each holder waits, inside its lock, until the other is inside too: only possible if both hold at once.
    let enterA!: () => void;
    let enterB!: () => void;
    const inA = new Promise<void>((r) => { enterA = r; });
    const inB = new Promise<void>((r) => { enterB = r; });
    const bothInside = Promise.all([inA, inB]);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('the two holders never overlapped')), 15_000); });
    try {
      await Promise.race([
        Promise.all([
          a.withLock('sha256:01', async () => { enterA(); await bothInside; }),
          b.withLock('sha256:02', async () => { enterB(); await bothInside; }),
        ]),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  });

  it('a holder that throws lets the lock go and the error through', async () => {
    const [a, b] = [node(), node()];
    await assert.rejects(a.withLock('sha256:bb', async () => { throw new Error('boom'); }), /boom/);
    assert.equal(await b.withLock('sha256:bb', async () => 'taken'), 'taken');
  });

  it('holders of several digests in sorted order (the collector) on two nodes finish without deadlock', async () => {
    const [a, b] = [node(), node()];
    const keys = ['sha256:c1', 'sha256:c2', 'sha256:c3'];
    const holdAll = (l: DatabaseKeyedLock) => {
      const hold = (i: number): Promise<void> => (i === keys.length ? tick(3).then(() => undefined) : l.withLock(keys[i]!, () => hold(i + 1)));
      return hold(0);
    };
    await Promise.all([holdAll(a), holdAll(b), holdAll(a), holdAll(b)]);
  });

  it('a node that goes away (its session ends) releases what it held', async () => {
    const [a, b] = [node(), node()];
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    let entered!: () => void;
    const inside = new Promise<void>((r) => { entered = r; });
    const first = a.withLock('sha256:dd', async () => { entered(); await held; });
    await inside;
    let second = false;
    const waiting = b.withLock('sha256:dd', async () => { second = true; });
    await tick(30);
    assert.equal(second, false, 'the other node waits while the digest is held');
    await a.close();
    await waiting;
    assert.equal(second, true);
    release();
    await first;
  });

  it('keys are stable per digest and differ between digests', () => {
    assert.deepEqual(advisoryKeys('sha256:ab'), advisoryKeys('sha256:ab'));
    assert.notDeepEqual(advisoryKeys('sha256:ab'), advisoryKeys('sha256:ac'));
  });
});
