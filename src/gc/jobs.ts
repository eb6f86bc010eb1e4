import type { JobRunner } from '../jobs/types.ts';
import type { GarbageCollector } from './collector.ts';

/** Job kinds of online GC. */
export const GC_COLLECT = 'gc.collect';
export const GC_RECONCILE = 'gc.reconcile';

/**
 * Registers GC as durable background jobs: a collect pass every `intervalMs` and a reconcile pass (storage
 * against metadata, stale uploads and temporary files) every `reconcileIntervalMs`. Both are schedules in
 * the jobs table, so they survive restarts and run once across nodes; a pass stops between batches when its
 * signal aborts (shutdown, lost lease) and the next run carries on from the queues.
 */
export async function registerGcJobs(jobs: JobRunner, gc: GarbageCollector, options: { intervalMs: number; reconcileIntervalMs: number }): Promise<void> {
  // Renewed while a pass runs; short so that a pass cut by a crash is taken over soon after a restart.
  const leaseMs = 10_000;
  jobs.register(GC_COLLECT, async (_job, signal) => {
    await gc.run({ signal });
  }, { leaseMs, maxAttempts: 3 });
  jobs.register(GC_RECONCILE, async (_job, signal) => {
    await gc.run({ reconcile: true, signal });
  }, { leaseMs, maxAttempts: 3 });
  await jobs.schedule(GC_COLLECT, 'registry', options.intervalMs);
  await jobs.schedule(GC_RECONCILE, 'registry', options.reconcileIntervalMs);
}
