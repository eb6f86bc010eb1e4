import { sql, type CreateTableBuilder, type Kysely } from 'kysely';
import type { SqlDialectName } from '../db.ts';
import type { Migration } from './migration.ts';

/**
 * ECR administration state: per-repository settings (tag mutability, scan on push, encryption), repository
 * policies, repository resource tags, the registry policy, account settings and repository creation
 * templates. Per-repository tables cascade from `repositories`; lists and documents that are only read
 * whole (exclusion filters, template tags, appliedFor) are JSON text.
 */
export const ecr: Migration = {
  version: 2,
  name: 'ecr',
  async up(db: Kysely<any>, dialect: SqlDialectName): Promise<void> {
    const pg = dialect === 'postgres';
    const key = pg ? sql`text collate "C"` : sql`text`;
    const int64 = pg ? 'bigint' : 'integer';
    const clustered = <T extends string, C extends string>(t: CreateTableBuilder<T, C>) => (pg ? t : t.modifyEnd(sql`without rowid`));
    const repoFk = 'repositories.id';

    await db.schema
      .createTable('ecr_repository_settings')
      .addColumn('repository_id', 'integer', (c) => c.primaryKey().references(repoFk).onDelete('cascade'))
      .addColumn('image_tag_mutability', 'text', (c) => c.notNull())
      .addColumn('tag_mutability_filters', 'text', (c) => c.notNull())
      .addColumn('scan_on_push', 'integer', (c) => c.notNull())
      .addColumn('encryption_type', 'text', (c) => c.notNull())
      .addColumn('kms_key', 'text')
      .addColumn('updated_at', int64, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('ecr_repository_policies')
      .addColumn('repository_id', 'integer', (c) => c.primaryKey().references(repoFk).onDelete('cascade'))
      .addColumn('policy_text', 'text', (c) => c.notNull())
      .addColumn('updated_at', int64, (c) => c.notNull())
      .execute();

    await clustered(
      db.schema
        .createTable('ecr_repository_tags')
        .addColumn('repository_id', 'integer', (c) => c.notNull().references(repoFk).onDelete('cascade'))
        .addColumn('tag_key', key, (c) => c.notNull())
        .addColumn('tag_value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('ecr_repository_tags_pk', ['repository_id', 'tag_key']),
    ).execute();

    await db.schema
      .createTable('ecr_registry_policy')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('policy_text', 'text', (c) => c.notNull())
      .addColumn('updated_at', int64, (c) => c.notNull())
      .execute();

    await clustered(
      db.schema
        .createTable('ecr_account_settings')
        .addColumn('name', key, (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('updated_at', int64, (c) => c.notNull()),
    ).execute();

    await db.schema
      .createTable('ecr_creation_templates')
      .addColumn('prefix', key, (c) => c.primaryKey())
      .addColumn('description', 'text')
      .addColumn('encryption_type', 'text', (c) => c.notNull())
      .addColumn('kms_key', 'text')
      .addColumn('resource_tags', 'text', (c) => c.notNull())
      .addColumn('image_tag_mutability', 'text', (c) => c.notNull())
      .addColumn('tag_mutability_filters', 'text', (c) => c.notNull())
      .addColumn('repository_policy', 'text')
      .addColumn('lifecycle_policy', 'text')
      .addColumn('applied_for', 'text', (c) => c.notNull())
      .addColumn('custom_role_arn', 'text')
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('updated_at', int64, (c) => c.notNull())
      .execute();
  },
};
