import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { sha256Digest } from '../core/digest.ts';
import { createTestEcr, TEST_ACCOUNT, type TestEcr, expectEcrFailure } from './test-context.ts';

const ARN = (name: string) => `arn:aws:ecr:us-east-1:${TEST_ACCOUNT}:repository/${name}`;
const REPO_POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'pull', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::210987654321:root' }, Action: ['ecr:BatchGetImage'] }] });
const CREATED_AT = Date.parse('2026-03-01T12:00:00.500Z') / 1000;

let t: TestEcr;
beforeEach(async () => {
  t = await createTestEcr();
});
afterEach(async () => {
  await t.close();
});

const expectFailure = (op: string, input: Record<string, unknown>, type: string, message?: string | RegExp): Promise<void> => expectEcrFailure(t, op, input, type, message);

async function pushImage(name: string, tag: string): Promise<void> {
  const layer = Buffer.from(`layer ${tag}`);
  const config = Buffer.from(`{"tag":"${tag}"}`);
  for (const b of [layer, config]) await t.registry.putBlob(name, sha256Digest(b), Readable.from([b]), b.length);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256Digest(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256Digest(layer), size: layer.length }],
  }));
  await t.registry.putManifest(name, tag, 'application/vnd.oci.image.manifest.v1+json', manifest);
}

