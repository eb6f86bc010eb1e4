import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { manualClock } from '../core/clock.ts';
import { sha256Digest } from '../core/digest.ts';
import { createSqliteMetadata } from '../metadata/dialects/sqlite.ts';
import type { MetadataStore } from '../metadata/types.ts';
import { createDownloadLinks } from '../registry/download-links.ts';
import { createRegistry, type Registry } from '../registry/registry.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { createMemoryBlobStore } from '../storage/drivers/memory.ts';
import { createKeyedMutex } from '../storage/keyed-mutex.ts';
import { createGarbageCollector, type GarbageCollector, type GcReport } from './collector.ts';
import { usageReport } from './usage.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const GRACE = 60_000;

let meta: MetadataStore;
let blobs: BlobStore;
let registry: Registry;
let gc: GarbageCollector;
let clock: ReturnType<typeof manualClock>;

beforeEach(async () => {
  meta = await createSqliteMetadata({ path: ':memory:', pullFlushIntervalMs: 5 });
  clock = manualClock(new Date('2026-03-01T00:00:00Z'));
  blobs = createMemoryBlobStore();
  const blobLocks = createKeyedMutex();
  registry = createRegistry({
    blobs, meta, clock, createRepositoryOnPush: true, maxManifestBytes: 4 << 20, maxPageSize: 1000,
    downloads: createDownloadLinks({ key: Buffer.alloc(32, 7), clock }), gcGracePeriodMs: GRACE, blobLocks,
  });
  gc = createGarbageCollector({ meta, blobs, clock, log: pino({ level: 'silent' }), gracePeriodMs: GRACE, batchSize: 3, blobLocks });
});
afterEach(async () => {
  await meta.close();
});

async function blob(name: string, content: string): Promise<{ digest: string; size: number }> {
  const b = Buffer.from(content);
  await registry.putBlob(name, sha256Digest(b), Readable.from([b]), b.length);
  return { digest: sha256Digest(b), size: b.length };
}

/** Pushes an image (config + layers) and returns its manifest digest, body and blob digests. */
async function pushImage(name: string, seed: string, layers: string[], tag?: string, extra: Record<string, unknown> = {}): Promise<{ digest: string; body: Buffer; blobs: string[] }> {
  const pushed = [await blob(name, `{"config":"${seed}"}`)];
  for (const l of layers) pushed.push(await blob(name, l));
  const body = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: pushed[0].digest, size: pushed[0].size },
    layers: pushed.slice(1).map((b) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: b.digest, size: b.size })),
    ...extra,
  }));
  const r = await registry.putManifest(name, tag ?? sha256Digest(body), OCI_MANIFEST, body);
  return { digest: r.digest, body, blobs: pushed.map((b) => b.digest) };
}

async function pushIndex(name: string, children: Array<{ digest: string; body: Buffer }>, tag: string): Promise<string> {
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: children.map((c) => ({ mediaType: OCI_MANIFEST, digest: c.digest, size: c.body.length })) }));
  return (await registry.putManifest(name, tag, OCI_INDEX, body)).digest;
}

/** Runs passes, each after the grace period, until one removes nothing (bounded). */
async function collectAll(options: { reconcile?: boolean } = {}): Promise<GcReport[]> {
  const reports: GcReport[] = [];
  for (let i = 0; i < 8; i++) {
    clock.advance(GRACE + 1);
    const r = await gc.run({ list: true, reconcile: options.reconcile });
    reports.push(r);
    const removed = Object.values(r.removed).reduce((n, v) => n + v.count, 0);
    if (removed === 0 && r.scheduled === 0 && r.queued === 0) break;
  }
  return reports;
}

async function stored(): Promise<string[]> {
  const out: string[] = [];
  for await (const b of blobs.list()) out.push(b.digest);
  return out.sort();
}

const removedOf = (reports: GcReport[]) => reports.flatMap((r) => r.deletions);

