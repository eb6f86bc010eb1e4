/**
 * `cargohold gc` and `cargohold usage`: garbage collection on demand (what would go and why, or collect it)
 * and stored bytes with an estimated monthly cost. Both open the data directory directly (metadata and
 * blob store), so they work whether or not the server runs.
 */
import type { Command } from 'commander';
import type { DataOptions } from './open-data.ts';

interface GcOptions extends DataOptions {
  dryRun?: boolean;
  reconcile?: boolean;
  history?: boolean;
  limit?: string;
  json?: boolean;
}

interface UsageOptions extends DataOptions {
  price?: string;
  json?: boolean;
}

function userError(message: string): Error {
  return Object.assign(new Error(message), { userError: true });
}

/** Prints rows as aligned columns (first row is the header). */
function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  for (const row of rows) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()}\n`);
}

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** Adds `gc` and `usage` to the program. */
export function registerGcCommands(program: Command): void {
  program
    .command('gc')
    .description('garbage collection: remove manifests, links and blobs nothing references (after the grace period), and storage leftovers')
    .option('-c, --config <file>', 'config file (YAML or JSON); also CARGOHOLD_CONFIG')
    .option('-d, --data-dir <dir>', 'data directory; also CARGOHOLD_DATA_DIR')
    .option('--dry-run', 'list what would be removed and why; change nothing')
    .option('--no-reconcile', 'skip the reconcile pass (storage against metadata, stale uploads, temporary files)')
    .option('--history', 'list what GC removed recently (newest first) instead of running')
    .option('--limit <n>', 'with --history: at most this many rows (default 100)')
    .option('--json', 'one JSON object per line')
    .action(async (opts: GcOptions) => {
      const limit = opts.limit === undefined ? 100 : Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw userError('--limit must be an integer from 1 to 10000');
      const { withData } = await import('./open-data.ts');
      await withData(opts, async ({ config, dataDir, meta }) => {
        if (opts.history) {
          const rows = await meta.gc.deletions({ limit });
          if (opts.json) {
            for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
            return;
          }
          printTable([['AT', 'KIND', 'REPOSITORY', 'DIGEST', 'SIZE', 'REASON'], ...rows.map((r) => [r.at.toISOString(), r.kind, r.repository ?? '-', r.digest, r.size === null ? '-' : formatBytes(r.size), r.reason])]);
          return;
        }
        const [{ default: pino }, { openBlobStore }, { openEncryptionAtRest }, { createGarbageCollector }, { systemClock }] = await Promise.all([
          import('pino'), import('../storage/open.ts'), import('../storage/encryption/open.ts'), import('../gc/collector.ts'), import('../core/clock.ts'),
        ]);
        // The same layering as the server (src/main.ts): GC must see blobs by digest, never a layer's own objects.
        const inner = await openBlobStore(config);
        const atRest = await openEncryptionAtRest({ config, dataDir, inner, meta, clock: systemClock });
        const blobs = atRest.blobs;
        // On PostgreSQL the same advisory locks as the running nodes, so a manual run is safe beside them.
        const blobLock = (await import('../metadata/open.ts')).openBlobLock(config);
        try {
          const gc = createGarbageCollector({ meta: atRest.meta, blobs, clock: systemClock, log: pino({ level: 'warn' }, pino.destination(2)), gracePeriodMs: config.gc.gracePeriodSeconds * 1000, blobLocks: blobLock.withLock });
          const report = await gc.run({ dryRun: !!opts.dryRun, reconcile: opts.reconcile !== false, list: true });
          const pending = await meta.gc.pending(report.finishedAt);
          if (opts.json) {
            for (const d of report.deletions) process.stdout.write(`${JSON.stringify({ ...d, dryRun: report.dryRun })}\n`);
            process.stdout.write(`${JSON.stringify({ summary: { dryRun: report.dryRun, removed: report.removed, kept: report.kept, failed: report.failed, scheduled: report.scheduled, queued: report.queued, pending } })}\n`);
            return;
          }
          if (report.deletions.length) {
            printTable([['KIND', 'REPOSITORY', 'DIGEST', 'SIZE', 'REASON'], ...report.deletions.map((d) => [d.kind, d.repository ?? '-', d.digest, d.size === null ? '-' : formatBytes(d.size), d.reason])]);
          }
          const verb = report.dryRun ? 'would remove' : 'removed';
          const parts = Object.entries(report.removed).filter(([, v]) => v.count > 0).map(([k, v]) => `${v.count} ${k}${v.count === 1 ? '' : 's'} (${formatBytes(v.bytes)})`);
          process.stdout.write(`gc ${verb}: ${parts.length ? parts.join(', ') : 'nothing'}; kept ${report.kept}, failed ${report.failed}\n`);
          const waiting = pending.manifest.waiting + pending.link.waiting + pending.blob.waiting;
          const grace = config.gc.gracePeriodSeconds;
          process.stdout.write(`waiting for the grace period (${grace} s): ${pending.manifest.waiting} manifests, ${pending.link.waiting} links, ${pending.blob.waiting} blobs${waiting && report.dryRun ? ' (a run schedules unscheduled items first)' : ''}\n`);
        } finally {
          await blobLock.close();
          await blobs.close();
        }
      });
    });

  program
    .command('usage')
    .description('stored bytes per repository and registry-wide (deduplicated), with an estimated monthly cost')
    .option('-c, --config <file>', 'config file (YAML or JSON); also CARGOHOLD_CONFIG')
    .option('-d, --data-dir <dir>', 'data directory; also CARGOHOLD_DATA_DIR')
    .option('--price <usd>', 'price per GB-month in USD (default: usage.pricePerGbMonth, 0.10)')
    .option('--json', 'one JSON document')
    .action(async (opts: UsageOptions) => {
      const price = opts.price === undefined ? undefined : Number(opts.price);
      if (price !== undefined && !(Number.isFinite(price) && price >= 0)) throw userError('--price must be a non-negative number');
      const { withData } = await import('./open-data.ts');
      const { usageReport } = await import('../gc/usage.ts');
      await withData(opts, async ({ config, meta }) => {
        const pricePerGbMonth = price ?? config.usage.pricePerGbMonth;
        const repositories = [];
        let last: string | undefined;
        let registry;
        for (;;) {
          const page = await usageReport(meta, { pricePerGbMonth, last, limit: 1000 });
          registry = page.registry;
          repositories.push(...page.repositories);
          if (!page.next) break;
          last = page.next;
        }
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ currency: 'USD', pricePerGbMonth, registry, repositories }, null, 2)}\n`);
          return;
        }
        printTable([
          ['REPOSITORY', 'BLOBS', 'MANIFESTS', 'STORED', 'EST. USD/MONTH'],
          ...repositories.map((r) => [r.repository, String(r.blobs), String(r.manifests), formatBytes(r.storedBytes), r.estimatedMonthlyCost.toFixed(2)]),
          ['(registry, deduplicated)', String(registry.blobs), String(registry.manifests), formatBytes(registry.storedBytes), registry.estimatedMonthlyCost.toFixed(2)],
        ]);
        process.stdout.write(`price: ${pricePerGbMonth} USD per GB-month (GB = 2^30 bytes); a layer shared by repositories counts in each repository's row and once in the registry total\n`);
      });
    });
}
