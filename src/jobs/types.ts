/**
 * Durable background work (DESIGN convention 7): jobs are rows in the metadata database, claimed one at a
 * time under a lease, retried with backoff and jitter, safe on several nodes at once (PostgreSQL claims with
 * FOR UPDATE SKIP LOCKED; SQLite has one writer). Time always comes from an injected Clock.
 */

/** A claimed job as a handler sees it. */
export interface JobRecord {
  id: number;
  /** What to do: 'lifecycle.evaluate', 'gc.sweep', 'scan.image', … (namespaced by feature). */
  kind: string;
  /** Identity within the kind: at most one pending-or-running job per (kind, key); e.g. a repository name. */
  key: string;
  /** JSON payload given at enqueue. */
  payload: unknown;
  /** Attempts so far, including this one (1 on the first run). */
  attempts: number;
  /** When the job became runnable. */
  runAt: Date;
  createdAt: Date;
}

/** Options for {@link JobStore.enqueue}. */
export interface EnqueueOptions {
  /** Not before this time (default: now). */
  runAt?: Date;
}

/** Terminal and live states of a job row. */
export type JobState = 'pending' | 'running' | 'done' | 'failed';

/** A job row as listed for operators (`cargohold jobs`). */
export interface JobListing extends JobRecord {
  state: JobState;
  lastError: string | null;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  finishedAt: Date | null;
}

/**
 * The metadata store for jobs (`meta.jobs`). Calls on a transaction-bound store (`tx.jobs`) commit with the
 * transaction, so a change and the work it causes are one atomic write.
 */
export interface JobStore {
  /**
   * Adds a pending job unless one with the same (kind, key) is already pending or running (then it is a
   * no-op and returns false). A pending duplicate's runAt moves earlier when the new one is earlier.
   */
  enqueue(kind: string, key: string, payload: unknown, options?: EnqueueOptions): Promise<boolean>;
  /**
   * Claims the next runnable job of one of `kinds` (pending with runAt ≤ now, or running with an expired
   * lease) for `owner` until now + leaseMs. Oldest runAt first. Undefined when none.
   */
  claim(kinds: readonly string[], owner: string, leaseMs: number, now: Date): Promise<JobRecord | undefined>;
  /** Extends the lease; false when the job is no longer held by `owner` (another node took it over). */
  extend(id: number, owner: string, leaseMs: number, now: Date): Promise<boolean>;
  /** Marks the job done (kept for history until pruned). False when `owner` no longer holds it. */
  complete(id: number, owner: string, now: Date): Promise<boolean>;
  /** Records a failure: retried at `retryAt` (pending again), or failed for good when retryAt is null. */
  fail(id: number, owner: string, error: string, retryAt: Date | null, now: Date): Promise<boolean>;
  /** Recent jobs, newest first, optionally of one kind or state. */
  list(options?: { kind?: string; state?: JobState; limit?: number }): Promise<JobListing[]>;
  /** Deletes done/failed jobs finished before `before`; returns how many. */
  prune(before: Date): Promise<number>;
}

/** Runs one job; throwing schedules a retry (until maxAttempts). `signal` aborts on shutdown or lease loss. */
export type JobHandler = (job: JobRecord, signal: AbortSignal) => Promise<void>;

/** Registration options for a job kind. */
export interface JobKindOptions {
  /** Give up after this many attempts (default 5). */
  maxAttempts?: number;
  /** Lease length, renewed while the handler runs (default 60 s). */
  leaseMs?: number;
  /** Jobs of this kind run at once in this process (default 1). */
  concurrency?: number;
}

/**
 * The background worker of one process (`app.jobs`). Handlers are registered by features at startup;
 * `schedule` keeps one periodic job alive per (kind, key).
 */
export interface JobRunner {
  /** This process's lease-owner id (host:pid:random). */
  readonly owner: string;
  register(kind: string, handler: JobHandler, options?: JobKindOptions): void;
  /**
   * Periodic work: ensures a pending job (kind, key) exists, first due `firstRunAt` (default now + everyMs),
   * and after each completion enqueues the next one everyMs later. Durable: the next run is a row.
   */
  schedule(kind: string, key: string, everyMs: number, payload?: unknown, firstRunAt?: Date): Promise<void>;
  /** Enqueues through the store (convenience for `meta.jobs.enqueue`) and wakes the loop. */
  enqueue(kind: string, key: string, payload: unknown, options?: EnqueueOptions): Promise<boolean>;
  /** Starts polling. */
  start(): void;
  /** Claims and runs every ready job (optionally only of `kinds`) until none is ready; for tests and CLI. Returns how many ran. */
  drain(kinds?: readonly string[]): Promise<number>;
  /** Stops claiming, aborts running handlers' signals, waits for them to settle. */
  stop(): Promise<void>;
}
