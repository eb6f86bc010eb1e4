import { sql, type Kysely } from 'kysely';
import type { SqlDialectName } from '../db.ts';
import type { Migration } from './migration.ts';

/**
 * Encryption at rest (docs/encryption.md): key scopes (a wrapped data key per scope: the registry's, or a
 * repository's own KMS key), the encrypted objects of each scope (blob digest → stored parts, with a MAC),
 * and the state of encrypted upload sessions. Objects and uploads cascade from their scope, so dropping a
 * scope forgets everything it encrypted.
 */
export const encryption: Migration = {
  version: 9,
  name: 'encryption',
  async up(db: Kysely<any>, dialect: SqlDialectName): Promise<void> {
    const pg = dialect === 'postgres';
    const key = pg ? sql`text collate "C"` : sql`text`;
    const int64 = pg ? 'bigint' : 'integer';
    const bytes = pg ? 'bytea' : 'blob';

    await db.schema
      .createTable('encryption_scopes')
      .addColumn('id', key, (c) => c.primaryKey())
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('wrapped_key', bytes, (c) => c.notNull())
      .addColumn('owned', 'integer', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull())
      .addColumn('rotated_at', int64)
      .execute();

    await db.schema
      .createTable('encrypted_objects')
      .addColumn('scope_id', key, (c) => c.notNull().references('encryption_scopes.id').onDelete('cascade'))
      .addColumn('digest', key, (c) => c.notNull())
      .addColumn('size', int64, (c) => c.notNull())
      .addColumn('parts', 'text', (c) => c.notNull())
      .addColumn('mac', bytes, (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull())
      .addPrimaryKeyConstraint('encrypted_objects_pk', ['scope_id', 'digest'])
      .execute();
    await db.schema.createIndex('encrypted_objects_digest').on('encrypted_objects').columns(['digest', 'scope_id']).execute();

    await db.schema
      .createTable('encrypted_uploads')
      .addColumn('id', key, (c) => c.primaryKey())
      .addColumn('scope_id', key, (c) => c.notNull().references('encryption_scopes.id').onDelete('cascade'))
      .addColumn('size', int64, (c) => c.notNull())
      .addColumn('parts', 'text', (c) => c.notNull())
      .addColumn('updated_at', int64, (c) => c.notNull())
      .execute();
  },
};
