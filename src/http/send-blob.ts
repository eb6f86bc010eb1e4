import type { ServerResponse } from 'node:http';
import { createBufferPool } from '../core/buffer-pool.ts';
import type { BlobReader } from '../storage/blob-store.ts';

const CHUNK = 1024 * 1024;
/** Chunks in flight per response: reads of the next chunks overlap the socket writes of earlier ones. */
const DEPTH = 4;
/**
 * Chunks in flight across all responses of the process (32 MiB). Beyond it a response waits for a buffer
 * instead of allocating one, so memory stays flat however many clients pull or Range-read at once; the
 * sockets, not the buffers, are what limits throughput at that point.
 */
const BUDGET = 32;
const pool = createBufferPool({ budget: BUDGET, bufferBytes: CHUNK });

/**
 * Sends bytes [start, start + length) of a blob as the body of `res` (headers already written), reading
 * into a few reused 1 MiB buffers. A buffer goes back to the pool only after the socket write that used it has
 * completed (its callback), so no byte is ever overwritten while still queued; a write that failed (client
 * gone) gives back its share of the budget but not its buffer. Memory is bounded by DEPTH chunks per response
 * and BUDGET chunks per process, and streaming allocates nothing in steady state (no garbage-collector churn
 * at GB/s).
 */
export async function sendBlob(reader: BlobReader, res: ServerResponse, start: number, length: number): Promise<void> {
  const inflight: Array<Promise<void>> = [];
  // Node drops (never calls back) writes still queued when a response's socket is destroyed, so 'close'
  // settles them here: their budget share comes back and this loop ends instead of waiting forever.
  const unsettled = new Set<() => void>();
  const onClose = (): void => {
    for (const fail of [...unsettled]) fail();
  };
  res.once('close', onClose);
  let position = start;
  let remaining = length;
  try {
    while (remaining > 0) {
      if (res.destroyed) return;
      const buf = await pool.acquire();
      const want = Math.min(CHUNK, remaining);
      let n: number;
      try {
        n = await reader.read(buf, position, want);
      } catch (e) {
        pool.release(buf);
        throw e;
      }
      if (n <= 0) {
        pool.release(buf);
        throw new Error(`blob ended after ${position - start} of ${length} bytes`);
      }
      position += n;
      remaining -= n;
      if (res.destroyed) {
        pool.release(buf);
        return;
      }
      const written = new Promise<void>((resolve, reject) => {
        let settled = false;
        const settle = (err?: Error | null): void => {
          if (settled) return;
          settled = true;
          unsettled.delete(dropped);
          pool.release(buf, !err);
          if (err) reject(err);
          else resolve();
        };
        const dropped = (): void => settle(Object.assign(new Error('response closed before the write completed'), { code: 'ERR_STREAM_DESTROYED' }));
        unsettled.add(dropped);
        res.write(n === CHUNK ? buf : buf.subarray(0, n), settle);
      });
      // Observed at once: a write that fails while we wait on a read (client gone) must not be an unhandled rejection.
      written.catch(() => undefined);
      inflight.push(written);
      if (inflight.length >= DEPTH) await inflight.shift();
    }
    await Promise.all(inflight);
    if (!res.destroyed) await new Promise<void>((resolve) => res.end(resolve));
  } catch (e) {
    // A client that went away is not an error of ours; anything else cuts the connection (short body).
    if (!res.destroyed) res.destroy();
    if (!isClientGone(e)) throw e;
  } finally {
    res.off('close', onClose);
    // Anything still queued belongs to a destroyed response: settle it now (close may already have fired).
    if (res.destroyed) onClose();
    await reader.close().catch(() => undefined);
  }
}

function isClientGone(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'ERR_STREAM_DESTROYED' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ERR_STREAM_WRITE_AFTER_END';
}

/** Chunks currently lent out across the process (for tests and metrics). */
export function blobBuffersInFlight(): number {
  return pool.lent();
}
