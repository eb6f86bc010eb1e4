/**
 * `cargohold jobs`: what the background workers did and are doing (lifecycle, GC, scans), read from the
 * metadata database, so an operator can see a stuck or failing job without reading logs.
 */
import type { Command } from 'commander';
import type { DataOptions } from './open-data.ts';

interface ListOptions extends DataOptions {
  kind?: string;
  state?: string;
  limit?: string;
  json?: boolean;
}

const STATES = ['pending', 'running', 'done', 'failed'] as const;

/** Adds `jobs` to the program. */
export function registerJobCommands(program: Command): void {
  program
    .command('jobs')
    .description('list background jobs (newest first): kind, key, state, attempts, times, last error')
    .option('-c, --config <file>', 'config file (YAML or JSON); also CARGOHOLD_CONFIG')
    .option('-d, --data-dir <dir>', 'data directory; also CARGOHOLD_DATA_DIR')
    .option('--kind <kind>', 'only jobs of this kind (e.g. lifecycle.evaluate)')
    .option('--state <state>', `only jobs in this state: ${STATES.join('|')}`)
    .option('--limit <n>', 'at most this many rows (default 50)')
    .option('--json', 'one JSON object per line')
    .action(async (opts: ListOptions) => {
      if (opts.state && !(STATES as readonly string[]).includes(opts.state)) {
        throw Object.assign(new Error(`--state must be one of ${STATES.join(', ')}`), { userError: true });
      }
      const limit = opts.limit === undefined ? 50 : Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw Object.assign(new Error('--limit must be an integer from 1 to 10000'), { userError: true });
      const { withData } = await import('./open-data.ts');
      await withData(opts, async ({ meta }) => {
        const rows = await meta.jobs.list({ kind: opts.kind, state: opts.state as (typeof STATES)[number] | undefined, limit });
        if (opts.json) {
          for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
          return;
        }
        const table = [['ID', 'KIND', 'KEY', 'STATE', 'ATTEMPTS', 'RUN AT', 'FINISHED', 'LAST ERROR']];
        for (const r of rows) {
          table.push([String(r.id), r.kind, r.key, r.state, String(r.attempts), r.runAt.toISOString(), r.finishedAt?.toISOString() ?? '-', (r.lastError ?? '').slice(0, 60)]);
        }
        const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
        for (const row of table) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()}\n`);
      });
    });
}
