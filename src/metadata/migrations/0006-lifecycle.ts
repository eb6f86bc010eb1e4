import { sql, type Kysely } from 'kysely';
import type { SqlDialectName } from '../db.ts';
import type { Migration } from './migration.ts';

/**
 * Lifecycle policies (src/lifecycle/):
 * - `lifecycle_policies`: one per repository (text verbatim, last evaluation time), cascading with it;
 * - `lifecycle_previews` + `lifecycle_preview_results`: the repository's latest preview and the images it
 *   would expire, paged in (pushed_at, digest) order;
 * - `lifecycle_events`: the append-only expiry history (repository name kept as text so the history
 *   outlives the repository); `id` orders the stream that `cargohold lifecycle history --follow` tails.
 */
export const lifecycle: Migration = {
  version: 6,
  name: 'lifecycle',
  async up(db: Kysely<any>, dialect: SqlDialectName): Promise<void> {
    const pg = dialect === 'postgres';
    const int64 = pg ? 'bigint' : 'integer';
    /** Names and digests compare in byte order (PostgreSQL "C"), as in 0001. */
    const name = pg ? sql`text collate "C"` : sql`text`;
    await db.schema
      .createTable('lifecycle_policies')
      .addColumn('repository_id', 'integer', (c) => c.primaryKey().references('repositories.id').onDelete('cascade'))
      .addColumn('policy_text', 'text', (c) => c.notNull())
      .addColumn('updated_at', int64, (c) => c.notNull())
      .addColumn('last_evaluated_at', int64)
      .execute();
    await db.schema
      .createTable('lifecycle_previews')
      .addColumn('repository_id', 'integer', (c) => c.primaryKey().references('repositories.id').onDelete('cascade'))
      .addColumn('policy_text', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('expiring_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('error', 'text')
      .addColumn('started_at', int64, (c) => c.notNull())
      .addColumn('finished_at', int64)
      .execute();
    await db.schema
      .createTable('lifecycle_preview_results')
      .addColumn('repository_id', 'integer', (c) => c.notNull().references('lifecycle_previews.repository_id').onDelete('cascade'))
      .addColumn('image_digest', name, (c) => c.notNull())
      .addColumn('image_tags', 'text', (c) => c.notNull())
      .addColumn('tagged', 'integer', (c) => c.notNull())
      .addColumn('pushed_at', int64, (c) => c.notNull())
      .addColumn('rule_priority', 'integer', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('lifecycle_preview_results_pk', ['repository_id', 'image_digest'])
      .execute();
    await db.schema.createIndex('lifecycle_preview_results_by_pushed').on('lifecycle_preview_results').columns(['repository_id', 'pushed_at', 'image_digest']).execute();
    await db.schema
      .createTable('lifecycle_events')
      .addColumn('id', int64, (c) => (pg ? c.generatedByDefaultAsIdentity().primaryKey() : c.primaryKey().autoIncrement()))
      .addColumn('repository_name', name, (c) => c.notNull())
      .addColumn('image_digest', name, (c) => c.notNull())
      .addColumn('image_tags', 'text', (c) => c.notNull())
      .addColumn('rule_priority', 'integer', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('at', int64, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('lifecycle_events_by_repository').on('lifecycle_events').columns(['repository_name', 'id']).execute();
  },
};
