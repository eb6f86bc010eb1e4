/**
 * ECR repository administration against the running server, driven by the real clients: the AWS SDK for
 * JavaScript v3 (@aws-sdk/client-ecr) and the AWS CLI v2 (/usr/bin/aws). Every operation's happy path and
 * its error paths with the exact `__type` (SDK: err.name; CLI: `An error occurred (<Type>)`), pagination
 * across pages (SDK paginator, CLI auto-pagination), and create-on-push through the OCI API.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  CreateRepositoryCommand,
  CreateRepositoryCreationTemplateCommand,
  DeleteRegistryPolicyCommand,
  DeleteRepositoryCommand,
  DeleteRepositoryCreationTemplateCommand,
  DeleteRepositoryPolicyCommand,
  DescribeRegistryCommand,
  DescribeRepositoriesCommand,
  DescribeRepositoryCreationTemplatesCommand,
  ECRClient,
  GetAccountSettingCommand,
  GetRegistryPolicyCommand,
  GetRepositoryPolicyCommand,
  ListTagsForResourceCommand,
  paginateDescribeRepositories,
  paginateDescribeRepositoryCreationTemplates,
  PutAccountSettingCommand,
  PutImageScanningConfigurationCommand,
  PutImageTagMutabilityCommand,
  PutRegistryPolicyCommand,
  SetRepositoryPolicyCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateRepositoryCreationTemplateCommand,
} from '@aws-sdk/client-ecr';
import { startCargohold, type RunningServer } from '../helpers/server.ts';
import { AWS_CLI, ecrCli } from '../helpers/aws-cli.ts';

const run = promisify(execFile);
const ACCOUNT = '123456789012';
const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'pull', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::210987654321:root' }, Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] }],
});
const REGISTRY_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'replicate', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::210987654321:root' }, Action: ['ecr:CreateRepository', 'ecr:ReplicateImage'], Resource: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/*` }],
});

let s: RunningServer;
let ecr: ECRClient;
const arn = (name: string) => `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/${name}`;

before(async () => {
  s = await startCargohold({ ecrSemantics: true, env: { CARGOHOLD_LOG_LEVEL: 'warn' } });
  const c = s.credentials!;
  ecr = new ECRClient({ endpoint: s.url, region: c.region, credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey }, maxAttempts: 1 });
});
after(async () => {
  ecr?.destroy();
  await s?.stop();
});

/** Expects the SDK call to fail with this exception name (and message, when given). */
async function rejects(p: Promise<unknown>, name: string, message?: string | RegExp): Promise<void> {
  await assert.rejects(p, (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(e.name, name, e.message);
    assert.equal(e.$metadata?.httpStatusCode, 400);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return true;
  });
}

const { cli, cliFails } = ecrCli(() => s);

/** Runs `fn` over `items` with at most `limit` in flight. */
async function bounded<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Pushes a one-layer OCI image with plain fetch (monolithic blob uploads + manifest PUT). */
async function ociPush(name: string, tag: string): Promise<Response> {
  const auth = { Authorization: s.authorization! };
  const layer = Buffer.from(`layer of ${name}:${tag}`);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }));
  for (const blob of [layer, config]) {
    const r = await fetch(`${s.url}/v2/${name}/blobs/uploads/?digest=${sha256(blob)}`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/octet-stream' }, body: blob });
    if (r.status !== 201) return r;
    await r.arrayBuffer();
  }
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
  });
  return fetch(`${s.url}/v2/${name}/manifests/${tag}`, { method: 'PUT', headers: { ...auth, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest });
}

