import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import type { MetadataStore } from '../metadata/types.ts';
import type { BlobStore } from '../storage/blob-store.ts';

/**
 * Discards upload sessions nobody has touched for `ttlMs` (abandoned pushes). The sessions live in the
 * metadata table, so the sweep is durable across restarts; it is idempotent and safe on several nodes.
 */
export function startUploadExpiry(options: { blobs: BlobStore; meta: MetadataStore; clock: Clock; log: Logger; ttlMs: number; intervalMs?: number }): { sweep(): Promise<number>; stop(): void } {
  const { blobs, meta, clock, log, ttlMs } = options;
  let running = false;
  async function sweep(): Promise<number> {
    if (running) return 0;
    running = true;
    let removed = 0;
    try {
      for (;;) {
        const stale = await meta.uploads.listStale(new Date(clock.now().getTime() - ttlMs), 100);
        if (stale.length === 0) break;
        for (const u of stale) {
          await blobs.deleteUpload(u.id);
          await meta.uploads.delete(u.id);
          removed++;
        }
        if (stale.length < 100) break;
      }
      if (removed) log.info({ removed }, 'expired abandoned upload sessions');
    } catch (e) {
      log.error({ err: e }, 'upload expiry failed');
    } finally {
      running = false;
    }
    return removed;
  }
  const timer = setInterval(() => void sweep(), options.intervalMs ?? 10 * 60 * 1000);
  timer.unref();
  return { sweep, stop: () => clearInterval(timer) };
}
