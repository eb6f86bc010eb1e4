import { sql } from 'kysely';
import { RegistryError } from '../../core/errors.ts';
import type { TagStore } from '../types.ts';
import { atomic, type StoreContext } from './context.ts';

/** Portable (Kysely-only) TagStore. */
export function createTagStore({ db, dialect }: StoreContext): TagStore {
  return {
    async set(repositoryId, tag, digest, at) {
      return atomic(db, async (trx) => {
        // PostgreSQL: serialise moves of one tag so a concurrent move cannot report the same `previous`. A row
        // lock is not enough: a tag that does not exist yet has no row to lock, so two first moves would both
        // report null. A transaction-scoped advisory lock on (repository, tag) covers both. SQLite has one writer.
        if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(${repositoryId}::int4, hashtext(${tag}))`.execute(trx);
        const prev = trx.selectFrom('tags').select('manifest_digest').where('repository_id', '=', repositoryId).where('name', '=', tag);
        const previous = (await prev.executeTakeFirst())?.manifest_digest ?? null;
        // INSERT … SELECT FROM manifests: points the tag only at a manifest the repository has.
        const r = await trx
          .insertInto('tags')
          .columns(['repository_id', 'name', 'manifest_digest', 'updated_at'])
          .expression(
            trx
              .selectFrom('manifests')
              .select([
                'manifests.repository_id',
                sql<string>`cast(${tag} as text)`.as('name'),
                'manifests.digest',
                sql<number>`cast(${at.getTime()} as bigint)`.as('updated_at'),
              ])
              .where('manifests.repository_id', '=', repositoryId)
              .where('manifests.digest', '=', digest),
          )
          .onConflict((oc) =>
            oc.columns(['repository_id', 'name']).doUpdateSet({
              manifest_digest: (eb) => eb.ref('excluded.manifest_digest'),
              updated_at: (eb) => eb.ref('excluded.updated_at'),
            }),
          )
          .executeTakeFirst();
        if (Number(r.numInsertedOrUpdatedRows ?? 0) === 0) {
          throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${digest} is not in the repository`, { digest });
        }
        return { previous };
      });
    },

    async get(repositoryId, tag) {
      const row = await db
        .selectFrom('tags')
        .select('manifest_digest')
        .where('repository_id', '=', repositoryId)
        .where('name', '=', tag)
        .executeTakeFirst();
      return row?.manifest_digest;
    },

    async list(repositoryId, { last, limit }) {
      if (limit <= 0) return [];
      let q = db.selectFrom('tags').select('name').where('repository_id', '=', repositoryId).orderBy('name').limit(limit);
      if (last !== undefined) q = q.where('name', '>', last);
      return (await q.execute()).map((r) => r.name);
    },

    async forDigest(repositoryId, digest) {
      const rows = await db
        .selectFrom('tags')
        .select('name')
        .where('repository_id', '=', repositoryId)
        .where('manifest_digest', '=', digest)
        .orderBy('name')
        .execute();
      return rows.map((r) => r.name);
    },

    async delete(repositoryId, tag) {
      const r = await db.deleteFrom('tags').where('repository_id', '=', repositoryId).where('name', '=', tag).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    async count(repositoryId) {
      const r = await db
        .selectFrom('tags')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('repository_id', '=', repositoryId)
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },
  };
}
