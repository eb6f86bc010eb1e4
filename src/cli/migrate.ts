import type { Command } from 'commander';
import { loadConfig } from '../config/load.ts';
import { metadataSchemaStatus, migrateMetadata } from '../metadata/open.ts';

/** `cargohold migrate`: applies pending metadata migrations explicitly (or, with --status, only reports). */
export function registerMigrateCommands(program: Command): void {
  program
    .command('migrate')
    .description('apply pending metadata schema migrations (SQLite under the data dir, or database.url); --status only reports')
    .option('-c, --config <file>', 'config file (YAML or JSON); also CARGOHOLD_CONFIG')
    .option('-d, --data-dir <dir>', 'data directory (default ./data); also CARGOHOLD_DATA_DIR')
    .option('--status', 'print where the schema stands and change nothing')
    .action(async (opts: { config?: string; dataDir?: string; status?: boolean }) => {
      const config = loadConfig({ file: opts.config, env: process.env, overrides: { dataDir: opts.dataDir } });
      const where = config.database.driver === 'postgres' ? 'PostgreSQL (database.url)' : 'SQLite (data dir)';
      const before = await metadataSchemaStatus(config);
      if (opts.status || before.state !== 'behind') {
        process.stdout.write(`${where}: schema ${before.state} (version ${before.version}, this build knows ${before.known})` +
          (before.pending.length ? `; pending ${before.pending.join(', ')}` : '') + (before.unknown.length ? `; unknown ${before.unknown.join(', ')}` : '') + '\n');
        if (before.state === 'ahead') {
          const err = new Error('the schema is newer than this build: upgrade cargohold (migrations are forward-only)');
          (err as Error & { userError: boolean }).userError = true;
          throw err;
        }
        return;
      }
      const applied = await migrateMetadata(config);
      const after = await metadataSchemaStatus(config);
      process.stdout.write(`${where}: applied ${applied.length ? applied.join(', ') : 'nothing (another process did)'}; schema ${after.state} at version ${after.version}\n`);
    });
}
