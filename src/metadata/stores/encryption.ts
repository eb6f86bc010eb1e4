import type { EncryptedObjectRecord, EncryptedUploadRecord, EncryptionScopeRecord, EncryptionStore } from '../encryption-types.ts';
import type { StoreContext } from './context.ts';

/** `meta.encryption` over Kysely (migration 0009). */
export function createEncryptionStore(ctx: StoreContext): EncryptionStore {
  const { db } = ctx;
  const scope = (r: { id: string; key_id: string; provider: string; wrapped_key: Buffer; owned: number; created_at: number | string; rotated_at: number | string | null }): EncryptionScopeRecord => ({
    id: r.id,
    keyId: r.key_id,
    provider: r.provider,
    wrappedKey: Buffer.from(r.wrapped_key),
    owned: Number(r.owned) === 1,
    createdAt: new Date(Number(r.created_at)),
    rotatedAt: r.rotated_at === null ? null : new Date(Number(r.rotated_at)),
  });
  const object = (r: { scope_id: string; digest: string; size: number | string; parts: string; mac: Buffer; created_at: number | string }): EncryptedObjectRecord => ({
    scopeId: r.scope_id,
    digest: r.digest,
    size: Number(r.size),
    parts: r.parts,
    mac: Buffer.from(r.mac),
    createdAt: new Date(Number(r.created_at)),
  });

  const upload = (r: { id: string; scope_id: string; size: number | string; parts: string; updated_at: number | string }): EncryptedUploadRecord => ({
    id: r.id, scopeId: r.scope_id, size: Number(r.size), parts: r.parts, updatedAt: new Date(Number(r.updated_at)),
  });

  return {
    async getScope(id) {
      const r = await db.selectFrom('encryption_scopes').selectAll().where('id', '=', id).executeTakeFirst();
      return r && scope(r);
    },

    async putScope(rec) {
      const r = await db.insertInto('encryption_scopes')
        .values({ id: rec.id, key_id: rec.keyId, provider: rec.provider, wrapped_key: rec.wrappedKey, owned: rec.owned ? 1 : 0, created_at: rec.createdAt.getTime(), rotated_at: null })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      return { created: Number(r.numInsertedOrUpdatedRows ?? 0) > 0 };
    },

    async listScopes(page) {
      let q = db.selectFrom('encryption_scopes').selectAll().orderBy('id').limit(page.limit);
      if (page.last !== undefined) q = q.where('id', '>', page.last);
      return (await q.execute()).map(scope);
    },

    async rewrapScope(id, wrappedKey, at) {
      const r = await db.updateTable('encryption_scopes').set({ wrapped_key: wrappedKey, rotated_at: at.getTime() }).where('id', '=', id).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    async deleteScope(id) {
      const r = await db.deleteFrom('encryption_scopes').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    async getObject(scopeId, digest) {
      const r = await db.selectFrom('encrypted_objects').selectAll().where('scope_id', '=', scopeId).where('digest', '=', digest).executeTakeFirst();
      return r && object(r);
    },

    async putObject(rec) {
      const r = await db.insertInto('encrypted_objects')
        .values({ scope_id: rec.scopeId, digest: rec.digest, size: rec.size, parts: rec.parts, mac: rec.mac, created_at: rec.createdAt.getTime() })
        .onConflict((oc) => oc.columns(['scope_id', 'digest']).doNothing())
        .executeTakeFirst();
      return { created: Number(r.numInsertedOrUpdatedRows ?? 0) > 0 };
    },

    async deleteObject(scopeId, digest) {
      const r = await db.deleteFrom('encrypted_objects').where('scope_id', '=', scopeId).where('digest', '=', digest).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    async objectsFor(digest) {
      return (await db.selectFrom('encrypted_objects').selectAll().where('digest', '=', digest).orderBy('scope_id').limit(1000).execute()).map(object);
    },

    async listObjects(scopeId, page) {
      let q = db.selectFrom('encrypted_objects').selectAll().where('scope_id', '=', scopeId).orderBy('digest').limit(page.limit);
      if (page.last !== undefined) q = q.where('digest', '>', page.last);
      return (await q.execute()).map(object);
    },

    async getUpload(id) {
      const r = await db.selectFrom('encrypted_uploads').selectAll().where('id', '=', id).executeTakeFirst();
      return r && upload(r);
    },

    async repositoriesUsingKey(keyId) {
      const r = await db.selectFrom('ecr_repository_settings').select((eb) => eb.fn.countAll<number>().as('n'))
        .where('kms_key', '=', keyId).where('encryption_type', '<>', 'AES256').executeTakeFirst();
      return Number(r?.n ?? 0);
    },

    async listUploads(page) {
      let q = db.selectFrom('encrypted_uploads').selectAll().orderBy('id').limit(page.limit);
      if (page.last !== undefined) q = q.where('id', '>', page.last);
      return (await q.execute()).map(upload);
    },

    async putUpload(rec) {
      await db.insertInto('encrypted_uploads')
        .values({ id: rec.id, scope_id: rec.scopeId, size: rec.size, parts: rec.parts, updated_at: rec.updatedAt.getTime() })
        .onConflict((oc) => oc.column('id').doUpdateSet({ size: rec.size, parts: rec.parts, updated_at: rec.updatedAt.getTime() }))
        .execute();
    },

    async deleteUpload(id) {
      const r = await db.deleteFrom('encrypted_uploads').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
  };
}
