import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CreationTemplateRecord, RepositorySettings } from '../types.ts';
import { at, pushImage, type StoreRef } from './fixtures.ts';

const SETTINGS: RepositorySettings = {
  imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
  imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest' }, { filterType: 'WILDCARD', filter: 'dev-*' }],
  scanOnPush: true,
  encryptionType: 'KMS',
  kmsKey: 'arn:aws:kms:us-east-1:123456789012:key/abc',
};

function template(prefix: string, extra: Partial<CreationTemplateRecord> = {}): CreationTemplateRecord {
  return {
    prefix,
    description: `template ${prefix}`,
    encryptionType: 'AES256',
    kmsKey: null,
    resourceTags: [{ key: 'team', value: 'core' }],
    imageTagMutability: 'IMMUTABLE',
    imageTagMutabilityExclusionFilters: [],
    repositoryPolicy: '{"Version":"2012-10-17","Statement":[]}',
    lifecyclePolicy: null,
    appliedFor: ['CREATE_ON_PUSH'],
    customRoleArn: null,
    createdAt: at(1),
    updatedAt: at(1),
    ...extra,
  };
}

export function ecrCases(s: StoreRef): void {
  describe('ecr', () => {
    it('settings: absent until put, then stored exactly and replaced by a later put', async () => {
      const r = await s().repositories.create('settings/app', at(1));
      assert.equal(await s().ecr.getSettings(r.id), undefined);
      await s().ecr.putSettings(r.id, SETTINGS, at(2));
      assert.deepEqual(await s().ecr.getSettings(r.id), SETTINGS);
      const plain: RepositorySettings = { imageTagMutability: 'MUTABLE', imageTagMutabilityExclusionFilters: [], scanOnPush: false, encryptionType: 'AES256', kmsKey: null };
      await s().ecr.putSettings(r.id, plain, at(3));
      assert.deepEqual(await s().ecr.getSettings(r.id), plain);
    });

    it('repository policy: set, replace, get verbatim, delete returns the text once', async () => {
      const r = await s().repositories.create('pol', at(1));
      assert.equal(await s().ecr.getRepositoryPolicy(r.id), undefined);
      assert.equal(await s().ecr.deleteRepositoryPolicy(r.id), undefined);
      const text = '{ "Version" : "2012-10-17", "Statement": [] }\n';
      await s().ecr.setRepositoryPolicy(r.id, 'first', at(1));
      await s().ecr.setRepositoryPolicy(r.id, text, at(2));
      assert.equal(await s().ecr.getRepositoryPolicy(r.id), text);
      assert.equal(await s().ecr.deleteRepositoryPolicy(r.id), text);
      assert.equal(await s().ecr.getRepositoryPolicy(r.id), undefined);
    });

    it('tags: merge, ordered by key, remove ignores absent keys', async () => {
      const r = await s().repositories.create('tagged', at(1));
      const other = await s().repositories.create('other', at(1));
      assert.deepEqual(await s().ecr.getTags(r.id), []);
      assert.deepEqual(await s().ecr.putTags(r.id, [{ key: 'b', value: '1' }, { key: 'a', value: '' }], 50), { applied: true, count: 2 });
      assert.deepEqual(await s().ecr.putTags(r.id, [{ key: 'b', value: '2' }, { key: 'C', value: 'x' }], 50), { applied: true, count: 3 });
      assert.deepEqual(await s().ecr.getTags(r.id), [{ key: 'C', value: 'x' }, { key: 'a', value: '' }, { key: 'b', value: '2' }]);
      assert.deepEqual(await s().ecr.getTags(other.id), []);
      assert.equal(await s().ecr.removeTags(r.id, ['a', 'zz', 'a']), 1);
      assert.deepEqual(await s().ecr.getTags(r.id), [{ key: 'C', value: 'x' }, { key: 'b', value: '2' }]);
    });

    it('tags: a merge past the limit changes nothing; re-setting existing keys does not count twice', async () => {
      const r = await s().repositories.create('many', at(1));
      const tags = Array.from({ length: 50 }, (_, i) => ({ key: `k${String(i).padStart(2, '0')}`, value: `${i}` }));
      assert.deepEqual(await s().ecr.putTags(r.id, tags, 50), { applied: true, count: 50 });
      assert.deepEqual(await s().ecr.putTags(r.id, [{ key: 'k00', value: 'new' }], 50), { applied: true, count: 50 });
      assert.deepEqual(await s().ecr.putTags(r.id, [{ key: 'k01', value: 'no' }, { key: 'extra', value: 'x' }], 50), { applied: false, count: 51 });
      const now = await s().ecr.getTags(r.id);
      assert.equal(now.length, 50);
      assert.equal(now.find((t) => t.key === 'k01')?.value, '1');
      assert.equal(now.find((t) => t.key === 'k00')?.value, 'new');
    });

    it('deleting a repository deletes its settings, policy and tags', async () => {
      const r = await s().repositories.create('doomed', at(1));
      await pushImage(s(), r.id, 'm', ['l']);
      await s().ecr.putSettings(r.id, SETTINGS, at(1));
      await s().ecr.setRepositoryPolicy(r.id, 'p', at(1));
      await s().ecr.putTags(r.id, [{ key: 'k', value: 'v' }], 50);
      assert.equal(await s().repositories.delete(r.id), true);
      assert.equal(await s().ecr.getSettings(r.id), undefined);
      assert.equal(await s().ecr.getRepositoryPolicy(r.id), undefined);
      assert.deepEqual(await s().ecr.getTags(r.id), []);
      const again = await s().repositories.create('doomed', at(2));
      assert.equal(await s().ecr.getSettings(again.id), undefined);
      assert.deepEqual(await s().ecr.getTags(again.id), []);
    });

    it('registry policy: single document, set/replace/delete', async () => {
      assert.equal(await s().ecr.getRegistryPolicy(), undefined);
      assert.equal(await s().ecr.deleteRegistryPolicy(), undefined);
      await s().ecr.setRegistryPolicy('one', at(1));
      await s().ecr.setRegistryPolicy('two', at(2));
      assert.equal(await s().ecr.getRegistryPolicy(), 'two');
      assert.equal(await s().ecr.deleteRegistryPolicy(), 'two');
      assert.equal(await s().ecr.getRegistryPolicy(), undefined);
    });

    it('account settings: name → value, replaced by put', async () => {
      assert.equal(await s().ecr.getAccountSetting('BLOB_MOUNTING'), undefined);
      await s().ecr.putAccountSetting('BLOB_MOUNTING', 'ENABLED', at(1));
      await s().ecr.putAccountSetting('REGISTRY_POLICY_SCOPE', 'V2', at(1));
      await s().ecr.putAccountSetting('BLOB_MOUNTING', 'DISABLED', at(2));
      assert.equal(await s().ecr.getAccountSetting('BLOB_MOUNTING'), 'DISABLED');
      assert.equal(await s().ecr.getAccountSetting('REGISTRY_POLICY_SCOPE'), 'V2');
    });

    it('templates: create once per prefix, get, update, delete', async () => {
      const t = template('team/a', { kmsKey: 'arn:aws:kms:us-east-1:123456789012:key/k', encryptionType: 'KMS', imageTagMutability: 'MUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'rel-*' }], appliedFor: ['CREATE_ON_PUSH', 'REPLICATION'], customRoleArn: 'arn:aws:iam::123456789012:role/r', lifecyclePolicy: '{"rules":[]}' });
      assert.equal(await s().ecr.createTemplate(t), true);
      assert.equal(await s().ecr.createTemplate(template('team/a', { description: 'dup' })), false);
      assert.deepEqual(await s().ecr.getTemplate('team/a'), t);
      assert.equal(await s().ecr.getTemplate('team'), undefined);
      const updated = { ...t, description: null, resourceTags: [], appliedFor: ['PULL_THROUGH_CACHE' as const], createdAt: at(99), updatedAt: at(5) };
      assert.equal(await s().ecr.updateTemplate(updated), true);
      assert.deepEqual(await s().ecr.getTemplate('team/a'), { ...updated, createdAt: t.createdAt });
      assert.equal(await s().ecr.updateTemplate(template('nope')), false);
      assert.deepEqual(await s().ecr.deleteTemplate('team/a'), { ...updated, createdAt: t.createdAt });
      assert.equal(await s().ecr.deleteTemplate('team/a'), undefined);
    });

    it('templates: list in byte order, paged after last, filtered by prefixes', async () => {
      for (const p of ['b', 'ROOT', 'a/b', 'a', 'a-b']) assert.equal(await s().ecr.createTemplate(template(p)), true);
      const all = (await s().ecr.listTemplates({ limit: 100 })).map((t) => t.prefix);
      assert.deepEqual(all, ['ROOT', 'a', 'a-b', 'a/b', 'b']);
      assert.deepEqual((await s().ecr.listTemplates({ limit: 2 })).map((t) => t.prefix), ['ROOT', 'a']);
      assert.deepEqual((await s().ecr.listTemplates({ limit: 2, last: 'a' })).map((t) => t.prefix), ['a-b', 'a/b']);
      assert.deepEqual((await s().ecr.listTemplates({ limit: 10, prefixes: ['b', 'ROOT', 'zz'] })).map((t) => t.prefix), ['ROOT', 'b']);
      assert.deepEqual((await s().ecr.listTemplates({ limit: 1, last: 'ROOT', prefixes: ['b', 'ROOT'] })).map((t) => t.prefix), ['b']);
      assert.deepEqual(await s().ecr.listTemplates({ limit: 10, prefixes: [] }), []);
      assert.deepEqual(await s().ecr.listTemplates({ limit: 0 }), []);
    });

    it('ecr writes join an outer transaction and roll back with it', async () => {
      await assert.rejects(
        s().transaction(async (tx) => {
          const r = await tx.repositories.create('tx/repo', at(1));
          await tx.ecr.putSettings(r.id, SETTINGS, at(1));
          await tx.ecr.putTags(r.id, [{ key: 'k', value: 'v' }], 50);
          await tx.ecr.setRegistryPolicy('p', at(1));
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await s().repositories.get('tx/repo'), undefined);
      assert.equal(await s().ecr.getRegistryPolicy(), undefined);
    });
  });
}
