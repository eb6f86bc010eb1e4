import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../db.ts';
import type { Migration } from './migration.ts';

/**
 * Durable background jobs (src/jobs/). One row per job; `active_key` is `kind + NUL + key` while the job is
 * pending or running and NULL once it finished, so a unique index on it allows at most one live job per
 * (kind, key) on both SQLite and PostgreSQL without partial-index syntax differences.
 */
export const jobs: Migration = {
  version: 5,
  name: 'jobs',
  async up(db: Kysely<any>, dialect: SqlDialectName): Promise<void> {
    const pg = dialect === 'postgres';
    const int64 = pg ? 'bigint' : 'integer';
    await db.schema
      .createTable('jobs')
      .addColumn('id', int64, (c) => (pg ? c.generatedByDefaultAsIdentity().primaryKey() : c.primaryKey().autoIncrement()))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('active_key', 'text', (c) => c.unique())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('run_at', int64, (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('lease_owner', 'text')
      .addColumn('lease_until', int64)
      .addColumn('last_error', 'text')
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('updated_at', int64, (c) => c.notNull())
      .addColumn('finished_at', int64)
      .execute();
    // Claims scan live rows by due time; listings by kind/state.
    await db.schema.createIndex('jobs_claim').on('jobs').columns(['state', 'run_at']).execute();
    await db.schema.createIndex('jobs_by_kind').on('jobs').columns(['kind', 'id']).execute();
  },
};
