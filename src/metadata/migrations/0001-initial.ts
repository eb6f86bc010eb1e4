import { sql, type CreateTableBuilder, type Kysely } from 'kysely';
import type { SqlDialectName } from '../db.ts';
import type { Migration } from './migration.ts';

/**
 * The initial schema. Written with Kysely's schema builder so the same migration runs on SQLite and
 * PostgreSQL; the few dialect differences (identity column, bytea, byte-order collation, WITHOUT ROWID)
 * are chosen here and nowhere else.
 */
export const initial: Migration = {
  version: 1,
  name: 'initial',
  async up(db: Kysely<any>, dialect: SqlDialectName): Promise<void> {
    const pg = dialect === 'postgres';
    /** Names and digests compare and sort in byte order: SQLite's BINARY default, PostgreSQL's "C". */
    const key = pg ? sql`text collate "C"` : sql`text`;
    const int64 = pg ? 'bigint' : 'integer';
    /** Small rows keyed by a composite or text primary key are stored clustered on SQLite. */
    const clustered = <T extends string, C extends string>(t: CreateTableBuilder<T, C>) => (pg ? t : t.modifyEnd(sql`without rowid`));
    const repoFk = 'repositories.id';

    await db.schema
      .createTable('repositories')
      .addColumn('id', 'integer', (c) => (pg ? c.generatedByDefaultAsIdentity().primaryKey() : c.primaryKey().autoIncrement()))
      .addColumn('name', key, (c) => c.notNull().unique())
      .addColumn('created_at', int64, (c) => c.notNull())
      .execute();

    await clustered(
      db.schema
        .createTable('blobs')
        .addColumn('digest', key, (c) => c.primaryKey())
        .addColumn('size', int64, (c) => c.notNull())
        .addColumn('media_type', 'text')
        .addColumn('created_at', int64, (c) => c.notNull()),
    ).execute();

    await clustered(
      db.schema
        .createTable('repository_blobs')
        .addColumn('repository_id', 'integer', (c) => c.notNull().references(repoFk).onDelete('cascade'))
        .addColumn('digest', key, (c) => c.notNull().references('blobs.digest').onDelete('cascade'))
        .addColumn('created_at', int64, (c) => c.notNull())
        .addPrimaryKeyConstraint('repository_blobs_pk', ['repository_id', 'digest']),
    ).execute();
    // Serves the cascade from blobs and "which repositories link this blob" (GC).
    await db.schema.createIndex('repository_blobs_by_digest').on('repository_blobs').column('digest').execute();

    await db.schema
      .createTable('manifests')
      .addColumn('repository_id', 'integer', (c) => c.notNull().references(repoFk).onDelete('cascade'))
      .addColumn('digest', key, (c) => c.notNull())
      .addColumn('media_type', 'text', (c) => c.notNull())
      .addColumn('artifact_type', 'text')
      .addColumn('subject_digest', key)
      .addColumn('annotations', 'text')
      .addColumn('size', int64, (c) => c.notNull())
      .addColumn('body', pg ? 'bytea' : 'blob', (c) => c.notNull())
      .addColumn('pushed_at', int64, (c) => c.notNull())
      .addColumn('last_pulled_at', int64)
      .addPrimaryKeyConstraint('manifests_pk', ['repository_id', 'digest'])
      .execute();
    // Referrers: equality on (repository, subject), already ordered by digest.
    await db.schema.createIndex('manifests_by_subject').on('manifests').columns(['repository_id', 'subject_digest', 'digest']).execute();

    await clustered(
      db.schema
        .createTable('manifest_references')
        .addColumn('repository_id', 'integer', (c) => c.notNull())
        .addColumn('manifest_digest', key, (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('child_digest', key, (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('size', int64, (c) => c.notNull())
        .addColumn('media_type', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('manifest_references_pk', ['repository_id', 'manifest_digest', 'position'])
        .addForeignKeyConstraint('manifest_references_manifest_fk', ['repository_id', 'manifest_digest'], 'manifests', ['repository_id', 'digest'], (f) =>
          f.onDelete('cascade'),
        ),
    ).execute();
    // "Is this blob / child manifest still referenced in the repository?" (deletes, GC).
    await db.schema.createIndex('manifest_references_by_child').on('manifest_references').columns(['repository_id', 'child_digest']).execute();

    await clustered(
      db.schema
        .createTable('tags')
        .addColumn('repository_id', 'integer', (c) => c.notNull())
        .addColumn('name', key, (c) => c.notNull())
        .addColumn('manifest_digest', key, (c) => c.notNull())
        .addColumn('updated_at', int64, (c) => c.notNull())
        .addPrimaryKeyConstraint('tags_pk', ['repository_id', 'name'])
        .addForeignKeyConstraint('tags_repository_fk', ['repository_id'], 'repositories', ['id'], (f) => f.onDelete('cascade'))
        .addForeignKeyConstraint('tags_manifest_fk', ['repository_id', 'manifest_digest'], 'manifests', ['repository_id', 'digest'], (f) =>
          f.onDelete('cascade'),
        ),
    ).execute();
    await db.schema.createIndex('tags_by_manifest').on('tags').columns(['repository_id', 'manifest_digest']).execute();

    await db.schema
      .createTable('uploads')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('repository_id', 'integer', (c) => c.notNull().references(repoFk).onDelete('cascade'))
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('updated_at', int64, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('uploads_by_repository').on('uploads').column('repository_id').execute();
    await db.schema.createIndex('uploads_by_updated').on('uploads').columns(['updated_at', 'id']).execute();
  },
};
