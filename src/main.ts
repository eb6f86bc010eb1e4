import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { createAccessService, type CargoholdAccessService } from './auth/access-service.ts';
import { createFailureLimiter, limitAuthFailures } from './auth/failure-limiter.ts';
import { bootstrapAdministrator, createIdentityService, sharedCredentialsFile, type BootstrapResult } from './auth/identity.ts';
import { loadOrCreateKey } from './auth/keys.ts';
import { createSecretBox } from './auth/secrets.ts';
import { systemClock, type Clock } from './core/clock.ts';
import type { Config } from './config/schema.ts';
import { parseListen } from './config/schema.ts';
import type { EcrSettings } from './ecr/context.ts';
import { createTokenCodec } from './ecr/pagination.ts';
import { createEcrRoutes, renderError as renderEcrError } from './ecr/router.ts';
import { writeOciError } from './http/errors.ts';
import { createHttpMetrics } from './http/metrics.ts';
import { createHttpServer, type HttpServer } from './http/server.ts';
import { isLoopbackHost, loadTlsFiles } from './http/tls.ts';
import { createGarbageCollector } from './gc/collector.ts';
import { registerGcJobs } from './gc/jobs.ts';
import { createJobRunner } from './jobs/runner.ts';
import { createLifecycleService, registerLifecycleJobs, type LifecycleService } from './lifecycle/service.ts';
import type { JobRunner } from './jobs/types.ts';
import { openBlobLock, openMetadata } from './metadata/open.ts';
import { createReadCache } from './metadata/read-cache.ts';
import type { MetadataStore } from './metadata/types.ts';
import { createV2Authorizer } from './oci/authorize.ts';
import { createDownloadRoute } from './oci/download.ts';
import { createOciRoutes } from './oci/routes.ts';
import { createDownloadLinks } from './registry/download-links.ts';
import { createRegistry, type Registry } from './registry/registry.ts';
import { startUploadExpiry } from './registry/upload-expiry.ts';
import { createScanService, type ScanService } from './scan/service.ts';
import { createStsRoutes } from './sts/router.ts';
import { openEncryptionAtRest } from './storage/encryption/open.ts';
import type { BlobStore } from './storage/blob-store.ts';
import { openBlobStore } from './storage/open.ts';

/** A running cargohold: the composition root is the only place that picks concrete backends. */
export interface App {
  config: Readonly<Config>;
  log: Logger;
  registry: Registry;
  meta: MetadataStore;
  blobs: BlobStore;
  /** Authentication and authorization for both APIs. */
  access: CargoholdAccessService;
  http: HttpServer;
  /** Background jobs of this process: features register handlers and schedules at startup. */
  jobs: JobRunner;
  /** Vulnerability scanning (its jobs are registered on `jobs`). */
  scans: ScanService;
  /** Lifecycle policies, previews and expiry (its jobs are registered on `jobs`). */
  lifecycle: LifecycleService;
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
    // (docs/security.md lists what is never logged; test/e2e/hardening.test.ts greps trace-level logs for secrets.)
    redact: {
      paths: [
        'authorization', 'headers.authorization', '*.authorization', '*.headers.authorization', 'headers["x-amz-security-token"]', '*.headers["x-amz-security-token"]',
        'password', 'secret', 'token', 'secretAccessKey', '*.secretAccessKey', 'sessionToken', '*.sessionToken', 'authorizationToken', '*.authorizationToken',
      ],
      censor: '[redacted]',
    },
  });
}

/** Options for {@link startApp} beyond the config. */
export interface StartAppOptions {
  log?: Logger;
  clock?: Clock;
  /** The administrator's key for the first start (CARGOHOLD_ADMIN_ACCESS_KEY_ID / CARGOHOLD_ADMIN_SECRET_ACCESS_KEY); generated when absent. */
  adminCredentials?: { accessKeyId: string; secretAccessKey: string };
  /** Where the one-time administrator notice goes (default: stderr, never the JSON log). */
  announce?: (text: string) => void;
}