describe('CreateRepository', () => {
  it('returns the repository with ECR defaults, epoch-second createdAt and no null members', async () => {
    const out = await t.call('CreateRepository', { repositoryName: 'team/app' });
    assert.deepEqual(out, {
      repository: {
        repositoryArn: ARN('team/app'),
        registryId: TEST_ACCOUNT,
        repositoryName: 'team/app',
        repositoryUri: 'localhost:5000/team/app',
        createdAt: CREATED_AT,
        imageTagMutability: 'MUTABLE',
        imageScanningConfiguration: { scanOnPush: false },
        encryptionConfiguration: { encryptionType: 'AES256' },
      },
    });
    assert.deepEqual(t.authorized, ['CreateRepository@team/app']);
  });

  it('stores every setting and the tags', async () => {
    const out = await t.call('CreateRepository', {
      registryId: TEST_ACCOUNT,
      repositoryName: 'secure__app',
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest' }],
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: { encryptionType: 'KMS' },
      tags: [{ Key: 'team', Value: 'core' }],
    });
    const repo = out.repository as Record<string, unknown>;
    assert.equal(repo.imageTagMutability, 'IMMUTABLE_WITH_EXCLUSION');
    assert.deepEqual(repo.imageTagMutabilityExclusionFilters, [{ filterType: 'WILDCARD', filter: 'latest' }]);
    assert.deepEqual(repo.imageScanningConfiguration, { scanOnPush: true });
    assert.deepEqual(repo.encryptionConfiguration, { encryptionType: 'KMS', kmsKey: `arn:aws:kms:us-east-1:${TEST_ACCOUNT}:alias/aws/ecr` });
    assert.deepEqual(await t.call('ListTagsForResource', { resourceArn: ARN('secure__app') }), { tags: [{ Key: 'team', Value: 'core' }] });
    assert.deepEqual((await t.call('DescribeRepositories', { repositoryNames: ['secure__app'] })).repositories, [repo]);
  });

  it('validates names, enums, filters, encryption and tags with ECR wording', async () => {
    const P = 'InvalidParameterException';
    await expectFailure('CreateRepository', {}, P, "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'Member must not be null'");
    await expectFailure('CreateRepository', { repositoryName: 'a' }, P, "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have length greater than or equal to 2'");
    await expectFailure('CreateRepository', { repositoryName: 'x'.repeat(257) }, P, /less than or equal to 256/);
    await expectFailure('CreateRepository', { repositoryName: 'Upper' }, P, "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''");
    await expectFailure('CreateRepository', { repositoryName: 'a/', }, P, /regular expression/);
    await expectFailure('CreateRepository', { repositoryName: 'ok', registryId: '12' }, P, /registryId.*\[0-9\]\{12\}/);
    await expectFailure('CreateRepository', { repositoryName: 'ok', registryId: '210987654321' }, P, /registryId/);
    await expectFailure('CreateRepository', { repositoryName: 'ok', imageTagMutability: 'FROZEN' }, P,
      "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [IMMUTABLE, MUTABLE, MUTABLE_WITH_EXCLUSION, IMMUTABLE_WITH_EXCLUSION]'");
    await expectFailure('CreateRepository', { repositoryName: 'ok', imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION' }, P,
      "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: 'ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is set as IMMUTABLE_WITH_EXCLUSION'");
    await expectFailure('CreateRepository', { repositoryName: 'ok', imageTagMutability: 'MUTABLE', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'x' }] }, P, /imageTagMutabilityExclusionFilters/);
    const f = (filter: string, filterType = 'WILDCARD') => ({ repositoryName: 'ok', imageTagMutability: 'MUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: [{ filterType, filter }] });
    await expectFailure('CreateRepository', f('bad/char'), P, /imageTagMutabilityExclusionFilters\.1\.filter.*regular expression/);
    await expectFailure('CreateRepository', f('x'.repeat(129)), P, /less than or equal to 128/);
    await expectFailure('CreateRepository', f('x', 'REGEX'), P, /filterType.*\[WILDCARD\]/);
    await expectFailure('CreateRepository', { ...f('x'), imageTagMutabilityExclusionFilters: Array(6).fill({ filterType: 'WILDCARD', filter: 'a' }) }, P, /less than or equal to 5/);
    await expectFailure('CreateRepository', { ...f('x'), imageTagMutabilityExclusionFilters: [] }, P, /greater than or equal to 1/);
    await expectFailure('CreateRepository', { repositoryName: 'ok', encryptionConfiguration: { encryptionType: 'ROT13' } }, P, /encryptionConfiguration\.encryptionType.*AES256, KMS, KMS_DSSE/);
    await expectFailure('CreateRepository', { repositoryName: 'ok', encryptionConfiguration: { kmsKey: 'k' } }, P, /encryptionConfiguration\.encryptionType.*must not be null/);
    await expectFailure('CreateRepository', { repositoryName: 'ok', encryptionConfiguration: { encryptionType: 'AES256', kmsKey: 'k' } }, P, /kmsKey/);
    await expectFailure('CreateRepository', { repositoryName: 'ok', tags: [{ Key: 'k'.repeat(129), Value: '' }] }, 'InvalidTagParameterException', /maximum character length of 128/);
    await expectFailure('CreateRepository', { repositoryName: 'ok', tags: [{ Key: 'k', Value: 'v'.repeat(257) }] }, 'InvalidTagParameterException');
    await expectFailure('CreateRepository', { repositoryName: 'ok', tags: [{ Key: 'aws:reserved', Value: 'v' }] }, 'InvalidTagParameterException');
    await expectFailure('CreateRepository', { repositoryName: 'ok', tags: [{ Key: 'k' }] }, P, /tags\.1\.Value.*must not be null/);
    await expectFailure('CreateRepository', { repositoryName: 'ok', tags: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: '' })) }, 'TooManyTagsException',
      'The list of tags on the repository is over the limit. The maximum number of tags that can be applied to a repository is 50.');
    await expectFailure('CreateRepository', { repositoryName: 42 }, 'SerializationException');
    await expectFailure('CreateRepository', { repositoryName: 'ok', imageScanningConfiguration: { scanOnPush: 'yes' } }, 'SerializationException');
    assert.equal(await t.meta.repositories.count(), 0);
  });

  it('a taken name is RepositoryAlreadyExistsException; a denied caller is AccessDenied before anything happens', async () => {
    await t.call('CreateRepository', { repositoryName: 'dup' });
    await expectFailure('CreateRepository', { repositoryName: 'dup' }, 'RepositoryAlreadyExistsException', `The repository with name 'dup' already exists in the registry with id '${TEST_ACCOUNT}'`);
    t.denied.add('ecr:CreateRepository');
    await expectFailure('CreateRepository', { repositoryName: 'other' }, 'AccessDeniedException', /not authorized to perform: ecr:CreateRepository/);
    assert.equal(await t.meta.repositories.get('other'), undefined);
  });
});

