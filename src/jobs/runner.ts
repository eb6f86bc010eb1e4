import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import type { MetadataStore } from '../metadata/types.ts';
import type { EnqueueOptions, JobHandler, JobKindOptions, JobRecord, JobRunner } from './types.ts';

/** Options for {@link createJobRunner}. */
export interface JobRunnerOptions {
  meta: MetadataStore;
  clock: Clock;
  log: Logger;
  /** How often the loop looks for due jobs when idle (default 1000 ms). Enqueues through the runner wake it at once. */
  pollIntervalMs?: number;
  /** First retry delay; doubles per attempt up to maxRetryDelayMs, with ±50% jitter (default 5 s). */
  retryDelayMs?: number;
  /** Longest retry delay (default 10 min). */
  maxRetryDelayMs?: number;
  /** Lease-owner id (default host:pid:random). */
  owner?: string;
  /** Random source for jitter (tests pass a fixed one). */
  random?: () => number;
}

interface Kind {
  handler: JobHandler;
  maxAttempts: number;
  leaseMs: number;
  concurrency: number;
  running: number;
  /** Periodic: after each run (success or final failure) the next is enqueued this much later. */
  everyMs?: number;
  payload?: unknown;
}

/**
 * The job loop of one process. Claims due jobs of the kinds registered here (one at a time per claim, up to
 * each kind's concurrency), renews the lease while a handler runs, aborts the handler if the lease is lost,
 * retries failures with exponential backoff and jitter, and re-enqueues periodic jobs in the same transaction
 * that completes the current run, so a periodic job can never be lost between two runs.
 */