describe('online GC', () => {
  it('keeps everything referenced, including untagged images (ECR keeps them until deleted)', async () => {
    const a = await pushImage('app', 'a', ['shared', 'a-only'], 'v1');
    await pushImage('app', 'b', ['shared'], 'v1'); // moves the tag: image a is now untagged, not garbage
    const before = await stored();
    const reports = await collectAll({ reconcile: true });
    assert.deepEqual(removedOf(reports), []);
    assert.deepEqual(await stored(), before);
    assert.ok(await meta.manifests.get((await registry.getRepository('app')).id, a.digest));
  });

  it('removes the layer links and blobs of a deleted image after the grace period, never a shared blob', async () => {
    const a = await pushImage('app', 'a', ['shared', 'a-only'], 'a');
    const b = await pushImage('app', 'b', ['shared'], 'b');
    await pushImage('other', 'a', ['shared', 'a-only'], 'a'); // same blobs in another repository
    await registry.deleteManifest('app', a.digest);

    // Not before the grace period.
    await gc.run();
    clock.advance(GRACE - 1);
    assert.deepEqual(Object.values((await gc.run()).removed).map((v) => v.count), [0, 0, 0, 0, 0]);

    const reports = await collectAll();
    const links = removedOf(reports).filter((d) => d.kind === 'link').map((d) => d.digest).sort();
    assert.deepEqual(links, [a.blobs[0], a.blobs[2]].sort(), 'the config and a-only links of app go; shared stays linked by b');
    assert.deepEqual(removedOf(reports).filter((d) => d.kind === 'blob'), [], 'other still links every blob');
    const app = await registry.getRepository('app');
    assert.equal(await meta.blobs.getLinked(app.id, a.blobs[2]), undefined);
    assert.ok(await meta.blobs.getLinked(app.id, b.blobs[1]));

    await registry.repositories.delete('other', { force: true });
    const after = removedOf(await collectAll()).filter((d) => d.kind === 'blob').map((d) => d.digest).sort();
    assert.deepEqual(after, [a.blobs[0], a.blobs[2]].sort());
    assert.deepEqual(await stored(), [...b.blobs].sort());
  });

  it('collects untagged children of a deleted index, but not a child another index or a tag still holds', async () => {
    const c1 = await pushImage('app', 'c1', ['l1']);
    const c2 = await pushImage('app', 'c2', ['l2']);
    const c3 = await pushImage('app', 'c3', ['l3'], 'keep-me');
    const idx = await pushIndex('app', [c1, c2, c3], 'multi');
    await pushIndex('app', [c2], 'other-index');
    await registry.images.batchDelete('app', [{ tag: 'multi' }]);
    const gone = removedOf(await collectAll());
    assert.deepEqual(gone.filter((d) => d.kind === 'manifest').map((d) => d.digest), [c1.digest]);
    assert.match(gone.find((d) => d.digest === c1.digest)!.reason, /child manifest of a deleted index/);
    const app = await registry.getRepository('app');
    assert.equal(await meta.manifests.get(app.id, idx), undefined);
    assert.ok(await meta.manifests.get(app.id, c2.digest));
    assert.ok(await meta.manifests.get(app.id, c3.digest));
    assert.ok(gone.some((d) => d.kind === 'blob' && d.digest === c1.blobs[1]), 'the removed child\'s layer goes too');
  });

  it('collects untagged referrers of a deleted subject', async () => {
    const subject = await pushImage('app', 's', ['s1'], 'v1');
    const sig = await pushImage('app', 'sig', ['sig-layer'], undefined, { subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.body.length }, artifactType: 'application/example.sig' });
    await registry.images.batchDelete('app', [{ digest: subject.digest }]);
    const gone = removedOf(await collectAll());
    assert.ok(gone.some((d) => d.kind === 'manifest' && d.digest === sig.digest && /referrer whose subject/.test(d.reason)));
    assert.deepEqual(await stored(), []);
  });

  it('protects a blob pushed but not yet referenced for the grace period, then collects it', async () => {
    const b = await blob('app', 'in-flight layer');
    await gc.run();
    clock.advance(GRACE / 2);
    await gc.run();
    assert.ok(await blobs.stat(b.digest), 'still within the grace period');
    // A HEAD by the pushing client postpones the review again.
    clock.advance(GRACE / 2 + 1);
    await registry.statBlob('app', b.digest, { head: true });
    await gc.run();
    assert.ok(await blobs.stat(b.digest));
    const gone = removedOf(await collectAll());
    assert.deepEqual(gone.map((d) => d.kind).sort(), ['blob', 'link']);
    assert.match(gone.find((d) => d.kind === 'link')!.reason, /no manifest referenced it within the grace period/);
    assert.equal(await blobs.stat(b.digest), undefined);
  });

  it('a push that re-links a blob under review wins over the collector', async () => {
    const a = await pushImage('app', 'a', ['layer'], 'v1');
    await registry.deleteManifest('app', a.digest);
    clock.advance(GRACE + 1);
    await gc.run(); // schedules the link reviews
    clock.advance(GRACE + 1);
    // Before the pass that would remove them, the same image is pushed again (blobs re-put: pinned).
    await pushImage('app', 'a', ['layer'], 'v1');
    await collectAll({ reconcile: true });
    for (const d of a.blobs) assert.ok(await blobs.stat(d), `blob ${d} kept`);
    const app = await registry.getRepository('app');
    assert.ok(await meta.manifests.get(app.id, a.digest));
  });

  it('a manifest put cannot reference a link the collector removed (MANIFEST_BLOB_UNKNOWN, nothing dangling)', async () => {
    const layer = await blob('app', 'orphan');
    const cfg = await blob('app', '{"config":"x"}');
    const reports = await collectAll();
    assert.ok(removedOf(reports).some((d) => d.kind === 'blob' && d.digest === layer.digest));
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfg.digest, size: cfg.size }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: layer.size }] }));
    await assert.rejects(registry.putManifest('app', 'v1', OCI_MANIFEST, body), (e: Error & { kind?: string }) => e.kind === 'MANIFEST_BLOB_UNKNOWN');
  });

  it('reconcile removes stored blobs and upload sessions metadata does not know, once older than the grace period', async () => {
    const orphan = Buffer.from('left by a crash');
    await blobs.putBlob(sha256Digest(orphan), Readable.from([orphan]));
    await blobs.createUpload('crashed-session');
    const rowOnly = await registry.startUpload('app');
    await blobs.deleteUpload(rowOnly.id); // a crash after the bytes went, before the row did
    const live = await registry.startUpload('app');
    const kept = await pushImage('app', 'k', ['kept'], 'v1');
    // The memory store stamps real time; move the GC clock past it.
    clock.set(new Date(Date.now() + GRACE + 1));
    const dry = await gc.run({ dryRun: true, reconcile: true, list: true });
    const expected = [['blob', sha256Digest(orphan)], ['upload', 'crashed-session'], ['upload', rowOnly.id]].sort();
    assert.deepEqual(dry.deletions.map((d) => [d.kind, d.digest]).sort(), expected);
    assert.ok(await blobs.stat(sha256Digest(orphan)), 'a dry run changes nothing');
    const gone = removedOf(await collectAll({ reconcile: true }));
    assert.deepEqual(gone.map((d) => [d.kind, d.digest]).sort(), expected);
    assert.deepEqual(await stored(), [...kept.blobs].sort());
    assert.equal(await meta.uploads.get(rowOnly.id), undefined);
    assert.equal((await registry.uploadStatus('app', live.id)).size, 0, 'a session with both halves stays (upload expiry owns it)');
    const history = await meta.gc.deletions();
    assert.equal(history.length, 3);
    assert.ok(history.every((h) => h.reason.length > 0));
  });

  it('dry run lists exactly what the run then removes', async () => {
    const a = await pushImage('app', 'a', ['x', 'y'], 'v1');
    await registry.deleteManifest('app', a.digest);
    clock.advance(GRACE + 1);
    await gc.run();
    clock.advance(GRACE + 1);
    const dry = await gc.run({ dryRun: true, list: true });
    const real = await gc.run({ list: true });
    assert.deepEqual(dry.deletions.filter((d) => d.kind === 'link').map((d) => d.digest).sort(), real.deletions.filter((d) => d.kind === 'link').map((d) => d.digest).sort());
    assert.equal(dry.deletions.filter((d) => d.kind === 'link').length, 3);
  });
});

