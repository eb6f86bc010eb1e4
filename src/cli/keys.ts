/**
 * `cargohold keys`: encryption-at-rest keys (docs/encryption.md). `rotate` gives every key-encryption key new
 * material and re-wraps each scope's data key under it (no blob is rewritten); `list` shows the key scopes;
 * `create` makes a key a repository can name in `encryptionConfiguration.kmsKey`. Safe while the server runs.
 */
import type { Command } from 'commander';
import type { DataOptions } from './open-data.ts';

/** Adds `keys` to the program. */
export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('encryption-at-rest keys: rotate, list, create');
  const dataOptions = (c: Command) => c
    .option('-c, --config <file>', 'config file (YAML or JSON); also CARGOHOLD_CONFIG')
    .option('-d, --data-dir <dir>', 'data directory; also CARGOHOLD_DATA_DIR');

  dataOptions(keys.command('rotate').description('rotate every key-encryption key and re-wrap the data keys under it (blobs are not rewritten)'))
    .action(async (opts: DataOptions) => {
      await withScopes(opts, async ({ scopes }) => {
        const { scopes: n } = await scopes.rotateAll();
        process.stdout.write(`re-wrapped the data keys of ${n} key scope${n === 1 ? '' : 's'}\n`);
      });
    });

  dataOptions(keys.command('list').description('list key scopes: scope, key id, provider, created by cargohold, last rotation'))
    .option('--json', 'one JSON object per line')
    .action(async (opts: DataOptions & { json?: boolean }) => {
      const { withData } = await import('./open-data.ts');
      await withData(opts, async ({ meta }) => {
        let last: string | undefined;
        for (let page = 0; page < 100_000; page++) {
          const rows = await meta.encryption.listScopes({ last, limit: 200 });
          if (!rows.length) break;
          for (const r of rows) {
            const row = { scope: r.id, keyId: r.keyId, provider: r.provider, owned: r.owned, createdAt: r.createdAt.toISOString(), rotatedAt: r.rotatedAt?.toISOString() ?? null };
            process.stdout.write(opts.json ? `${JSON.stringify(row)}\n` : `${row.scope}\t${row.keyId}\t${row.provider}\t${row.owned ? 'owned' : 'external'}\t${row.rotatedAt ?? '-'}\n`);
          }
          last = rows[rows.length - 1]!.id;
        }
      });
    });

  dataOptions(keys.command('create').description('create a key-encryption key (prints its id, for encryptionConfiguration.kmsKey)'))
    .option('--description <text>', 'description stored with the key', 'cargohold repository key')
    .action(async (opts: DataOptions & { description: string }) => {
      await withScopes(opts, async ({ scopes }) => {
        const keyId = await scopes.provider.create(opts.description);
        process.stdout.write(`${keyId}\n`);
      });
    });
}

async function withScopes<T>(opts: DataOptions, fn: (x: { scopes: import('../storage/encryption/key-scopes.ts').KeyScopes }) => Promise<T>): Promise<T> {
  const { withData } = await import('./open-data.ts');
  const { createKeyProvider } = await import('../storage/encryption/open.ts');
  const { createKeyScopes } = await import('../storage/encryption/key-scopes.ts');
  const { systemClock } = await import('../core/clock.ts');
  return withData(opts, async ({ config, dataDir, meta }) => fn({ scopes: createKeyScopes({ provider: createKeyProvider(config, dataDir), store: meta.encryption, clock: systemClock }) }));
}
