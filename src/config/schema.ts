import { z } from 'zod';

/** Parses `HOST:PORT` (IPv6 in brackets). */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  if (!m) throw new Error(`listen address "${value}" must be HOST:PORT`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`listen port ${port} is out of range`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

const listen = z.string().refine((v) => { try { parseListen(v); return true; } catch { return false; } }, { message: 'must be HOST:PORT' });

/** The one configuration schema, with every default. */
export const configSchema = z.object({
  /** Address the server listens on. */
  listen: listen.default('127.0.0.1:5000'),
  /** Directory for embedded storage (blobs, SQLite, keys). */
  dataDir: z.string().min(1).default('./data'),
  /** Where blob bytes live: `fs` under dataDir/blobs (default) or an S3-compatible bucket (docs/deployment.md). */
  storage: z.object({
    driver: z.enum(['fs', 's3']).default('fs'),
    s3: z.object({
      bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'must be a valid S3 bucket name' }),
      region: z.string().min(1).default('us-east-1'),
      /** S3-compatible endpoint (Ceph RGW, MinIO, …), e.g. http://rgw.internal:7480; omit for AWS. */
      endpoint: z.string().url().optional(),
      /** Key prefix for everything cargohold writes (several registries can share a bucket). */
      prefix: z.string().max(512).regex(/^[A-Za-z0-9!_.*'()\/-]*$/, { message: 'letters, digits and !_.*\'()/- only' }).default(''),
      /** Path-style URLs (endpoint/bucket/key): most self-hosted S3 servers need it. */
      forcePathStyle: z.boolean().default(false),
      /** Static credentials; when absent the AWS default chain applies (AWS_* env, shared files, instance/task role). */
      accessKeyId: z.string().min(1).optional(),
      secretAccessKey: z.string().min(1).optional(),
      sessionToken: z.string().min(1).optional(),
      /** Multipart part size; each upload in flight holds two parts in memory. */
      partSizeMiB: z.number().int().min(5).max(5120).default(8),
      /** Attempts per S3 request (throttling and 5xx are retried with exponential backoff and jitter). */
      maxAttempts: z.number().int().min(1).max(20).default(5),
      /**
       * Blob reads (docs/deployment.md, "Blob reads over S3"): a pull reads the object in windows of `windowMiB`
       * through ranged GETs, `parallelGets` of them open at once. Raise `parallelGets` for an S3 far away (one
       * connection carries one stream's worth); 1 reads one window at a time.
       */
      reads: z.object({
        windowMiB: z.number().int().min(1).max(1024).default(8),
        parallelGets: z.number().int().min(1).max(16).default(3),
      }).strict().default({ windowMiB: 8, parallelGets: 3 }),
      /** Create the bucket at startup when it does not exist (default: it must exist). */
      createBucket: z.boolean().default(false),
      /**
       * Redirect blob GETs to presigned S3 URLs (307) instead of streaming through cargohold. Clients must reach
       * the S3 endpoint; not used when encryption at rest is on (the bucket holds ciphertext).
       */
      redirect: z.object({
        enabled: z.boolean().default(false),
        expiresSeconds: z.number().int().min(60).max(7 * 24 * 3600).default(900),
      }).strict().default({ enabled: false, expiresSeconds: 900 }),
    }).strict().refine((s) => !!s.accessKeyId === !!s.secretAccessKey, { message: 'set both accessKeyId and secretAccessKey, or neither' }).optional(),
  }).strict().refine((s) => s.driver !== 's3' || !!s.s3, { message: 'storage.driver s3 needs a storage.s3 section (at least bucket)' })
    .default({ driver: 'fs' }),
  /** Metadata database: embedded SQLite under dataDir (default) or a shared PostgreSQL (docs/deployment.md). */
  database: z.object({
    driver: z.enum(['sqlite', 'postgres']).default('sqlite'),
    /** postgres://user:password@host:5432/db (PostgreSQL only). */
    url: z.string().regex(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// URL' }).optional(),
    /** Connections per node (PostgreSQL). */
    poolSize: z.number().int().min(1).max(1000).default(10),
    /**
     * Apply pending migrations when `serve` starts. Default: yes for SQLite (one process owns the file), no for
     * PostgreSQL (a shared database is migrated once, explicitly, with `cargohold migrate`; nodes refuse to
     * start on a schema that is behind or ahead of their build).
     */
    migrateOnStart: z.boolean().optional(),
  }).strict().refine((d) => d.driver !== 'postgres' || !!d.url, { message: 'database.driver postgres needs database.url' })
    .default({ driver: 'sqlite', poolSize: 10 }),
  log: z.object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Log one line per request (at info). */
    requests: z.boolean().default(true),
  }).strict().default({ level: 'info', requests: true }),
  registry: z.object({
    /**
     * Create a repository on the first push to a missing one even when no CREATE_ON_PUSH repository creation
     * template applies (Distribution behaviour). Default false, like ECR: a push to a missing repository is
     * NAME_UNKNOWN unless a template matches. Also CARGOHOLD_CREATE_REPOSITORY_ON_PUSH=true|false.
     */
    createRepositoryOnPush: z.boolean().default(false),
    /** Largest manifest accepted, in bytes. */
    maxManifestBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(4 * 1024 * 1024),
    /** Upload sessions not touched for this many seconds are discarded. */
    uploadSessionTtlSeconds: z.number().int().min(60).default(24 * 3600),
    /** Largest page for tags list and catalog. */
    maxPageSize: z.number().int().min(1).max(1_000_000).default(100_000),
    /**
     * Milliseconds a cached repository/manifest/tag read may be served on the pull path. Writes through this
     * process invalidate at once; the TTL bounds how long a write made by another node or the CLI goes unseen.
     * 0 turns the cache off.
     */
    readCacheTtlMs: z.number().int().min(0).max(60_000).default(1000),
  }).strict().default({ createRepositoryOnPush: false, maxManifestBytes: 4 * 1024 * 1024, uploadSessionTtlSeconds: 24 * 3600, maxPageSize: 100_000, readCacheTtlMs: 1000 }),
  http: z.object({
    /** Seconds to let in-flight requests finish on SIGTERM. */
    shutdownGraceSeconds: z.number().int().min(0).default(30),
    /** Keep-alive timeout in seconds. */
    keepAliveTimeoutSeconds: z.number().int().min(1).default(65),
    /** Time allowed to receive the request headers, seconds. */
    headersTimeoutSeconds: z.number().int().min(1).default(60),
    /** Time allowed to receive a whole request (headers and body), seconds; 0 = no limit (large blob pushes). */
    requestTimeoutSeconds: z.number().int().min(0).default(0),
    /** A request body that delivers no byte for this many seconds is cut (slow-client uploads). */
    bodyIdleTimeoutSeconds: z.number().int().min(1).max(3600).default(60),
    /** Largest request line + headers, bytes (431 past it). */
    maxHeaderBytes: z.number().int().min(8 * 1024).max(1024 * 1024).default(32 * 1024),
    /** Longest request target (path + query), bytes (414 past it). */
    maxUrlBytes: z.number().int().min(1024).max(64 * 1024).default(8 * 1024),
    /** Largest ECR/STS JSON API body, bytes, except PutImage (2 × maxManifestBytes) and UploadLayerPart (a 20 MiB part, base64). */
    maxApiBodyBytes: z.number().int().min(64 * 1024).max(64 * 1024 * 1024).default(1024 * 1024),
  }).strict().refine((h) => h.requestTimeoutSeconds === 0 || h.headersTimeoutSeconds <= h.requestTimeoutSeconds, { message: 'headersTimeoutSeconds must not exceed requestTimeoutSeconds' })
    .default({ shutdownGraceSeconds: 30, keepAliveTimeoutSeconds: 65, headersTimeoutSeconds: 60, requestTimeoutSeconds: 0, bodyIdleTimeoutSeconds: 60, maxHeaderBytes: 32 * 1024, maxUrlBytes: 8 * 1024, maxApiBodyBytes: 1024 * 1024 }),
  /**
   * HTTPS for both APIs on the listen port (PEM files). Without them the server speaks plain HTTP, meant for
   * loopback addresses (a warning is logged when listening elsewhere). `cargohold tls self-signed` makes a pair.
   */
  tls: z.object({
    /** Server certificate chain (PEM). Also --tls-cert / CARGOHOLD_TLS_CERT. */
    cert: z.string().min(1).optional(),
    /** Private key of the certificate (PEM). Also --tls-key / CARGOHOLD_TLS_KEY. */
    key: z.string().min(1).optional(),
    /** Strict-Transport-Security max-age on TLS responses, seconds; 0 leaves the header out. */
    hstsMaxAgeSeconds: z.number().int().min(0).default(31_536_000),
  }).strict().refine((t) => !!t.cert === !!t.key, { message: 'set both cert and key, or neither' })
    .default({ hstsMaxAgeSeconds: 31_536_000 }),
  /**
   * Encryption at rest of every blob and manifest (docs/encryption.md), on by default. Turning it off makes new
   * writes plaintext; everything written encrypted stays readable (the keys are still used).
   */
  encryption: z.object({
    enabled: z.boolean().default(true),
    /** Where key-encryption keys live: `local` (DATA_DIR/keys/keyring.json, mode 0600) or `kms` (AWS KMS). */
    keyProvider: z.enum(['local', 'kms']).default('local'),
    kms: z.object({
      /** Region of the KMS keys; default: identity.region. */
      region: z.string().min(1).optional(),
      /** Another KMS endpoint (VPC endpoint, KMS-compatible server). */
      endpoint: z.string().url().optional(),
      /** Days before a key cargohold destroys (crypto-shredding) is deleted by KMS (7–30); it is disabled at once. */
      deletionWindowDays: z.number().int().min(7).max(30).default(7),
    }).strict().default({ deletionWindowDays: 7 }),
  }).strict().default({ enabled: true, keyProvider: 'local', kms: { deletionWindowDays: 7 } }),
  /** Who this registry is, in AWS terms (ARNs, repositoryUri, proxyEndpoint). See docs/auth.md. */
  identity: z.object({
    /** 12-digit account id of this registry (registryId). Default: 123456789012, the account AWS docs and moto use. */
    accountId: z.string().regex(/^\d{12}$/, { message: 'must be 12 digits' }).default('123456789012'),
    /** Region of this registry; SigV4 requests must be scoped to it. */
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, { message: 'must look like us-east-1' }).default('us-east-1'),
    /** host[:port] docker uses for this registry (repositoryUri). Default: the bound address (localhost:PORT when listening on all interfaces). */
    registryHost: z.string().min(1).optional(),
    /** proxyEndpoint returned by GetAuthorizationToken and the Basic realm. Default: http://<registryHost>. */
    proxyEndpoint: z.string().regex(/^https?:\/\/[^/\s]+$/, { message: 'must be http(s)://host[:port] without a path' }).optional(),
  }).strict().default({ accountId: '123456789012', region: 'us-east-1' }),
  /** Durable background work (src/jobs/): lifecycle expiry, garbage collection, scans. */
  jobs: z.object({
    /** Run background jobs in this process. With several nodes, every node may run them; each job runs once. */
    enabled: z.boolean().default(true),
    /** How often an idle worker looks for due jobs, in milliseconds (enqueues in this process wake it at once). */
    pollIntervalMs: z.number().int().min(10).max(60_000).default(1000),
    /** Finished jobs are kept this many days for `cargohold jobs` before they are pruned. */
    retentionDays: z.number().int().min(1).max(3650).default(7),
  }).strict().default({ enabled: true, pollIntervalMs: 1000, retentionDays: 7 }),
  /** Lifecycle policies (docs/lifecycle.md): automatic expiry of the images a repository's policy selects. */
  lifecycle: z.object({
    /** Evaluate every repository that has a policy on a schedule and expire what it selects (needs jobs.enabled). */
    enabled: z.boolean().default(true),
    /** Seconds between evaluations (ECR: within 24 hours; default hourly). */
    intervalSeconds: z.number().int().min(1).max(7 * 24 * 3600).default(3600),
  }).strict().default({ enabled: true, intervalSeconds: 3600 }),
  /** Online garbage collection (docs/gc.md): reclaims manifests, links and blobs nothing references. */
  gc: z.object({
    /** Run GC passes as background jobs (needs jobs.enabled). `cargohold gc` works either way. */
    enabled: z.boolean().default(true),
    /** Seconds between collect passes. */
    intervalSeconds: z.number().int().min(1).max(7 * 24 * 3600).default(3600),
    /**
     * Seconds an item waits after the event that queued it before it may be removed. It must exceed the
     * longest push (a layer uploaded or HEADed now is referenced by the manifest PUT that follows); 24 h,
     * like GitLab's registry, covers slow pushes and retries. 0 is for tests only.
     */
    gracePeriodSeconds: z.number().int().min(0).max(90 * 24 * 3600).default(24 * 3600),
    /** Seconds between reconcile passes (storage against metadata; stale upload sessions and temporary files). */
    reconcileIntervalSeconds: z.number().int().min(1).max(30 * 24 * 3600).default(24 * 3600),
  }).strict().default({ enabled: true, intervalSeconds: 3600, gracePeriodSeconds: 24 * 3600, reconcileIntervalSeconds: 24 * 3600 }),
  /** Stored-bytes reports (`cargohold usage`). */
  usage: z.object({
    /** Price per GB-month (GB = 2^30 bytes) for the estimated monthly cost, in USD; default ECR's list price. */
    pricePerGbMonth: z.number().min(0).max(1000).default(0.1),
  }).strict().default({ pricePerGbMonth: 0.1 }),
  auth: z.object({
    /**
     * Authenticate and authorize /v2/ requests (HTTP Basic: AWS + registry token, or access key id + secret).
     * false: /v2/ is open to anyone (the ECR API still verifies SigV4 and policies).
     */
    enabled: z.boolean().default(true),
    /** Lifetime of registry tokens from GetAuthorizationToken (ECR: 12 h). */
    tokenTtlSeconds: z.number().int().min(60).max(7 * 24 * 3600).default(12 * 3600),
    /** How long access keys, identity policies, repository policies and tags are cached in memory. */
    cacheTtlSeconds: z.number().min(0).max(3600).default(5),
    /**
     * Failed authentications allowed per client address: a token bucket of `burst` failures refilled at
     * `perMinute`. An address whose bucket is empty gets 429 (OCI TOOMANYREQUESTS / ECR ThrottlingException) for
     * every authentication attempt until a token is back. burst 0 turns the limit off.
     */
    failureLimit: z.object({
      burst: z.number().int().min(0).max(100_000).default(30),
      perMinute: z.number().min(0.01).max(100_000).default(30),
    }).strict().default({ burst: 30, perMinute: 30 }),
  }).strict().default({ enabled: true, tokenTtlSeconds: 12 * 3600, cacheTtlSeconds: 5, failureLimit: { burst: 30, perMinute: 30 } }),
  /** Vulnerability scanning (docs/scanning.md). */
  scan: z.object({
    /**
     * OSV advisories re-imported on a schedule: a directory, a file, an osv.dev `all.zip` export or an http(s)
     * URL of one. Unset: the database changes only through `cargohold vulndb import`.
     */
    source: z.string().min(1).optional(),
    /** How often `source` is re-imported, in seconds. */
    refreshIntervalSeconds: z.number().int().min(60).max(30 * 24 * 3600).default(24 * 3600),
    /** When the database changes, images pushed or pulled within this many days are re-matched from their stored inventory. */
    rematchWindowDays: z.number().int().min(1).max(3650).default(30),
    /** StartImageScan allows one scan per image in this many seconds (ECR: once per 24 hours). */
    startScanIntervalSeconds: z.number().int().min(0).max(7 * 24 * 3600).default(24 * 3600),
    /** Largest package database or metadata file read from a layer, in bytes. */
    maxFileBytes: z.number().int().min(1024).max(1024 * 1024 * 1024).default(64 * 1024 * 1024),
  }).strict().default({ refreshIntervalSeconds: 24 * 3600, rematchWindowDays: 30, startScanIntervalSeconds: 24 * 3600, maxFileBytes: 64 * 1024 * 1024 }),
}).strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
