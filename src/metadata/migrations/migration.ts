import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../db.ts';

/**
 * One forward-only schema step. `up` receives an untyped Kysely handle (the schema it builds is the one
 * of its own time, not today's `Database`) bound to the transaction that also records the version, and
 * the dialect, so the few dialect-specific choices stay inside the migration.
 */
export interface Migration {
  /** Strictly increasing, starting at 1; also the file's number (0001-…). */
  readonly version: number;
  readonly name: string;
  up(db: Kysely<any>, dialect: SqlDialectName): Promise<void>;
}
