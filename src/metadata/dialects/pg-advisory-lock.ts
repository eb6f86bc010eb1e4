import { createHash } from 'node:crypto';
import pg from 'pg';
import { createKeyedMutex, type KeyedMutex } from '../../storage/keyed-mutex.ts';

/**
 * The per-digest blob lock of docs/gc.md across every node of one PostgreSQL database: a session-level
 * advisory lock per key, on one dedicated connection per process, behind the in-process mutex (so a process
 * never asks the database for a key it already holds, and waits for its own holders without a round trip).
 *
 * The lock is taken with `pg_try_advisory_lock`, polled with a short backoff, never with the blocking
 * `pg_advisory_lock`: the one connection serves every holder of the process, and a blocked call on it would
 * keep this process from releasing the locks another node is waiting for (a deadlock across nodes). Holders
 * that take several keys take them in sorted order (the collector does), so waiting never forms a cycle.
 *
 * If the connection drops, PostgreSQL releases this session's locks: the current holders are no longer
 * protected (their work is still guarded by the review rows and the grace period, as on a single node without
 * this lock) and the failure is reported through `onError`; the next acquisition reconnects.
 */
export interface DatabaseKeyedLock {
  withLock: KeyedMutex;
  close(): Promise<void>;
}

/** Two int4 keys from a string (the advisory-lock key space of the two-argument form), namespaced to cargohold. */
export function advisoryKeys(key: string): [number, number] {
  const h = createHash('sha256').update('cargohold blob lock\n').update(key).digest();
  return [h.readInt32BE(0), h.readInt32BE(4)];
}

export function createPostgresKeyedLock(options: { url: string; onError?: (err: unknown) => void; maxPollMs?: number }): DatabaseKeyedLock {
  const local = createKeyedMutex();
  const maxPollMs = options.maxPollMs ?? 50;
  let client: pg.Client | undefined;
  let connecting: Promise<pg.Client> | undefined;
  let closed = false;

  async function connection(): Promise<pg.Client> {
    if (closed) throw new Error('the blob lock is closed');
    if (client) return client;
    connecting ??= (async () => {
      const c = new pg.Client({ connectionString: options.url, application_name: 'cargohold blob locks' });
      c.on('error', (err) => {
        if (client === c) client = undefined;
        options.onError?.(err);
      });
      try {
        await c.connect();
      } catch (err) {
        await c.end().catch(() => undefined);
        throw err;
      }
      client = c;
      return c;
    })().finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  async function acquire(a: number, b: number): Promise<pg.Client> {
    for (let wait = 1; ; wait = Math.min(maxPollMs, wait * 2)) {
      const c = await connection();
      const r = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [a, b]);
      if (r.rows[0]?.ok) return c;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  return {
    withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
      return local(key, async () => {
        const [a, b] = advisoryKeys(key);
        const c = await acquire(a, b);
        try {
          return await fn();
        } finally {
          // Only on the session that took it; a session that died has already let it go.
          if (client === c) await c.query('SELECT pg_advisory_unlock($1, $2)', [a, b]).catch((err) => options.onError?.(err));
        }
      });
    },
    async close() {
      closed = true;
      const c = client ?? (await connecting?.catch(() => undefined));
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}