describe('DescribeRepositories', () => {
  it('pages 100 by default with signed tokens, and maxResults up to 1000', async () => {
    for (let i = 0; i < 130; i++) await t.meta.repositories.create(`r${String(i).padStart(3, '0')}`, new Date());
    const first = await t.call('DescribeRepositories');
    assert.equal((first.repositories as unknown[]).length, 100);
    assert.equal(typeof first.nextToken, 'string');
    const second = await t.call('DescribeRepositories', { nextToken: first.nextToken });
    assert.equal((second.repositories as unknown[]).length, 30);
    assert.equal(second.nextToken, undefined);
    assert.equal(((second.repositories as Array<Record<string, unknown>>)[0]!).repositoryName, 'r100');
    const small = await t.call('DescribeRepositories', { maxResults: 7 });
    assert.equal((small.repositories as unknown[]).length, 7);
    const all = await t.call('DescribeRepositories', { maxResults: 1000 });
    assert.equal((all.repositories as unknown[]).length, 130);
    assert.equal(all.nextToken, undefined);
    // Repositories created through /v2/ (no stored settings) report the defaults.
    assert.equal(((all.repositories as Array<Record<string, unknown>>)[0]!).imageTagMutability, 'MUTABLE');
  });

  it('names: in the order given, all must exist; not combinable with paging', async () => {
    for (const n of ['a1', 'b1']) await t.call('CreateRepository', { repositoryName: n });
    const out = await t.call('DescribeRepositories', { repositoryNames: ['b1', 'a1'] });
    assert.deepEqual((out.repositories as Array<Record<string, unknown>>).map((r) => r.repositoryName), ['b1', 'a1']);
    await expectFailure('DescribeRepositories', { repositoryNames: ['a1', 'zz'] }, 'RepositoryNotFoundException', `The repository with name 'zz' does not exist in the registry with id '${TEST_ACCOUNT}'`);
    await expectFailure('DescribeRepositories', { repositoryNames: ['a1'], registryId: '210987654321' }, 'RepositoryNotFoundException', "The repository with name 'a1' does not exist in the registry with id '210987654321'");
    await expectFailure('DescribeRepositories', { repositoryNames: ['a1'], maxResults: 5 }, 'InvalidParameterException', /cannot be specified together with repositoryNames/);
    await expectFailure('DescribeRepositories', { repositoryNames: [] }, 'InvalidParameterException', /greater than or equal to 1/);
    await expectFailure('DescribeRepositories', { repositoryNames: Array(101).fill('aa') }, 'InvalidParameterException', /less than or equal to 100/);
    await expectFailure('DescribeRepositories', { repositoryNames: ['A'] }, 'InvalidParameterException', /repositoryNames\.1/);
    await expectFailure('DescribeRepositories', { maxResults: 0 }, 'InvalidParameterException', /greater than or equal to 1/);
    await expectFailure('DescribeRepositories', { maxResults: 1001 }, 'InvalidParameterException', /less than or equal to 1000/);
    await expectFailure('DescribeRepositories', { nextToken: 'forged.token' }, 'InvalidParameterException', /Invalid NextToken/);
    assert.deepEqual(await t.call('DescribeRepositories', { registryId: '210987654321' }), { repositories: [] });
  });
});

describe('DeleteRepository', () => {
  it('deletes empty repositories; with images needs force', async () => {
    await t.call('CreateRepository', { repositoryName: 'empty' });
    const out = await t.call('DeleteRepository', { repositoryName: 'empty' });
    assert.equal((out.repository as Record<string, unknown>).repositoryName, 'empty');
    await expectFailure('DeleteRepository', { repositoryName: 'empty' }, 'RepositoryNotFoundException', `The repository with name 'empty' does not exist in the registry with id '${TEST_ACCOUNT}'`);

    await t.call('CreateRepository', { repositoryName: 'full' });
    await pushImage('full', 'v1');
    await expectFailure('DeleteRepository', { repositoryName: 'full' }, 'RepositoryNotEmptyException',
      `The repository with name 'full' in registry with id '${TEST_ACCOUNT}' cannot be deleted because it still contains images`);
    await expectFailure('DeleteRepository', { repositoryName: 'full', force: false }, 'RepositoryNotEmptyException');
    await t.call('DeleteRepository', { repositoryName: 'full', force: true });
    await expectFailure('DescribeRepositories', { repositoryNames: ['full'] }, 'RepositoryNotFoundException');
    await expectFailure('DeleteRepository', { repositoryName: 'xx', registryId: '210987654321' }, 'RepositoryNotFoundException', /'210987654321'/);
  });
});