describe('usage', () => {
  it('counts a shared layer once registry-wide and in each repository that links it', async () => {
    const big = 'L'.repeat(10_000);
    const a = await pushImage('one', 'a', [big], 'v1');
    await pushImage('two', 'a', [big], 'v1');
    const report = await usageReport(meta, { pricePerGbMonth: 0.1 });
    const one = report.repositories.find((r) => r.repository === 'one')!;
    const two = report.repositories.find((r) => r.repository === 'two')!;
    assert.equal(one.blobBytes, 10_000 + '{"config":"a"}'.length);
    assert.equal(two.blobBytes, one.blobBytes);
    assert.equal(report.registry.blobBytes, one.blobBytes, 'deduplicated');
    assert.equal(report.registry.blobs, a.blobs.length);
    assert.equal(report.registry.manifestBytes, one.manifestBytes + two.manifestBytes);
    assert.equal(report.registry.storedBytes, report.registry.blobBytes + report.registry.manifestBytes);
    const tenGiB = await usageReport(meta, { pricePerGbMonth: 0.1 });
    assert.equal(tenGiB.registry.estimatedMonthlyCost, 0);
    const { monthlyCost } = await import('./usage.ts');
    assert.equal(monthlyCost(10 * 2 ** 30, 0.1), 1);
    assert.equal(monthlyCost(2 ** 29, 0.1), 0.05);
  });
});
