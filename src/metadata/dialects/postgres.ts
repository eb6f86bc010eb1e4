import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../db.ts';
import { createKyselyMetadata } from '../kysely-metadata.ts';
import { migrate, SchemaBehindError, schemaStatus, SchemaTooNewError, type SchemaStatus } from '../migrations/index.ts';

export { SchemaBehindError } from '../migrations/index.ts';
import type { MetadataStore } from '../types.ts';

/** Options for {@link createPostgresMetadata}. */
export interface PostgresMetadataOptions {
  /** postgres://user:password@host:port/database?… (libpq-style URL, as node-postgres takes it). */
  url: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /**
   * What to do with pending migrations: `apply` them (the embedded default's behaviour), or `refuse` to
   * open a database that is behind (the default for a shared PostgreSQL: run `cargohold migrate` first).
   * A database ahead of this build is always refused (SchemaTooNewError).
   */
  migrations?: 'apply' | 'refuse';
  /** Period of coalesced last-pulled writes (default 1000 ms). */
  pullFlushIntervalMs?: number;
  /** Receives background failures (coalesced pull-time writes, idle pool clients); default: ignored. */
  onError?: (err: unknown) => void;
}

// node-postgres returns BIGINT (int8) as strings; the stores read numbers through Number() anyway, but
// parsing here keeps raw rows honest. Values stay below 2^53 (milliseconds, byte sizes).
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 && format !== 'binary') return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** A Kysely instance over a node-postgres pool (no migration). */
export function createPostgresKysely(options: { url: string; poolSize?: number; onError?: (err: unknown) => void }): Kysely<Database> {
  const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10, types });
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on('error', (err) => options.onError?.(err));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * Opens a PostgreSQL metadata database. Concurrency relies on the database, not on a single writer:
 * unique constraints for repository names and tags, `ON CONFLICT` upserts, row locks in the stores that
 * read-then-write, and `FOR UPDATE SKIP LOCKED` claims in the job store. Migrations: see `migrations`.
 */
export async function createPostgresMetadata(options: PostgresMetadataOptions): Promise<MetadataStore> {
  const db = createPostgresKysely(options);
  try {
    if ((options.migrations ?? 'refuse') === 'apply') {
      await migrate(db);
    } else {
      const status = await schemaStatus(db);
      if (status.state === 'ahead') throw new SchemaTooNewError(status);
      if (status.state === 'behind') throw new SchemaBehindError(status);
    }
    return createKyselyMetadata(db, { dialect: 'postgres', pullFlushIntervalMs: options.pullFlushIntervalMs, onError: options.onError });
  } catch (e) {
    await db.destroy();
    throw e;
  }
}

/** Where a PostgreSQL database's schema stands, without changing anything. */
export async function postgresSchemaStatus(url: string): Promise<SchemaStatus> {
  const db = createPostgresKysely({ url, poolSize: 1 });
  try {
    return await schemaStatus(db);
  } finally {
    await db.destroy();
  }
}

/** Applies pending migrations to a PostgreSQL database (`cargohold migrate`); returns the versions applied. */
export async function migratePostgres(url: string): Promise<number[]> {
  const db = createPostgresKysely({ url, poolSize: 1 });
  try {
    return await migrate(db);
  } finally {
    await db.destroy();
  }
}
