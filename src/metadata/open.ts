import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.ts';
import { createPostgresMetadata, migratePostgres, postgresSchemaStatus } from './dialects/postgres.ts';
import { createSqliteMetadata, sqliteSchemaStatus } from './dialects/sqlite.ts';
import { SchemaBehindError, type SchemaStatus } from './migrations/index.ts';
import { createKeyedMutex } from '../storage/keyed-mutex.ts';
import { createPostgresKeyedLock, type DatabaseKeyedLock } from './dialects/pg-advisory-lock.ts';
import type { MetadataStore } from './types.ts';

/** Options for {@link openMetadata}. */
export interface OpenMetadataOptions {
  /**
   * Apply pending migrations while opening. Default: `database.migrateOnStart`, else true for SQLite (one
   * process owns the file) and false for PostgreSQL (a shared database is migrated once, with `cargohold
   * migrate`). When false, a database that is behind is refused with SchemaBehindError.
   */
  migrate?: boolean;
}

function sqlitePath(config: Readonly<Config>): string {
  return join(resolve(config.dataDir), 'metadata.sqlite');
}

function postgresUrl(config: Readonly<Config>): string {
  if (!config.database.url) throw new Error('database.url is required for the postgres driver');
  return config.database.url;
}

/**
 * Opens the metadata database the config names, for the server and for every CLI command, so the choice of
 * dialect lives in one place. Embedded default: `<dataDir>/metadata.sqlite`; `database.driver: postgres`
 * opens `database.url`. A schema newer than this build is always refused (SchemaTooNewError).
 */
export async function openMetadata(config: Readonly<Config>, options: OpenMetadataOptions = {}): Promise<MetadataStore> {
  const { database } = config;
  const migrate = options.migrate ?? database.migrateOnStart ?? database.driver === 'sqlite';
  if (database.driver === 'postgres') {
    return createPostgresMetadata({ url: postgresUrl(config), poolSize: database.poolSize, migrations: migrate ? 'apply' : 'refuse' });
  }
  if (!migrate) {
    const status = await sqliteSchemaStatus(sqlitePath(config));
    if (status.state === 'behind') throw new SchemaBehindError(status);
  }
  return createSqliteMetadata({ path: sqlitePath(config) });
}

/** Where the configured database's schema stands, without changing anything. */
export async function metadataSchemaStatus(config: Readonly<Config>): Promise<SchemaStatus> {
  return config.database.driver === 'postgres' ? postgresSchemaStatus(postgresUrl(config)) : sqliteSchemaStatus(sqlitePath(config));
}

/**
 * Applies pending migrations to the configured database (`cargohold migrate`); returns the versions applied.
 * Safe while other nodes run or migrate at the same time (each version is applied once).
 */
export async function migrateMetadata(config: Readonly<Config>): Promise<number[]> {
  if (config.database.driver === 'postgres') return migratePostgres(postgresUrl(config));
  const before = await sqliteSchemaStatus(sqlitePath(config));
  await (await createSqliteMetadata({ path: sqlitePath(config) })).close();
  return before.pending;
}

/**
 * The per-digest blob lock pushes and GC share (docs/gc.md): in-process on SQLite (one process owns the
 * database), a PostgreSQL advisory lock per digest on PostgreSQL (every node of the database).
 */
export function openBlobLock(config: Readonly<Config>, onError?: (err: unknown) => void): DatabaseKeyedLock {
  if (config.database.driver === 'postgres') return createPostgresKeyedLock({ url: postgresUrl(config), onError });
  return { withLock: createKeyedMutex(), close: async () => undefined };
}