describe('PutImageTagMutability and PutImageScanningConfiguration', () => {
  it('switch modes and report the result', async () => {
    await t.call('CreateRepository', { repositoryName: 'app' });
    assert.deepEqual(await t.call('PutImageTagMutability', { repositoryName: 'app', imageTagMutability: 'IMMUTABLE' }), { registryId: TEST_ACCOUNT, repositoryName: 'app', imageTagMutability: 'IMMUTABLE' });
    const filters = [{ filterType: 'WILDCARD', filter: 'dev-*' }];
    assert.deepEqual(await t.call('PutImageTagMutability', { repositoryName: 'app', imageTagMutability: 'MUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: filters }), {
      registryId: TEST_ACCOUNT, repositoryName: 'app', imageTagMutability: 'MUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: filters,
    });
    const repo = await t.registry.repositories.find('app');
    assert.equal(await t.registry.repositories.isTagImmutable(repo.id, 'dev-1'), true);
    assert.equal(await t.registry.repositories.isTagImmutable(repo.id, 'v1'), false);
    await expectFailure('PutImageTagMutability', { repositoryName: 'app' }, 'InvalidParameterException', /imageTagMutability.*must not be null/);
    await expectFailure('PutImageTagMutability', { repositoryName: 'nope', imageTagMutability: 'MUTABLE' }, 'RepositoryNotFoundException');

    assert.deepEqual(await t.call('PutImageScanningConfiguration', { repositoryName: 'app', imageScanningConfiguration: { scanOnPush: true } }), {
      registryId: TEST_ACCOUNT, repositoryName: 'app', imageScanningConfiguration: { scanOnPush: true },
    });
    const described = (await t.call('DescribeRepositories', { repositoryNames: ['app'] })).repositories as Array<Record<string, unknown>>;
    assert.deepEqual(described[0]!.imageScanningConfiguration, { scanOnPush: true });
    assert.equal(described[0]!.imageTagMutability, 'MUTABLE_WITH_EXCLUSION');
    await expectFailure('PutImageScanningConfiguration', { repositoryName: 'app' }, 'InvalidParameterException', /imageScanningConfiguration.*must not be null/);
  });
});

describe('repository policies', () => {
  it('set, get, delete; not-found and invalid-policy errors', async () => {
    await t.call('CreateRepository', { repositoryName: 'p1' });
    await expectFailure('GetRepositoryPolicy', { repositoryName: 'p1' }, 'RepositoryPolicyNotFoundException',
      `Repository policy does not exist for the repository with name 'p1' in the registry with id '${TEST_ACCOUNT}'`);
    await expectFailure('DeleteRepositoryPolicy', { repositoryName: 'p1' }, 'RepositoryPolicyNotFoundException');
    const expected = { registryId: TEST_ACCOUNT, repositoryName: 'p1', policyText: REPO_POLICY };
    assert.deepEqual(await t.call('SetRepositoryPolicy', { repositoryName: 'p1', policyText: REPO_POLICY, force: true }), expected);
    assert.deepEqual(await t.call('GetRepositoryPolicy', { repositoryName: 'p1' }), expected);
    assert.deepEqual(await t.call('DeleteRepositoryPolicy', { repositoryName: 'p1' }), expected);
    const invalid = "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'";
    await expectFailure('SetRepositoryPolicy', { repositoryName: 'p1', policyText: 'not json' }, 'InvalidParameterException', invalid);
    await expectFailure('SetRepositoryPolicy', { repositoryName: 'p1', policyText: '' }, 'InvalidParameterException', invalid);
    await expectFailure('SetRepositoryPolicy', { repositoryName: 'p1', policyText: JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'ecr:*' }] }) }, 'InvalidParameterException', invalid);
    await expectFailure('SetRepositoryPolicy', { repositoryName: 'p1', policyText: 'x'.repeat(10_241) }, 'InvalidParameterException', /less than or equal to 10240/);
    await expectFailure('SetRepositoryPolicy', { repositoryName: 'p1' }, 'InvalidParameterException', /policyText.*must not be null/);
    await expectFailure('SetRepositoryPolicy', { repositoryName: 'nope', policyText: REPO_POLICY }, 'RepositoryNotFoundException');
  });
});

