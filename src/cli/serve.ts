import type { Config } from '../config/schema.ts';
import { createLogger, startApp } from '../main.ts';

/** `cargohold serve`: starts the app and stops it gracefully on SIGTERM/SIGINT. */
export async function serveCommand(config: Readonly<Config>): Promise<void> {
  const log = createLogger(config);
  const app = await startApp(config, { log });
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
