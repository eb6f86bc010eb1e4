import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import type { Database } from '../db.ts';
import { createKyselyMetadata } from '../kysely-metadata.ts';
import { migrate, schemaStatus, type SchemaStatus } from '../migrations/index.ts';
import type { MetadataStore } from '../types.ts';
import { createSqliteHotReads } from './sqlite-hot-reads.ts';

/** Options for {@link createSqliteMetadata}. */
export interface SqliteMetadataOptions {
  /** Database file (its directory is created) or ':memory:'. */
  path: string;
  /** How long a statement waits for a lock held by another connection or process (default 5000 ms). */
  busyTimeoutMs?: number;
  /** Period of coalesced last-pulled writes (default 1000 ms). */
  pullFlushIntervalMs?: number;
  /**
   * Serve the per-request reads (repositories.get, manifests.get/getByTag, blobs.getLinked) from prepared
   * statements (default true). false runs the portable Kysely queries only (tests, benchmarks).
   */
  fastReads?: boolean;
  /** Receives background failures (coalesced pull-time writes); default: ignored. */
  onError?: (err: unknown) => void;
}

/**
 * Opens (creating if needed) a SQLite metadata database and applies pending migrations. Throws
 * SchemaTooNewError when the file was migrated by a newer build.
 *
 * Connections: one writer that Kysely drives (WAL, synchronous=NORMAL, foreign_keys=ON), with a
 * prepared-statement cache because Kysely's SQLite driver prepares every statement anew; and, for a file,
 * a second read-only connection for the hot reads, so a pull never waits behind an open write transaction
 * and only ever sees committed rows. ':memory:' has a single connection; there the hot reads take the
 * fast path only when no transaction is open on it (otherwise they queue behind it like any query).
 *
 * Inside `transaction(fn)`, use only the `tx` handed to `fn`: Kysely drives SQLite over one connection,
 * so a root-store query issued from inside `fn` waits for the transaction to end, i.e. forever.
 */
export async function createSqliteMetadata(options: SqliteMetadataOptions): Promise<MetadataStore> {
  const memory = options.path === ':memory:' || options.path === '';
  const busyTimeout = options.busyTimeoutMs ?? 5000;
  if (!memory) mkdirSync(dirname(options.path), { recursive: true });

  const writer = new BetterSqlite3(options.path);
  writer.pragma('journal_mode = WAL');
  writer.pragma('synchronous = NORMAL');
  writer.pragma('foreign_keys = ON');
  writer.pragma(`busy_timeout = ${busyTimeout}`);

  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(writer) }) });
  let reader: BetterSqlite3.Database | undefined;
  try {
    await migrate(db);
    const fast = options.fastReads ?? true;
    if (fast && !memory) {
      reader = new BetterSqlite3(options.path, { readonly: true, fileMustExist: true });
      reader.pragma(`busy_timeout = ${busyTimeout}`);
    }
    const hotReads = !fast
      ? undefined
      : reader
        ? createSqliteHotReads(reader, () => true)
        : createSqliteHotReads(writer, () => !writer.inTransaction);
    return createKyselyMetadata(db, {
      dialect: 'sqlite',
      hotReads,
      pullFlushIntervalMs: options.pullFlushIntervalMs,
      onError: options.onError,
      onClose: () => {
        reader?.close();
      },
    });
  } catch (e) {
    reader?.close();
    await db.destroy();
    if (writer.open) writer.close();
    throw e;
  }
}

/**
 * Reports where a SQLite database's schema stands without changing anything (a missing file is an empty
 * database: behind). For `cargohold` commands that must not migrate.
 */
export async function sqliteSchemaStatus(path: string): Promise<SchemaStatus> {
  const memory = path === ':memory:' || path === '';
  const conn = memory || !existsSync(path) ? new BetterSqlite3(':memory:') : new BetterSqlite3(path, { readonly: true, fileMustExist: true });
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: conn }) });
  try {
    return await schemaStatus(db);
  } finally {
    await db.destroy();
  }
}

/**
 * Wraps the connection so `prepare` reuses statements by SQL text (bounded, least recently prepared
 * evicted), and every transaction begins IMMEDIATE. Safe because Kysely runs one statement at a time on the connection and consumes it fully.
 */
function cachingStatements(conn: BetterSqlite3.Database, max = 500): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => conn.close(),
    prepare(text: string): SqliteStatement {
      // Transactions take the write lock when they begin (Kysely's driver says plain `begin`). A deferred
      // transaction that reads and then writes fails at once with SQLITE_BUSY when another process (a CLI
      // command beside the server) committed in between; an immediate one waits its turn (busy_timeout).
      const sql = text === 'begin' ? 'begin immediate' : text;
      let stmt = cache.get(sql);
      if (!stmt) {
        if (cache.size >= max) cache.delete(cache.keys().next().value as string);
        stmt = conn.prepare(sql) as unknown as SqliteStatement;
        cache.set(sql, stmt);
      }
      return stmt;
    },
  };
}