describe('registry policy, DescribeRegistry, account settings', () => {
  const doc = (actions: string[]) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::210987654321:root' }, Action: actions, Resource: `arn:aws:ecr:us-east-1:${TEST_ACCOUNT}:repository/*` }] });

  it('registry policy honours REGISTRY_POLICY_SCOPE', async () => {
    await expectFailure('GetRegistryPolicy', {}, 'RegistryPolicyNotFoundException', `Registry policy does not exist in the registry with id '${TEST_ACCOUNT}'`);
    await expectFailure('DeleteRegistryPolicy', {}, 'RegistryPolicyNotFoundException');
    const v1 = doc(['ecr:ReplicateImage', 'ecr:CreateRepository']);
    assert.deepEqual(await t.call('PutRegistryPolicy', { policyText: v1 }), { registryId: TEST_ACCOUNT, policyText: v1 });
    assert.deepEqual(await t.call('GetRegistryPolicy'), { registryId: TEST_ACCOUNT, policyText: v1 });
    await expectFailure('PutRegistryPolicy', { policyText: doc(['ecr:BatchGetImage']) }, 'InvalidParameterException', "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid registry policy provided'");
    assert.deepEqual(await t.call('PutAccountSetting', { name: 'REGISTRY_POLICY_SCOPE', value: 'V2' }), { name: 'REGISTRY_POLICY_SCOPE', value: 'V2' });
    const v2 = doc(['ecr:BatchGetImage', 'ecr:*']);
    assert.deepEqual(await t.call('PutRegistryPolicy', { policyText: v2 }), { registryId: TEST_ACCOUNT, policyText: v2 });
    assert.deepEqual(await t.call('DeleteRegistryPolicy'), { registryId: TEST_ACCOUNT, policyText: v2 });
    await expectFailure('PutRegistryPolicy', {}, 'ValidationException', /Value null at 'policyText'/);
    await expectFailure('PutRegistryPolicy', { policyText: 'x'.repeat(10_241) }, 'ValidationException', /policyText/);
  });

  it('DescribeRegistry', async () => {
    assert.deepEqual(await t.call('DescribeRegistry'), { registryId: TEST_ACCOUNT, replicationConfiguration: { rules: [] } });
  });

  it('account settings: defaults, put/get, validation', async () => {
    assert.deepEqual(await t.call('GetAccountSetting', { name: 'BASIC_SCAN_TYPE_VERSION' }), { name: 'BASIC_SCAN_TYPE_VERSION', value: 'AWS_NATIVE' });
    assert.deepEqual(await t.call('GetAccountSetting', { name: 'BLOB_MOUNTING' }), { name: 'BLOB_MOUNTING', value: 'DISABLED' });
    assert.deepEqual(await t.call('GetAccountSetting', { name: 'REGISTRY_POLICY_SCOPE' }), { name: 'REGISTRY_POLICY_SCOPE', value: 'V1' });
    assert.deepEqual(await t.call('PutAccountSetting', { name: 'BLOB_MOUNTING', value: 'ENABLED' }), { name: 'BLOB_MOUNTING', value: 'ENABLED' });
    assert.deepEqual(await t.call('GetAccountSetting', { name: 'BLOB_MOUNTING' }), { name: 'BLOB_MOUNTING', value: 'ENABLED' });
    await expectFailure('PutAccountSetting', { name: 'BLOB_MOUNTING', value: 'MAYBE' }, 'InvalidParameterException', /\[DISABLED, ENABLED\]/);
    await expectFailure('PutAccountSetting', { name: 'NOPE', value: 'x' }, 'InvalidParameterException', /BASIC_SCAN_TYPE_VERSION, REGISTRY_POLICY_SCOPE, BLOB_MOUNTING/);
    await expectFailure('GetAccountSetting', { name: '' }, 'ValidationException', /greater than or equal to 1/);
    await expectFailure('GetAccountSetting', { name: 'x'.repeat(65) }, 'ValidationException', /less than or equal to 64/);
    await expectFailure('GetAccountSetting', {}, 'ValidationException', /Value null at 'name'/);
    await expectFailure('PutAccountSetting', { name: 'BLOB_MOUNTING' }, 'ValidationException', /Value null at 'value'/);
  });
});

