import type { Selectable } from 'kysely';
import type { EcrCreationTemplatesTable } from '../db.ts';
import type {
  CreationTemplateRecord,
  EcrStore,
  EncryptionType,
  ImageTagMutability,
  ResourceTag,
  TagMutabilityFilter,
  TemplateAppliedFor,
} from '../types.ts';
import { atomic, type StoreContext } from './context.ts';
import { chunks, distinct, IN_LIST_CHUNK } from './rows.ts';

/** The registry policy is a single row. */
const REGISTRY_POLICY_ID = 1;

/**
 * Portable (Kysely-only) EcrStore. Per-repository rows cascade from `repositories`; upserts are
 * `ON CONFLICT … DO UPDATE`. List-valued members are stored as JSON text (always read whole).
 */
export function createEcrStore({ db, dialect }: StoreContext): EcrStore {
  return {
    async getSettings(repositoryId) {
      const r = await db.selectFrom('ecr_repository_settings').selectAll().where('repository_id', '=', repositoryId).executeTakeFirst();
      if (!r) return undefined;
      return {
        imageTagMutability: r.image_tag_mutability as ImageTagMutability,
        imageTagMutabilityExclusionFilters: JSON.parse(r.tag_mutability_filters) as TagMutabilityFilter[],
        scanOnPush: Number(r.scan_on_push) === 1,
        encryptionType: r.encryption_type as EncryptionType,
        kmsKey: r.kms_key,
      };
    },

    async putSettings(repositoryId, s, at) {
      const values = {
        image_tag_mutability: s.imageTagMutability,
        tag_mutability_filters: JSON.stringify(s.imageTagMutabilityExclusionFilters),
        scan_on_push: s.scanOnPush ? 1 : 0,
        encryption_type: s.encryptionType,
        kms_key: s.kmsKey,
        updated_at: at.getTime(),
      };
      await db
        .insertInto('ecr_repository_settings')
        .values({ repository_id: repositoryId, ...values })
        .onConflict((oc) => oc.column('repository_id').doUpdateSet(values))
        .execute();
    },

    async getRepositoryPolicy(repositoryId) {
      const r = await db.selectFrom('ecr_repository_policies').select('policy_text').where('repository_id', '=', repositoryId).executeTakeFirst();
      return r?.policy_text;
    },

    async setRepositoryPolicy(repositoryId, policyText, at) {
      await db
        .insertInto('ecr_repository_policies')
        .values({ repository_id: repositoryId, policy_text: policyText, updated_at: at.getTime() })
        .onConflict((oc) => oc.column('repository_id').doUpdateSet({ policy_text: policyText, updated_at: at.getTime() }))
        .execute();
    },

    async deleteRepositoryPolicy(repositoryId) {
      const r = await db.deleteFrom('ecr_repository_policies').where('repository_id', '=', repositoryId).returning('policy_text').executeTakeFirst();
      return r?.policy_text;
    },

    async getTags(repositoryId) {
      const rows = await db
        .selectFrom('ecr_repository_tags')
        .select(['tag_key', 'tag_value'])
        .where('repository_id', '=', repositoryId)
        .orderBy('tag_key')
        .execute();
      return rows.map((r) => ({ key: r.tag_key, value: r.tag_value }));
    },

    putTags(repositoryId, tags, maxTags) {
      return atomic(db, async (trx) => {
        // Serialise concurrent taggers of one repository on PostgreSQL (SQLite has a single writer).
        let lock = trx.selectFrom('repositories').select('id').where('id', '=', repositoryId);
        if (dialect === 'postgres') lock = lock.forUpdate();
        await lock.executeTakeFirst();
        const merged = new Map<string, string>();
        for (const t of tags) merged.set(t.key, t.value);
        const existing = await trx.selectFrom('ecr_repository_tags').select('tag_key').where('repository_id', '=', repositoryId).execute();
        const keys = new Set(existing.map((r) => r.tag_key));
        for (const k of merged.keys()) keys.add(k);
        if (keys.size > maxTags) return { applied: false, count: keys.size };
        for (const [key, value] of merged) {
          await trx
            .insertInto('ecr_repository_tags')
            .values({ repository_id: repositoryId, tag_key: key, tag_value: value })
            .onConflict((oc) => oc.columns(['repository_id', 'tag_key']).doUpdateSet({ tag_value: value }))
            .execute();
        }
        return { applied: true, count: keys.size };
      });
    },

    async removeTags(repositoryId, keys) {
      let removed = 0;
      for (const part of chunks(distinct(keys), IN_LIST_CHUNK)) {
        const r = await db.deleteFrom('ecr_repository_tags').where('repository_id', '=', repositoryId).where('tag_key', 'in', part).executeTakeFirst();
        removed += Number(r.numDeletedRows);
      }
      return removed;
    },

    async getRegistryPolicy() {
      const r = await db.selectFrom('ecr_registry_policy').select('policy_text').where('id', '=', REGISTRY_POLICY_ID).executeTakeFirst();
      return r?.policy_text;
    },

    async setRegistryPolicy(policyText, at) {
      await db
        .insertInto('ecr_registry_policy')
        .values({ id: REGISTRY_POLICY_ID, policy_text: policyText, updated_at: at.getTime() })
        .onConflict((oc) => oc.column('id').doUpdateSet({ policy_text: policyText, updated_at: at.getTime() }))
        .execute();
    },

    async deleteRegistryPolicy() {
      const r = await db.deleteFrom('ecr_registry_policy').where('id', '=', REGISTRY_POLICY_ID).returning('policy_text').executeTakeFirst();
      return r?.policy_text;
    },

    async getAccountSetting(name) {
      const r = await db.selectFrom('ecr_account_settings').select('value').where('name', '=', name).executeTakeFirst();
      return r?.value;
    },

    async putAccountSetting(name, value, at) {
      await db
        .insertInto('ecr_account_settings')
        .values({ name, value, updated_at: at.getTime() })
        .onConflict((oc) => oc.column('name').doUpdateSet({ value, updated_at: at.getTime() }))
        .execute();
    },

    async createTemplate(t) {
      const r = await db
        .insertInto('ecr_creation_templates')
        .values(templateRow(t))
        .onConflict((oc) => oc.column('prefix').doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    async getTemplate(prefix) {
      const r = await db.selectFrom('ecr_creation_templates').selectAll().where('prefix', '=', prefix).executeTakeFirst();
      return r && toTemplate(r);
    },

    async updateTemplate(t) {
      const { prefix: _prefix, created_at: _created, ...values } = templateRow(t);
      const r = await db.updateTable('ecr_creation_templates').set(values).where('prefix', '=', t.prefix).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    async deleteTemplate(prefix) {
      const r = await db.deleteFrom('ecr_creation_templates').where('prefix', '=', prefix).returningAll().executeTakeFirst();
      return r && toTemplate(r);
    },

    async listTemplates({ last, limit, prefixes }) {
      if (limit <= 0 || (prefixes && prefixes.length === 0)) return [];
      let q = db.selectFrom('ecr_creation_templates').selectAll().orderBy('prefix').limit(limit);
      if (last !== undefined) q = q.where('prefix', '>', last);
      if (prefixes) q = q.where('prefix', 'in', distinct(prefixes).slice(0, IN_LIST_CHUNK));
      return (await q.execute()).map(toTemplate);
    },
  };
}

function templateRow(t: CreationTemplateRecord): Selectable<EcrCreationTemplatesTable> {
  return {
    prefix: t.prefix,
    description: t.description,
    encryption_type: t.encryptionType,
    kms_key: t.kmsKey,
    resource_tags: JSON.stringify(t.resourceTags),
    image_tag_mutability: t.imageTagMutability,
    tag_mutability_filters: JSON.stringify(t.imageTagMutabilityExclusionFilters),
    repository_policy: t.repositoryPolicy,
    lifecycle_policy: t.lifecyclePolicy,
    applied_for: JSON.stringify(t.appliedFor),
    custom_role_arn: t.customRoleArn,
    created_at: t.createdAt.getTime(),
    updated_at: t.updatedAt.getTime(),
  };
}

function toTemplate(r: Selectable<EcrCreationTemplatesTable>): CreationTemplateRecord {
  return {
    prefix: r.prefix,
    description: r.description,
    encryptionType: r.encryption_type as EncryptionType,
    kmsKey: r.kms_key,
    resourceTags: JSON.parse(r.resource_tags) as ResourceTag[],
    imageTagMutability: r.image_tag_mutability as ImageTagMutability,
    imageTagMutabilityExclusionFilters: JSON.parse(r.tag_mutability_filters) as TagMutabilityFilter[],
    repositoryPolicy: r.repository_policy,
    lifecyclePolicy: r.lifecycle_policy,
    appliedFor: JSON.parse(r.applied_for) as TemplateAppliedFor[],
    customRoleArn: r.custom_role_arn,
    createdAt: new Date(Number(r.created_at)),
    updatedAt: new Date(Number(r.updated_at)),
  };
}