/** ECR API writes after which cached policies and tags are dropped (same process: effective at once). */
const POLICY_CHANGING_TARGETS = new Set(['SetRepositoryPolicy', 'DeleteRepositoryPolicy', 'PutRegistryPolicy', 'DeleteRegistryPolicy', 'TagResource', 'UntagResource', 'CreateRepository', 'DeleteRepository'].map((op) => `AmazonEC2ContainerRegistry_V20150921.${op}`));

/** host[:port] for the bound address: `localhost:PORT` when listening on every interface. */
export function defaultRegistryHost(address: { host: string; port: number }): string {
  if (address.host === '0.0.0.0' || address.host === '::') return `localhost:${address.port}`;
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

export async function startApp(config: Readonly<Config>, options: StartAppOptions = {}): Promise<App> {
  const log = options.log ?? createLogger(config);
  const clock = options.clock ?? systemClock;
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Read and checked before anything is opened: a bad certificate/key pair is a configuration error.
  const tls = config.tls.cert && config.tls.key ? loadTlsFiles(config.tls.cert, config.tls.key) : undefined;

  const storageDriver = await openBlobStore(config);
  // Encryption at rest (docs/encryption.md): blobs through the encrypting layer, manifests sealed; inside the read cache.
  const atRest = await openEncryptionAtRest({ config, dataDir, inner: storageDriver, meta: await openMetadata(config), clock });
  const blobs = atRest.blobs;
  const meta = createReadCache(atRest.meta, { ttlMs: config.registry.readCacheTtlMs });
  // One per-digest lock for pushes and GC (docs/gc.md); on PostgreSQL, shared by every node of the database.
  const databaseLock = openBlobLock(config, (err) => log.error({ err }, 'blob lock connection failed'));
  const blobLocks = databaseLock.withLock;
  const registry = createRegistry({
    blobs,
    meta,
    clock,
    createRepositoryOnPush: config.registry.createRepositoryOnPush,
    maxManifestBytes: config.registry.maxManifestBytes,
    maxPageSize: config.registry.maxPageSize,
    accountId: config.identity.accountId,
    region: config.identity.region,
    downloads: createDownloadLinks({ key: loadOrCreateKey(dataDir, 'download'), clock }),
    encryption: atRest.service,
    // Scan on push: the scan request commits with the push (the service is created below, before any request).
    onImagePut: (tx, put) => scans.onImagePut(tx, put),
    gcGracePeriodMs: config.gc.enabled ? config.gc.gracePeriodSeconds * 1000 : undefined,
    blobLocks,
  });

  // Durable background work: features register their job kinds here, before the loop starts (after listen).
  const jobs = createJobRunner({ meta, clock, log: log.child({ component: 'jobs' }), pollIntervalMs: config.jobs.pollIntervalMs });
  const retentionMs = config.jobs.retentionDays * 24 * 3600 * 1000;
  jobs.register('jobs.prune', async () => {
    const pruned = await meta.jobs.prune(new Date(clock.now().getTime() - retentionMs));
    if (pruned > 0) log.info({ pruned }, 'pruned finished jobs');
  });
  await jobs.schedule('jobs.prune', 'registry', 24 * 3600 * 1000);
  // Vulnerability scanning (docs/scanning.md): scans, re-matching and the advisory refresh are jobs.
  const scans = createScanService({
    meta, blobs, jobs, clock, log: log.child({ component: 'scan' }),
    settings: {
      source: config.scan.source,
      refreshIntervalMs: config.scan.refreshIntervalSeconds * 1000,
      rematchWindowMs: config.scan.rematchWindowDays * 24 * 3600 * 1000,
      startScanIntervalMs: config.scan.startScanIntervalSeconds * 1000,
      maxFileBytes: config.scan.maxFileBytes,
    },
  });
  await scans.register();
  // Lifecycle policies: previews and the periodic expiry sweep are jobs; expiry deletes through the image service.
  const lifecycle = createLifecycleService({ meta, registry, clock, log: log.child({ component: 'lifecycle' }), accountId: config.identity.accountId, jobs });
  await registerLifecycleJobs(jobs, lifecycle, config.lifecycle);
  // Online garbage collection (docs/gc.md) as scheduled jobs.
  if (config.gc.enabled) {
    const gc = createGarbageCollector({ meta, blobs, clock, log: log.child({ component: 'gc' }), gracePeriodMs: config.gc.gracePeriodSeconds * 1000, blobLocks });
    await registerGcJobs(jobs, gc, { intervalMs: config.gc.intervalSeconds * 1000, reconcileIntervalMs: config.gc.reconcileIntervalSeconds * 1000 });
  }

  // Identity and access: keys under DATA_DIR/keys/, the administrator on first start, one evaluator for both APIs.
  const identity = createIdentityService({ iam: meta.iam, box: createSecretBox(loadOrCreateKey(dataDir, 'secrets')), accountId: config.identity.accountId, clock });
  let bootstrap: BootstrapResult | undefined;
  try {
    bootstrap = await bootstrapAdministrator(identity, meta.iam, options.adminCredentials);
  } catch (e) {
    await databaseLock.close();
    await meta.close();
    await blobs.close();
    throw e;
  }
  // Failed authentications are rate-limited per client address on every authentication path (both APIs, STS).
  const access = limitAuthFailures(createAccessService({
    meta,
    identity,
    accountId: config.identity.accountId,
    region: config.identity.region,
    tokenKey: loadOrCreateKey(dataDir, 'token'),
    sessionKey: loadOrCreateKey(dataDir, 'session'),
    clock,
    log,
    tokenTtlMs: config.auth.tokenTtlSeconds * 1000,
    cacheTtlMs: config.auth.cacheTtlSeconds * 1000,
  }), createFailureLimiter({ burst: config.auth.failureLimit.burst, perMinute: config.auth.failureLimit.perMinute, clock }));
  // Filled in from the bound address once listening (unless configured).
  const ecrSettings: EcrSettings = { registryHost: config.identity.registryHost ?? '', proxyEndpoint: config.identity.proxyEndpoint ?? '' };
  const ecr = createEcrRoutes({ registry, scans, lifecycle, access, clock, tokens: createTokenCodec(loadOrCreateKey(dataDir, 'pagination')), settings: ecrSettings, log, maxBodyBytes: config.http.maxApiBodyBytes, maxManifestBytes: config.registry.maxManifestBytes });

  // STS GetSessionToken (AWS Query protocol, form body, no X-Amz-Target) for temporary credentials.
  const sts = createStsRoutes({ access, clock, log });
  const metrics = createHttpMetrics();
  const authorize = config.auth.enabled ? createV2Authorizer({ access, proxyEndpoint: () => ecrSettings.proxyEndpoint, memoTtlMs: Math.min(1000, config.auth.cacheTtlSeconds * 1000) }) : undefined;
  // Blob GETs answered with presigned S3 URLs (storage.s3.redirect): only when the stored bytes are the blob,
  // i.e. the blob store offers presign (an encrypting layer does not).
  const redirect = config.storage.driver === 's3' ? config.storage.s3?.redirect : undefined;
  const presign = blobs.presign?.bind(blobs);
  if (redirect?.enabled && !presign) log.warn('storage.s3.redirect is on but blobs are encrypted at rest: blob GETs are served directly');
  const blobRedirect = redirect?.enabled && presign ? (digest: string) => presign(digest, redirect.expiresSeconds) : undefined;
  const oci = createOciRoutes({ registry, metrics, maxManifestBytes: config.registry.maxManifestBytes, authorize, blobRedirect });
  // Signed layer links from GetDownloadUrlForLayer: the signature is the credential.
  const download = createDownloadRoute({ registry });
  const http = createHttpServer({
    log,
    metrics,
    logRequests: config.log.requests,
    keepAliveTimeoutSeconds: config.http.keepAliveTimeoutSeconds,
    headersTimeoutSeconds: config.http.headersTimeoutSeconds,
    requestTimeoutSeconds: config.http.requestTimeoutSeconds,
    bodyIdleTimeoutSeconds: config.http.bodyIdleTimeoutSeconds,
    maxHeaderBytes: config.http.maxHeaderBytes,
    maxUrlBytes: config.http.maxUrlBytes,
    tls: tls && { ...tls, hstsMaxAgeSeconds: config.tls.hstsMaxAgeSeconds },
    // Errors raised before a route answers (URL too long): ECR's JSON for ECR calls, OCI's otherwise.
    renderError(req, res, err, ctx) {
      if (req.headers['x-amz-target'] !== undefined) renderEcrError(res, ctx, err, log);
      else writeOciError(res, err, req.method === 'HEAD');
    },
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
      const query = sts(req, ctx);
      if (query) return query;
      const api = ecr(req, ctx);
      if (api) {
        const target = req.headers['x-amz-target'];
        if (typeof target !== 'string' || !POLICY_CHANGING_TARGETS.has(target)) return api;
        return async (rq, rs, c) => {
          try {
            await api(rq, rs, c);
          } finally {
            access.invalidate();
          }
        };
      }
      return download(req, ctx) ?? oci(req, ctx);
    },
  });

  const expiry = startUploadExpiry({ blobs, meta, clock, log, ttlMs: config.registry.uploadSessionTtlSeconds * 1000 });
  const { host, port } = parseListen(config.listen);
  let address: { host: string; port: number };
  try {
    address = await http.listen(host, port);
  } catch (e) {
    expiry.stop();
    await databaseLock.close();
    await meta.close();
    await blobs.close();
    throw e;
  }
  if (!ecrSettings.registryHost) ecrSettings.registryHost = defaultRegistryHost(address);
  if (!ecrSettings.proxyEndpoint) ecrSettings.proxyEndpoint = `${tls ? 'https' : 'http'}://${ecrSettings.registryHost}`;
  if (!tls && !isLoopbackHost(address.host)) {
    log.warn({ address: `${address.host}:${address.port}` }, 'serving plain HTTP on a non-loopback address: credentials and tokens cross the network unencrypted; set tls.cert and tls.key (see docs/security.md)');
  }
  if (bootstrap?.generated) announceAdministrator(bootstrap, dataDir, config.identity.region, ecrSettings.proxyEndpoint, options.announce);
  else if (bootstrap) log.info({ userName: bootstrap.userName, accessKeyId: bootstrap.accessKeyId }, 'created the administrator with the access key from the environment');
  if (config.jobs.enabled) jobs.start();
  // Always announced (whatever the log level): supervisors and tests read the bound port from it.
  log.child({}, { level: 'info' }).info({ address: `${address.host}:${address.port}`, host: address.host, port: address.port, dataDir, tls: !!tls }, 'listening');

  return {
    config, log, registry, meta, blobs, access, http, jobs, scans, lifecycle, address,
    async stop() {
      expiry.stop();
      await http.shutdown(config.http.shutdownGraceSeconds * 1000);
      await jobs.stop();
      await databaseLock.close();
      await meta.close();
      await blobs.close();
    },
  };
}

