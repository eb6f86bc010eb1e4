import type { Selectable } from 'kysely';
import type { UploadsTable } from '../db.ts';
import type { UploadRecord, UploadStore } from '../types.ts';
import type { StoreContext } from './context.ts';

const columns = ['id', 'repository_id', 'created_at', 'updated_at'] as const;

function toUpload(r: Selectable<UploadsTable>): UploadRecord {
  return {
    id: r.id,
    repositoryId: Number(r.repository_id),
    createdAt: new Date(Number(r.created_at)),
    updatedAt: new Date(Number(r.updated_at)),
  };
}

/** Portable (Kysely-only) UploadStore. Sessions go with their repository (ON DELETE CASCADE). */
export function createUploadStore({ db }: StoreContext): UploadStore {
  return {
    async create(u) {
      await db
        .insertInto('uploads')
        .values({ id: u.id, repository_id: u.repositoryId, created_at: u.createdAt.getTime(), updated_at: u.updatedAt.getTime() })
        .execute();
    },

    async get(id) {
      const row = await db.selectFrom('uploads').select(columns).where('id', '=', id).executeTakeFirst();
      return row && toUpload(row);
    },

    async touch(id, at) {
      await db.updateTable('uploads').set({ updated_at: at.getTime() }).where('id', '=', id).execute();
    },

    async delete(id) {
      const r = await db.deleteFrom('uploads').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    async listStale(before, limit) {
      if (limit <= 0) return [];
      const rows = await db
        .selectFrom('uploads')
        .select(columns)
        .where('updated_at', '<', before.getTime())
        .orderBy('updated_at')
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map(toUpload);
    },
  };
}
