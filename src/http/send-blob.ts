import type { ServerResponse } from 'node:http';
import type { BlobReader } from '../storage/blob-store.ts';

const CHUNK = 1024 * 1024;
/** Chunks in flight per response: reads of the next chunks overlap the socket writes of earlier ones. */
const DEPTH = 4;
/** Buffers kept for reuse across responses (8 MiB at most). */
const POOL_MAX = 8;
const pool: Buffer[] = [];

function acquire(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
}

function release(buf: Buffer): void {
  if (pool.length < POOL_MAX) pool.push(buf);
}

/**
 * Sends bytes [start, start + length) of a blob as the body of `res` (headers already written), reading
 * into a few reused 1 MiB buffers. A buffer goes back to the pool only after the socket write that used it has
 * completed (its callback), so no byte is ever overwritten while still queued; on a disconnect the buffers in
 * flight are simply dropped. Memory per response is bounded by DEPTH chunks, and streaming allocates nothing
 * in steady state (no garbage-collector churn at GB/s).
 */
export async function sendBlob(reader: BlobReader, res: ServerResponse, start: number, length: number): Promise<void> {
  const inflight: Array<Promise<void>> = [];
  let position = start;
  let remaining = length;
  try {
    while (remaining > 0) {
      if (res.destroyed) return;
      const buf = acquire();
      const want = Math.min(CHUNK, remaining);
      let n: number;
      try {
        n = await reader.read(buf, position, want);
      } catch (e) {
        release(buf);
        throw e;
      }
      if (n <= 0) {
        release(buf);
        throw new Error(`blob ended after ${position - start} of ${length} bytes`);
      }
      position += n;
      remaining -= n;
      if (res.destroyed) return;
      const written = new Promise<void>((resolve, reject) => {
        res.write(n === CHUNK ? buf : buf.subarray(0, n), (err) => {
          if (err) return reject(err);
          release(buf);
          resolve();
        });
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
    await reader.close().catch(() => undefined);
  }
}

function isClientGone(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'ERR_STREAM_DESTROYED' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ERR_STREAM_WRITE_AFTER_END';
}