export function createJobRunner(options: JobRunnerOptions): JobRunner {
  const { meta, clock, log } = options;
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const pollMs = options.pollIntervalMs ?? 1000;
  const baseDelay = options.retryDelayMs ?? 5000;
  const maxDelay = options.maxRetryDelayMs ?? 10 * 60_000;
  const random = options.random ?? Math.random;
  const kinds = new Map<string, Kind>();
  const inFlight = new Set<Promise<void>>();
  const shutdown = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let started = false;
  let stopped = false;
  let ticking = false;
  let again = false;

  function available(only?: readonly string[]): string[] {
    const names: string[] = [];
    for (const [name, k] of kinds) if (k.running < k.concurrency && (!only || only.includes(name))) names.push(name);
    return names;
  }

  function retryAt(job: JobRecord): Date {
    const exp = Math.min(maxDelay, baseDelay * 2 ** Math.max(0, job.attempts - 1));
    return new Date(clock.now().getTime() + Math.round(exp * (0.5 + random())));
  }

  async function finish(job: JobRecord, kind: Kind, error: unknown | undefined): Promise<void> {
    const now = clock.now();
    const next = kind.everyMs === undefined ? undefined : new Date(now.getTime() + kind.everyMs);
    await meta.transaction(async (tx) => {
      if (error === undefined) {
        if (!(await tx.jobs.complete(job.id, owner, now))) return;
      } else {
        const message = error instanceof Error ? error.message : String(error);
        const last = job.attempts >= kind.maxAttempts;
        if (!(await tx.jobs.fail(job.id, owner, message, last ? null : retryAt(job), now))) return;
        if (!last) return;
      }
      if (next) await tx.jobs.enqueue(job.kind, job.key, job.payload, { runAt: next });
    });
  }

  async function run(job: JobRecord, kind: Kind): Promise<void> {
    const lease = new AbortController();
    const onShutdown = (): void => lease.abort(new Error('shutting down'));
    shutdown.signal.addEventListener('abort', onShutdown, { once: true });
    const renew = setInterval(() => {
      meta.jobs.extend(job.id, owner, kind.leaseMs, clock.now()).then(
        (held) => { if (!held) lease.abort(new Error('lease lost')); },
        (e: unknown) => log.warn({ err: e, job: job.id, kind: job.kind }, 'job lease renewal failed'),
      );
    }, Math.max(50, Math.floor(kind.leaseMs / 3)));
    renew.unref();
    const started = Date.now();
    let error: unknown;
    try {
      await kind.handler(job, lease.signal);
    } catch (e) {
      error = e ?? new Error('job failed');
    } finally {
      clearInterval(renew);
      shutdown.signal.removeEventListener('abort', onShutdown);
    }
    if (lease.signal.aborted && !shutdown.signal.aborted) {
      log.warn({ job: job.id, kind: job.kind, key: job.key }, 'job lease lost; another worker owns it now');
      return;
    }
    if (shutdown.signal.aborted && error !== undefined) return; // interrupted: the lease expires and another run retries it
    if (error === undefined) log.debug({ job: job.id, kind: job.kind, key: job.key, ms: Date.now() - started }, 'job done');
    else log.warn({ err: error, job: job.id, kind: job.kind, key: job.key, attempt: job.attempts }, 'job failed');
    await finish(job, kind, error);
  }

  /** Claims one job among `names` and starts it; its run (boxed: a bare promise would be awaited through), or undefined when none was due. */
  async function claimOne(names: string[]): Promise<{ done: Promise<void> } | undefined> {
    const leaseMs = Math.max(...names.map((n) => kinds.get(n)!.leaseMs));
    const job = await meta.jobs.claim(names, owner, leaseMs, clock.now());
    if (!job) return undefined;
    const kind = kinds.get(job.kind)!;
    // The claim leased for the longest kind asked; hold this one only for its own lease, so a short job
    // abandoned by a crash right after its claim is taken over after its own lease, not another kind's.
    if (kind.leaseMs < leaseMs) await meta.jobs.extend(job.id, owner, kind.leaseMs, clock.now());
    kind.running++;
    const p = run(job, kind)
      .catch((e: unknown) => log.error({ err: e, job: job.id, kind: job.kind }, 'job bookkeeping failed'))
      .finally(() => {
        kind.running--;
        inFlight.delete(p);
        if (started && !stopped) wake();
      });
    inFlight.add(p);
    return { done: p };
  }

  async function tick(): Promise<void> {
    if (ticking) {
      again = true;
      return;
    }
    ticking = true;
    try {
      do {
        again = false;
        for (;;) {
          if (stopped) return;
          const names = available();
          if (names.length === 0) break;
          if (!(await claimOne(names))) break;
        }
      } while (again && !stopped);
    } catch (e) {
      log.error({ err: e }, 'job loop failed to claim');
    } finally {
      ticking = false;
    }
  }

  function wake(): void {
    if (stopped) return;
    void tick();
  }

  function loop(): void {
    timer = setTimeout(() => {
      void tick().finally(() => { if (!stopped) loop(); });
    }, pollMs);
    timer.unref();
  }

  return {
    owner,

    register(kind, handler, opts: JobKindOptions = {}) {
      if (kinds.has(kind)) throw new Error(`job kind ${kind} is already registered`);
      kinds.set(kind, {
        handler,
        maxAttempts: opts.maxAttempts ?? 5,
        leaseMs: opts.leaseMs ?? 60_000,
        concurrency: Math.max(1, opts.concurrency ?? 1),
        running: 0,
      });
    },

    async schedule(kind, key, everyMs, payload = null, firstRunAt) {
      const k = kinds.get(kind);
      if (!k) throw new Error(`job kind ${kind} must be registered before it is scheduled`);
      if (!(everyMs > 0)) throw new Error('a schedule needs a positive interval');
      k.everyMs = everyMs;
      k.payload = payload;
      await meta.jobs.enqueue(kind, key, payload, { runAt: firstRunAt ?? new Date(clock.now().getTime() + everyMs) });
    },

    async enqueue(kind, key, payload, opts: EnqueueOptions = {}) {
      const added = await meta.jobs.enqueue(kind, key, payload, { runAt: opts.runAt ?? clock.now() });
      if (started) wake();
      return added;
    },

    start() {
      if (started || stopped) return;
      started = true;
      wake();
      loop();
    },

    async drain(only) {
      let ran = 0;
      for (;;) {
        const names = available(only);
        if (names.length === 0) {
          if (inFlight.size === 0) return ran;
          await Promise.race(inFlight);
          continue;
        }
        const p = await claimOne(names);
        if (!p) {
          if (inFlight.size === 0) return ran;
          await Promise.race(inFlight);
          continue;
        }
        ran++;
        await p.done;
      }
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      shutdown.abort();
      await Promise.allSettled([...inFlight]);
    },
  };
}
