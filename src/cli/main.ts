import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig, readConfigFile, validateConfig } from '../config/load.ts';
import { PolicyError } from '../auth/policy/types.ts';
import { isRegistryError } from '../core/errors.ts';
import { registerIamCommands } from './iam.ts';
import { registerTlsCommands } from './tls.ts';
import { registerJobCommands } from './jobs.ts';
import { registerKeyCommands } from './keys.ts';
import { registerMigrateCommands } from './migrate.ts';
import { registerGcCommands } from './gc.ts';
import { registerScanCommands } from './scan.ts';
import { registerVulnDbCommands } from './vulndb.ts';
import { registerLifecycleCommands } from './lifecycle.ts';

/** Builds the `cargohold` command tree. Exported for tests. */
export function buildProgram(): Command {
  const program = new Command('cargohold')
    .description('cargohold: a self-hosted, ECR-compatible container image registry')
    .version('0.1.0')
    .showHelpAfterError();

  program
    .command('serve')
    .description('run the registry (OCI /v2/ API and metrics) on embedded storage')
    .option('-c, --config <file>', 'config file (YAML or JSON); also CARGOHOLD_CONFIG')
    .option('-l, --listen <host:port>', 'address to listen on (default 127.0.0.1:5000); also CARGOHOLD_LISTEN')
    .option('-d, --data-dir <dir>', 'data directory (default ./data); also CARGOHOLD_DATA_DIR')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent; also CARGOHOLD_LOG_LEVEL')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate chain (PEM); also CARGOHOLD_TLS_CERT')
    .option('--tls-key <file>', 'private key of --tls-cert (PEM); also CARGOHOLD_TLS_KEY')
    .action(async (opts: { config?: string; listen?: string; dataDir?: string; logLevel?: string; tlsCert?: string; tlsKey?: string }) => {
      const config = loadConfig({ file: opts.config, env: process.env, overrides: { listen: opts.listen, dataDir: opts.dataDir, logLevel: opts.logLevel, tlsCert: opts.tlsCert, tlsKey: opts.tlsKey } });
      const { serveCommand } = await import('./serve.ts');
      await serveCommand(config);
    });

  program
    .command('verify-config')
    .description('check a config file and print the effective settings')
    .argument('<file>', 'config file (YAML or JSON)')
    .action((file: string) => {
      const config = validateConfig(readConfigFile(file), file);
      process.stdout.write(`${file}: OK\n${JSON.stringify(config, null, 2)}\n`);
    });

  registerIamCommands(program);
  registerTlsCommands(program);
  registerJobCommands(program);
  registerKeyCommands(program);
  registerMigrateCommands(program);
  registerGcCommands(program);
  registerVulnDbCommands(program);
  registerScanCommands(program);
  registerLifecycleCommands(program);

  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) process.exit(e.exitCode);
    if (e instanceof PolicyError || isRegistryError(e) || (e as { userError?: boolean }).userError) {
      process.stderr.write(`cargohold: ${(e as Error).message}\n`);
      process.exit(1);
    }
    if (e instanceof ConfigError) {
      process.stderr.write(`cargohold: ${e.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`cargohold: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  }
}
