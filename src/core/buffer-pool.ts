/**
 * A process-wide budget of large reusable buffers (blob GETs: the plaintext sender, the decryption batches).
 * At most `budget` buffers are lent at once; past it `acquire` waits for one to come back, so memory stays flat
 * however many clients read at once (CPU or sockets, not buffers, limit throughput by then). Returned buffers
 * are kept for reuse (up to the budget), so steady streaming allocates nothing.
 */
export interface BufferPool {
  /** A buffer of at least `size` bytes (default the pool's size), waiting while the budget is lent. */
  acquire(size?: number): Promise<Buffer>;
  /** A buffer only if fewer than `limit` are lent right now (default the budget); never waits. */
  tryAcquire(size?: number, limit?: number): Buffer | undefined;
  /** Gives back a buffer's share of the budget; `reuse` false drops the buffer itself (it may still be referenced). */
  release(buf: Buffer, reuse?: boolean): void;
  /** Buffers lent out now (for tests and metrics). */
  lent(): number;
}

export function createBufferPool(options: { budget: number; bufferBytes: number }): BufferPool {
  const { budget, bufferBytes } = options;
  const idle: Buffer[] = [];
  const waiting: Array<() => void> = [];
  let lent = 0;

  function lend(size: number): Buffer {
    lent++;
    const i = idle.findIndex((b) => b.length >= size);
    return i >= 0 ? idle.splice(i, 1)[0]! : Buffer.allocUnsafeSlow(Math.max(size, bufferBytes));
  }

  return {
    async acquire(size = bufferBytes) {
      while (lent >= budget) await new Promise<void>((resolve) => waiting.push(resolve));
      return lend(size);
    },
    tryAcquire(size = bufferBytes, limit = budget) {
      return lent < Math.min(limit, budget) ? lend(size) : undefined;
    },
    release(buf, reuse = true) {
      lent--;
      if (reuse && idle.length < budget) idle.push(buf);
      waiting.shift()?.();
    },
    lent: () => lent,
  };
}
