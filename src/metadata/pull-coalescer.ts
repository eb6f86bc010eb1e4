/** One pending "last pulled" update. */
export interface PendingPull {
  repositoryId: number;
  digest: string;
  /** Epoch milliseconds; the latest seen since the previous flush. */
  at: number;
}

/** Options for {@link PullCoalescer}. */
export interface PullCoalescerOptions {
  /** Writes a batch (one transaction is expected). */
  write(pulls: PendingPull[]): Promise<void>;
  /** Flush period; each (repository, digest) is written at most once per period. Default 1000 ms. */
  intervalMs?: number;
  /** Receives failures of background flushes (pull times are best effort; nothing is retried). */
  onError?: (err: unknown) => void;
}

/**
 * Coalesces `touchPulled` calls in memory so a pull never costs a write: the latest time per
 * (repository, digest) is kept and written in one batch at most once per interval, and on `close()`.
 * The timer is unref'd and only armed while something is pending, so an idle process holds no timer.
 */
export class PullCoalescer {
  readonly #write: (pulls: PendingPull[]) => Promise<void>;
  readonly #intervalMs: number;
  readonly #onError: (err: unknown) => void;
  #pending = new Map<string, PendingPull>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: PullCoalescerOptions) {
    this.#write = options.write;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#onError = options.onError ?? (() => {});
  }

  /** Records a pull; never touches the database. Ignored after close. */
  record(repositoryId: number, digest: string, at: number): void {
    if (this.#closed) return;
    const key = `${repositoryId}\u0000${digest}`;
    const cur = this.#pending.get(key);
    if (cur) {
      if (at > cur.at) cur.at = at;
    } else {
      this.#pending.set(key, { repositoryId, digest, at });
    }
    if (!this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.flush().catch(this.#onError);
      }, this.#intervalMs);
      this.#timer.unref();
    }
  }

  /** Number of (repository, digest) pairs waiting to be written. */
  get size(): number {
    return this.#pending.size;
  }

  /** Writes everything pending now (serialised with any flush in progress). */
  flush(): Promise<void> {
    const run = this.#flushing.then(async () => {
      if (this.#pending.size === 0) return;
      const batch = [...this.#pending.values()];
      this.#pending = new Map();
      await this.#write(batch);
    });
    this.#flushing = run.catch(() => {});
    return run;
  }

  /** Stops the timer and flushes what is pending; later records are ignored. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}
