import { sql, type Expression, type SqlBool } from 'kysely';
import type { Digest } from '../../core/digest.ts';
import type { BlobUse, GcDeletion, GcStore, ReviewQueue, ReviewRow } from '../../gc/types.ts';
import type { MetadataDb } from '../db.ts';
import type { StoreContext } from './context.ts';
import { chunks, distinct, IN_LIST_CHUNK } from './rows.ts';

type RepoQueueTable = 'gc_link_reviews' | 'gc_manifest_reviews';

const REPO_TABLE: Record<'link' | 'manifest', RepoQueueTable> = { link: 'gc_link_reviews', manifest: 'gc_manifest_reviews' };

/**
 * The upsert rule of every review queue: an unscheduled row (NULL) stays unscheduled, a NULL write makes it
 * unscheduled, otherwise the later time wins. A review is never brought forward by a later event.
 */
function mergedReviewAfter(table: string): Expression<number | null> {
  const cur = sql.ref(`${table}.review_after`);
  return sql<number | null>`case when ${cur} is null or excluded.review_after is null then null when excluded.review_after > ${cur} then excluded.review_after else ${cur} end`;
}

/** Queues global blob reviews (used by the stores' own hooks too). `due` null: unscheduled. */
export async function queueBlobReviews(db: MetadataDb, digests: readonly string[], event: string, due: number | null): Promise<void> {
  for (const part of chunks(distinct([...digests]).sort(), IN_LIST_CHUNK)) {
    await db
      .insertInto('gc_blob_reviews')
      .values(part.map((digest) => ({ digest, review_after: due, event })))
      .onConflict((oc) => oc.column('digest').doUpdateSet({ review_after: mergedReviewAfter('gc_blob_reviews'), event: (eb) => eb.ref('excluded.event') }))
      .execute();
  }
}

/** Queues reviews of (repository, digest) rows of a repository queue. `due` null: unscheduled. */
export async function queueRepositoryReviews(db: MetadataDb, table: RepoQueueTable, repositoryId: number, digests: readonly string[], event: string, due: number | null): Promise<void> {
  for (const part of chunks(distinct([...digests]).sort(), IN_LIST_CHUNK)) {
    await db
      .insertInto(table)
      .values(part.map((digest) => ({ repository_id: repositoryId, digest, review_after: due, event })))
      .onConflict((oc) =>
        oc.columns(['repository_id', 'digest']).doUpdateSet({ review_after: mergedReviewAfter(table), event: (eb) => eb.ref('excluded.event') }),
      )
      .execute();
  }
}

/**
 * What a manifest delete may orphan, queued in the manifest delete's own transaction (call it before the
 * manifest's references are removed): the repository's links to the blobs it lists, the child manifests it
 * lists, and the manifests whose subject it is.
 */
export async function queueManifestDeleteReviews(db: MetadataDb, repositoryId: number, digest: string): Promise<void> {
  const refs = await db
    .selectFrom('manifest_references')
    .select(['child_digest', 'kind'])
    .where('repository_id', '=', repositoryId)
    .where('manifest_digest', '=', digest)
    .execute();
  const blobs = refs.filter((r) => r.kind === 'blob').map((r) => r.child_digest);
  const children = refs.filter((r) => r.kind === 'manifest').map((r) => r.child_digest);
  if (blobs.length) await queueRepositoryReviews(db, 'gc_link_reviews', repositoryId, blobs, 'manifest_delete', null);
  if (children.length) await queueRepositoryReviews(db, 'gc_manifest_reviews', repositoryId, children, 'index_delete', null);
  const referrers = await db
    .selectFrom('manifests')
    .select('digest')
    .where('repository_id', '=', repositoryId)
    .where('subject_digest', '=', digest)
    .execute();
  if (referrers.length) await queueRepositoryReviews(db, 'gc_manifest_reviews', repositoryId, referrers.map((r) => r.digest), 'subject_delete', null);
}

