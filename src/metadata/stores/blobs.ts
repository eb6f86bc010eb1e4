import { sql } from 'kysely';
import { RegistryError } from '../../core/errors.ts';
import type { Digest } from '../../core/digest.ts';
import type { BlobMetadataStore, BlobRecord } from '../types.ts';
import { atomic, type StoreContext as Ctx } from './context.ts';
import { queueBlobReviews, queueRepositoryReviews } from './gc.ts';
import { missingDigests, toBlob } from './rows.ts';

const columns = ['blobs.digest', 'blobs.size', 'blobs.media_type', 'blobs.created_at'] as const;

/** Portable (Kysely-only) BlobMetadataStore. */
export function createBlobStore({ db: root }: Ctx): BlobMetadataStore {
  const db = root;
  async function get(digest: Digest): Promise<BlobRecord | undefined> {
    const row = await db.selectFrom('blobs').select(columns).where('digest', '=', digest).executeTakeFirst();
    return row && toBlob(row);
  }

  return {
    async put(digest, size, mediaType, at) {
      await db
        .insertInto('blobs')
        .values({ digest, size, media_type: mediaType, created_at: at.getTime() })
        // Keep the first row; only fill in a media type learnt later (a write only in that case).
        .onConflict((oc) =>
          oc
            .column('digest')
            .doUpdateSet({ media_type: (eb) => eb.ref('excluded.media_type') })
            .where('blobs.media_type', 'is', null)
            .where('excluded.media_type', 'is not', null),
        )
        .execute();
    },

    get,

    async link(repositoryId, digest, at) {
      return atomic(root, async (db) => {
        // GC (docs/gc.md): pin the blob first (its review row is where a collector deleting it holds its
        // lock), then queue a review of the new link, which no manifest references yet.
        await queueBlobReviews(db, [digest], 'link_create', null);
        await queueRepositoryReviews(db, 'gc_link_reviews', repositoryId, [digest], 'link_create', null);
        // INSERT … SELECT FROM blobs: links only an existing blob, in one statement. Casts give the
        // parameters a type on PostgreSQL.
        const r = await db
          .insertInto('repository_blobs')
          .columns(['repository_id', 'digest', 'created_at'])
          .expression(
            db
              .selectFrom('blobs')
              .select([
                sql<number>`cast(${repositoryId} as integer)`.as('repository_id'),
                'blobs.digest',
                sql<number>`cast(${at.getTime()} as bigint)`.as('created_at'),
              ])
              .where('blobs.digest', '=', digest),
          )
          .onConflict((oc) => oc.columns(['repository_id', 'digest']).doNothing())
          .executeTakeFirst();
        if (Number(r.numInsertedOrUpdatedRows ?? 0) > 0) return;
        const exists = await db.selectFrom('blobs').select('digest').where('digest', '=', digest).executeTakeFirst();
        if (!exists) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} is not stored`, { digest });
      });
    },

    async getLinked(repositoryId, digest) {
      const row = await db
        .selectFrom('repository_blobs')
        .innerJoin('blobs', 'blobs.digest', 'repository_blobs.digest')
        .select(columns)
        .where('repository_blobs.repository_id', '=', repositoryId)
        .where('repository_blobs.digest', '=', digest)
        .executeTakeFirst();
      return row && toBlob(row);
    },

    async unlink(repositoryId, digest) {
      return atomic(root, async (db) => {
        const r = await db
          .deleteFrom('repository_blobs')
          .where('repository_id', '=', repositoryId)
          .where('digest', '=', digest)
          .executeTakeFirst();
        if (Number(r.numDeletedRows) === 0) return false;
        // The blob may now be referenced by nothing (GC reviews it).
        await queueBlobReviews(db, [digest], 'link_delete', null);
        return true;
      });
    },

    missingLinks(repositoryId, digests) {
      return missingDigests(db, 'repository_blobs', repositoryId, digests) as Promise<Digest[]>;
    },

    async delete(digest) {
      // Links go with the row (ON DELETE CASCADE).
      const r = await db.deleteFrom('blobs').where('digest', '=', digest).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
  };
}
