import { sql, type Selectable } from 'kysely';
import type { JobsTable } from '../db.ts';
import type { JobListing, JobRecord, JobState, JobStore } from '../../jobs/types.ts';
import type { StoreContext } from './context.ts';

/**
 * `kind U+001F key`: the value of the unique `active_key` while a job is pending or running. U+001F (unit
 * separator), not NUL: PostgreSQL text cannot hold NUL bytes.
 */
function activeKey(kind: string, key: string): string {
  return `${kind}\u001f${key}`;
}

function toRecord(r: Selectable<JobsTable>): JobRecord {
  return {
    id: Number(r.id),
    kind: r.kind,
    key: r.key,
    payload: JSON.parse(r.payload) as unknown,
    attempts: Number(r.attempts),
    runAt: new Date(Number(r.run_at)),
    createdAt: new Date(Number(r.created_at)),
  };
}

function toListing(r: Selectable<JobsTable>): JobListing {
  return {
    ...toRecord(r),
    state: r.state as JobState,
    lastError: r.last_error,
    leaseOwner: r.lease_owner,
    leaseUntil: r.lease_until === null ? null : new Date(Number(r.lease_until)),
    finishedAt: r.finished_at === null ? null : new Date(Number(r.finished_at)),
  };
}

/**
 * Portable JobStore. A claim is one UPDATE … WHERE id = (SELECT … LIMIT 1) RETURNING: atomic on SQLite
 * (one writer) and, with FOR UPDATE SKIP LOCKED in the subquery, on PostgreSQL, where concurrent claimers
 * skip each other's row instead of waiting for it or taking it twice.
 */
export function createJobStore({ db, dialect }: StoreContext): JobStore {
  return {
    async enqueue(kind, key, payload, options = {}) {
      const now = Date.now();
      const runAt = (options.runAt ?? new Date(now)).getTime();
      const inserted = await db
        .insertInto('jobs')
        .values({
          kind,
          key,
          active_key: activeKey(kind, key),
          payload: JSON.stringify(payload ?? null),
          state: 'pending',
          run_at: runAt,
          attempts: 0,
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) => oc.column('active_key').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) return true;
      // Already live: a pending duplicate becomes due no later than the new request asked.
      await db
        .updateTable('jobs')
        .set({ run_at: runAt, updated_at: now })
        .where('active_key', '=', activeKey(kind, key))
        .where('state', '=', 'pending')
        .where('run_at', '>', runAt)
        .execute();
      return false;
    },

    async claim(kinds, owner, leaseMs, now) {
      if (kinds.length === 0) return undefined;
      const t = now.getTime();
      const lock = dialect === 'postgres' ? sql`for update skip locked` : sql``;
      const result = await sql<Selectable<JobsTable>>`
        update jobs
        set state = 'running', lease_owner = ${owner}, lease_until = ${t + leaseMs}, attempts = attempts + 1, updated_at = ${t}
        where id = (
          select id from jobs
          where kind in (${sql.join(kinds.map((k) => sql`${k}`))})
            and ((state = 'pending' and run_at <= ${t}) or (state = 'running' and lease_until < ${t}))
          order by run_at, id
          limit 1
          ${lock}
        )
        returning *`.execute(db);
      const row = result.rows[0];
      return row && toRecord(row);
    },

    async extend(id, owner, leaseMs, now) {
      const r = await db
        .updateTable('jobs')
        .set({ lease_until: now.getTime() + leaseMs, updated_at: now.getTime() })
        .where('id', '=', id)
        .where('state', '=', 'running')
        .where('lease_owner', '=', owner)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    async complete(id, owner, now) {
      const r = await db
        .updateTable('jobs')
        .set({ state: 'done', active_key: null, lease_owner: null, lease_until: null, finished_at: now.getTime(), updated_at: now.getTime(), last_error: null })
        .where('id', '=', id)
        .where('state', '=', 'running')
        .where('lease_owner', '=', owner)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    async fail(id, owner, error, retryAt, now) {
      const t = now.getTime();
      const r = await db
        .updateTable('jobs')
        .set(
          retryAt
            ? { state: 'pending', run_at: retryAt.getTime(), lease_owner: null, lease_until: null, last_error: error.slice(0, 4000), updated_at: t }
            : { state: 'failed', active_key: null, lease_owner: null, lease_until: null, last_error: error.slice(0, 4000), finished_at: t, updated_at: t },
        )
        .where('id', '=', id)
        .where('state', '=', 'running')
        .where('lease_owner', '=', owner)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    async list(options = {}) {
      let q = db.selectFrom('jobs').selectAll();
      if (options.kind) q = q.where('kind', '=', options.kind);
      if (options.state) q = q.where('state', '=', options.state);
      const rows = await q.orderBy('id', 'desc').limit(Math.max(1, Math.min(options.limit ?? 100, 10_000))).execute();
      return rows.map(toListing);
    },

    async prune(before) {
      const r = await db
        .deleteFrom('jobs')
        .where('state', 'in', ['done', 'failed'])
        .where('finished_at', '<', before.getTime())
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}
