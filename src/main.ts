import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { systemClock, type Clock } from './core/clock.ts';
import type { Config } from './config/schema.ts';
import { parseListen } from './config/schema.ts';
import { createHttpMetrics } from './http/metrics.ts';
import { createHttpServer, type HttpServer } from './http/server.ts';
import { createSqliteMetadata } from './metadata/dialects/sqlite.ts';
import type { MetadataStore } from './metadata/types.ts';
import { createOciRoutes } from './oci/routes.ts';
import { createRegistry, type Registry } from './registry/registry.ts';
import { startUploadExpiry } from './registry/upload-expiry.ts';
import type { BlobStore } from './storage/blob-store.ts';
import { createFsBlobStore } from './storage/drivers/fs.ts';

/** A running cargohold: the composition root is the only place that picks concrete backends. */
export interface App {
  config: Readonly<Config>;
  log: Logger;
  registry: Registry;
  meta: MetadataStore;
  blobs: BlobStore;
  http: HttpServer;
  /** The address actually bound. */
  address: { host: string; port: number };
  /** Graceful stop: finish in-flight requests (up to the grace period), then close stores. */
  stop(): Promise<void>;
}

export function createLogger(config: Readonly<Config>): Logger {
  return pino({
    level: config.log.level,
    base: { service: 'cargohold' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Never log credentials, even by accident.
    redact: { paths: ['authorization', 'headers.authorization', '*.authorization', 'password', 'secret', 'token', '*.secretAccessKey'], censor: '[redacted]' },
  });
}

export async function startApp(config: Readonly<Config>, options: { log?: Logger; clock?: Clock } = {}): Promise<App> {
  const log = options.log ?? createLogger(config);
  const clock = options.clock ?? systemClock;
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });

  const blobs = await createFsBlobStore({ root: join(dataDir, 'blobs') });
  const meta = await createSqliteMetadata({ path: join(dataDir, 'metadata.sqlite') });
  const registry = createRegistry({
    blobs,
    meta,
    clock,
    createRepositoryOnPush: config.registry.createRepositoryOnPush,
    maxManifestBytes: config.registry.maxManifestBytes,
    maxPageSize: config.registry.maxPageSize,
    accountId: config.identity.accountId,
    region: config.identity.region,
  });

  const metrics = createHttpMetrics();
  const oci = createOciRoutes({ registry, metrics, maxManifestBytes: config.registry.maxManifestBytes });
  const http = createHttpServer({
    log,
    metrics,
    logRequests: config.log.requests,
    keepAliveTimeoutSeconds: config.http.keepAliveTimeoutSeconds,
    headersTimeoutSeconds: config.http.headersTimeoutSeconds,
    route(req, ctx) {
      const url = req.url ?? '/';
      if (url === '/healthz' || url.startsWith('/healthz?')) {
        ctx.route = 'healthz';
        return async (_req, res) => {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end('{"status":"ok"}');
        };
      }
      if (url === '/metrics' || url.startsWith('/metrics?')) {
        ctx.route = 'metrics';
        return async (_req, res) => {
          const text = await metrics.registry.metrics();
          res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
          res.end(text);
        };
      }
      return oci(req, ctx);
    },
  });

  const expiry = startUploadExpiry({ blobs, meta, clock, log, ttlMs: config.registry.uploadSessionTtlSeconds * 1000 });
  const { host, port } = parseListen(config.listen);
  let address: { host: string; port: number };
  try {
    address = await http.listen(host, port);
  } catch (e) {
    expiry.stop();
    await meta.close();
    await blobs.close();
    throw e;
  }
  // Always announced (whatever the log level): supervisors and tests read the bound port from it.
  log.child({}, { level: 'info' }).info({ address: `${address.host}:${address.port}`, host: address.host, port: address.port, dataDir }, 'listening');

  return {
    config, log, registry, meta, blobs, http, address,
    async stop() {
      expiry.stop();
      await http.shutdown(config.http.shutdownGraceSeconds * 1000);
      await meta.close();
      await blobs.close();
    },
  };
}