/** Before a repository is deleted (same transaction): every blob it links or lists may become garbage. */
export async function queueRepositoryDeleteReviews(db: MetadataDb, repositoryId: number): Promise<void> {
  let after = '';
  for (;;) {
    const rows = await db
      .selectFrom('repository_blobs')
      .select('digest')
      .where('repository_id', '=', repositoryId)
      .where('digest', '>', after)
      .orderBy('digest')
      .limit(IN_LIST_CHUNK)
      .execute();
    if (rows.length === 0) break;
    await queueBlobReviews(db, rows.map((r) => r.digest), 'repository_delete', null);
    after = rows[rows.length - 1].digest;
  }
  const listed = await db
    .selectFrom('manifest_references')
    .select('child_digest')
    .distinct()
    .where('repository_id', '=', repositoryId)
    .where('kind', '=', 'blob')
    .execute();
  if (listed.length) await queueBlobReviews(db, listed.map((r) => r.child_digest), 'repository_delete', null);
}

function toRow(queue: ReviewQueue, r: { repository_id?: number; digest: string; review_after: number | null; event: string; review_count: number }): ReviewRow {
  return {
    queue,
    repositoryId: Number(r.repository_id ?? 0),
    digest: r.digest,
    reviewAfter: r.review_after === null ? null : new Date(Number(r.review_after)),
    event: r.event,
    reviewCount: Number(r.review_count),
  };
}

