import { sql, type Selectable } from 'kysely';
import type { LifecycleEventsTable, LifecyclePoliciesTable, LifecyclePreviewResultsTable, LifecyclePreviewsTable } from '../db.ts';
import type {
  LifecycleEventRecord,
  LifecyclePolicyRecord,
  LifecycleImageRow,
  LifecyclePreviewRecord,
  LifecyclePreviewResult,
  LifecyclePreviewStatus,
  LifecycleStore,
} from '../types.ts';
import { atomic, type StoreContext } from './context.ts';
import { chunks, distinct, IN_LIST_CHUNK } from './rows.ts';

/** Rows per multi-row insert (7 columns each: far below either dialect's bind-parameter limit). */
const INSERT_CHUNK = 400;

function toPolicy(r: Selectable<LifecyclePoliciesTable>): LifecyclePolicyRecord {
  return {
    repositoryId: Number(r.repository_id),
    policyText: r.policy_text,
    updatedAt: new Date(Number(r.updated_at)),
    lastEvaluatedAt: r.last_evaluated_at === null ? null : new Date(Number(r.last_evaluated_at)),
  };
}

function toPreview(r: Selectable<LifecyclePreviewsTable>): LifecyclePreviewRecord {
  return {
    repositoryId: Number(r.repository_id),
    policyText: r.policy_text,
    status: r.status as LifecyclePreviewStatus,
    expiringCount: Number(r.expiring_count),
    error: r.error,
    startedAt: new Date(Number(r.started_at)),
    finishedAt: r.finished_at === null ? null : new Date(Number(r.finished_at)),
  };
}

function toResult(r: Selectable<LifecyclePreviewResultsTable>): LifecyclePreviewResult {
  return { digest: r.image_digest, tags: JSON.parse(r.image_tags) as string[], pushedAt: new Date(Number(r.pushed_at)), rulePriority: Number(r.rule_priority), reason: r.reason };
}

function toEvent(r: Selectable<LifecycleEventsTable>): LifecycleEventRecord {
  return {
    id: Number(r.id),
    repositoryName: r.repository_name,
    digest: r.image_digest,
    tags: JSON.parse(r.image_tags) as string[],
    rulePriority: Number(r.rule_priority),
    reason: r.reason,
    at: new Date(Number(r.at)),
  };
}

