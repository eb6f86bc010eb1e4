import { sql, type Kysely } from 'kysely';
import type { SqlDialectName } from '../db.ts';
import type { Migration } from './migration.ts';

/**
 * Identity (IAM-style): users, their access keys (secrets stored encrypted by the caller, never in clear)
 * and their inline policies. Keys and policies go with their user (ON DELETE CASCADE).
 */
export const identity: Migration = {
  version: 3,
  name: 'identity',
  async up(db: Kysely<any>, dialect: SqlDialectName): Promise<void> {
    const pg = dialect === 'postgres';
    const key = pg ? sql`text collate "C"` : sql`text`;
    const int64 = pg ? 'bigint' : 'integer';

    await db.schema
      .createTable('iam_users')
      .addColumn('name', key, (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().unique())
      .addColumn('arn', 'text', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('iam_access_keys')
      .addColumn('access_key_id', 'text', (c) => c.primaryKey())
      .addColumn('user_name', key, (c) => c.notNull().references('iam_users.name').onDelete('cascade'))
      .addColumn('secret_ciphertext', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('last_used_at', int64)
      .execute();
    await db.schema.createIndex('iam_access_keys_by_user').on('iam_access_keys').columns(['user_name', 'created_at']).execute();

    await db.schema
      .createTable('iam_user_policies')
      .addColumn('user_name', key, (c) => c.notNull().references('iam_users.name').onDelete('cascade'))
      .addColumn('policy_name', key, (c) => c.notNull())
      .addColumn('document', 'text', (c) => c.notNull())
      .addColumn('updated_at', int64, (c) => c.notNull())
      .addPrimaryKeyConstraint('iam_user_policies_pk', ['user_name', 'policy_name'])
      .execute();
  },
};