/** Portable (Kysely-only) GcStore; row locks only on PostgreSQL (SQLite has one writer). */
export function createGcStore({ db, dialect }: StoreContext): GcStore {
  const pg = dialect === 'postgres';

  async function count(table: 'gc_blob_reviews' | RepoQueueTable, where: (eb: any) => Expression<SqlBool>): Promise<number> {
    const r = await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where(where).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  return {
    async protectBlob(digest, event = 'blob_push') {
      await queueBlobReviews(db, [digest], event, null);
    },

    async queueBlobs(digests, event, due) {
      await queueBlobReviews(db, digests, event, due ? due.getTime() : null);
    },

    async queueLinks(repositoryId, digests, event, due) {
      await queueRepositoryReviews(db, 'gc_link_reviews', repositoryId, digests, event, due ? due.getTime() : null);
    },

    async queueManifests(repositoryId, digests, event, due) {
      await queueRepositoryReviews(db, 'gc_manifest_reviews', repositoryId, digests, event, due ? due.getTime() : null);
    },

    async deferLinkReview(repositoryId, digest, until) {
      const row = await db
        .selectFrom('gc_link_reviews')
        .select('review_after')
        .where('repository_id', '=', repositoryId)
        .where('digest', '=', digest)
        .executeTakeFirst();
      if (!row || row.review_after === null || Number(row.review_after) > until.getTime()) return;
      await db
        .updateTable('gc_link_reviews')
        .set({ review_after: null, event: 'blob_head' })
        .where('repository_id', '=', repositoryId)
        .where('digest', '=', digest)
        .execute();
    },

    async schedule(due) {
      let n = 0;
      for (const table of ['gc_blob_reviews', 'gc_link_reviews', 'gc_manifest_reviews'] as const) {
        const r = await db.updateTable(table).set({ review_after: due.getTime() }).where('review_after', 'is', null).executeTakeFirst();
        n += Number(r.numUpdatedRows);
      }
      return n;
    },

    async due(queue, now, { after, limit, lock }) {
      if (limit <= 0) return [];
      if (queue === 'blob') {
        let q = db
          .selectFrom('gc_blob_reviews')
          .select(['digest', 'review_after', 'event', 'review_count'])
          .where('review_after', 'is not', null)
          .where('review_after', '<=', now.getTime())
          .orderBy('review_after')
          .orderBy('digest')
          .limit(limit);
        if (after) q = q.where(sql<boolean>`(review_after, digest) > (${after.reviewAfter}, ${after.digest})`);
        if (lock && pg) q = q.forUpdate().skipLocked();
        return (await q.execute()).map((r) => toRow('blob', r));
      }
      const table = REPO_TABLE[queue];
      let q = db
        .selectFrom(table)
        .select(['repository_id', 'digest', 'review_after', 'event', 'review_count'])
        .where('review_after', 'is not', null)
        .where('review_after', '<=', now.getTime())
        .orderBy('review_after')
        .orderBy('repository_id')
        .orderBy('digest')
        .limit(limit);
      if (after) q = q.where(sql<boolean>`(review_after, repository_id, digest) > (${after.reviewAfter}, ${after.repositoryId}, ${after.digest})`);
      if (lock && pg) q = q.forUpdate().skipLocked();
      return (await q.execute()).map((r) => toRow(queue, r));
    },

    async getReview(queue, repositoryId, digest, lock) {
      if (queue === 'blob') {
        let q = db.selectFrom('gc_blob_reviews').select(['digest', 'review_after', 'event', 'review_count']).where('digest', '=', digest);
        if (lock && pg) q = q.forUpdate();
        const r = await q.executeTakeFirst();
        return r && toRow('blob', r);
      }
      let q = db
        .selectFrom(REPO_TABLE[queue])
        .select(['repository_id', 'digest', 'review_after', 'event', 'review_count'])
        .where('repository_id', '=', repositoryId)
        .where('digest', '=', digest);
      if (lock && pg) q = q.forUpdate();
      const r = await q.executeTakeFirst();
      return r && toRow(queue, r);
    },

    async removeReviews(queue, rows) {
      if (queue === 'blob') {
        for (const part of chunks(rows.map((r) => r.digest), IN_LIST_CHUNK)) await db.deleteFrom('gc_blob_reviews').where('digest', 'in', part).execute();
        return;
      }
      const byRepo = new Map<number, string[]>();
      for (const r of rows) byRepo.set(r.repositoryId, [...(byRepo.get(r.repositoryId) ?? []), r.digest]);
      for (const [repositoryId, digests] of byRepo) {
        for (const part of chunks(digests, IN_LIST_CHUNK)) await db.deleteFrom(REPO_TABLE[queue]).where('repository_id', '=', repositoryId).where('digest', 'in', part).execute();
      }
    },

    async removeReview(queue, repositoryId, digest) {
      if (queue === 'blob') await db.deleteFrom('gc_blob_reviews').where('digest', '=', digest).execute();
      else await db.deleteFrom(REPO_TABLE[queue]).where('repository_id', '=', repositoryId).where('digest', '=', digest).execute();
    },

    async retryReview(queue, repositoryId, digest, at) {
      const set = { review_after: at.getTime(), review_count: sql<number>`review_count + 1` };
      if (queue === 'blob') await db.updateTable('gc_blob_reviews').set(set).where('digest', '=', digest).where('review_after', 'is not', null).execute();
      else await db.updateTable(REPO_TABLE[queue]).set(set).where('repository_id', '=', repositoryId).where('digest', '=', digest).where('review_after', 'is not', null).execute();
    },

    async pending(now) {
      const t = now.getTime();
      const out = {} as Record<ReviewQueue, { due: number; waiting: number }>;
      for (const [queue, table] of [['blob', 'gc_blob_reviews'], ['link', 'gc_link_reviews'], ['manifest', 'gc_manifest_reviews']] as const) {
        const due = await count(table, (eb) => eb.and([eb('review_after', 'is not', null), eb('review_after', '<=', t)]));
        const all = await count(table, (eb) => eb.lit(true));
        out[queue] = { due, waiting: all - due };
      }
      return out;
    },

    async blobUse(digests) {
      const out: BlobUse = new Map();
      for (const d of digests) out.set(d, { links: 0, references: 0, size: null });
      for (const part of chunks(distinct(digests), IN_LIST_CHUNK)) {
        for (const r of await db.selectFrom('blobs').select(['digest', 'size']).where('digest', 'in', part).execute()) out.get(r.digest)!.size = Number(r.size);
        const links = await db.selectFrom('repository_blobs').select((eb) => ['digest', eb.fn.countAll().as('n')]).where('digest', 'in', part).groupBy('digest').execute();
        for (const r of links) out.get(r.digest)!.links = Number(r.n);
        const refs = await db
          .selectFrom('manifest_references')
          .select((eb) => ['child_digest', eb.fn.countAll().as('n')])
          .where('child_digest', 'in', part)
          .groupBy('child_digest')
          .execute();
        for (const r of refs) out.get(r.child_digest)!.references = Number(r.n);
      }
      return out;
    },

    async deleteBlobRows(digests) {
      for (const part of chunks(distinct(digests), IN_LIST_CHUNK)) await db.deleteFrom('blobs').where('digest', 'in', part).execute();
    },

    async linkState(repositoryId, digest, lock) {
      let q = db
        .selectFrom('repository_blobs')
        .innerJoin('blobs', 'blobs.digest', 'repository_blobs.digest')
        .select('blobs.size')
        .where('repository_blobs.repository_id', '=', repositoryId)
        .where('repository_blobs.digest', '=', digest);
      if (lock && pg) q = q.forUpdate('repository_blobs');
      const link = await q.executeTakeFirst();
      const ref = await db
        .selectFrom('manifest_references')
        .select('manifest_digest')
        .where('repository_id', '=', repositoryId)
        .where('child_digest', '=', digest)
        .where('kind', '=', 'blob')
        .limit(1)
        .executeTakeFirst();
      return { linked: link !== undefined, referenced: ref !== undefined, size: link ? Number(link.size) : null };
    },

    async deleteLink(repositoryId, digest) {
      const r = await db.deleteFrom('repository_blobs').where('repository_id', '=', repositoryId).where('digest', '=', digest).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    async manifestState(repositoryId, digest, lock) {
      let q = db.selectFrom('manifests').select(['size', 'subject_digest']).where('repository_id', '=', repositoryId).where('digest', '=', digest);
      if (lock && pg) q = q.forUpdate();
      const m = await q.executeTakeFirst();
      if (!m) return undefined;
      const tags = await db.selectFrom('tags').select((eb) => eb.fn.countAll().as('n')).where('repository_id', '=', repositoryId).where('manifest_digest', '=', digest).executeTakeFirstOrThrow();
      const parents = await db
        .selectFrom('manifest_references')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('repository_id', '=', repositoryId)
        .where('child_digest', '=', digest)
        .where('kind', '=', 'manifest')
        .executeTakeFirstOrThrow();
      const subject = m.subject_digest;
      const subjectPresent = subject
        ? (await db.selectFrom('manifests').select('digest').where('repository_id', '=', repositoryId).where('digest', '=', subject).executeTakeFirst()) !== undefined
        : false;
      return { size: Number(m.size), tags: Number(tags.n), parents: Number(parents.n), subject, subjectPresent };
    },

    async holdReferences(repositoryId, blobs, manifests) {
      const found = async (table: 'repository_blobs' | 'manifests', digests: Digest[]): Promise<Digest[]> => {
        const wanted = distinct(digests);
        const have = new Set<string>();
        for (const part of chunks(wanted, IN_LIST_CHUNK)) {
          let q = db.selectFrom(table).select('digest').where('repository_id', '=', repositoryId).where('digest', 'in', part);
          if (pg) q = q.forShare();
          for (const r of await q.execute()) have.add(r.digest);
        }
        return wanted.filter((d) => !have.has(d));
      };
      return {
        missingBlobs: blobs.length ? await found('repository_blobs', blobs) : [],
        missingManifests: manifests.length ? await found('manifests', manifests) : [],
      };
    },

    async knownBlobs(digests) {
      const have = new Set<Digest>();
      for (const part of chunks(distinct(digests), IN_LIST_CHUNK)) {
        for (const r of await db.selectFrom('blobs').select('digest').where('digest', 'in', part).execute()) have.add(r.digest);
      }
      return have;
    },

    async orphanBlobs({ after, limit }) {
      let q = db
        .selectFrom('blobs as b')
        .select('b.digest')
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('repository_blobs as l').select('l.digest').whereRef('l.digest', '=', 'b.digest'),
            ),
          ),
        )
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('manifest_references as r').select('r.child_digest').whereRef('r.child_digest', '=', 'b.digest'))))
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('gc_blob_reviews as q').select('q.digest').whereRef('q.digest', '=', 'b.digest'))))
        .orderBy('b.digest')
        .limit(limit);
      if (after) q = q.where('b.digest', '>', after);
      return (await q.execute()).map((r) => r.digest);
    },

    async unreferencedLinks({ after, limit }) {
      let q = db
        .selectFrom('repository_blobs as l')
        .select(['l.repository_id', 'l.digest'])
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('manifest_references as r')
                .select('r.child_digest')
                .whereRef('r.repository_id', '=', 'l.repository_id')
                .whereRef('r.child_digest', '=', 'l.digest'),
            ),
          ),
        )
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('gc_link_reviews as q').select('q.digest').whereRef('q.repository_id', '=', 'l.repository_id').whereRef('q.digest', '=', 'l.digest'))),
        )
        .orderBy('l.repository_id')
        .orderBy('l.digest')
        .limit(limit);
      if (after) q = q.where(sql<boolean>`(l.repository_id, l.digest) > (${after.repositoryId}, ${after.digest})`);
      return (await q.execute()).map((r) => ({ repositoryId: Number(r.repository_id), digest: r.digest }));
    },

    async knownUploads(ids) {
      const have = new Set<string>();
      for (const part of chunks(distinct(ids), IN_LIST_CHUNK)) {
        for (const r of await db.selectFrom('uploads').select('id').where('id', 'in', part).execute()) have.add(r.id);
      }
      return have;
    },

    async staleUploads(before, { after, limit }) {
      let q = db.selectFrom('uploads').select(['id', 'updated_at']).where('updated_at', '<', before.getTime()).orderBy('updated_at').orderBy('id').limit(limit);
      if (after) q = q.where(sql<boolean>`(updated_at, id) > (${after.updatedAt}, ${after.id})`);
      return (await q.execute()).map((r) => ({ id: r.id, updatedAt: Number(r.updated_at) }));
    },

    async record(deletions) {
      const list = Array.isArray(deletions) ? deletions : [deletions];
      for (const part of chunks(list, 100)) {
        await db
          .insertInto('gc_deletions')
          .values(part.map((d: GcDeletion) => ({ at: d.at.getTime(), kind: d.kind, repository: d.repository, digest: d.digest, size: d.size, reason: d.reason })))
          .execute();
      }
    },

    async deletions(options = {}) {
      const rows = await db
        .selectFrom('gc_deletions')
        .selectAll()
        .orderBy('at', 'desc')
        .orderBy('id', 'desc')
        .limit(Math.max(1, Math.min(options.limit ?? 100, 10_000)))
        .execute();
      return rows.map((r) => ({
        kind: r.kind as GcDeletion['kind'],
        repository: r.repository,
        digest: r.digest,
        size: r.size === null ? null : Number(r.size),
        reason: r.reason,
        at: new Date(Number(r.at)),
      }));
    },

    async pruneDeletions(before) {
      const r = await db.deleteFrom('gc_deletions').where('at', '<', before.getTime()).executeTakeFirst();
      return Number(r.numDeletedRows);
    },

    async repositoryUsage({ last, limit }) {
      if (limit <= 0) return [];
      let q = db
        .selectFrom('repositories as r')
        .select((eb) => [
          'r.name',
          eb
            .selectFrom('repository_blobs as l')
            .innerJoin('blobs as b', 'b.digest', 'l.digest')
            .select(eb.fn.countAll().as('n'))
            .whereRef('l.repository_id', '=', 'r.id')
            .as('blobs'),
          eb
            .selectFrom('repository_blobs as l')
            .innerJoin('blobs as b', 'b.digest', 'l.digest')
            .select(sql<number>`coalesce(sum(b.size), 0)`.as('s'))
            .whereRef('l.repository_id', '=', 'r.id')
            .as('blob_bytes'),
          eb.selectFrom('manifests as m').select(eb.fn.countAll().as('n')).whereRef('m.repository_id', '=', 'r.id').as('manifests'),
          eb.selectFrom('manifests as m').select(sql<number>`coalesce(sum(m.size), 0)`.as('s')).whereRef('m.repository_id', '=', 'r.id').as('manifest_bytes'),
        ])
        .orderBy('r.name')
        .limit(limit);
      if (last !== undefined) q = q.where('r.name', '>', last);
      return (await q.execute()).map((r) => ({
        repository: r.name,
        blobs: Number(r.blobs ?? 0),
        blobBytes: Number(r.blob_bytes ?? 0),
        manifests: Number(r.manifests ?? 0),
        manifestBytes: Number(r.manifest_bytes ?? 0),
      }));
    },

    async registryUsage() {
      const b = await db.selectFrom('blobs').select((eb) => [eb.fn.countAll().as('n'), sql<number>`coalesce(sum(size), 0)`.as('s')]).executeTakeFirstOrThrow();
      const m = await db.selectFrom('manifests').select((eb) => [eb.fn.countAll().as('n'), sql<number>`coalesce(sum(size), 0)`.as('s')]).executeTakeFirstOrThrow();
      const r = await db.selectFrom('repositories').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
      return { repositories: Number(r.n), blobs: Number(b.n), blobBytes: Number(b.s), manifests: Number(m.n), manifestBytes: Number(m.s) };
    },
  };
}