/**
 * Shows a generated administrator key once (stderr, not the JSON log) and writes it to DATA_DIR/admin-credentials
 * (0600, AWS shared-credentials format) so `AWS_SHARED_CREDENTIALS_FILE=… aws ecr …` works at once.
 */
function announceAdministrator(b: BootstrapResult, dataDir: string, region: string, endpoint: string, announce: (text: string) => void = (t) => process.stderr.write(t)): void {
  const file = join(dataDir, 'admin-credentials');
  writeFileSync(file, sharedCredentialsFile(b.accessKeyId, b.secretAccessKey, region), { mode: 0o600 });
  announce([
    '',
    'cargohold: created the administrator (IAM user "admin", policy AdministratorAccess). Its key is shown only this once:',
    `  aws_access_key_id     = ${b.accessKeyId}`,
    `  aws_secret_access_key = ${b.secretAccessKey}`,
    `  region                = ${region}`,
    `It is also in ${file} (mode 0600). Try:`,
    `  AWS_SHARED_CREDENTIALS_FILE=${file} aws ecr describe-repositories --endpoint-url ${endpoint} --region ${region}`,
    `  AWS_SHARED_CREDENTIALS_FILE=${file} aws ecr get-login-password --endpoint-url ${endpoint} --region ${region} | docker login --username AWS --password-stdin ${endpoint.replace(/^https?:\/\//, '')}`,
    '',
    '',
  ].join('\n'));
}