describe('ECR repositories end to end (SDK v3 + AWS CLI v2)', () => {
  it('the AWS CLI v2 is the one under test', async () => {
    assert.ok(existsSync(AWS_CLI), `${AWS_CLI} is missing`);
    const { stdout } = await run(AWS_CLI, ['--version']);
    assert.match(stdout, /^aws-cli\/2\./);
  });

  it('CreateRepository / DescribeRepositories / DeleteRepository', async () => {
    const created = await ecr.send(new CreateRepositoryCommand({
      repositoryName: 'e2e/app',
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest' }],
      imageScanningConfiguration: { scanOnPush: true },
      tags: [{ Key: 'team', Value: 'core' }],
    }));
    const repo = created.repository!;
    assert.equal(repo.repositoryArn, arn('e2e/app'));
    assert.equal(repo.registryId, ACCOUNT);
    assert.equal(repo.repositoryUri, `${s.host}/e2e/app`);
    assert.ok(repo.createdAt instanceof Date && Math.abs(repo.createdAt.getTime() - Date.now()) < 60_000);
    assert.deepEqual(repo.imageTagMutabilityExclusionFilters, [{ filterType: 'WILDCARD', filter: 'latest' }]);
    assert.deepEqual(repo.imageScanningConfiguration, { scanOnPush: true });
    assert.deepEqual(repo.encryptionConfiguration, { encryptionType: 'AES256' });

    const described = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['e2e/app'] }));
    assert.deepEqual(described.repositories, [repo]);

    await rejects(ecr.send(new CreateRepositoryCommand({ repositoryName: 'e2e/app' })), 'RepositoryAlreadyExistsException',
      `The repository with name 'e2e/app' already exists in the registry with id '${ACCOUNT}'`);
    await rejects(ecr.send(new CreateRepositoryCommand({ repositoryName: 'E2E' })), 'InvalidParameterException', /regular expression/);
    await rejects(ecr.send(new CreateRepositoryCommand({ repositoryName: 'x' })), 'InvalidParameterException', /length greater than or equal to 2/);
    await rejects(ecr.send(new CreateRepositoryCommand({ repositoryName: 'ok/x', imageTagMutability: 'NOPE' as never })), 'InvalidParameterException', /enum value set/);
    await rejects(ecr.send(new CreateRepositoryCommand({ repositoryName: 'ok/x', imageTagMutability: 'MUTABLE_WITH_EXCLUSION' })), 'InvalidParameterException', /can't be null/);
    await rejects(ecr.send(new CreateRepositoryCommand({ repositoryName: 'ok/x', tags: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) })), 'TooManyTagsException');
    await rejects(ecr.send(new CreateRepositoryCommand({ repositoryName: 'ok/x', tags: [{ Key: 'k'.repeat(129), Value: 'v' }] })), 'InvalidTagParameterException');
    await rejects(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['e2e/missing'] })), 'RepositoryNotFoundException',
      `The repository with name 'e2e/missing' does not exist in the registry with id '${ACCOUNT}'`);
    await rejects(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['e2e/app'], maxResults: 5 })), 'InvalidParameterException');
    await rejects(ecr.send(new DescribeRepositoriesCommand({ maxResults: 1001 })), 'InvalidParameterException');
    await rejects(ecr.send(new DescribeRepositoriesCommand({ nextToken: 'not-a-token' })), 'InvalidParameterException', /Invalid NextToken/);

    // Not empty: an image pushed through /v2/ blocks a plain delete; force removes the images too.
    assert.equal((await ociPush('e2e/app', 'v1')).status, 201);
    await rejects(ecr.send(new DeleteRepositoryCommand({ repositoryName: 'e2e/app' })), 'RepositoryNotEmptyException',
      `The repository with name 'e2e/app' in registry with id '${ACCOUNT}' cannot be deleted because it still contains images`);
    const deleted = await ecr.send(new DeleteRepositoryCommand({ repositoryName: 'e2e/app', force: true }));
    assert.equal(deleted.repository?.repositoryName, 'e2e/app');
    await rejects(ecr.send(new DeleteRepositoryCommand({ repositoryName: 'e2e/app' })), 'RepositoryNotFoundException');
    const gone = await fetch(`${s.url}/v2/e2e/app/manifests/v1`, { headers: { Authorization: s.authorization! } });
    assert.equal(gone.status, 404);
    await gone.arrayBuffer();
  });

  it('PutImageTagMutability / PutImageScanningConfiguration', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'e2e/mut' }));
    const out = await ecr.send(new PutImageTagMutabilityCommand({ repositoryName: 'e2e/mut', imageTagMutability: 'IMMUTABLE' }));
    assert.equal(out.imageTagMutability, 'IMMUTABLE');
    assert.equal(out.registryId, ACCOUNT);
    const scan = await ecr.send(new PutImageScanningConfigurationCommand({ repositoryName: 'e2e/mut', imageScanningConfiguration: { scanOnPush: true } }));
    assert.deepEqual(scan.imageScanningConfiguration, { scanOnPush: true });
    const [repo] = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['e2e/mut'] }))).repositories!;
    assert.equal(repo!.imageTagMutability, 'IMMUTABLE');
    assert.equal(repo!.imageScanningConfiguration?.scanOnPush, true);
    await rejects(ecr.send(new PutImageTagMutabilityCommand({ repositoryName: 'e2e/none', imageTagMutability: 'MUTABLE' })), 'RepositoryNotFoundException');
    await rejects(ecr.send(new PutImageTagMutabilityCommand({ repositoryName: 'e2e/mut', imageTagMutability: 'MUTABLE', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'x' }] })), 'InvalidParameterException');
    await rejects(ecr.send(new PutImageScanningConfigurationCommand({ repositoryName: 'e2e/none', imageScanningConfiguration: { scanOnPush: true } })), 'RepositoryNotFoundException');
    await rejects(ecr.send(new PutImageTagMutabilityCommand({ repositoryName: 'e2e/mut', imageTagMutability: 'MUTABLE', registryId: '210987654321' })), 'RepositoryNotFoundException', /'210987654321'/);
  });

  it('Set/Get/DeleteRepositoryPolicy', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'e2e/pol' }));
    await rejects(ecr.send(new GetRepositoryPolicyCommand({ repositoryName: 'e2e/pol' })), 'RepositoryPolicyNotFoundException',
      `Repository policy does not exist for the repository with name 'e2e/pol' in the registry with id '${ACCOUNT}'`);
    await rejects(ecr.send(new DeleteRepositoryPolicyCommand({ repositoryName: 'e2e/pol' })), 'RepositoryPolicyNotFoundException');
    const set = await ecr.send(new SetRepositoryPolicyCommand({ repositoryName: 'e2e/pol', policyText: POLICY }));
    assert.deepEqual([set.registryId, set.repositoryName, set.policyText], [ACCOUNT, 'e2e/pol', POLICY]);
    assert.equal((await ecr.send(new GetRepositoryPolicyCommand({ repositoryName: 'e2e/pol' }))).policyText, POLICY);
    await rejects(ecr.send(new SetRepositoryPolicyCommand({ repositoryName: 'e2e/pol', policyText: '{"Statement":[{"Effect":"Allow","Action":"ecr:*"}]}' })), 'InvalidParameterException',
      "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'");
    await rejects(ecr.send(new SetRepositoryPolicyCommand({ repositoryName: 'e2e/none', policyText: POLICY })), 'RepositoryNotFoundException');
    assert.equal((await ecr.send(new DeleteRepositoryPolicyCommand({ repositoryName: 'e2e/pol' }))).policyText, POLICY);
  });

  it('Put/Get/DeleteRegistryPolicy, DescribeRegistry, Put/GetAccountSetting', async () => {
    assert.deepEqual(await ecr.send(new DescribeRegistryCommand({})).then((r) => [r.registryId, r.replicationConfiguration]), [ACCOUNT, { rules: [] }]);
    await rejects(ecr.send(new GetRegistryPolicyCommand({})), 'RegistryPolicyNotFoundException', `Registry policy does not exist in the registry with id '${ACCOUNT}'`);
    assert.equal((await ecr.send(new PutRegistryPolicyCommand({ policyText: REGISTRY_POLICY }))).policyText, REGISTRY_POLICY);
    assert.equal((await ecr.send(new GetRegistryPolicyCommand({}))).policyText, REGISTRY_POLICY);
    const wide = REGISTRY_POLICY.replace('ecr:ReplicateImage', 'ecr:BatchGetImage');
    await rejects(ecr.send(new PutRegistryPolicyCommand({ policyText: wide })), 'InvalidParameterException', /Invalid registry policy provided/);
    assert.equal((await ecr.send(new GetAccountSettingCommand({ name: 'REGISTRY_POLICY_SCOPE' }))).value, 'V1');
    const put = await ecr.send(new PutAccountSettingCommand({ name: 'REGISTRY_POLICY_SCOPE', value: 'V2' }));
    assert.deepEqual([put.name, put.value], ['REGISTRY_POLICY_SCOPE', 'V2']);
    assert.equal((await ecr.send(new PutRegistryPolicyCommand({ policyText: wide }))).policyText, wide);
    assert.equal((await ecr.send(new DeleteRegistryPolicyCommand({}))).policyText, wide);
    await rejects(ecr.send(new DeleteRegistryPolicyCommand({})), 'RegistryPolicyNotFoundException');
    await rejects(ecr.send(new PutRegistryPolicyCommand({ policyText: 'x'.repeat(10_241) })), 'ValidationException');
    assert.equal((await ecr.send(new GetAccountSettingCommand({ name: 'BASIC_SCAN_TYPE_VERSION' }))).value, 'AWS_NATIVE');
    await rejects(ecr.send(new PutAccountSettingCommand({ name: 'BLOB_MOUNTING', value: 'SOMETIMES' })), 'InvalidParameterException', /\[DISABLED, ENABLED\]/);
    await rejects(ecr.send(new GetAccountSettingCommand({ name: 'NO_SUCH_SETTING' })), 'InvalidParameterException');
    await rejects(ecr.send(new GetAccountSettingCommand({ name: '' })), 'ValidationException');
  });

  it('TagResource / UntagResource / ListTagsForResource', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'e2e/tags', tags: [{ Key: 'a', Value: '1' }] }));
    assert.deepEqual(await ecr.send(new TagResourceCommand({ resourceArn: arn('e2e/tags'), tags: [{ Key: 'b', Value: '2' }, { Key: 'a', Value: 'x' }] })).then((r) => r.$metadata.httpStatusCode), 200);
    assert.deepEqual((await ecr.send(new ListTagsForResourceCommand({ resourceArn: arn('e2e/tags') }))).tags, [{ Key: 'a', Value: 'x' }, { Key: 'b', Value: '2' }]);
    await ecr.send(new UntagResourceCommand({ resourceArn: arn('e2e/tags'), tagKeys: ['a'] }));
    assert.deepEqual((await ecr.send(new ListTagsForResourceCommand({ resourceArn: arn('e2e/tags') }))).tags, [{ Key: 'b', Value: '2' }]);
    await ecr.send(new TagResourceCommand({ resourceArn: arn('e2e/tags'), tags: Array.from({ length: 49 }, (_, i) => ({ Key: `k${i}`, Value: '' })) }));
    await rejects(ecr.send(new TagResourceCommand({ resourceArn: arn('e2e/tags'), tags: [{ Key: 'fifty-one', Value: '' }] })), 'TooManyTagsException',
      'The list of tags on the repository is over the limit. The maximum number of tags that can be applied to a repository is 50.');
    await rejects(ecr.send(new TagResourceCommand({ resourceArn: arn('e2e/tags'), tags: [{ Key: 'v', Value: 'x'.repeat(257) }] })), 'InvalidTagParameterException');
    await rejects(ecr.send(new UntagResourceCommand({ resourceArn: arn('e2e/tags'), tagKeys: ['aws:internal'] })), 'InvalidTagParameterException');
    await rejects(ecr.send(new ListTagsForResourceCommand({ resourceArn: 'arn:aws:s3:::bucket' })), 'InvalidParameterException',
      "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'");
    await rejects(ecr.send(new ListTagsForResourceCommand({ resourceArn: arn('e2e/none') })), 'RepositoryNotFoundException');
    await rejects(ecr.send(new TagResourceCommand({ resourceArn: arn('e2e/none'), tags: [{ Key: 'k', Value: 'v' }] })), 'RepositoryNotFoundException');
    await rejects(ecr.send(new UntagResourceCommand({ resourceArn: arn('e2e/none'), tagKeys: ['k'] })), 'RepositoryNotFoundException');
  });

  it('repository creation templates: create, describe (paginated), update, delete', async () => {
    const created = await ecr.send(new CreateRepositoryCreationTemplateCommand({
      prefix: 'tmpl', description: 'pushed repositories', appliedFor: ['CREATE_ON_PUSH'], imageTagMutability: 'IMMUTABLE',
      resourceTags: [{ Key: 'origin', Value: 'template' }], repositoryPolicy: POLICY,
    }));
    const t = created.repositoryCreationTemplate!;
    assert.equal(created.registryId, ACCOUNT);
    assert.equal(t.prefix, 'tmpl');
    assert.deepEqual(t.appliedFor, ['CREATE_ON_PUSH']);
    assert.deepEqual(t.encryptionConfiguration, { encryptionType: 'AES256' });
    assert.ok(t.createdAt instanceof Date && t.updatedAt instanceof Date);
    await rejects(ecr.send(new CreateRepositoryCreationTemplateCommand({ prefix: 'tmpl', appliedFor: ['REPLICATION'] })), 'TemplateAlreadyExistsException');
    await rejects(ecr.send(new CreateRepositoryCreationTemplateCommand({ prefix: 'BAD', appliedFor: ['REPLICATION'] })), 'ValidationException');
    await rejects(ecr.send(new CreateRepositoryCreationTemplateCommand({ prefix: 'ok', appliedFor: ['SOMETIMES' as never] })), 'ValidationException');
    await rejects(ecr.send(new CreateRepositoryCreationTemplateCommand({ prefix: 'ok', appliedFor: ['REPLICATION'], encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'alias/x' } })), 'ValidationException');
    await rejects(ecr.send(new CreateRepositoryCreationTemplateCommand({ prefix: 'ok', appliedFor: ['REPLICATION'], repositoryPolicy: 'nope' })), 'InvalidParameterException');
    for (const p of ['zz/a', 'zz/b', 'zz/c']) await ecr.send(new CreateRepositoryCreationTemplateCommand({ prefix: p, appliedFor: ['REPLICATION'] }));
    const prefixes: string[] = [];
    let pages = 0;
    for await (const page of paginateDescribeRepositoryCreationTemplates({ client: ecr, pageSize: 2 }, {})) {
      pages++;
      prefixes.push(...page.repositoryCreationTemplates!.map((x) => x.prefix!));
    }
    assert.deepEqual(prefixes, ['tmpl', 'zz/a', 'zz/b', 'zz/c']);
    assert.equal(pages, 2);
    const filtered = await ecr.send(new DescribeRepositoryCreationTemplatesCommand({ prefixes: ['zz/b', 'nothing'] }));
    assert.deepEqual(filtered.repositoryCreationTemplates!.map((x) => x.prefix), ['zz/b']);
    const updated = await ecr.send(new UpdateRepositoryCreationTemplateCommand({ prefix: 'zz/a', description: 'updated', appliedFor: ['REPLICATION', 'PULL_THROUGH_CACHE'] }));
    assert.equal(updated.repositoryCreationTemplate?.description, 'updated');
    assert.deepEqual(updated.repositoryCreationTemplate?.appliedFor, ['REPLICATION', 'PULL_THROUGH_CACHE']);
    await rejects(ecr.send(new UpdateRepositoryCreationTemplateCommand({ prefix: 'zz/none', description: 'x' })), 'TemplateNotFoundException');
    for (const p of ['zz/a', 'zz/b', 'zz/c']) assert.equal((await ecr.send(new DeleteRepositoryCreationTemplateCommand({ prefix: p }))).repositoryCreationTemplate?.prefix, p);
    await rejects(ecr.send(new DeleteRepositoryCreationTemplateCommand({ prefix: 'zz/a' })), 'TemplateNotFoundException');
  });

  it('create on push through the OCI API: a templated prefix creates the repository with the template settings; elsewhere NAME_UNKNOWN', async () => {
    const r = await ociPush('tmpl/service', 'v1');
    assert.equal(r.status, 201, await r.clone().text());
    await r.arrayBuffer();
    const [repo] = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['tmpl/service'] }))).repositories!;
    assert.equal(repo!.imageTagMutability, 'IMMUTABLE');
    assert.deepEqual((await ecr.send(new ListTagsForResourceCommand({ resourceArn: arn('tmpl/service') }))).tags, [{ Key: 'origin', Value: 'template' }]);
    assert.equal((await ecr.send(new GetRepositoryPolicyCommand({ repositoryName: 'tmpl/service' }))).policyText, POLICY);

    const miss = await ociPush('elsewhere/service', 'v1');
    assert.equal(miss.status, 404);
    const body = (await miss.json()) as { errors: Array<{ code: string; message: string }> };
    assert.equal(body.errors[0]!.code, 'NAME_UNKNOWN');
    assert.equal(body.errors[0]!.message, `The repository with name 'elsewhere/service' does not exist in the registry with id '${ACCOUNT}'`);
    await rejects(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['elsewhere/service'] })), 'RepositoryNotFoundException');
  });

  it('pagination: 250 repositories through the SDK paginator and the CLI auto-paginator', async () => {
    const names = Array.from({ length: 250 }, (_, i) => `page/r${String(i).padStart(3, '0')}`);
    await bounded(names, 8, (repositoryName) => ecr.send(new CreateRepositoryCommand({ repositoryName })));
    const all = await ecr.send(new DescribeRepositoriesCommand({ maxResults: 1000 }));
    const expected = all.repositories!.map((r) => r.repositoryName!);
    assert.ok(expected.length >= 250);
    assert.equal(all.nextToken, undefined);

    const seen: string[] = [];
    const sizes: number[] = [];
    for await (const page of paginateDescribeRepositories({ client: ecr, pageSize: 100 }, {})) {
      sizes.push(page.repositories!.length);
      seen.push(...page.repositories!.map((r) => r.repositoryName!));
    }
    assert.deepEqual(seen, expected);
    assert.equal(sizes.length, Math.ceil(expected.length / 100));
    assert.ok(sizes.slice(0, -1).every((n) => n === 100));
    // Without maxResults a page holds 100.
    const first = await ecr.send(new DescribeRepositoriesCommand({}));
    assert.equal(first.repositories!.length, 100);
    assert.ok(first.nextToken);

    const viaCli = await cli(['describe-repositories', '--page-size', '60', '--query', 'repositories[].repositoryName']);
    assert.ok(viaCli.ok, viaCli.ok ? '' : viaCli.stderr);
    assert.deepEqual(viaCli.json, expected);
    const capped = await cli(['describe-repositories', '--max-items', '5']);
    assert.ok(capped.ok);
    assert.equal(capped.json.repositories.length, 5);
    assert.ok(capped.json.NextToken);
  });

  it('AWS CLI v2: happy paths and the error line for each kind of failure', async () => {
    const created = await cli(['create-repository', '--repository-name', 'cli/app', '--image-tag-mutability', 'IMMUTABLE', '--tags', 'Key=via,Value=cli']);
    assert.ok(created.ok, created.ok ? '' : created.stderr);
    assert.equal(created.json.repository.repositoryName, 'cli/app');
    assert.equal(created.json.repository.imageTagMutability, 'IMMUTABLE');
    const results = await Promise.all([
      cliFails(['create-repository', '--repository-name', 'cli/app'], 'RepositoryAlreadyExistsException'),
      cliFails(['describe-repositories', '--repository-names', 'cli/none'], 'RepositoryNotFoundException'),
      cliFails(['create-repository', '--repository-name', 'CLI'], 'InvalidParameterException'),
      cliFails(['get-repository-policy', '--repository-name', 'cli/app'], 'RepositoryPolicyNotFoundException'),
    ]);
    assert.match(results[1]!, /The repository with name 'cli\/none' does not exist in the registry with id '123456789012'/);
    const more = await Promise.all([
      cli(['put-image-tag-mutability', '--repository-name', 'cli/app', '--image-tag-mutability', 'MUTABLE']),
      cli(['list-tags-for-resource', '--resource-arn', arn('cli/app')]),
      cli(['set-repository-policy', '--repository-name', 'cli/app', '--policy-text', POLICY]),
      cli(['describe-registry']),
    ]);
    for (const r of more) assert.ok(r.ok, r.ok ? '' : r.stderr);
    assert.equal(more[0]!.ok && more[0]!.json.imageTagMutability, 'MUTABLE');
    assert.deepEqual(more[1]!.ok && more[1]!.json.tags, [{ Key: 'via', Value: 'cli' }]);
    assert.equal(more[3]!.ok && more[3]!.json.registryId, ACCOUNT);
    const deleted = await cli(['delete-repository', '--repository-name', 'cli/app']);
    assert.ok(deleted.ok);
    await cliFails(['delete-repository', '--repository-name', 'cli/app'], 'RepositoryNotFoundException');
  });
});
