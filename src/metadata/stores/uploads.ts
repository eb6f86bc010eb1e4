import { sql, type Selectable } from 'kysely';
import type { UploadsTable } from '../db.ts';
import type { UploadRecord, UploadStore } from '../types.ts';
import type { StoreContext } from './context.ts';

const columns = ['id', 'repository_id', 'created_at', 'updated_at'] as const;

function toUpload(r: Pick<Selectable<UploadsTable>, (typeof columns)[number]>): UploadRecord {
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

    async recordPart(id, size, at) {
      // Right-hand sides read the row as it was: the previous last part becomes an earlier part.
      await db
        .updateTable('uploads')
        .set({
          smallest_earlier_part: sql<number | null>`case when last_part_size is null then smallest_earlier_part when smallest_earlier_part is null or last_part_size < smallest_earlier_part then last_part_size else smallest_earlier_part end`,
          last_part_size: size,
          part_count: sql<number>`part_count + 1`,
          updated_at: at.getTime(),
        })
        .where('id', '=', id)
        .execute();
    },

    async parts(id) {
      const row = await db
        .selectFrom('uploads')
        .select(['part_count', 'last_part_size', 'smallest_earlier_part'])
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row) return undefined;
      return {
        count: Number(row.part_count),
        lastSize: row.last_part_size === null ? null : Number(row.last_part_size),
        smallestEarlier: row.smallest_earlier_part === null ? null : Number(row.smallest_earlier_part),
      };
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
