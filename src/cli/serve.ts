import { ConfigError } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { tuneHeapGrowth } from '../core/heap.ts';
import { createLogger, startApp } from '../main.ts';

/** `cargohold serve`: starts the app and stops it gracefully on SIGTERM/SIGINT. */
export async function serveCommand(config: Readonly<Config>): Promise<void> {
  tuneHeapGrowth();
  const log = createLogger(config);
  const id = process.env.CARGOHOLD_ADMIN_ACCESS_KEY_ID;
  const secret = process.env.CARGOHOLD_ADMIN_SECRET_ACCESS_KEY;
  if (!!id !== !!secret) throw new ConfigError('set both CARGOHOLD_ADMIN_ACCESS_KEY_ID and CARGOHOLD_ADMIN_SECRET_ACCESS_KEY, or neither');
  const app = await startApp(config, { log, adminCredentials: id && secret ? { accessKeyId: id, secretAccessKey: secret } : undefined });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    app.stop().then(
      () => { log.info('stopped'); log.flush(); process.exit(0); },
      (e) => { log.error({ err: e }, 'shutdown failed'); log.flush(); process.exit(1); },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
