import type { Digest } from '../../core/digest.ts';
import type { ManifestRecord, ManifestStore } from '../types.ts';
import { atomic, type StoreContext } from './context.ts';
import { queueManifestDeleteReviews } from './gc.ts';
import { chunks, missingDigests, manifestColumns, toManifest } from './rows.ts';

/** Reference rows per multi-row INSERT (7 parameters each). */
const REFERENCE_CHUNK = 200;
const joinedColumns = manifestColumns.map((c) => `manifests.${c}` as const);

/** Portable (Kysely-only) ManifestStore. */
export function createManifestStore({ db, pulls }: StoreContext): ManifestStore {
  return {
    async put(m, references) {
      return atomic(db, async (trx) => {
        const r = await trx
          .insertInto('manifests')
          .values({
            repository_id: m.repositoryId,
            digest: m.digest,
            media_type: m.mediaType,
            artifact_type: m.artifactType,
            subject_digest: m.subjectDigest,
            annotations: m.annotations,
            size: m.size,
            body: m.body,
            pushed_at: m.pushedAt.getTime(),
            last_pulled_at: null,
            image_size: m.imageSize ?? null,
          })
          .onConflict((oc) => oc.columns(['repository_id', 'digest']).doNothing())
          .executeTakeFirst();
        if (Number(r.numInsertedOrUpdatedRows ?? 0) === 0) return { created: false };
        const rows = references.map((ref, position) => ({
          repository_id: m.repositoryId,
          manifest_digest: m.digest,
          position,
          child_digest: ref.digest,
          kind: ref.kind,
          size: ref.size,
          media_type: ref.mediaType,
        }));
        for (const part of chunks(rows, REFERENCE_CHUNK)) await trx.insertInto('manifest_references').values(part).execute();
        return { created: true };
      });
    },

    async get(repositoryId, digest) {
      const row = await db
        .selectFrom('manifests')
        .select(manifestColumns)
        .where('repository_id', '=', repositoryId)
        .where('digest', '=', digest)
        .executeTakeFirst();
      return row && toManifest(row);
    },

    async getByTag(repositoryId, tag): Promise<ManifestRecord | undefined> {
      const row = await db
        .selectFrom('tags')
        .innerJoin('manifests', (j) =>
          j.onRef('manifests.repository_id', '=', 'tags.repository_id').onRef('manifests.digest', '=', 'tags.manifest_digest'),
        )
        .select(joinedColumns)
        .where('tags.repository_id', '=', repositoryId)
        .where('tags.name', '=', tag)
        .executeTakeFirst();
      return row && toManifest(row);
    },

    missing(repositoryId, digests) {
      return missingDigests(db, 'manifests', repositoryId, digests) as Promise<Digest[]>;
    },

    async references(repositoryId, digest) {
      const rows = await db
        .selectFrom('manifest_references')
        .select(['child_digest', 'kind', 'size', 'media_type'])
        .where('repository_id', '=', repositoryId)
        .where('manifest_digest', '=', digest)
        .orderBy('position')
        .execute();
      return rows.map((r) => ({ digest: r.child_digest, kind: r.kind, size: Number(r.size), mediaType: r.media_type }));
    },

    async delete(repositoryId, digest) {
      return atomic(db, async (trx) => {
        // Tags first: they would otherwise vanish through the cascade before we could name them.
        const tags = await trx
          .deleteFrom('tags')
          .where('repository_id', '=', repositoryId)
          .where('manifest_digest', '=', digest)
          .returning('name')
          .execute();
        // GC (docs/gc.md): what this delete may orphan is queued for review in the same transaction.
        const present = await trx.selectFrom('manifests').select('digest').where('repository_id', '=', repositoryId).where('digest', '=', digest).executeTakeFirst();
        if (present) await queueManifestDeleteReviews(trx, repositoryId, digest);
        await trx.deleteFrom('manifest_references').where('repository_id', '=', repositoryId).where('manifest_digest', '=', digest).execute();
        const r = await trx.deleteFrom('manifests').where('repository_id', '=', repositoryId).where('digest', '=', digest).executeTakeFirst();
        if (Number(r.numDeletedRows) === 0) return undefined;
        return { tags: tags.map((t) => t.name).sort(byteOrder) };
      });
    },

    async referrers(repositoryId, subject, artifactType) {
      let q = db
        .selectFrom('manifests')
        .select(['digest', 'media_type', 'artifact_type', 'size', 'annotations'])
        .where('repository_id', '=', repositoryId)
        .where('subject_digest', '=', subject)
        .orderBy('digest');
      if (artifactType !== undefined) q = q.where('artifact_type', '=', artifactType);
      const rows = await q.execute();
      return rows.map((r) => ({
        digest: r.digest,
        mediaType: r.media_type,
        artifactType: r.artifact_type,
        size: Number(r.size),
        annotations: r.annotations,
      }));
    },

    async touchPulled(repositoryId, digest, at) {
      pulls.record(repositoryId, digest, at.getTime());
    },

    async list(repositoryId, { last, limit }) {
      if (limit <= 0) return [];
      let q = db.selectFrom('manifests').select('digest').where('repository_id', '=', repositoryId).orderBy('digest').limit(limit);
      if (last !== undefined) q = q.where('digest', '>', last);
      return (await q.execute()).map((r) => r.digest as Digest);
    },
  };
}

/** Byte order for ASCII names (what the database's BINARY / "C" collation gives). */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
