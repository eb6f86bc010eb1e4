import { sql } from 'kysely';
import type { Digest } from '../../core/digest.ts';
import type { ImageStore, ImageSummary } from '../types.ts';
import type { StoreContext } from './context.ts';
import { chunks, distinct, IN_LIST_CHUNK } from './rows.ts';

const summaryColumns = [
  'm.digest',
  'm.media_type',
  'm.artifact_type',
  'm.subject_digest',
  'm.size',
  'm.image_size',
  'm.pushed_at',
  'm.last_pulled_at',
] as const;

interface SummaryRow {
  digest: string;
  media_type: string;
  artifact_type: string | null;
  subject_digest: string | null;
  size: number;
  image_size: number | null;
  pushed_at: number;
  last_pulled_at: number | null;
}

function toSummary(r: SummaryRow): ImageSummary {
  return {
    digest: r.digest,
    mediaType: r.media_type,
    artifactType: r.artifact_type,
    subjectDigest: r.subject_digest,
    size: Number(r.size),
    imageSize: r.image_size === null ? null : Number(r.image_size),
    pushedAt: new Date(Number(r.pushed_at)),
    lastPulledAt: r.last_pulled_at === null ? null : new Date(Number(r.last_pulled_at)),
  };
}

/**
 * Portable (Kysely-only) ImageStore. Listings are keyset pages over `manifests_by_pushed`
 * (repository_id, pushed_at, digest); row-value comparisons work on SQLite ≥ 3.15 and PostgreSQL.
 */
export function createImageStore({ db }: StoreContext): ImageStore {
  const tagged = sql<boolean>`exists (select 1 from tags t where t.repository_id = m.repository_id and t.manifest_digest = m.digest)`;

  /**
   * Manifests of the repository that list `digest` (any kind), from `manifest_references_by_child` alone (a
   * covering read whatever the planner's statistics); the caller then filters by kind through the primary key.
   */
  async function referencing(repositoryId: number, digest: Digest): Promise<string[]> {
    const rows = await db
      .selectFrom('manifest_references')
      .select('manifest_digest')
      .where('repository_id', '=', repositoryId)
      .where('child_digest', '=', digest)
      .limit(IN_LIST_CHUNK)
      .execute();
    return distinct(rows.map((r) => r.manifest_digest));
  }

  return {
    async list(repositoryId, { after, limit, tagStatus }) {
      if (limit <= 0) return [];
      let q = db
        .selectFrom('manifests as m')
        .select(summaryColumns)
        .where('m.repository_id', '=', repositoryId)
        .orderBy('m.pushed_at')
        .orderBy('m.digest')
        .limit(limit);
      if (after) q = q.where(sql<boolean>`(m.pushed_at, m.digest) > (${after.pushedAt}, ${after.digest})`);
      if (tagStatus === 'TAGGED') q = q.where(tagged);
      if (tagStatus === 'UNTAGGED') q = q.where(sql<boolean>`not ${tagged}`);
      return (await q.execute()).map(toSummary);
    },

    async get(repositoryId, digests) {
      const out: ImageSummary[] = [];
      for (const part of chunks(distinct(digests), IN_LIST_CHUNK)) {
        const rows = await db.selectFrom('manifests as m').select(summaryColumns).where('m.repository_id', '=', repositoryId).where('m.digest', 'in', part).execute();
        out.push(...rows.map(toSummary));
      }
      return out.sort((a, b) => a.pushedAt.getTime() - b.pushedAt.getTime() || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
    },

    async tags(repositoryId, digests) {
      const out = new Map<Digest, string[]>();
      for (const part of chunks(distinct(digests), IN_LIST_CHUNK)) {
        const rows = await db
          .selectFrom('tags')
          .select(['manifest_digest', 'name'])
          .where('repository_id', '=', repositoryId)
          .where('manifest_digest', 'in', part)
          .orderBy('manifest_digest')
          .orderBy('name')
          .execute();
        for (const r of rows) {
          const list = out.get(r.manifest_digest);
          if (list) list.push(r.name);
          else out.set(r.manifest_digest, [r.name]);
        }
      }
      return out;
    },

    async listIds(repositoryId, { after, limit, tagStatus }) {
      if (limit <= 0) return [];
      // Ordered by the tag name itself (not an expression), so tags_by_manifest (repository_id,
      // manifest_digest, name) delivers the pairs in order without a sort. An untagged image has one row.
      let q = db
        .selectFrom('manifests as m')
        .leftJoin('tags as t', (j) => j.onRef('t.repository_id', '=', 'm.repository_id').onRef('t.manifest_digest', '=', 'm.digest'))
        .select(['m.digest', 'm.pushed_at', 't.name'])
        .where('m.repository_id', '=', repositoryId)
        .orderBy('m.pushed_at')
        .orderBy('m.digest')
        .orderBy('t.name')
        .limit(limit);
      if (after && after.tag === null) {
        q = q.where(sql<boolean>`(m.pushed_at, m.digest) > (${after.pushedAt}, ${after.digest})`);
      } else if (after) {
        // The first condition lets the index seek; the second skips the pairs of that image already returned.
        q = q
          .where(sql<boolean>`(m.pushed_at, m.digest) >= (${after.pushedAt}, ${after.digest})`)
          .where(sql<boolean>`((m.pushed_at, m.digest) > (${after.pushedAt}, ${after.digest}) or t.name > ${after.tag})`);
      }
      if (tagStatus === 'TAGGED') q = q.where('t.name', 'is not', null);
      if (tagStatus === 'UNTAGGED') q = q.where('t.name', 'is', null);
      const rows = await q.execute();
      return rows.map((r) => ({ digest: r.digest, tag: r.name ?? null, pushedAt: new Date(Number(r.pushed_at)) }));
    },

    async parents(repositoryId, digest) {
      const holders = await referencing(repositoryId, digest);
      if (holders.length === 0) return [];
      const rows = await db
        .selectFrom('manifest_references')
        .select('manifest_digest')
        .distinct()
        .where('repository_id', '=', repositoryId)
        .where('manifest_digest', 'in', holders)
        .where('child_digest', '=', digest)
        .where('kind', '=', 'manifest')
        .orderBy('manifest_digest')
        .execute();
      return rows.map((r) => r.manifest_digest);
    },

    async blobReference(repositoryId, digest) {
      const holders = await referencing(repositoryId, digest);
      if (holders.length === 0) return undefined;
      const row = await db
        .selectFrom('manifest_references')
        .select('media_type')
        .where('repository_id', '=', repositoryId)
        .where('manifest_digest', 'in', holders)
        .where('child_digest', '=', digest)
        .where('kind', '=', 'blob')
        .limit(1)
        .executeTakeFirst();
      return row && { mediaType: row.media_type };
    },

    async imageSizes(repositoryId, digests) {
      const out = new Map<Digest, number>();
      for (const part of chunks(distinct(digests), IN_LIST_CHUNK)) {
        const rows = await db
          .selectFrom('manifests')
          .select(['digest', 'image_size'])
          .where('repository_id', '=', repositoryId)
          .where('digest', 'in', part)
          .execute();
        for (const r of rows) if (r.image_size !== null) out.set(r.digest, Number(r.image_size));
      }
      return out;
    },
  };
}
