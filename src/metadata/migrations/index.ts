import { sql, type Kysely } from 'kysely';
import { dialectOf, type SqlDialectName } from '../db.ts';
import { initial } from './0001-initial.ts';
import { ecr } from './0002-ecr.ts';
import { identity } from './0003-identity.ts';
import { images } from './0004-images.ts';
import { encryption } from './0009-encryption.ts';
import { jobs } from './0005-jobs.ts';
import { gc } from './0007-gc.ts';
import { lifecycle } from './0006-lifecycle.ts';
import { scan } from './0008-scan.ts';
import type { Migration } from './migration.ts';

export type { Migration } from './migration.ts';

/**
 * Every migration this build knows, sorted by version (the list below may be in any order, so features can
 * add theirs independently). Add new ones with the next free number; never edit an applied one.
 */
export const migrations: readonly Migration[] = [
  initial,
  ecr,
  identity,
  images,
  encryption,
  jobs,
  gc,
  lifecycle,
  scan,
].sort((a, b) => a.version - b.version);

/** The schema version this build expects. */
export const knownSchemaVersion: number = migrations[migrations.length - 1].version;

/** Where a database's schema stands relative to this build. */
export interface SchemaStatus {
  /** current: nothing to do; behind: `migrate` will apply `pending`; ahead: written by a newer build. */
  state: 'current' | 'behind' | 'ahead';
  /** Highest applied version (0 for an empty database). */
  version: number;
  /** Highest version this build knows. */
  known: number;
  /** Known versions not yet applied, ascending. */
  pending: number[];
  /** Applied versions this build does not know (a newer build ran), ascending. */
  unknown: number[];
}

/** Thrown by `migrate` when the database was migrated by a newer build; the server must not start on it. */
export class SchemaTooNewError extends Error {
  readonly status: SchemaStatus;
  constructor(status: SchemaStatus) {
    super(
      `metadata schema version ${status.version} is newer than this build knows (${status.known}); ` +
        'upgrade cargohold or restore a matching backup',
    );
    this.name = 'SchemaTooNewError';
    this.status = status;
  }
}

/**
 * Thrown when opening a database whose schema has pending migrations while applying them on open is not
 * allowed (a shared PostgreSQL by default, or `database.migrateOnStart: false`): run `cargohold migrate`.
 */
export class SchemaBehindError extends Error {
  readonly status: SchemaStatus;
  constructor(status: SchemaStatus) {
    super(
      `metadata schema version ${status.version} is behind this build (${status.known}; pending ${status.pending.join(', ')}); ` +
        'run `cargohold migrate` first (or set database.migrateOnStart: true)',
    );
    this.name = 'SchemaBehindError';
    this.status = status;
  }
}

/** Tells whether the schema is current, behind (pending migrations) or ahead (newer than this build). Read-only. */
export async function schemaStatus(db: Kysely<any>): Promise<SchemaStatus> {
  const applied = (await migrationsTableExists(db, dialectOf(db))) ? await appliedVersions(db) : [];
  return statusOf(applied, migrations);
}

/**
 * Applies pending migrations in order, each in its own transaction together with its `migrations` row.
 * Safe when several processes start at once: the version row is inserted first (ON CONFLICT DO NOTHING),
 * which serialises racers on the row; a loser sees it applied and skips. Throws SchemaTooNewError when
 * the database is ahead of this build. Returns the versions it applied (empty when already current).
 */
export async function migrate(db: Kysely<any>, list: readonly Migration[] = migrations): Promise<number[]> {
  const dialect = dialectOf(db);
  await ensureMigrationsTable(db, dialect);
  const status = statusOf(await appliedVersions(db), list);
  if (status.state === 'ahead') throw new SchemaTooNewError(status);
  const done: number[] = [];
  for (const m of list) {
    if (!status.pending.includes(m.version)) continue;
    const ran = await db.transaction().execute(async (trx) => {
      const claim = await trx
        .insertInto('migrations')
        .values({ version: m.version, name: m.name, applied_at: Date.now() })
        .onConflict((oc) => oc.column('version').doNothing())
        .executeTakeFirst();
      if (Number(claim.numInsertedOrUpdatedRows ?? 0) === 0) return false;
      await m.up(trx, dialect);
      return true;
    });
    if (ran) done.push(m.version);
  }
  return done;
}

function statusOf(applied: number[], list: readonly Migration[]): SchemaStatus {
  const knownVersions = new Set(list.map((m) => m.version));
  const appliedSet = new Set(applied);
  const known = list.length ? list[list.length - 1].version : 0;
  const version = applied.length ? Math.max(...applied) : 0;
  const pending = list.map((m) => m.version).filter((v) => !appliedSet.has(v));
  const unknown = applied.filter((v) => !knownVersions.has(v)).sort((a, b) => a - b);
  const state = unknown.length > 0 || version > known ? 'ahead' : pending.length > 0 ? 'behind' : 'current';
  return { state, version, known, pending, unknown };
}

async function appliedVersions(db: Kysely<any>): Promise<number[]> {
  const rows = await db.selectFrom('migrations').select('version').orderBy('version').execute();
  return rows.map((r) => Number(r.version));
}

async function migrationsTableExists(db: Kysely<any>, dialect: SqlDialectName): Promise<boolean> {
  if (dialect === 'postgres') {
    const r = await sql<{ found: boolean }>`select to_regclass('migrations') is not null as found`.execute(db);
    return Boolean(r.rows[0]?.found);
  }
  const r = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name = 'migrations'`.execute(db);
  return r.rows.length > 0;
}

async function ensureMigrationsTable(db: Kysely<any>, dialect: SqlDialectName): Promise<void> {
  if (await migrationsTableExists(db, dialect)) return;
  try {
    await db.schema
      .createTable('migrations')
      .ifNotExists()
      .addColumn('version', 'integer', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('applied_at', dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull())
      .execute();
  } catch (e) {
    // Two PostgreSQL nodes racing on CREATE TABLE IF NOT EXISTS can collide in the catalogue; the winner's table is fine.
    if (!(await migrationsTableExists(db, dialect))) throw e;
  }
}
