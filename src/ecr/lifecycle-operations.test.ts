// The lifecycle operations in process (real registry over in-memory SQLite): Put/Get/DeleteLifecyclePolicy,
// Start/GetLifecyclePolicyPreview with ECR's shapes, errors, paging and filters; apply through the service.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { sha256Digest } from '../core/digest.ts';
import { createLifecycleService } from '../lifecycle/service.ts';
import { createTestEcr, TEST_ACCOUNT, type TestEcr, expectEcrFailure } from './test-context.ts';

const DAY = 86_400_000;
const rule = (rulePriority: number, selection: Record<string, unknown>) => ({ rulePriority, selection, action: { type: 'expire' } });
const text = (...rules: object[]) => JSON.stringify({ rules }, null, 2).padEnd(100, ' ');
const KEEP_ONE = text(rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }));

let t: TestEcr;
beforeEach(async () => {
  t = await createTestEcr();
  await t.call('CreateRepository', { repositoryName: 'app' });
  t.authorized.length = 0;
});
afterEach(async () => {
  await t.close();
});

const expectFailure = (op: string, input: Record<string, unknown>, type: string, message?: string | RegExp): Promise<void> => expectEcrFailure(t, op, input, type, message);

/** Pushes a distinct image (one layer) to `app`, one day after the previous one; returns its digest. */
async function push(seed: string, tag?: string): Promise<string> {
  t.clock.advance(DAY);
  const layer = Buffer.from(`layer ${seed}`);
  const config = Buffer.from(`{"seed":"${seed}"}`);
  for (const b of [layer, config]) await t.registry.putBlob('app', sha256Digest(b), Readable.from([b]), b.length);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256Digest(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256Digest(layer), size: layer.length }],
  });
  await t.call('PutImage', { repositoryName: 'app', imageManifest: manifest, ...(tag ? { imageTag: tag } : {}) });
  return sha256Digest(manifest);
}

describe('Put/Get/DeleteLifecyclePolicy', () => {
  it('round-trips the text verbatim and reports lastEvaluatedAt once an expiry run evaluated it', async () => {
    const put = await t.call('PutLifecyclePolicy', { repositoryName: 'app', lifecyclePolicyText: KEEP_ONE });
    assert.deepEqual(put, { registryId: TEST_ACCOUNT, repositoryName: 'app', lifecyclePolicyText: KEEP_ONE });
    assert.deepEqual(await t.call('GetLifecyclePolicy', { repositoryName: 'app' }), { registryId: TEST_ACCOUNT, repositoryName: 'app', lifecyclePolicyText: KEEP_ONE });
    await t.ctx.lifecycle.apply('app');
    const got = await t.call('GetLifecyclePolicy', { repositoryName: 'app' });
    assert.equal(got.lastEvaluatedAt, t.clock.now().getTime() / 1000);
    const deleted = await t.call('DeleteLifecyclePolicy', { repositoryName: 'app' });
    assert.deepEqual(deleted, { registryId: TEST_ACCOUNT, repositoryName: 'app', lifecyclePolicyText: KEEP_ONE, lastEvaluatedAt: got.lastEvaluatedAt });
    assert.deepEqual(t.authorized, ['PutLifecyclePolicy@app', 'GetLifecyclePolicy@app', 'GetLifecyclePolicy@app', 'DeleteLifecyclePolicy@app']);
  });

  it('answers ECR\'s errors', async () => {
    const missing = `Lifecycle policy does not exist for the repository with name 'app' in the registry with id '${TEST_ACCOUNT}'`;
    await expectFailure('GetLifecyclePolicy', { repositoryName: 'app' }, 'LifecyclePolicyNotFoundException', missing);
    await expectFailure('DeleteLifecyclePolicy', { repositoryName: 'app' }, 'LifecyclePolicyNotFoundException', missing);
    await expectFailure('PutLifecyclePolicy', { repositoryName: 'nope', lifecyclePolicyText: KEEP_ONE }, 'RepositoryNotFoundException', `The repository with name 'nope' does not exist in the registry with id '${TEST_ACCOUNT}'`);
    await expectFailure('PutLifecyclePolicy', { repositoryName: 'app' }, 'InvalidParameterException', /lifecyclePolicyText/);
    await expectFailure('PutLifecyclePolicy', { repositoryName: 'app', lifecyclePolicyText: '{"rules":[]}' }, 'InvalidParameterException', "Invalid parameter at 'lifecyclePolicyText' failed to satisfy constraint: 'must have length greater than or equal to 100'");
    await expectFailure('PutLifecyclePolicy', { repositoryName: 'app', lifecyclePolicyText: text(rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1, countUnit: 'days' })) }, 'InvalidParameterException',
      "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: instance failed to match exactly one schema (matched 0 out of 2)'");
    await expectFailure('GetLifecyclePolicy', { repositoryName: 'app', registryId: '999999999999' }, 'RepositoryNotFoundException');
    t.denied.add('ecr:PutLifecyclePolicy');
    await expectFailure('PutLifecyclePolicy', { repositoryName: 'app', lifecyclePolicyText: KEEP_ONE }, 'AccessDeniedException', /ecr:PutLifecyclePolicy/);
  });
});

