import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { configSchema, type Config } from './schema.ts';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Flags given on the command line that override the file and the environment. */
export interface ConfigOverrides {
  listen?: string;
  dataDir?: string;
  logLevel?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** Reads and parses a YAML or JSON config file into a plain object (not yet validated). */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid YAML/JSON: ${(e as Error).message}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`config file ${path} must hold a mapping`);
  return value as Record<string, unknown>;
}

/** Validates a raw object against the schema; throws ConfigError listing every problem. */
export function validateConfig(raw: unknown, source = 'config'): Config {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n');
    throw new ConfigError(`${source} is invalid:\n${problems}`);
  }
  return result.data;
}

/**
 * Loads the configuration once: file (if any) → CARGOHOLD_* environment → flags, then validates and
 * freezes it. Only the CLI calls this; modules receive typed options.
 */
export function loadConfig(options: { file?: string; env: NodeJS.ProcessEnv; overrides?: ConfigOverrides }): Readonly<Config> {
  const { env, overrides = {} } = options;
  const file = options.file ?? env.CARGOHOLD_CONFIG;
  const raw: Record<string, any> = file ? readConfigFile(file) : {};
  const set = (path: string[], value: unknown) => {
    if (value === undefined || value === '') return;
    let o = raw;
    for (const k of path.slice(0, -1)) {
      if (typeof o[k] !== 'object' || o[k] === null) o[k] = {};
      o = o[k];
    }
    o[path[path.length - 1]] = value;
  };
  set(['listen'], env.CARGOHOLD_LISTEN);
  set(['dataDir'], env.CARGOHOLD_DATA_DIR);
  set(['log', 'level'], env.CARGOHOLD_LOG_LEVEL);
  set(['registry', 'createRepositoryOnPush'], env.CARGOHOLD_CREATE_REPOSITORY_ON_PUSH === undefined || env.CARGOHOLD_CREATE_REPOSITORY_ON_PUSH === '' ? undefined : /^(true|1|yes)$/i.test(env.CARGOHOLD_CREATE_REPOSITORY_ON_PUSH));
  set(['identity', 'accountId'], env.CARGOHOLD_ACCOUNT_ID);
  set(['identity', 'region'], env.CARGOHOLD_REGION);
  set(['identity', 'registryHost'], env.CARGOHOLD_REGISTRY_HOST);
  set(['identity', 'proxyEndpoint'], env.CARGOHOLD_PROXY_ENDPOINT);
  set(['auth', 'enabled'], env.CARGOHOLD_AUTH_ENABLED === undefined ? undefined : env.CARGOHOLD_AUTH_ENABLED !== 'false' && env.CARGOHOLD_AUTH_ENABLED !== '0');
  set(['auth', 'cacheTtlSeconds'], env.CARGOHOLD_AUTH_CACHE_TTL_SECONDS === undefined || env.CARGOHOLD_AUTH_CACHE_TTL_SECONDS === '' ? undefined : Number(env.CARGOHOLD_AUTH_CACHE_TTL_SECONDS));
  set(['tls', 'cert'], env.CARGOHOLD_TLS_CERT);
  set(['tls', 'key'], env.CARGOHOLD_TLS_KEY);
  set(['encryption', 'enabled'], env.CARGOHOLD_ENCRYPTION === undefined || env.CARGOHOLD_ENCRYPTION === '' ? undefined : !/^(false|0|no|off)$/i.test(env.CARGOHOLD_ENCRYPTION));
  set(['encryption', 'keyProvider'], env.CARGOHOLD_KEY_PROVIDER);
  set(['database', 'driver'], env.CARGOHOLD_DATABASE_DRIVER);
  set(['database', 'url'], env.CARGOHOLD_DATABASE_URL);
  set(['storage', 'driver'], env.CARGOHOLD_STORAGE_DRIVER);
  set(['storage', 's3', 'bucket'], env.CARGOHOLD_S3_BUCKET);
  set(['storage', 's3', 'endpoint'], env.CARGOHOLD_S3_ENDPOINT);
  set(['storage', 's3', 'region'], env.CARGOHOLD_S3_REGION);
  set(['storage', 's3', 'prefix'], env.CARGOHOLD_S3_PREFIX);
  set(['storage', 's3', 'forcePathStyle'], env.CARGOHOLD_S3_FORCE_PATH_STYLE === undefined || env.CARGOHOLD_S3_FORCE_PATH_STYLE === '' ? undefined : /^(true|1|yes)$/i.test(env.CARGOHOLD_S3_FORCE_PATH_STYLE));
  set(['storage', 's3', 'accessKeyId'], env.CARGOHOLD_S3_ACCESS_KEY_ID);
  set(['storage', 's3', 'secretAccessKey'], env.CARGOHOLD_S3_SECRET_ACCESS_KEY);
  set(['listen'], overrides.listen);
  set(['tls', 'cert'], overrides.tlsCert);
  set(['tls', 'key'], overrides.tlsKey);
  set(['dataDir'], overrides.dataDir);
  set(['log', 'level'], overrides.logLevel);
  return deepFreeze(validateConfig(raw, file ? `config (${file} + environment + flags)` : 'config (environment + flags)'));
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
