/**
 * Lifecycle policies end to end against the real server: the AWS CLI v2 puts, gets, previews and deletes a
 * policy (put-lifecycle-policy, start-lifecycle-policy-preview, get-lifecycle-policy-preview with paging and
 * filters, the lifecycle-policy-preview-complete waiter); `cargohold lifecycle preview` agrees with the ECR
 * preview; then the server restarts with a one-second expiry schedule and the scheduled job actually deletes
 * the images the preview listed (kept ones still pull, expired ones are gone), recorded in the history that
 * `cargohold lifecycle history --follow` streams, with lastEvaluatedAt reported; `cargohold lifecycle put/run`
 * work on the data directory while the server runs.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ecrCli } from '../helpers/aws-cli.ts';
import { makeImage, makeIndex, OciClient } from '../helpers/oci-client.ts';
import { startCargohold, type RunningServer } from '../helpers/server.ts';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const REPO = 'team/lifecycle';

let s: RunningServer;
let dir: string;
const { cli, cliFails } = ecrCli(() => s);

const POLICY = JSON.stringify({
  rules: [
    { rulePriority: 1, description: 'keep the newest v* image', selection: { tagStatus: 'tagged', tagPrefixList: ['v'], countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } },
    { rulePriority: 2, description: 'keep one untagged image', selection: { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } },
  ],
}, null, 2);

/** Digests by label, pushed in this order (push time increases). */
const pushed: Record<string, string> = {};

function cargohold(args: string[]) {
  return run(process.execPath, [join(ROOT, 'bin/cargohold.js'), ...args, '--data-dir', s.dataDir], { env: { ...process.env, CARGOHOLD_LOG_LEVEL: 'warn' }, maxBuffer: 16 << 20 });
}