/** Portable (Kysely-only) LifecycleStore. */
export function createLifecycleStore({ db, dialect }: StoreContext): LifecycleStore {
  return {
    async getPolicy(repositoryId) {
      const r = await db.selectFrom('lifecycle_policies').selectAll().where('repository_id', '=', repositoryId).executeTakeFirst();
      return r ? toPolicy(r) : undefined;
    },

    async putPolicy(repositoryId, policyText, at) {
      await db
        .insertInto('lifecycle_policies')
        .values({ repository_id: repositoryId, policy_text: policyText, updated_at: at.getTime(), last_evaluated_at: null })
        .onConflict((oc) => oc.column('repository_id').doUpdateSet({ policy_text: policyText, updated_at: at.getTime() }))
        .execute();
    },

    async deletePolicy(repositoryId) {
      return atomic(db, async (tx) => {
        // PostgreSQL: hold the row, so of two concurrent deletes only one sees (and returns) the policy.
        let q = tx.selectFrom('lifecycle_policies').selectAll().where('repository_id', '=', repositoryId);
        if (dialect === 'postgres') q = q.forUpdate();
        const r = await q.executeTakeFirst();
        if (!r) return undefined;
        await tx.deleteFrom('lifecycle_policies').where('repository_id', '=', repositoryId).execute();
        return toPolicy(r);
      });
    },

    async markEvaluated(repositoryId, at) {
      await db.updateTable('lifecycle_policies').set({ last_evaluated_at: at.getTime() }).where('repository_id', '=', repositoryId).execute();
    },

    async listPolicies({ afterId, limit }) {
      if (limit <= 0) return [];
      let q = db
        .selectFrom('lifecycle_policies as p')
        .innerJoin('repositories as r', 'r.id', 'p.repository_id')
        .select(['p.repository_id', 'r.name'])
        .orderBy('p.repository_id')
        .limit(limit);
      if (afterId !== undefined) q = q.where('p.repository_id', '>', afterId);
      return (await q.execute()).map((r) => ({ repositoryId: Number(r.repository_id), repositoryName: r.name }));
    },

    async getPreview(repositoryId) {
      const r = await db.selectFrom('lifecycle_previews').selectAll().where('repository_id', '=', repositoryId).executeTakeFirst();
      return r ? toPreview(r) : undefined;
    },

    async startPreview(repositoryId, policyText, at, staleBefore) {
      return atomic(db, async (tx) => {
        // PostgreSQL: serialise concurrent starts for one repository on its row (SQLite has a single writer),
        // so two nodes cannot both see "no preview in progress" and both start one.
        if (dialect === 'postgres') await tx.selectFrom('repositories').select('id').where('id', '=', repositoryId).forUpdate().executeTakeFirst();
        const current = await tx.selectFrom('lifecycle_previews').select(['status', 'started_at']).where('repository_id', '=', repositoryId).executeTakeFirst();
        if (current && current.status === 'IN_PROGRESS' && Number(current.started_at) >= staleBefore.getTime()) return false;
        await tx.deleteFrom('lifecycle_preview_results').where('repository_id', '=', repositoryId).execute();
        const values = { policy_text: policyText, status: 'IN_PROGRESS', expiring_count: 0, error: null, started_at: at.getTime(), finished_at: null };
        await tx
          .insertInto('lifecycle_previews')
          .values({ repository_id: repositoryId, ...values })
          .onConflict((oc) => oc.column('repository_id').doUpdateSet(values))
          .execute();
        return true;
      });
    },

    async completePreview(repositoryId, startedAt, results, at) {
      return atomic(db, async (tx) => {
        const claimed = await tx
          .updateTable('lifecycle_previews')
          .set({ status: 'COMPLETE', expiring_count: results.length, finished_at: at.getTime() })
          .where('repository_id', '=', repositoryId)
          .where('status', '=', 'IN_PROGRESS')
          .where('started_at', '=', startedAt.getTime())
          .executeTakeFirst();
        if (Number(claimed.numUpdatedRows) === 0) return false;
        for (const part of chunks(results, INSERT_CHUNK)) {
          await tx
            .insertInto('lifecycle_preview_results')
            .values(part.map((r) => ({
              repository_id: repositoryId,
              image_digest: r.digest,
              image_tags: JSON.stringify(r.tags),
              tagged: r.tags.length > 0 ? 1 : 0,
              pushed_at: r.pushedAt.getTime(),
              rule_priority: r.rulePriority,
              reason: r.reason,
            })))
            .execute();
        }
        return true;
      });
    },

    async failPreview(repositoryId, startedAt, error, at) {
      const r = await db
        .updateTable('lifecycle_previews')
        .set({ status: 'FAILED', error, finished_at: at.getTime() })
        .where('repository_id', '=', repositoryId)
        .where('status', '=', 'IN_PROGRESS')
        .where('started_at', '=', startedAt.getTime())
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    async previewResults(repositoryId, { after, limit, tagStatus }) {
      if (limit <= 0) return [];
      let q = db
        .selectFrom('lifecycle_preview_results')
        .selectAll()
        .where('repository_id', '=', repositoryId)
        .orderBy('pushed_at')
        .orderBy('image_digest')
        .limit(limit);
      if (after) q = q.where(sql<boolean>`(pushed_at, image_digest) > (${after.pushedAt}, ${after.digest})`);
      if (tagStatus === 'TAGGED') q = q.where('tagged', '=', 1);
      if (tagStatus === 'UNTAGGED') q = q.where('tagged', '=', 0);
      return (await q.execute()).map(toResult);
    },

    async previewResultsFor(repositoryId, digests) {
      const out: LifecyclePreviewResult[] = [];
      for (const part of chunks(distinct(digests), IN_LIST_CHUNK)) {
        const rows = await db.selectFrom('lifecycle_preview_results').selectAll().where('repository_id', '=', repositoryId).where('image_digest', 'in', part).execute();
        out.push(...rows.map(toResult));
      }
      return out.sort((a, b) => a.pushedAt.getTime() - b.pushedAt.getTime() || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
    },

    async appendEvents(events) {
      const ids: number[] = [];
      await atomic(db, async (tx) => {
        for (const part of chunks(events, INSERT_CHUNK)) {
          const rows = await tx
            .insertInto('lifecycle_events')
            .values(part.map((e) => ({
              repository_name: e.repositoryName,
              image_digest: e.digest,
              image_tags: JSON.stringify(e.tags),
              rule_priority: e.rulePriority,
              reason: e.reason,
              at: e.at.getTime(),
            })))
            .returning('id')
            .execute();
          ids.push(...rows.map((r) => Number(r.id)).sort((a, b) => a - b));
        }
      });
      return ids;
    },

    async events({ afterId, limit, repositoryName }) {
      if (limit <= 0) return [];
      let q = db.selectFrom('lifecycle_events').selectAll().orderBy('id').limit(limit);
      if (afterId !== undefined) q = q.where('id', '>', afterId);
      if (repositoryName !== undefined) q = q.where('repository_name', '=', repositoryName);
      return (await q.execute()).map(toEvent);
    },

    async images(repositoryId) {
      return atomic(db, async (tx) => {
        const manifests = await tx
          .selectFrom('manifests')
          .select(['digest', 'media_type', 'subject_digest', 'pushed_at', 'last_pulled_at'])
          .where('repository_id', '=', repositoryId)
          .orderBy('pushed_at')
          .orderBy('digest')
          .execute();
        const tags = await tx.selectFrom('tags').select(['manifest_digest', 'name']).where('repository_id', '=', repositoryId).orderBy('name').execute();
        const children = await tx
          .selectFrom('manifest_references')
          .select(['manifest_digest', 'child_digest'])
          .where('repository_id', '=', repositoryId)
          .where('kind', '=', 'manifest')
          .orderBy('manifest_digest')
          .orderBy('position')
          .execute();
        const rows = new Map<string, LifecycleImageRow>();
        for (const m of manifests) {
          rows.set(m.digest, {
            digest: m.digest,
            mediaType: m.media_type,
            subjectDigest: m.subject_digest,
            pushedAt: new Date(Number(m.pushed_at)),
            lastPulledAt: m.last_pulled_at === null ? null : new Date(Number(m.last_pulled_at)),
            tags: [],
            children: [],
          });
        }
        for (const t of tags) rows.get(t.manifest_digest)?.tags.push(t.name);
        for (const c of children) rows.get(c.manifest_digest)?.children.push(c.child_digest);
        return [...rows.values()];
      });
    },
  };
}
