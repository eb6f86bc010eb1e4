import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { manualClock } from '../core/clock.ts';
import { sha256Digest } from '../core/digest.ts';
import { isRegistryError, type ErrorKind } from '../core/errors.ts';
import { createSqliteMetadata } from '../metadata/dialects/sqlite.ts';
import type { MetadataStore } from '../metadata/types.ts';
import { createMemoryBlobStore } from '../storage/drivers/memory.ts';
import { createRegistry, type Registry } from './registry.ts';
import { candidatePrefixes, checkRegistryPolicy, isTagImmutable, normalizePrefix, wildcardMatches, type RepositoryService, type TemplateInput } from './repositories.ts';
import { Readable } from 'node:stream';

const ACCOUNT = '123456789012';
const POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'pull', Effect: 'Allow', Principal: '*', Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] }] });

async function rejectsKind(p: Promise<unknown>, kind: ErrorKind, message?: string | RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isRegistryError(e), `expected RegistryError, got ${String(e)}`);
    assert.equal(e.kind, kind);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return true;
  });
}

function template(prefix: string, extra: Partial<TemplateInput> = {}): TemplateInput {
  return {
    prefix,
    description: null,
    encryptionType: 'AES256',
    kmsKey: null,
    resourceTags: [],
    imageTagMutability: 'MUTABLE',
    imageTagMutabilityExclusionFilters: [],
    repositoryPolicy: null,
    lifecyclePolicy: null,
    appliedFor: ['CREATE_ON_PUSH'],
    customRoleArn: null,
    ...extra,
  };
}

