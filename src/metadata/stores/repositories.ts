import { RegistryError } from '../../core/errors.ts';
import type { RepositoryRecord, RepositoryStore } from '../types.ts';
import { atomic, type StoreContext } from './context.ts';
import { queueRepositoryDeleteReviews } from './gc.ts';
import { toRepository } from './rows.ts';

const columns = ['id', 'name', 'created_at'] as const;

/** Portable (Kysely-only) RepositoryStore. Deleting a repository relies on ON DELETE CASCADE for its rows. */
export function createRepositoryStore({ db }: StoreContext): RepositoryStore {
  /** Inserts unless the name exists; returns the new row or undefined. */
  async function insert(name: string, at: Date): Promise<RepositoryRecord | undefined> {
    const row = await db
      .insertInto('repositories')
      .values({ name, created_at: at.getTime() })
      .onConflict((oc) => oc.column('name').doNothing())
      .returning(columns)
      .executeTakeFirst();
    return row && toRepository(row);
  }

  async function get(name: string): Promise<RepositoryRecord | undefined> {
    const row = await db.selectFrom('repositories').select(columns).where('name', '=', name).executeTakeFirst();
    return row && toRepository(row);
  }

  return {
    async create(name, at) {
      const created = await insert(name, at);
      if (!created) throw new RegistryError('REPOSITORY_EXISTS', `repository "${name}" already exists`, { repositoryName: name });
      return created;
    },

    async getOrCreate(name, at) {
      // Read first (no write lock when it exists), else insert-or-nothing then read again: racers all end
      // with the same row. The loop only repeats if the row is deleted between the statements.
      for (let attempt = 0; attempt < 3; attempt++) {
        const row = (await get(name)) ?? (await insert(name, at)) ?? (await get(name));
        if (row) return row;
      }
      throw new RegistryError('CONFLICT', `repository "${name}" is being deleted concurrently`, { repositoryName: name });
    },

    get,

    async getById(id) {
      const row = await db.selectFrom('repositories').select(columns).where('id', '=', id).executeTakeFirst();
      return row && toRepository(row);
    },

    async list({ last, limit }) {
      if (limit <= 0) return [];
      let q = db.selectFrom('repositories').select('name').orderBy('name').limit(limit);
      if (last !== undefined) q = q.where('name', '>', last);
      return (await q.execute()).map((r) => r.name);
    },

    async delete(id) {
      return atomic(db, async (trx) => {
        // GC (docs/gc.md): every blob the repository links or lists may be referenced by nothing afterwards.
        await queueRepositoryDeleteReviews(trx, id);
        const r = await trx.deleteFrom('repositories').where('id', '=', id).executeTakeFirst();
        return Number(r.numDeletedRows) > 0;
      });
    },

    async count() {
      const r = await db
        .selectFrom('repositories')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },
  };
}