describe('creation templates', () => {
  it('validate their lifecycle policy as PutLifecyclePolicy does', async () => {
    const base = { prefix: 'team', appliedFor: ['CREATE_ON_PUSH'] };
    await expectFailure('CreateRepositoryCreationTemplate', { ...base, lifecyclePolicy: text(rule(1, { tagStatus: 'tagged', countType: 'imageCountMoreThan', countNumber: 1 })) }, 'InvalidParameterException',
      "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: tagPrefixList or tagPatternList is required when tagStatus is 'tagged''");
    const created = await t.call('CreateRepositoryCreationTemplate', { ...base, lifecyclePolicy: KEEP_ONE });
    assert.equal((created.repositoryCreationTemplate as { lifecyclePolicy: string }).lifecyclePolicy, KEEP_ONE);
  });

  it('put their lifecycle policy on the repositories they create on push', async () => {
    await t.call('CreateRepositoryCreationTemplate', { prefix: 'team', appliedFor: ['CREATE_ON_PUSH'], lifecyclePolicy: KEEP_ONE });
    const layer = Buffer.from('layer');
    await t.registry.putBlob('team/new', sha256Digest(layer), Readable.from([layer]), layer.length);
    assert.deepEqual(await t.call('GetLifecyclePolicy', { repositoryName: 'team/new' }), { registryId: TEST_ACCOUNT, repositoryName: 'team/new', lifecyclePolicyText: KEEP_ONE });
    await t.call('CreateRepositoryCreationTemplate', { prefix: 'other', appliedFor: ['CREATE_ON_PUSH'] });
    await t.registry.putBlob('other/new', sha256Digest(layer), Readable.from([layer]), layer.length);
    await expectFailure('GetLifecyclePolicy', { repositoryName: 'other/new' }, 'LifecyclePolicyNotFoundException');
  });

  it('an invalid stored policy (from before validation) is not evaluated', async () => {
    const a = await push('a', 'v1');
    await push('b', 'v2');
    await t.meta.lifecycle.putPolicy((await t.registry.getRepository('app')).id, '{"rules":[{"rulePriority":1}]}', t.clock.now());
    const r = await t.ctx.lifecycle.apply('app');
    assert.equal(r.evaluated, false);
    assert.ok((await t.call('DescribeImages', { repositoryName: 'app', imageIds: [{ imageDigest: a }] })).imageDetails);
  });
});