describe('tag immutability rules', () => {
  it('wildcards match the whole tag', () => {
    const cases: Array<[string, string, boolean]> = [
      ['latest', 'latest', true], ['latest', 'latest2', false], ['latest', 'xlatest', false],
      ['*', '', true], ['*', 'anything', true], ['dev-*', 'dev-1', true], ['dev-*', 'dev-', true], ['dev-*', 'xdev-1', false],
      ['*-rc', '1.0-rc', true], ['*-rc', '1.0-rc1', false], ['v*.*', 'v1.2', true], ['v*.*', 'v12', false],
      ['a*a', 'a', false], ['a*a', 'aa', true], ['a*b*c', 'abc', true], ['a*b*c', 'acb', false], ['**', 'x', true], ['x*y*', 'xyy', true],
    ];
    for (const [filter, tag, want] of cases) assert.equal(wildcardMatches(filter, tag), want, `${filter} vs ${tag}`);
  });

  it('modes and exclusion filters', () => {
    const f = [{ filterType: 'WILDCARD' as const, filter: 'latest' }, { filterType: 'WILDCARD' as const, filter: 'dev-*' }];
    assert.equal(isTagImmutable({ imageTagMutability: 'MUTABLE', imageTagMutabilityExclusionFilters: [] }, 'v1'), false);
    assert.equal(isTagImmutable({ imageTagMutability: 'IMMUTABLE', imageTagMutabilityExclusionFilters: [] }, 'latest'), true);
    assert.equal(isTagImmutable({ imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: f }, 'latest'), false);
    assert.equal(isTagImmutable({ imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: f }, 'dev-7'), false);
    assert.equal(isTagImmutable({ imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: f }, 'v1'), true);
    assert.equal(isTagImmutable({ imageTagMutability: 'MUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: f }, 'dev-7'), true);
    assert.equal(isTagImmutable({ imageTagMutability: 'MUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: f }, 'v1'), false);
  });

  it('template prefixes: candidates and normalisation', () => {
    assert.deepEqual(candidatePrefixes('a/b/c'), ['a/b', 'a', 'ROOT']);
    assert.deepEqual(candidatePrefixes('app'), ['ROOT']);
    assert.equal(normalizePrefix('team/'), 'team');
    assert.equal(normalizePrefix('ROOT'), 'ROOT');
  });

  it('registry policy scope V1 allows only replication, pull-through and create', () => {
    const doc = (actions: string[]) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::210987654321:root' }, Action: actions, Resource: '*' }] });
    checkRegistryPolicy(doc(['ecr:ReplicateImage', 'ecr:CreateRepository', 'ecr:BatchImportUpstreamImage']), 'V1');
    assert.throws(() => checkRegistryPolicy(doc(['ecr:BatchGetImage']), 'V1'), /Invalid registry policy provided/);
    assert.throws(() => checkRegistryPolicy(doc(['ecr:*']), 'V1'), /Invalid registry policy provided/);
    checkRegistryPolicy(doc(['ecr:*', 'ecr:BatchGetImage']), 'V2');
    assert.throws(() => checkRegistryPolicy(doc(['s3:GetObject']), 'V2'), /Invalid registry policy provided/);
    assert.throws(() => checkRegistryPolicy('{', 'V2'), /Invalid registry policy provided/);
  });
});

describe('repository service', () => {
  let meta: MetadataStore;
  let registry: Registry;
  let repos: RepositoryService;
  const clock = manualClock();

  function build(createRepositoryOnPush: boolean): void {
    registry = createRegistry({ blobs: createMemoryBlobStore(), meta, clock, createRepositoryOnPush, maxManifestBytes: 4 << 20, maxPageSize: 1000, accountId: ACCOUNT, region: 'eu-west-1' });
    repos = registry.repositories;
  }

  beforeEach(async () => {
    meta = await createSqliteMetadata({ path: ':memory:' });
    build(false);
  });
  afterEach(async () => {
    await meta.close();
  });

  /** Pushes a one-layer image through the registry (blob + manifest), tagged. */
  async function pushImage(name: string, tag: string, seed = tag): Promise<string> {
    const layer = Buffer.from(`layer ${seed}`);
    const config = Buffer.from(`{"seed":"${seed}"}`);
    for (const b of [layer, config]) await registry.putBlob(name, sha256Digest(b), Readable.from([b]), b.length);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256Digest(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256Digest(layer), size: layer.length }],
    }));
    return (await registry.putManifest(name, tag, 'application/vnd.oci.image.manifest.v1+json', manifest)).digest;
  }

  it('create applies ECR defaults and reports them', async () => {
    const v = await repos.create({ name: 'team/app' });
    assert.equal(v.record.name, 'team/app');
    assert.deepEqual(v.settings, { imageTagMutability: 'MUTABLE', imageTagMutabilityExclusionFilters: [], scanOnPush: false, encryptionType: 'AES256', kmsKey: null });
    assert.deepEqual((await repos.get('team/app')).settings, v.settings);
  });

  it('create stores settings, tags and policy; KMS without a key reports the AWS-managed key', async () => {
    const v = await repos.create({
      name: 'secure',
      settings: { imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest' }], scanOnPush: true, encryptionType: 'KMS' },
      tags: [{ key: 'team', value: 'core' }],
      policyText: POLICY,
    });
    assert.equal(v.settings.kmsKey, `arn:aws:kms:eu-west-1:${ACCOUNT}:alias/aws/ecr`);
    assert.deepEqual(await repos.get('secure'), v);
    assert.deepEqual(await repos.listTags('secure'), [{ key: 'team', value: 'core' }]);
    assert.equal(await repos.getPolicy('secure'), POLICY);
    assert.equal(await repos.isTagImmutable(v.record.id, 'v1'), true);
    assert.equal(await repos.isTagImmutable(v.record.id, 'latest'), false);
  });

  it('create: duplicates, too many tags and bad policies fail and leave nothing behind', async () => {
    await repos.create({ name: 'dup' });
    await rejectsKind(repos.create({ name: 'dup' }), 'REPOSITORY_EXISTS', `The repository with name 'dup' already exists in the registry with id '${ACCOUNT}'`);
    const tags = Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: '' }));
    await rejectsKind(repos.create({ name: 'tagged', tags }), 'TOO_MANY_TAGS');
    await rejectsKind(repos.create({ name: 'badpolicy', policyText: '{"Statement":[]}' }), 'POLICY_INVALID', "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'");
    await rejectsKind(repos.create({ name: 'nonecr', policyText: JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject' }] }) }), 'POLICY_INVALID');
    assert.equal(await meta.repositories.get('tagged'), undefined);
    assert.equal(await meta.repositories.get('badpolicy'), undefined);
  });

  it('get/describe: NAME_UNKNOWN worded like ECR; describe keeps the requested order', async () => {
    await rejectsKind(repos.get('nope'), 'NAME_UNKNOWN', `The repository with name 'nope' does not exist in the registry with id '${ACCOUNT}'`);
    for (const n of ['c', 'a', 'b']) await repos.create({ name: n });
    assert.deepEqual((await repos.describe(['b', 'a', 'b'])).map((v) => v.record.name), ['b', 'a']);
    await rejectsKind(repos.describe(['a', 'zz']), 'NAME_UNKNOWN', /'zz'/);
  });

  it('list pages in byte order with a next marker only when more remain', async () => {
    const names = Array.from({ length: 23 }, (_, i) => `r${String(i).padStart(2, '0')}`);
    for (const n of names) await repos.create({ name: n });
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await repos.list({ after, limit: 10 });
      seen.push(...page.items.map((v) => v.record.name));
      if (!page.next) break;
      after = page.next;
    }
    assert.deepEqual(seen, names);
    assert.equal((await repos.list({ limit: 23 })).next, undefined);
  });

  it('delete: empty repositories go; with images RepositoryNotEmpty unless force', async () => {
    await repos.create({ name: 'empty', tags: [{ key: 'a', value: 'b' }], policyText: POLICY });
    const gone = await repos.delete('empty');
    assert.equal(gone.record.name, 'empty');
    await rejectsKind(repos.get('empty'), 'NAME_UNKNOWN');
    await rejectsKind(repos.delete('empty'), 'NAME_UNKNOWN');

    await repos.create({ name: 'full' });
    await pushImage('full', 'v1');
    await rejectsKind(repos.delete('full'), 'REPOSITORY_NOT_EMPTY', `The repository with name 'full' in registry with id '${ACCOUNT}' cannot be deleted because it still contains images`);
    await repos.delete('full', { force: true });
    await rejectsKind(registry.getManifest('full', 'v1'), 'NAME_UNKNOWN');
    // The name can be reused and starts empty.
    await repos.create({ name: 'full' });
    await rejectsKind(registry.getManifest('full', 'v1'), 'MANIFEST_UNKNOWN');
  });

  it('tag mutability and scan on push updates keep the other settings', async () => {
    await repos.create({ name: 'app', settings: { encryptionType: 'KMS', kmsKey: 'arn:aws:kms:eu-west-1:123456789012:key/k' } });
    const a = await repos.putTagMutability('app', 'MUTABLE_WITH_EXCLUSION', [{ filterType: 'WILDCARD', filter: 'prod-*' }]);
    assert.equal(a.settings.kmsKey, 'arn:aws:kms:eu-west-1:123456789012:key/k');
    const b = await repos.putScanOnPush('app', true);
    assert.deepEqual(b.settings, { ...a.settings, scanOnPush: true });
    const c = await repos.putTagMutability('app', 'IMMUTABLE', [{ filterType: 'WILDCARD', filter: 'ignored' }]);
    assert.deepEqual(c.settings.imageTagMutabilityExclusionFilters, []);
    await rejectsKind(repos.putScanOnPush('nope', true), 'NAME_UNKNOWN');
  });

  it('repository policy: not found errors, set replaces, delete returns the text', async () => {
    await repos.create({ name: 'p' });
    await rejectsKind(repos.getPolicy('p'), 'REPOSITORY_POLICY_NOT_FOUND', `Repository policy does not exist for the repository with name 'p' in the registry with id '${ACCOUNT}'`);
    await rejectsKind(repos.deletePolicy('p'), 'REPOSITORY_POLICY_NOT_FOUND');
    await repos.setPolicy('p', POLICY);
    assert.equal(await repos.getPolicy('p'), POLICY);
    assert.equal(await repos.deletePolicy('p'), POLICY);
    await rejectsKind(repos.setPolicy('p', 'nope'), 'POLICY_INVALID');
    await rejectsKind(repos.setPolicy('missing', POLICY), 'NAME_UNKNOWN');
  });

  it('resource tags: merge, limit of 50 after merging, untag', async () => {
    await repos.create({ name: 't', tags: [{ key: 'a', value: '1' }] });
    await repos.tag('t', [{ key: 'a', value: '2' }, { key: 'b', value: '' }]);
    assert.deepEqual(await repos.listTags('t'), [{ key: 'a', value: '2' }, { key: 'b', value: '' }]);
    await repos.tag('t', Array.from({ length: 48 }, (_, i) => ({ key: `x${i}`, value: 'v' })));
    await rejectsKind(repos.tag('t', [{ key: 'one-more', value: 'v' }]), 'TOO_MANY_TAGS', /maximum number of tags that can be applied to a repository is 50/);
    await repos.untag('t', ['a', 'absent']);
    await repos.tag('t', [{ key: 'one-more', value: 'v' }]);
    assert.equal((await repos.listTags('t')).length, 50);
  });

  it('registry policy follows REGISTRY_POLICY_SCOPE', async () => {
    const doc = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::210987654321:root' }, Action: ['ecr:BatchGetImage'], Resource: '*' }] });
    await rejectsKind(repos.getRegistryPolicy(), 'REGISTRY_POLICY_NOT_FOUND', `Registry policy does not exist in the registry with id '${ACCOUNT}'`);
    assert.equal(await repos.getAccountSetting('REGISTRY_POLICY_SCOPE'), 'V1');
    await rejectsKind(repos.setRegistryPolicy(doc), 'POLICY_INVALID', "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid registry policy provided'");
    await repos.putAccountSetting('REGISTRY_POLICY_SCOPE', 'V2');
    assert.equal(await repos.setRegistryPolicy(doc), doc);
    assert.equal(await repos.getRegistryPolicy(), doc);
    assert.equal(await repos.deleteRegistryPolicy(), doc);
    await rejectsKind(repos.deleteRegistryPolicy(), 'REGISTRY_POLICY_NOT_FOUND');
  });

  it('account settings default until set', async () => {
    assert.equal(await repos.getAccountSetting('BASIC_SCAN_TYPE_VERSION'), 'AWS_NATIVE');
    assert.equal(await repos.getAccountSetting('BLOB_MOUNTING'), 'DISABLED');
    await repos.putAccountSetting('BLOB_MOUNTING', 'ENABLED');
    assert.equal(await repos.getAccountSetting('BLOB_MOUNTING'), 'ENABLED');
  });

  it('templates: create (trailing slash normalised), duplicates, update keeps unspecified members, delete', async () => {
    clock.set(new Date('2026-02-01T00:00:00Z'));
    const t = await repos.createTemplate(template('team/', { description: 'team repos', resourceTags: [{ key: 'team', value: 'x' }] }));
    assert.equal(t.prefix, 'team');
    await rejectsKind(repos.createTemplate(template('team')), 'TEMPLATE_EXISTS', /prefix 'team' already exists/);
    clock.advance(5000);
    const u = await repos.updateTemplate({ prefix: 'team/', imageTagMutability: 'IMMUTABLE', appliedFor: ['REPLICATION'] });
    assert.equal(u.description, 'team repos');
    assert.deepEqual(u.resourceTags, [{ key: 'team', value: 'x' }]);
    assert.equal(u.imageTagMutability, 'IMMUTABLE');
    assert.equal(u.updatedAt.getTime() - u.createdAt.getTime(), 5000);
    await rejectsKind(repos.updateTemplate({ prefix: 'other' }), 'TEMPLATE_NOT_FOUND');
    await rejectsKind(repos.createTemplate(template('bad', { repositoryPolicy: '{}' })), 'POLICY_INVALID');
    assert.deepEqual((await repos.listTemplates({ limit: 10 })).items.map((x) => x.prefix), ['team']);
    assert.equal((await repos.deleteTemplate('team')).prefix, 'team');
    await rejectsKind(repos.deleteTemplate('team'), 'TEMPLATE_NOT_FOUND');
  });

  it('create on push: longest CREATE_ON_PUSH prefix wins, ROOT matches all, others are NAME_UNKNOWN', async () => {
    await repos.createTemplate(template('ROOT', { imageTagMutability: 'MUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'rel-*' }], appliedFor: ['PULL_THROUGH_CACHE'] }));
    await repos.createTemplate(template('team', { imageTagMutability: 'IMMUTABLE', resourceTags: [{ key: 'owner', value: 'team' }], repositoryPolicy: POLICY }));
    await repos.createTemplate(template('team/secure', { encryptionType: 'KMS', kmsKey: 'arn:aws:kms:eu-west-1:123456789012:key/abc' }));
    await repos.createTemplate(template('team/replicated', { appliedFor: ['REPLICATION'] }));

    const a = await registry.repositoryForPush('team/app');
    const av = await repos.get('team/app');
    assert.equal(av.record.id, a.id);
    assert.equal(av.settings.imageTagMutability, 'IMMUTABLE');
    assert.deepEqual(await repos.listTags('team/app'), [{ key: 'owner', value: 'team' }]);
    assert.equal(await repos.getPolicy('team/app'), POLICY);

    await registry.repositoryForPush('team/secure/db');
    assert.deepEqual((await repos.get('team/secure/db')).settings, { imageTagMutability: 'MUTABLE', imageTagMutabilityExclusionFilters: [], scanOnPush: false, encryptionType: 'KMS', kmsKey: 'arn:aws:kms:eu-west-1:123456789012:key/abc' });
    // A template not applied to CREATE_ON_PUSH is skipped in favour of a shorter one.
    await registry.repositoryForPush('team/replicated/x');
    assert.equal((await repos.get('team/replicated/x')).settings.imageTagMutability, 'IMMUTABLE');
    // `team` is a prefix of `teamx` as a string but not as a path; ROOT is not CREATE_ON_PUSH here.
    await rejectsKind(registry.repositoryForPush('teamx/app'), 'NAME_UNKNOWN', `The repository with name 'teamx/app' does not exist in the registry with id '${ACCOUNT}'`);
    await rejectsKind(registry.repositoryForPush('team'), 'NAME_UNKNOWN');

    await repos.updateTemplate({ prefix: 'ROOT', appliedFor: ['CREATE_ON_PUSH'] });
    await pushImage('anything/at/all', 'rel-1');
    assert.equal((await repos.get('anything/at/all')).settings.imageTagMutability, 'MUTABLE_WITH_EXCLUSION');
  });

  it('create on push is race-safe and existing repositories are untouched', async () => {
    await repos.createTemplate(template('ROOT', { resourceTags: [{ key: 'k', value: 'v' }] }));
    const all = await Promise.all(Array.from({ length: 8 }, () => registry.repositoryForPush('race/app')));
    assert.equal(new Set(all.map((r) => r.id)).size, 1);
    await repos.create({ name: 'mine' });
    await registry.repositoryForPush('mine');
    assert.deepEqual(await repos.listTags('mine'), []);
  });

  it('createRepositoryOnPush=true still prefers a template, else creates with defaults', async () => {
    build(true);
    await repos.createTemplate(template('t', { imageTagMutability: 'IMMUTABLE' }));
    await registry.repositoryForPush('t/one');
    await registry.repositoryForPush('plain');
    assert.equal((await repos.get('t/one')).settings.imageTagMutability, 'IMMUTABLE');
    assert.equal((await repos.get('plain')).settings.imageTagMutability, 'MUTABLE');
  });
});
