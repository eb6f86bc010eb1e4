import { sql, type Kysely } from 'kysely';
import type { SqlDialectName } from '../db.ts';
import type { Migration } from './migration.ts';

/**
 * Online garbage collection (src/gc/, docs/gc.md): three review queues and the record of what GC removed.
 *
 * - `gc_blob_reviews` (digest): the blob may be referenced by nothing any more (registry-wide).
 * - `gc_link_reviews` (repository, digest): the repository's link to the blob may be referenced by no
 *   manifest of the repository any more.
 * - `gc_manifest_reviews` (repository, digest): the manifest may be an orphan (its index or its subject was
 *   deleted).
 *
 * Rows are written by the metadata stores in the same transaction as the change that may orphan something.
 * `review_after` NULL means "not scheduled yet": GC stamps it with now + grace period on its next pass and
 * reviews the row once that time has passed; writing NULL again postpones a review (a push pinning a blob).
 * `gc_deletions` keeps one row per thing GC removed, with the reason.
 */
export const gc: Migration = {
  version: 7,
  name: 'gc',
  async up(db: Kysely<any>, dialect: SqlDialectName): Promise<void> {
    const pg = dialect === 'postgres';
    const key = pg ? sql`text collate "C"` : sql`text`;
    const int64 = pg ? 'bigint' : 'integer';

    await db.schema
      .createTable('gc_blob_reviews')
      .addColumn('digest', key, (c) => c.primaryKey())
      .addColumn('review_after', int64)
      .addColumn('event', 'text', (c) => c.notNull())
      .addColumn('review_count', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('gc_blob_reviews_due').on('gc_blob_reviews').columns(['review_after', 'digest']).execute();

    for (const table of ['gc_link_reviews', 'gc_manifest_reviews'] as const) {
      await db.schema
        .createTable(table)
        .addColumn('repository_id', 'integer', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
        .addColumn('digest', key, (c) => c.notNull())
        .addColumn('review_after', int64)
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('review_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint(`${table}_pk`, ['repository_id', 'digest'])
        .execute();
      await db.schema.createIndex(`${table}_due`).on(table).columns(['review_after', 'repository_id', 'digest']).execute();
    }

    // "Does any manifest of any repository list this blob?" (the blob review) without a scan.
    await db.schema.createIndex('manifest_references_by_child_digest').on('manifest_references').column('child_digest').execute();

    await db.schema
      .createTable('gc_deletions')
      .addColumn('id', int64, (c) => (pg ? c.generatedByDefaultAsIdentity().primaryKey() : c.primaryKey().autoIncrement()))
      .addColumn('at', int64, (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('repository', 'text')
      .addColumn('digest', 'text', (c) => c.notNull())
      .addColumn('size', int64)
      .addColumn('reason', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('gc_deletions_by_at').on('gc_deletions').columns(['at', 'id']).execute();
  },
};
