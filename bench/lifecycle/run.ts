/**
 * `node --import tsx bench/lifecycle/run.ts [--images 100000] [--runs 3]`
 *
 * Lifecycle evaluation of one large repository (target: a policy over 100,000 images in under 2 s): builds a
 * repository in a fresh on-disk SQLite metadata database (tagged and untagged images, multi-platform indexes,
 * signatures, pull times), then times what an expiry run does before it deletes anything — the snapshot read
 * (`meta.lifecycle.images`) and the evaluation (`evaluateLifecyclePolicy`) — with a four-rule ECR policy plus
 * the extensions. Prints the medians, CPU seconds per run (the better number on a busy machine) and a
 * calibration time (wall and CPU) of a fixed CPU workload (about 30 ms on a quiet machine) to judge how loaded
 * this one was.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sha256Digest } from '../../src/core/digest.ts';
import { MediaType } from '../../src/core/media-types.ts';
import { evaluateLifecyclePolicy, type LifecycleImage } from '../../src/lifecycle/evaluate.ts';
import { validateLifecyclePolicyText } from '../../src/lifecycle/policy.ts';
import { createSqliteMetadata } from '../../src/metadata/dialects/sqlite.ts';
import type { MetadataStore } from '../../src/metadata/types.ts';

const { values } = parseArgs({ options: { images: { type: 'string', default: '100000' }, runs: { type: 'string', default: '3' } } });
const N = Number(values.images);
const RUNS = Number(values.runs);
const DAY = 86_400_000;
const NOW = new Date('2026-06-01T00:00:00Z');

const POLICY = JSON.stringify({
  protectedTags: { tagPatternList: ['release-*'] },
  rules: [
    { rulePriority: 1, selection: { tagStatus: 'tagged', tagPrefixList: ['main-'], countType: 'imageCountMoreThan', countNumber: 500 }, action: { type: 'expire' } },
    { rulePriority: 2, selection: { tagStatus: 'tagged', tagRegexList: ['pr-[0-9]+-[0-9a-f]{7}'], countType: 'sinceImagePulled', countUnit: 'days', countNumber: 14 }, action: { type: 'expire' } },
    { rulePriority: 3, selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 }, action: { type: 'expire' } },
    { rulePriority: 4, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 20_000 }, action: { type: 'expire' } },
  ],
});

async function populate(meta: MetadataStore): Promise<number> {
  const repo = await meta.repositories.create('bench/lifecycle', NOW);
  await meta.transaction(async (tx) => {
    for (let i = 0; i < N; i++) {
      const body = Buffer.from(`{"schemaVersion":2,"n":${i}}`);
      const digest = sha256Digest(body);
      const pushedAt = new Date(NOW.getTime() - (N - i) * 60_000);
      const kind = i % 100 === 99 ? 'index' : i % 20 === 7 ? 'sig' : 'image';
      const refs = kind === 'index'
        ? [1, 2].map((k) => ({ digest: sha256Digest(Buffer.from(`{"schemaVersion":2,"n":${i - k}}`)), kind: 'manifest' as const, size: 30, mediaType: MediaType.ociManifest }))
        : [];
      const subject = kind === 'sig' ? sha256Digest(Buffer.from(`{"schemaVersion":2,"n":${i - 1}}`)) : null;
      await tx.manifests.put({
        repositoryId: repo.id, digest, mediaType: kind === 'index' ? MediaType.ociIndex : MediaType.ociManifest, artifactType: null,
        subjectDigest: subject, annotations: null, size: body.length, body, pushedAt,
      }, refs);
      const tag = kind === 'index' ? `release-${i}` : kind === 'sig' ? null : i % 3 === 0 ? null : i % 3 === 1 ? `main-${i}` : `pr-${i}-${(i * 2654435761 >>> 0).toString(16).padStart(8, '0').slice(0, 7)}`;
      if (tag) await tx.tags.set(repo.id, tag, digest, pushedAt);
      if (i % 5 === 0) await tx.manifests.touchPulled(repo.id, digest, new Date(NOW.getTime() - (i % 30) * DAY));
    }
  });
  return repo.id;
}

/**
 * A fixed CPU workload (build a Map of 100,000 digests, look each up five times) timed on this machine, so a
 * figure from a shared, loaded machine can be put next to one from a quiet machine (it takes ~30 ms there).
 */
function calibrate(): number {
  const t = performance.now();
  const keys = Array.from({ length: 100_000 }, (_, i) => `sha256:${(Math.imul(i, 2654435761) >>> 0).toString(16).padStart(64, '0')}`);
  const map = new Map(keys.map((k) => [k, { k }]));
  let found = 0;
  for (let r = 0; r < 5; r++) for (const k of keys) if (map.has(k)) found++;
  if (found !== 500_000) throw new Error('calibration failed');
  return performance.now() - t;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

const dir = await mkdtemp(join(tmpdir(), 'cargohold-bench-lifecycle-'));
try {
  const meta = await createSqliteMetadata({ path: join(dir, 'metadata.sqlite') });
  const t0 = performance.now();
  const repoId = await populate(meta);
  process.stderr.write(`[bench:lifecycle] built ${N} images in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  const policy = validateLifecyclePolicyText(POLICY);
  const read: number[] = [];
  const evaluate: number[] = [];
  const total: number[] = [];
  const cpuSeconds: number[] = [];
  let expired = 0;
  for (let r = 0; r < RUNS; r++) {
    const c0 = cpu();
    const a = performance.now();
    const rows = await meta.lifecycle.images(repoId);
    const images: LifecycleImage[] = rows.map((x) => ({ digest: x.digest, tags: x.tags, pushedAt: x.pushedAt, lastPulledAt: x.lastPulledAt, mediaType: x.mediaType, subject: x.subjectDigest, children: x.children }));
    const b = performance.now();
    const result = evaluateLifecyclePolicy(policy, images, NOW);
    const c = performance.now();
    cpuSeconds.push(cpu() - c0);
    read.push(b - a);
    evaluate.push(c - b);
    total.push(c - a);
    expired = result.expired.length;
  }
  await meta.close();
  const out = {
    images: N,
    runs: RUNS,
    expired,
    snapshotReadMs: Math.round(median(read)),
    evaluateMs: Math.round(median(evaluate)),
    totalMs: Math.round(median(total)),
    cpuSecondsPerRun: Number(median(cpuSeconds).toFixed(2)),
    calibrationMs: Math.round(median([calibrate(), calibrate(), calibrate()])),
    calibrationCpuMs: Math.round(median([0, 1, 2].map(() => { const c0 = cpu(); calibrate(); return (cpu() - c0) * 1000; }))),
    targetMs: 2000,
    meetsTarget: median(total) < 2000,
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
