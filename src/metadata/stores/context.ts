import type { MetadataDb, SqlDialectName } from '../db.ts';
import type { PullCoalescer } from '../pull-coalescer.ts';

/** What every store is built from: a Kysely handle (root or transaction) plus shared per-database state. */
export interface StoreContext {
  readonly db: MetadataDb;
  readonly dialect: SqlDialectName;
  readonly pulls: PullCoalescer;
}

/** Runs `fn` atomically: on the handle itself when it already is a transaction, else in a new one. */
export function atomic<T>(db: MetadataDb, fn: (db: MetadataDb) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}