/** Polls `check` (bounded) until it returns a value. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, tries = 300, delayMs = 100): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, delayMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cargohold-lifecycle-'));
  // Phase 1: no automatic expiry (previews still run as jobs).
  await writeFile(join(dir, 'phase1.json'), JSON.stringify({ lifecycle: { enabled: false }, jobs: { pollIntervalMs: 50 } }));
  s = await startCargohold({ ecrSemantics: true, args: ['--config', join(dir, 'phase1.json')], env: { CARGOHOLD_LOG_LEVEL: 'warn' } });
  const created = await cli(['create-repository', '--repository-name', REPO]);
  assert.ok(created.ok, JSON.stringify(created));
  const oci = new OciClient(s.url, { authorization: s.authorization });
  const image = async (label: string, tag?: string) => {
    const img = makeImage();
    await oci.pushImage(REPO, img, tag ?? img.digest);
    pushed[label] = img.digest;
    return img;
  };
  const v1 = await image('v1', 'v1');
  await image('u1');
  await image('v2', 'v2');
  // A signature of v1 (OCI referrer): follows v1.
  const sig = makeImage({ artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json', emptyConfig: true, subject: v1.descriptor });
  await oci.pushImage(REPO, sig);
  pushed.sig = sig.digest;
  // A two-platform index tagged "multi" with untagged children: no rule selects it, its children stay.
  const amd = await image('amd64');
  const arm = await image('arm64');
  const index = makeIndex([amd.descriptor, arm.descriptor]);
  await oci.pushIndex(REPO, index, 'multi');
  pushed.multi = index.digest;
  await image('u2');
  await image('v3', 'v3');
});

after(async () => {
  await s?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('lifecycle policies through the AWS CLI', () => {
  it('put-lifecycle-policy validates as ECR does and get-lifecycle-policy returns it', async () => {
    await writeFile(join(dir, 'policy.json'), POLICY);
    const put = await cli(['put-lifecycle-policy', '--repository-name', REPO, '--lifecycle-policy-text', `file://${join(dir, 'policy.json')}`]);
    assert.ok(put.ok, JSON.stringify(put));
    assert.deepEqual(put.json, { registryId: '123456789012', repositoryName: REPO, lifecyclePolicyText: POLICY });
    const got = await cli(['get-lifecycle-policy', '--repository-name', REPO]);
    assert.ok(got.ok);
    assert.equal(got.json.lifecyclePolicyText, POLICY);
    assert.equal(got.json.lastEvaluatedAt, undefined, 'never evaluated yet');
    const bad = POLICY.replace('"countNumber": 1\n', '"countNumber": 1,\n        "countUnit": "days"\n');
    assert.notEqual(bad, POLICY);
    const err = await cliFails(['put-lifecycle-policy', '--repository-name', REPO, '--lifecycle-policy-text', bad], 'InvalidParameterException');
    assert.match(err, /Lifecycle policy validation failure: instance failed to match exactly one schema \(matched 0 out of 2\)/);
    await cliFails(['get-lifecycle-policy', '--repository-name', 'team/none'], 'RepositoryNotFoundException');
    await cliFails(['get-lifecycle-policy-preview', '--repository-name', REPO], 'LifecyclePolicyPreviewNotFoundException');
  });

  it('start-lifecycle-policy-preview runs as a job; get-lifecycle-policy-preview pages and filters the result; nothing is deleted', async () => {
    const started = await cli(['start-lifecycle-policy-preview', '--repository-name', REPO]);
    assert.ok(started.ok, JSON.stringify(started));
    assert.equal(started.json.status, 'IN_PROGRESS');
    assert.equal(started.json.lifecyclePolicyText, POLICY);
    const done = await eventually('the preview to complete', async () => {
      const r = await cli(['get-lifecycle-policy-preview', '--repository-name', REPO]);
      assert.ok(r.ok, JSON.stringify(r));
      return r.json.status === 'COMPLETE' ? r.json : undefined;
    });
    const waited = await cli(['wait', 'lifecycle-policy-preview-complete', '--repository-name', REPO]);
    assert.ok(waited.ok, JSON.stringify(waited));
    const expected = [pushed.v1, pushed.u1, pushed.v2, pushed.sig];
    assert.deepEqual(done.previewResults.map((r: { imageDigest: string }) => r.imageDigest), expected);
    assert.deepEqual(done.summary, { expiringImageTotalCount: 4 });
    const byDigest = new Map(done.previewResults.map((r: { imageDigest: string }) => [r.imageDigest, r]));
    // (This AWS CLI's model predates `storageClass`, so it does not print it; the unit tests check the wire shape.)
    assert.deepEqual(byDigest.get(pushed.v1), { ...(byDigest.get(pushed.v1) as object), imageTags: ['v1'], action: { type: 'EXPIRE' }, appliedRulePriority: 1 });
    assert.equal((byDigest.get(pushed.u1) as { appliedRulePriority: number }).appliedRulePriority, 2);
    assert.equal((byDigest.get(pushed.sig) as { appliedRulePriority: number }).appliedRulePriority, 1, 'the signature follows v1');
    // The CLI's auto-pagination with one result a page walks the same list through nextToken.
    const paged = await cli(['get-lifecycle-policy-preview', '--repository-name', REPO, '--page-size', '1']);
    assert.ok(paged.ok);
    assert.deepEqual(paged.json.previewResults.map((r: { imageDigest: string }) => r.imageDigest), expected);
    const untagged = await cli(['get-lifecycle-policy-preview', '--repository-name', REPO, '--filter', 'tagStatus=UNTAGGED']);
    assert.ok(untagged.ok);
    assert.deepEqual(untagged.json.previewResults.map((r: { imageDigest: string }) => r.imageDigest), [pushed.u1, pushed.sig]);
    const one = await cli(['get-lifecycle-policy-preview', '--repository-name', REPO, '--image-ids', 'imageTag=v2']);
    assert.ok(one.ok);
    assert.deepEqual(one.json.previewResults.map((r: { imageDigest: string }) => r.imageDigest), [pushed.v2]);
    // The preview changed nothing.
    const images = await cli(['describe-images', '--repository-name', REPO]);
    assert.ok(images.ok);
    assert.equal(images.json.imageDetails.length, Object.keys(pushed).length);
  });

  it('`cargohold lifecycle preview` is the same evaluation', async () => {
    const { stdout } = await cargohold(['lifecycle', 'preview', REPO, '--json']);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    const summary = lines.pop();
    assert.equal(summary.summary.expiringImageTotalCount, 4);
    assert.deepEqual(lines.map((l: { imageDigest: string }) => l.imageDigest).sort(), [pushed.v1, pushed.u1, pushed.sig, pushed.v2].sort());
  });

  it('`cargohold lifecycle put` and `run` set a policy and expire now (through the image service, with the server running)', async () => {
    const repo = 'team/cli';
    assert.ok((await cli(['create-repository', '--repository-name', repo])).ok);
    const oci = new OciClient(s.url, { authorization: s.authorization });
    const old = makeImage();
    await oci.pushImage(repo, old, 'x1');
    const fresh = makeImage();
    await oci.pushImage(repo, fresh, 'x2');
    await cargohold(['lifecycle', 'put', repo, JSON.stringify({ rules: [{ rulePriority: 1, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }] })]);
    const got = await cli(['get-lifecycle-policy', '--repository-name', repo]);
    assert.ok(got.ok, 'the server sees the policy the CLI put');
    const { stdout } = await cargohold(['lifecycle', 'run', repo, '--json']);
    const ran = stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(ran.map((r: { imageDigest: string; imageTags: string[] }) => [r.imageDigest, r.imageTags]), [[old.digest, ['x1']]]);
    const left = await cli(['describe-images', '--repository-name', repo]);
    assert.ok(left.ok);
    assert.deepEqual(left.json.imageDetails.map((i: { imageDigest: string }) => i.imageDigest), [fresh.digest]);
  });

  it('a scheduled run expires exactly the previewed images, records them, and reports lastEvaluatedAt', async () => {
    // Phase 2: the same data, expiry every second.
    await s.stop({ keepData: true });
    await writeFile(join(dir, 'phase2.json'), JSON.stringify({ lifecycle: { enabled: true, intervalSeconds: 1 }, jobs: { pollIntervalMs: 50 } }));
    s = await startCargohold({ ecrSemantics: true, dataDir: s.dataDir, args: ['--config', join(dir, 'phase2.json')], env: { CARGOHOLD_LOG_LEVEL: 'warn' } });

    // The event stream: `history --follow` prints each expiry as it is recorded.
    const follower = spawn(process.execPath, [join(ROOT, 'bin/cargohold.js'), 'lifecycle', 'history', '--follow', '--json', '--repository', REPO, '--data-dir', s.dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const streamed: Array<Record<string, unknown>> = [];
    createInterface({ input: follower.stdout! }).on('line', (l) => streamed.push(JSON.parse(l)));
    try {
      const remaining = await eventually('the scheduled expiry', async () => {
        const r = await cli(['describe-images', '--repository-name', REPO]);
        assert.ok(r.ok);
        return r.json.imageDetails.length === Object.keys(pushed).length - 4 ? r.json.imageDetails : undefined;
      });
      const left = new Set(remaining.map((i: { imageDigest: string }) => i.imageDigest));
      for (const gone of ['v1', 'u1', 'sig', 'v2']) assert.ok(!left.has(pushed[gone]), `${gone} expired`);
      for (const kept of ['v3', 'u2', 'multi', 'amd64', 'arm64']) assert.ok(left.has(pushed[kept]), `${kept} kept`);

      const oci = new OciClient(s.url, { authorization: s.authorization });
      assert.equal((await oci.getManifest(REPO, 'v3')).status, 200);
      assert.equal((await oci.getManifest(REPO, 'multi')).status, 200);
      assert.equal((await oci.getManifest(REPO, pushed.arm64)).status, 200, 'children of a kept index stay pullable');
      assert.equal((await oci.getManifest(REPO, 'v1')).status, 404);
      assert.equal((await oci.getManifest(REPO, pushed.sig)).status, 404);

      const events = await eventually('the streamed history', async () => (streamed.length >= 4 ? streamed : undefined));
      assert.deepEqual(events.map((e) => e.imageDigest).sort(), [pushed.v1, pushed.u1, pushed.sig, pushed.v2].sort());
      const v1 = events.find((e) => e.imageDigest === pushed.v1)!;
      assert.deepEqual({ repository: v1.repository, imageTags: v1.imageTags, rulePriority: v1.rulePriority }, { repository: REPO, imageTags: ['v1'], rulePriority: 1 });
      assert.match(String(v1.reason), /rule 1 \(keep the newest v\* image\): 3rd newest of 3 matching images/);
    } finally {
      follower.kill('SIGTERM');
    }

    const got = await cli(['get-lifecycle-policy', '--repository-name', REPO]);
    assert.ok(got.ok);
    // The CLI prints timestamps as ISO 8601.
    const evaluatedAt = Date.parse(String(got.json.lastEvaluatedAt));
    assert.ok(Number.isFinite(evaluatedAt), String(got.json.lastEvaluatedAt));
    assert.ok(Math.abs(evaluatedAt - Date.now()) < 10 * 60_000);

    // Later runs find nothing more to expire; the history (CLI) holds each expiry once.
    const { stdout } = await cargohold(['lifecycle', 'history', '--json', '--repository', REPO]);
    const history = stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(history.length, 4);

    const deleted = await cli(['delete-lifecycle-policy', '--repository-name', REPO]);
    assert.ok(deleted.ok);
    assert.equal(deleted.json.lifecyclePolicyText, POLICY);
    await cliFails(['get-lifecycle-policy', '--repository-name', REPO], 'LifecyclePolicyNotFoundException');
  });
});