describe('tagging', () => {
  it('tag, list, untag; merge semantics and limits', async () => {
    await t.call('CreateRepository', { repositoryName: 'tagged', tags: [{ Key: 'a', Value: '1' }] });
    assert.deepEqual(await t.call('TagResource', { resourceArn: ARN('tagged'), tags: [{ Key: 'b', Value: '2' }, { Key: 'a', Value: 'x' }] }), {});
    assert.deepEqual(await t.call('ListTagsForResource', { resourceArn: ARN('tagged') }), { tags: [{ Key: 'a', Value: 'x' }, { Key: 'b', Value: '2' }] });
    assert.deepEqual(await t.call('UntagResource', { resourceArn: ARN('tagged'), tagKeys: ['a', 'absent'] }), {});
    assert.deepEqual(await t.call('ListTagsForResource', { resourceArn: ARN('tagged') }), { tags: [{ Key: 'b', Value: '2' }] });
    await t.call('TagResource', { resourceArn: ARN('tagged'), tags: Array.from({ length: 49 }, (_, i) => ({ Key: `k${i}`, Value: '' })) });
    await expectFailure('TagResource', { resourceArn: ARN('tagged'), tags: [{ Key: 'one-more', Value: '' }] }, 'TooManyTagsException', /maximum number of tags that can be applied to a repository is 50/);
    await expectFailure('TagResource', { resourceArn: ARN('tagged'), tags: [{ Key: 'k'.repeat(129), Value: '' }] }, 'InvalidTagParameterException');
    await expectFailure('TagResource', { resourceArn: ARN('tagged'), tags: [{ Key: 'd', Value: '1' }, { Key: 'd', Value: '2' }] }, 'InvalidTagParameterException');
    await expectFailure('UntagResource', { resourceArn: ARN('tagged'), tagKeys: [''] }, 'InvalidTagParameterException');
    await expectFailure('TagResource', { resourceArn: ARN('tagged') }, 'InvalidParameterException', /tags.*must not be null/);
    await expectFailure('UntagResource', { resourceArn: ARN('tagged') }, 'InvalidParameterException', /tagKeys.*must not be null/);
  });

  it('only repository ARNs of this registry', async () => {
    await t.call('CreateRepository', { repositoryName: 'r1' });
    const invalidArn = "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'";
    for (const resourceArn of ['r1', 'arn:aws:s3:::bucket', `arn:aws:ecr:us-east-1:${TEST_ACCOUNT}:repository/`, `arn:aws:ecr:us-east-1:${TEST_ACCOUNT}:repository/UPPER`, `arn:aws:ecr:us-east-1:1234:repository/r1`]) {
      await expectFailure('ListTagsForResource', { resourceArn }, 'InvalidParameterException', invalidArn);
    }
    await expectFailure('ListTagsForResource', { resourceArn: ARN('missing') }, 'RepositoryNotFoundException', `The repository with name 'missing' does not exist in the registry with id '${TEST_ACCOUNT}'`);
    await expectFailure('ListTagsForResource', { resourceArn: 'arn:aws:ecr:us-east-1:210987654321:repository/r1' }, 'RepositoryNotFoundException', /'210987654321'/);
    await expectFailure('ListTagsForResource', { resourceArn: `arn:aws:ecr:eu-west-1:${TEST_ACCOUNT}:repository/r1` }, 'RepositoryNotFoundException');
    await expectFailure('TagResource', { resourceArn: ARN('missing'), tags: [] }, 'RepositoryNotFoundException');
    await expectFailure('ListTagsForResource', {}, 'InvalidParameterException', /resourceArn.*must not be null/);
  });
});

