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
  }).strict().default({ shutdownGraceSeconds: 30, keepAliveTimeoutSeconds: 65, headersTimeoutSeconds: 60 }),
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
  }).strict().default({ enabled: true, tokenTtlSeconds: 12 * 3600, cacheTtlSeconds: 5 }),
}).strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
