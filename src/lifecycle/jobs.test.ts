// The lifecycle jobs on the real job runner with a manual clock: the periodic sweep queues one evaluation per
// repository with a policy, the evaluation expires through the image service and records the history, the
// preview completes as a job; nothing happens before the interval has passed (time injected, drained).
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { manualClock } from '../core/clock.ts';
import { sha256Digest } from '../core/digest.ts';
import { createJobRunner } from '../jobs/runner.ts';
import type { JobRunner } from '../jobs/types.ts';
import { createSqliteMetadata } from '../metadata/dialects/sqlite.ts';
import type { MetadataStore } from '../metadata/types.ts';
import { createRegistry, type Registry } from '../registry/registry.ts';
import { createMemoryBlobStore } from '../storage/drivers/memory.ts';
import { createLifecycleService, JOB_EVALUATE, JOB_SWEEP, registerLifecycleJobs, type LifecycleService } from './service.ts';

const HOUR = 3600_000;
const log = pino({ level: 'silent' });
const POLICY = JSON.stringify({ rules: [{ rulePriority: 1, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }] }).padEnd(100, ' ');

let meta: MetadataStore;
let registry: Registry;
let clock: ReturnType<typeof manualClock>;
let jobs: JobRunner;
let lifecycle: LifecycleService;

beforeEach(async () => {
  meta = await createSqliteMetadata({ path: ':memory:' });
  clock = manualClock(new Date('2026-05-01T00:00:00Z'));
  registry = createRegistry({ blobs: createMemoryBlobStore(), meta, clock, createRepositoryOnPush: true, maxManifestBytes: 1 << 20, maxPageSize: 1000 });
  jobs = createJobRunner({ meta, clock, log, random: () => 0.5 });
  lifecycle = createLifecycleService({ meta, registry, clock, log, accountId: '123456789012', jobs });
  await registerLifecycleJobs(jobs, lifecycle, { enabled: true, intervalSeconds: 3600 });
});
afterEach(async () => {
  await jobs.stop();
  await meta.close();
});

async function push(repo: string, seed: string, tag: string): Promise<string> {
  clock.advance(60_000);
  const layer = Buffer.from(`layer ${seed}`);
  await registry.putBlob(repo, sha256Digest(layer), Readable.from([layer]), layer.length);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256Digest(layer), size: layer.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256Digest(layer), size: layer.length }],
  }));
  await registry.putManifest(repo, tag, 'application/vnd.oci.image.manifest.v1+json', manifest);
  return sha256Digest(manifest);
}

describe('lifecycle jobs', () => {
  it('expire on the schedule, once per repository with a policy, and record it', async () => {
    const a1 = await push('a', 'a1', 'v1');
    const a2 = await push('a', 'a2', 'v2');
    const b1 = await push('b', 'b1', 'v1');
    await push('b', 'b2', 'v2');
    await push('c', 'c1', 'v1');
    await push('c', 'c2', 'v2');
    await lifecycle.putPolicy('a', POLICY);
    await lifecycle.putPolicy('b', POLICY);

    // Not due yet: nothing runs, nothing is deleted.
    assert.equal(await jobs.drain([JOB_SWEEP, JOB_EVALUATE]), 0);
    assert.equal((await meta.lifecycle.images((await registry.getRepository('a')).id)).length, 2);

    clock.advance(HOUR);
    // The sweep, then one evaluation each for a and b (c has no policy).
    assert.equal(await jobs.drain([JOB_SWEEP, JOB_EVALUATE]), 3);
    const left = async (name: string) => (await meta.lifecycle.images((await registry.getRepository(name)).id)).map((i) => i.digest);
    assert.deepEqual(await left('a'), [a2]);
    assert.equal((await left('b')).length, 1);
    assert.equal((await left('c')).length, 2);
    const history = await lifecycle.history({ limit: 10 });
    assert.deepEqual(history.map((e) => [e.repositoryName, e.digest, e.tags, e.rulePriority]), [['a', a1, ['v1'], 1], ['b', b1, ['v1'], 1]]);
    assert.equal((await lifecycle.getPolicy('a')).lastEvaluatedAt?.getTime(), clock.now().getTime());

    // The next sweep is already a row, due one interval later.
    assert.equal(await jobs.drain([JOB_SWEEP, JOB_EVALUATE]), 0);
    await push('a', 'a3', 'v3');
    clock.advance(HOUR);
    assert.equal(await jobs.drain([JOB_SWEEP, JOB_EVALUATE]), 3);
    assert.equal((await left('a')).length, 1);
    assert.equal((await lifecycle.history({ limit: 10, repositoryName: 'a' })).length, 2);
  });

  it('run previews as jobs', async () => {
    await push('a', 'a1', 'v1');
    await push('a', 'a2', 'v2');
    assert.equal((await lifecycle.startPreview('a', POLICY)).status, 'IN_PROGRESS');
    assert.equal((await lifecycle.getPreview('a', { limit: 10, tagStatus: 'ANY' })).preview.status, 'IN_PROGRESS');
    assert.equal(await jobs.drain(['lifecycle.preview']), 1);
    const page = await lifecycle.getPreview('a', { limit: 10, tagStatus: 'ANY' });
    assert.equal(page.preview.status, 'COMPLETE');
    assert.deepEqual(page.results.map((r) => r.tags), [['v1']]);
    assert.equal((await meta.lifecycle.images((await registry.getRepository('a')).id)).length, 2, 'a preview deletes nothing');
  });

  it('do nothing when automatic expiry is disabled', async () => {
    const quiet = createJobRunner({ meta, clock, log });
    await registerLifecycleJobs(quiet, lifecycle, { enabled: false, intervalSeconds: 3600 });
    await push('a', 'a1', 'v1');
    await push('a', 'a2', 'v2');
    await lifecycle.putPolicy('a', POLICY);
    clock.advance(24 * HOUR);
    // The schedule registered above (enabled) is a row; the disabled runner's sweep handler does nothing with it.
    await quiet.drain([JOB_SWEEP, JOB_EVALUATE]);
    assert.equal((await meta.lifecycle.images((await registry.getRepository('a')).id)).length, 2);
    await quiet.stop();
  });
});
