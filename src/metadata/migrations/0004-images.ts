import { sql, type Kysely } from 'kysely';
import type { SqlDialectName } from '../db.ts';
import type { Migration } from './migration.ts';

/**
 * Image-level state the ECR API reports without recomputing it:
 * - `manifests.image_size`: ECR's imageSizeInBytes, filled at push (sum of the blob descriptors an image
 *   manifest lists; for an index, the largest of its children). Existing rows are backfilled here.
 * - `manifests_by_pushed`: DescribeImages / ListImages page in (pushed_at, digest) order, keyset only.
 * - `uploads.part_count / last_part_size / smallest_earlier_part`: the part sizes of an upload session, so
 *   CompleteLayerUpload can refuse a non-final part under ECR's minimum (LayerPartTooSmallException).
 */
export const images: Migration = {
  version: 4,
  name: 'images',
  async up(db: Kysely<any>, dialect: SqlDialectName): Promise<void> {
    const int64 = dialect === 'postgres' ? 'bigint' : 'integer';
    await db.schema.alterTable('manifests').addColumn('image_size', int64).execute();
    await db.schema.createIndex('manifests_by_pushed').on('manifests').columns(['repository_id', 'pushed_at', 'digest']).execute();
    await db.schema.alterTable('uploads').addColumn('part_count', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('uploads').addColumn('last_part_size', int64).execute();
    await db.schema.alterTable('uploads').addColumn('smallest_earlier_part', int64).execute();

    // Backfill: images first (sum of their blob references), then indexes (largest child).
    await sql`
      update manifests set image_size = coalesce((
        select sum(r.size) from manifest_references r
        where r.repository_id = manifests.repository_id and r.manifest_digest = manifests.digest and r.kind = 'blob'
      ), 0)
      where not exists (
        select 1 from manifest_references r
        where r.repository_id = manifests.repository_id and r.manifest_digest = manifests.digest and r.kind = 'manifest'
      )`.execute(db);
    await sql`
      update manifests set image_size = coalesce((
        select max(coalesce(c.image_size, r.size)) from manifest_references r
        left join manifests c on c.repository_id = r.repository_id and c.digest = r.child_digest
        where r.repository_id = manifests.repository_id and r.manifest_digest = manifests.digest and r.kind = 'manifest'
      ), 0)
      where image_size is null`.execute(db);
  },
};