describe('Start/GetLifecyclePolicyPreview', () => {
  it('previews without deleting: results oldest first with the rule, summary, paging, filters and imageIds', async () => {
    await expectFailure('GetLifecyclePolicyPreview', { repositoryName: 'app' }, 'LifecyclePolicyPreviewNotFoundException', 'There is no dry run for this repository.');
    await expectFailure('StartLifecyclePolicyPreview', { repositoryName: 'app' }, 'LifecyclePolicyNotFoundException');
    const a = await push('a', 'v1');
    const b = await push('b');
    const c = await push('c', 'v3');
    const started = await t.call('StartLifecyclePolicyPreview', { repositoryName: 'app', lifecyclePolicyText: KEEP_ONE });
    assert.deepEqual(started, { registryId: TEST_ACCOUNT, repositoryName: 'app', lifecyclePolicyText: KEEP_ONE, status: 'IN_PROGRESS' });
    const got = await t.call('GetLifecyclePolicyPreview', { repositoryName: 'app' });
    assert.equal(got.status, 'COMPLETE');
    assert.equal(got.lifecyclePolicyText, KEEP_ONE);
    assert.deepEqual(got.summary, { expiringImageTotalCount: 2 });
    const pushedA = (t.clock.now().getTime() - 2 * DAY) / 1000;
    assert.deepEqual(got.previewResults, [
      { imageTags: ['v1'], imageDigest: a, imagePushedAt: pushedA, action: { type: 'EXPIRE' }, appliedRulePriority: 1, storageClass: 'STANDARD' },
      { imageDigest: b, imagePushedAt: pushedA + 86_400, action: { type: 'EXPIRE' }, appliedRulePriority: 1, storageClass: 'STANDARD' },
    ]);
    assert.equal(got.nextToken, undefined);
    // Paging with maxResults and the signed nextToken.
    const p1 = await t.call('GetLifecyclePolicyPreview', { repositoryName: 'app', maxResults: 1 });
    assert.deepEqual((p1.previewResults as Array<{ imageDigest: string }>).map((r) => r.imageDigest), [a]);
    assert.equal(typeof p1.nextToken, 'string');
    const p2 = await t.call('GetLifecyclePolicyPreview', { repositoryName: 'app', maxResults: 1, nextToken: p1.nextToken });
    assert.deepEqual((p2.previewResults as Array<{ imageDigest: string }>).map((r) => r.imageDigest), [b]);
    assert.equal(p2.nextToken, undefined);
    // Filters and imageIds.
    const tagged = await t.call('GetLifecyclePolicyPreview', { repositoryName: 'app', filter: { tagStatus: 'TAGGED' } });
    assert.deepEqual((tagged.previewResults as Array<{ imageDigest: string }>).map((r) => r.imageDigest), [a]);
    const untagged = await t.call('GetLifecyclePolicyPreview', { repositoryName: 'app', filter: { tagStatus: 'UNTAGGED' } });
    assert.deepEqual((untagged.previewResults as Array<{ imageDigest: string }>).map((r) => r.imageDigest), [b]);
    const byId = await t.call('GetLifecyclePolicyPreview', { repositoryName: 'app', imageIds: [{ imageTag: 'v1' }, { imageDigest: c }] });
    assert.deepEqual((byId.previewResults as Array<{ imageDigest: string }>).map((r) => r.imageDigest), [a]);
    await expectFailure('GetLifecyclePolicyPreview', { repositoryName: 'app', imageIds: [{ imageTag: 'v1' }], maxResults: 5 }, 'InvalidParameterException', /cannot be specified together with imageIds/);
    await expectFailure('GetLifecyclePolicyPreview', { repositoryName: 'app', maxResults: 101 }, 'InvalidParameterException', /less than or equal to 100/);
    await expectFailure('GetLifecyclePolicyPreview', { repositoryName: 'app', filter: { tagStatus: 'tagged' } }, 'InvalidParameterException', /enum/);
    await expectFailure('GetLifecyclePolicyPreview', { repositoryName: 'app', nextToken: 'forged.token' }, 'InvalidParameterException', /Invalid NextToken/);
    // Nothing was deleted.
    const images = await t.call('DescribeImages', { repositoryName: 'app' });
    assert.equal((images.imageDetails as unknown[]).length, 3);
    // Without text, the stored policy is previewed; a new preview invalidates the old tokens.
    await t.call('PutLifecyclePolicy', { repositoryName: 'app', lifecyclePolicyText: text(rule(1, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 })) });
    t.clock.advance(1000);
    await t.call('StartLifecyclePolicyPreview', { repositoryName: 'app' });
    const stored = await t.call('GetLifecyclePolicyPreview', { repositoryName: 'app' });
    assert.deepEqual((stored.previewResults as Array<{ imageDigest: string }>).map((r) => r.imageDigest), [b]);
    await expectFailure('GetLifecyclePolicyPreview', { repositoryName: 'app', maxResults: 1, nextToken: p1.nextToken }, 'InvalidParameterException', /Invalid NextToken/);
    assert.deepEqual(t.authorized.filter((x) => x.startsWith('StartLifecyclePolicyPreview')), ['StartLifecyclePolicyPreview@app', 'StartLifecyclePolicyPreview@app', 'StartLifecyclePolicyPreview@app']);
  });

  it('refuses a second start while a preview is in progress, until it completes or goes stale', async () => {
    const queued: string[] = [];
    const lifecycle = createLifecycleService({ meta: t.meta, registry: t.registry, clock: t.clock, log: pino({ level: 'silent' }), accountId: TEST_ACCOUNT, jobs: { enqueue: async (kind, key) => { queued.push(`${kind}:${key}`); return true; } } });
    (t.ctx as { lifecycle: typeof lifecycle }).lifecycle = lifecycle;
    await push('a', 'v1');
    assert.equal((await t.call('StartLifecyclePolicyPreview', { repositoryName: 'app', lifecyclePolicyText: KEEP_ONE })).status, 'IN_PROGRESS');
    assert.deepEqual(queued, ['lifecycle.preview:app']);
    const pending = await t.call('GetLifecyclePolicyPreview', { repositoryName: 'app' });
    assert.deepEqual({ status: pending.status, previewResults: pending.previewResults, summary: pending.summary }, { status: 'IN_PROGRESS', previewResults: [], summary: undefined });
    await expectFailure('StartLifecyclePolicyPreview', { repositoryName: 'app', lifecyclePolicyText: KEEP_ONE }, 'LifecyclePolicyPreviewInProgressException', 'The previous lifecycle policy preview request has not completed. Wait and try again.');
    t.clock.advance(16 * 60_000);
    assert.equal((await t.call('StartLifecyclePolicyPreview', { repositoryName: 'app', lifecyclePolicyText: KEEP_ONE })).status, 'IN_PROGRESS');
    const startedAt = (await t.meta.lifecycle.getPreview((await t.registry.getRepository('app')).id))!.startedAt;
    await lifecycle.runPreview('app', startedAt);
    assert.equal((await t.call('GetLifecyclePolicyPreview', { repositoryName: 'app' })).status, 'COMPLETE');
  });
});