describe('repository creation templates', () => {
  const base = { prefix: 'team/', appliedFor: ['CREATE_ON_PUSH'] };

  it('create with defaults; describe; update; delete', async () => {
    const created = await t.call('CreateRepositoryCreationTemplate', { ...base, description: 'team repos', resourceTags: [{ Key: 'team', Value: 'a' }] });
    const when = CREATED_AT;
    assert.deepEqual(created, {
      registryId: TEST_ACCOUNT,
      repositoryCreationTemplate: {
        prefix: 'team',
        description: 'team repos',
        encryptionConfiguration: { encryptionType: 'AES256' },
        resourceTags: [{ Key: 'team', Value: 'a' }],
        imageTagMutability: 'MUTABLE',
        appliedFor: ['CREATE_ON_PUSH'],
        createdAt: when,
        updatedAt: when,
      },
    });
    await expectFailure('CreateRepositoryCreationTemplate', { ...base, prefix: 'team' }, 'TemplateAlreadyExistsException', /prefix 'team' already exists/);
    t.clock.advance(2000);
    const updated = await t.call('UpdateRepositoryCreationTemplate', {
      prefix: 'team',
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest' }],
      encryptionConfiguration: { encryptionType: 'KMS', kmsKey: `arn:aws:kms:us-east-1:${TEST_ACCOUNT}:key/abc-123` },
      repositoryPolicy: REPO_POLICY,
      customRoleArn: `arn:aws:iam::${TEST_ACCOUNT}:role/ecr-templates`,
    });
    const tpl = updated.repositoryCreationTemplate as Record<string, unknown>;
    assert.equal(tpl.description, 'team repos');
    assert.equal(tpl.imageTagMutability, 'IMMUTABLE_WITH_EXCLUSION');
    assert.deepEqual(tpl.encryptionConfiguration, { encryptionType: 'KMS', kmsKey: `arn:aws:kms:us-east-1:${TEST_ACCOUNT}:key/abc-123` });
    assert.equal(tpl.repositoryPolicy, REPO_POLICY);
    assert.equal(tpl.updatedAt, when + 2);
    assert.equal(tpl.createdAt, when);
    await t.call('CreateRepositoryCreationTemplate', { prefix: 'ROOT', appliedFor: ['PULL_THROUGH_CACHE', 'CREATE_ON_PUSH'] });
    const described = await t.call('DescribeRepositoryCreationTemplates');
    assert.deepEqual((described.repositoryCreationTemplates as Array<Record<string, unknown>>).map((x) => x.prefix), ['ROOT', 'team']);
    assert.equal(described.registryId, TEST_ACCOUNT);
    const filtered = await t.call('DescribeRepositoryCreationTemplates', { prefixes: ['team/', 'other'] });
    assert.deepEqual((filtered.repositoryCreationTemplates as Array<Record<string, unknown>>).map((x) => x.prefix), ['team']);
    const paged = await t.call('DescribeRepositoryCreationTemplates', { maxResults: 1 });
    assert.equal((paged.repositoryCreationTemplates as unknown[]).length, 1);
    const rest = await t.call('DescribeRepositoryCreationTemplates', { maxResults: 1, nextToken: paged.nextToken });
    assert.deepEqual((rest.repositoryCreationTemplates as Array<Record<string, unknown>>).map((x) => x.prefix), ['team']);
    assert.equal(rest.nextToken, undefined);
    await expectFailure('DescribeRepositoryCreationTemplates', { prefixes: ['team'], nextToken: paged.nextToken }, 'InvalidParameterException', /Invalid NextToken/);
    assert.equal(((await t.call('DeleteRepositoryCreationTemplate', { prefix: 'team' })).repositoryCreationTemplate as Record<string, unknown>).prefix, 'team');
    await expectFailure('DeleteRepositoryCreationTemplate', { prefix: 'team' }, 'TemplateNotFoundException', /prefix 'team' does not exist/);
    await expectFailure('UpdateRepositoryCreationTemplate', { prefix: 'team', description: 'x' }, 'TemplateNotFoundException');
  });

  it('validation (ValidationException for model constraints)', async () => {
    const V = 'ValidationException';
    await expectFailure('CreateRepositoryCreationTemplate', { appliedFor: ['CREATE_ON_PUSH'] }, V, /Value null at 'prefix'/);
    await expectFailure('CreateRepositoryCreationTemplate', { prefix: 'team' }, V, /Value null at 'appliedFor'/);
    await expectFailure('CreateRepositoryCreationTemplate', { prefix: 'team', appliedFor: [] }, V, /appliedFor/);
    await expectFailure('CreateRepositoryCreationTemplate', { prefix: 'team', appliedFor: ['SOMETIMES'] }, V, /appliedFor\.1.*REPLICATION, PULL_THROUGH_CACHE, CREATE_ON_PUSH/);
    await expectFailure('CreateRepositoryCreationTemplate', { prefix: 'Team', appliedFor: ['CREATE_ON_PUSH'] }, V, /prefix.*regular expression/);
    await expectFailure('CreateRepositoryCreationTemplate', { ...base, description: 'd'.repeat(257) }, V, /description/);
    await expectFailure('CreateRepositoryCreationTemplate', { ...base, encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'alias/mine' } }, V, /kmsKey/);
    await expectFailure('CreateRepositoryCreationTemplate', { ...base, customRoleArn: 'arn:aws:iam::123:user/x' }, V, /customRoleArn/);
    await expectFailure('CreateRepositoryCreationTemplate', { ...base, imageTagMutability: 'MUTABLE_WITH_EXCLUSION' }, V, /ImageTagMutabilityExclusionFilters can't be null/);
    await expectFailure('CreateRepositoryCreationTemplate', { ...base, repositoryPolicy: '{}' }, 'InvalidParameterException', /Invalid repository policy provided/);
    await expectFailure('CreateRepositoryCreationTemplate', { ...base, lifecyclePolicy: '{' }, 'InvalidParameterException', /Lifecycle policy validation failure/);
    await expectFailure('CreateRepositoryCreationTemplate', { ...base, resourceTags: [{ Key: 'aws:x', Value: '' }] }, 'InvalidTagParameterException');
    await expectFailure('DescribeRepositoryCreationTemplates', { maxResults: 1001 }, V, /maxResults/);
    await expectFailure('DescribeRepositoryCreationTemplates', { prefixes: [] }, V, /prefixes/);
    await expectFailure('DeleteRepositoryCreationTemplate', {}, V, /Value null at 'prefix'/);
  });

  it('a CREATE_ON_PUSH template creates pushed repositories with its settings', async () => {
    await t.call('CreateRepositoryCreationTemplate', {
      prefix: 'apps', appliedFor: ['CREATE_ON_PUSH'], imageTagMutability: 'IMMUTABLE', resourceTags: [{ Key: 'owner', Value: 'apps' }], repositoryPolicy: REPO_POLICY,
    });
    await pushImage('apps/web', 'v1');
    const repo = ((await t.call('DescribeRepositories', { repositoryNames: ['apps/web'] })).repositories as Array<Record<string, unknown>>)[0]!;
    assert.equal(repo.imageTagMutability, 'IMMUTABLE');
    assert.deepEqual(await t.call('ListTagsForResource', { resourceArn: ARN('apps/web') }), { tags: [{ Key: 'owner', Value: 'apps' }] });
    assert.equal((await t.call('GetRepositoryPolicy', { repositoryName: 'apps/web' })).policyText, REPO_POLICY);
    await assert.rejects(pushImage('other/web', 'v1'), (e: Error) => /The repository with name 'other\/web' does not exist in the registry with id '123456789012'/.test(e.message));
  });
});

describe('authorization', () => {
  it('every operation asks for its own action, on the repository when it has one', async () => {
    await t.call('CreateRepository', { repositoryName: 'authz' });
    t.authorized.length = 0;
    await t.call('DescribeRepositories', { repositoryNames: ['authz'] });
    await t.call('DescribeRepositories');
    await t.call('PutImageTagMutability', { repositoryName: 'authz', imageTagMutability: 'MUTABLE' });
    await t.call('ListTagsForResource', { resourceArn: ARN('authz') });
    await t.call('DescribeRegistry');
    await t.call('GetAccountSetting', { name: 'BLOB_MOUNTING' });
    await t.call('DescribeRepositoryCreationTemplates');
    assert.deepEqual(t.authorized, [
      'DescribeRepositories@authz', 'DescribeRepositories@*', 'PutImageTagMutability@authz', 'ListTagsForResource@authz',
      'DescribeRegistry', 'GetAccountSetting', 'DescribeRepositoryCreationTemplates',
    ]);
    t.denied.add('ecr:DeleteRepository@authz');
    await expectFailure('DeleteRepository', { repositoryName: 'authz' }, 'AccessDeniedException');
    assert.ok(await t.meta.repositories.get('authz'));
  });
});
