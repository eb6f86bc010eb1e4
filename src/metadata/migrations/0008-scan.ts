import { sql, type Kysely } from 'kysely';
import type { SqlDialectName } from '../db.ts';
import type { Migration } from './migration.ts';

/**
 * Vulnerability scanning (src/scan/):
 * - `vuln_advisories`: one row per OSV id (header JSON; withdrawn flag);
 * - `vuln_affected`: the id's affected entries, keyed (advisory, ecosystem, seq) so an import of the same id
 *   from another ecosystem's export merges instead of replacing; indexed by (ecosystem, package) for matching;
 * - `vuln_db_state`: one row: generation (bumped by every import that changed something), age, source;
 * - `scan_inventories`: an image's installed packages (SBOM) by manifest digest, re-matched without layers;
 * - `image_scans`: status and findings per (repository, image), cascading from repositories;
 * - `scan_registry_config`: one row: the registry scanning configuration (ECR PutRegistryScanningConfiguration).
 */
export const scan: Migration = {
  version: 8,
  name: 'scan',
  async up(db: Kysely<any>, dialect: SqlDialectName): Promise<void> {
    const pg = dialect === 'postgres';
    const key = pg ? sql`text collate "C"` : sql`text`;
    const int64 = pg ? 'bigint' : 'integer';

    await db.schema
      .createTable('vuln_advisories')
      .addColumn('id', key, (c) => c.primaryKey())
      .addColumn('modified', 'text')
      .addColumn('withdrawn', 'integer', (c) => c.notNull())
      .addColumn('header', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('vuln_affected')
      .addColumn('advisory_id', key, (c) => c.notNull().references('vuln_advisories.id').onDelete('cascade'))
      .addColumn('ecosystem', key, (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('package', key, (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('vuln_affected_pk', ['advisory_id', 'ecosystem', 'seq'])
      .execute();
    await db.schema.createIndex('vuln_affected_by_package').on('vuln_affected').columns(['ecosystem', 'package']).execute();

    await db.schema
      .createTable('vuln_db_state')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('generation', int64, (c) => c.notNull())
      .addColumn('updated_at', int64)
      .addColumn('source', 'text')
      .execute();
    await db.insertInto('vuln_db_state').values({ id: 1, generation: 0, updated_at: null, source: null }).execute();

    await db.schema
      .createTable('scan_inventories')
      .addColumn('digest', key, (c) => c.primaryKey())
      .addColumn('inventory', 'text', (c) => c.notNull())
      .addColumn('created_at', int64, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('image_scans')
      .addColumn('repository_id', 'integer', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
      .addColumn('digest', key, (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('requested_at', int64, (c) => c.notNull())
      .addColumn('completed_at', int64)
      .addColumn('db_generation', int64)
      .addColumn('source_updated_at', int64)
      .addColumn('findings', 'text')
      .addPrimaryKeyConstraint('image_scans_pk', ['repository_id', 'digest'])
      .execute();
    await db.schema.createIndex('image_scans_by_generation').on('image_scans').columns(['db_generation']).execute();

    await db.schema
      .createTable('scan_registry_config')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('config', 'text', (c) => c.notNull())
      .addColumn('updated_at', int64, (c) => c.notNull())
      .execute();
  },
};
