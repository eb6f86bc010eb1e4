import type { Selectable } from 'kysely';
import { RegistryError } from '../../core/errors.ts';
import type { IamAccessKeysTable, IamUserPoliciesTable, IamUsersTable } from '../db.ts';
import type { AccessKeyRecord, AccessKeyStatus, IamStore, IamUserRecord, UserPolicyRecord } from '../types.ts';
import { atomic, type StoreContext } from './context.ts';

const userColumns = ['name', 'user_id', 'arn', 'created_at'] as const;
const keyColumns = ['access_key_id', 'user_name', 'secret_ciphertext', 'status', 'created_at', 'last_used_at'] as const;
const policyColumns = ['user_name', 'policy_name', 'document', 'updated_at'] as const;

function toUser(r: Selectable<IamUsersTable>): IamUserRecord {
  return { name: r.name, userId: r.user_id, arn: r.arn, createdAt: new Date(Number(r.created_at)) };
}

function toKey(r: Selectable<IamAccessKeysTable>): AccessKeyRecord {
  return {
    accessKeyId: r.access_key_id,
    userName: r.user_name,
    secretCiphertext: r.secret_ciphertext,
    status: r.status === 'Active' ? 'Active' : 'Inactive',
    createdAt: new Date(Number(r.created_at)),
    lastUsedAt: r.last_used_at === null ? null : new Date(Number(r.last_used_at)),
  };
}

function toPolicy(r: Selectable<IamUserPoliciesTable>): UserPolicyRecord {
  return { userName: r.user_name, policyName: r.policy_name, document: r.document, updatedAt: new Date(Number(r.updated_at)) };
}

/** Portable (Kysely-only) IamStore. Keys and policies cascade from their user. */
export function createIamStore({ db }: StoreContext): IamStore {
  async function requireUser(trx: typeof db, name: string): Promise<void> {
    const u = await trx.selectFrom('iam_users').select('name').where('name', '=', name).executeTakeFirst();
    if (!u) throw new RegistryError('NOT_FOUND', `The user with name ${name} cannot be found.`, { userName: name });
  }

  return {
    async createUser(user) {
      const row = await db
        .insertInto('iam_users')
        .values({ name: user.name, user_id: user.userId, arn: user.arn, created_at: user.createdAt.getTime() })
        .onConflict((oc) => oc.doNothing())
        .returning(userColumns)
        .executeTakeFirst();
      if (!row) throw new RegistryError('CONFLICT', `User with name ${user.name} already exists.`, { userName: user.name });
      return toUser(row);
    },

    async getUser(name) {
      const row = await db.selectFrom('iam_users').select(userColumns).where('name', '=', name).executeTakeFirst();
      return row && toUser(row);
    },

    async listUsers({ last, limit }) {
      if (limit <= 0) return [];
      let q = db.selectFrom('iam_users').select(userColumns).orderBy('name').limit(limit);
      if (last !== undefined) q = q.where('name', '>', last);
      return (await q.execute()).map(toUser);
    },

    async deleteUser(name) {
      const r = await db.deleteFrom('iam_users').where('name', '=', name).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    async countUsers() {
      const r = await db.selectFrom('iam_users').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
      return Number(r.n);
    },

    async createAccessKey(key) {
      await atomic(db, async (trx) => {
        await requireUser(trx, key.userName);
        const r = await trx
          .insertInto('iam_access_keys')
          .values({
            access_key_id: key.accessKeyId,
            user_name: key.userName,
            secret_ciphertext: key.secretCiphertext,
            status: key.status,
            created_at: key.createdAt.getTime(),
            last_used_at: key.lastUsedAt ? key.lastUsedAt.getTime() : null,
          })
          .onConflict((oc) => oc.column('access_key_id').doNothing())
          .executeTakeFirst();
        if (Number(r.numInsertedOrUpdatedRows ?? 0) === 0) throw new RegistryError('CONFLICT', `Access key ${key.accessKeyId} already exists.`);
      });
    },

    async getAccessKey(accessKeyId) {
      const row = await db.selectFrom('iam_access_keys').select(keyColumns).where('access_key_id', '=', accessKeyId).executeTakeFirst();
      return row && toKey(row);
    },

    async listAccessKeys(userName) {
      const rows = await db.selectFrom('iam_access_keys').select(keyColumns).where('user_name', '=', userName).orderBy('created_at').orderBy('access_key_id').execute();
      return rows.map(toKey);
    },

    async setAccessKeyStatus(accessKeyId, status: AccessKeyStatus) {
      const r = await db.updateTable('iam_access_keys').set({ status }).where('access_key_id', '=', accessKeyId).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    async touchAccessKey(accessKeyId, at) {
      await db
        .updateTable('iam_access_keys')
        .set({ last_used_at: at.getTime() })
        .where('access_key_id', '=', accessKeyId)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at.getTime())]))
        .execute();
    },

    async deleteAccessKey(accessKeyId) {
      const r = await db.deleteFrom('iam_access_keys').where('access_key_id', '=', accessKeyId).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    async putUserPolicy(p) {
      await atomic(db, async (trx) => {
        await requireUser(trx, p.userName);
        await trx
          .insertInto('iam_user_policies')
          .values({ user_name: p.userName, policy_name: p.policyName, document: p.document, updated_at: p.updatedAt.getTime() })
          .onConflict((oc) => oc.columns(['user_name', 'policy_name']).doUpdateSet({ document: p.document, updated_at: p.updatedAt.getTime() }))
          .execute();
      });
    },

    async getUserPolicy(userName, policyName) {
      const row = await db.selectFrom('iam_user_policies').select(policyColumns).where('user_name', '=', userName).where('policy_name', '=', policyName).executeTakeFirst();
      return row && toPolicy(row);
    },

    async listUserPolicies(userName) {
      const rows = await db.selectFrom('iam_user_policies').select(policyColumns).where('user_name', '=', userName).orderBy('policy_name').execute();
      return rows.map(toPolicy);
    },

    async deleteUserPolicy(userName, policyName) {
      const r = await db.deleteFrom('iam_user_policies').where('user_name', '=', userName).where('policy_name', '=', policyName).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
  };
}
