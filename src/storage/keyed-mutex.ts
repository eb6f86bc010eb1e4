/** Runs `fn` while holding the lock for `key`; callers for the same key run one at a time, in arrival order. */
export type KeyedMutex = <T>(key: string, fn: () => Promise<T>) => Promise<T>;

/**
 * An in-process async mutex per key (e.g. per upload id). Keys with no waiter hold no memory,
 * so abandoned keys do not leak.
 */
export function createKeyedMutex(): KeyedMutex {
  const tails = new Map<string, Promise<void>>();
  return async function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = tails.get(key);
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    const tail = previous ? previous.then(() => held) : held;
    tails.set(key, tail);
    if (previous) await previous;
    try {
      return await fn();
    } finally {
      release();
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}
