/**
 * `cargohold vulndb import PATH|URL` and `cargohold vulndb status`: the offline advisory database (OSV) in the
 * metadata database. An import that changes anything queues a re-match of recently used images, which the
 * server runs (scan.rematch job).
 */
import type { Command } from 'commander';
import type { DataOptions } from './open-data.ts';

interface ImportOptions extends DataOptions {
  json?: boolean;
}

function age(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min`;
  if (s < 172_800) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86_400)} days`;
}

/** Adds `vulndb` to the program. */
export function registerVulnDbCommands(program: Command): void {
  const vulndb = program.command('vulndb').description('the vulnerability database (OSV advisories) scans match against');

  vulndb
    .command('import')
    .description('import OSV advisories: a directory, a .json record, an osv.dev all.zip export, or an http(s) URL of one')
    .argument('<source>', 'path or URL')
    .option('-c, --config <file>', 'config file (YAML or JSON); also CARGOHOLD_CONFIG')
    .option('-d, --data-dir <dir>', 'data directory; also CARGOHOLD_DATA_DIR')
    .option('--json', 'print the report as JSON')
    .action(async (source: string, opts: ImportOptions) => {
      const { withData } = await import('./open-data.ts');
      const [{ importVulnDb }, { systemClock }, { SCAN_REMATCH_JOB }] = await Promise.all([import('../scan/vulndb/import.ts'), import('../core/clock.ts'), import('../scan/service.ts')]);
      await withData(opts, async ({ meta }) => {
        const report = await importVulnDb(source, { store: meta.scan, clock: systemClock });
        const changed = report.imported + report.withdrawn > 0;
        if (changed) await meta.jobs.enqueue(SCAN_REMATCH_JOB, 'registry', {});
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ ...report, rematchQueued: changed })}\n`);
          return;
        }
        process.stdout.write(`imported ${report.imported} advisories (${report.withdrawn} withdrawn) from ${source}; database generation ${report.state.generation}, ${report.state.advisories} advisories\n`);
        if (report.rejectedCount) {
          process.stdout.write(`skipped ${report.rejectedCount} files that are not OSV records:\n`);
          for (const r of report.rejected) process.stdout.write(`  ${r.name}: ${r.reason}\n`);
        }
        if (changed) process.stdout.write('queued a re-match of recently pushed or pulled images (the server runs it)\n');
      });
    });

  vulndb
    .command('status')
    .description('show the database: advisories per ecosystem, last update and its age')
    .option('-c, --config <file>', 'config file (YAML or JSON); also CARGOHOLD_CONFIG')
    .option('-d, --data-dir <dir>', 'data directory; also CARGOHOLD_DATA_DIR')
    .option('--json', 'print as JSON')
    .action(async (opts: ImportOptions) => {
      const { withData } = await import('./open-data.ts');
      await withData(opts, async ({ meta }) => {
        const s = await meta.scan.state();
        const ageMs = s.updatedAt ? Date.now() - s.updatedAt.getTime() : undefined;
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ ...s, updatedAt: s.updatedAt?.toISOString() ?? null, ageSeconds: ageMs === undefined ? null : Math.floor(ageMs / 1000) })}\n`);
          return;
        }
        if (!s.updatedAt) {
          process.stdout.write('the vulnerability database is empty: run `cargohold vulndb import PATH|URL` (or set scan.source)\n');
          return;
        }
        process.stdout.write(`updated ${s.updatedAt.toISOString()} (${age(ageMs!)} ago) from ${s.source ?? '-'}\n`);
        process.stdout.write(`generation ${s.generation}; ${s.advisories} advisories (${s.withdrawn} withdrawn)\n`);
        const w = Math.max(9, ...s.ecosystems.map((e) => e.ecosystem.length));
        process.stdout.write(`${'ECOSYSTEM'.padEnd(w)}  ENTRIES\n`);
        for (const e of s.ecosystems) process.stdout.write(`${e.ecosystem.padEnd(w)}  ${e.entries}\n`);
      });
    });
}