describe('expiry through the service', () => {
  it('deletes what the preview showed, records each expiry, and skips images retagged since the evaluation', async () => {
    const a = await push('a', 'v1');
    const b = await push('b');
    const c = await push('c', 'v3');
    await t.call('PutLifecyclePolicy', { repositoryName: 'app', lifecyclePolicyText: KEEP_ONE });
    const preview = await t.ctx.lifecycle.evaluate('app');
    assert.deepEqual(preview.expired.map((d) => d.digest), [a, b]);
    const r = await t.ctx.lifecycle.apply('app');
    assert.deepEqual(r.expired.map((d) => d.digest), [a, b]);
    assert.deepEqual(r.skipped, []);
    const left = await t.call('DescribeImages', { repositoryName: 'app' });
    assert.deepEqual((left.imageDetails as Array<{ imageDigest: string }>).map((i) => i.imageDigest), [c]);
    const history = await t.ctx.lifecycle.history({ limit: 10 });
    assert.deepEqual(history.map((e) => [e.repositoryName, e.digest, e.tags, e.rulePriority]), [['app', a, ['v1'], 1], ['app', b, [], 1]]);
    assert.match(history[0]!.reason, /rule 1: 3rd newest of 3 matching images \(imageCountMoreThan 1\)/);
    assert.ok(history[0]!.id < history[1]!.id);

    // A push between the snapshot and the delete retags c: c is skipped, not deleted on a stale decision.
    const d = await push('d', 'v4');
    const repo = await t.registry.getRepository('app');
    const racing = new Proxy(t.meta, {
      get(target, prop, receiver) {
        if (prop !== 'lifecycle') return Reflect.get(target, prop, receiver);
        return {
          ...target.lifecycle,
          images: async (id: number) => {
            const rows = await target.lifecycle.images(id);
            await target.tags.set(repo.id, 'hotfix', c, t.clock.now());
            return rows;
          },
        };
      },
    });
    const lifecycle = createLifecycleService({ meta: racing, registry: t.registry, clock: t.clock, log: pino({ level: 'silent' }), accountId: TEST_ACCOUNT });
    const raced = await lifecycle.apply('app');
    assert.deepEqual(raced.expired, []);
    assert.deepEqual(raced.skipped.map((x) => x.digest), [c]);
    assert.match(raced.skipped[0]!.reason, /changed/);
    const still = await t.call('DescribeImages', { repositoryName: 'app' });
    assert.deepEqual((still.imageDetails as Array<{ imageDigest: string }>).map((i) => i.imageDigest), [c, d]);
    assert.equal((await t.ctx.lifecycle.history({ limit: 10 })).length, 2, 'nothing recorded for a skipped image');
  });
});
