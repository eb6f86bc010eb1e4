/**
 * `node --import tsx bench/scan/run.ts [--mb 200] [--inventories 10000] [--runs 3]`
 *
 * Two scanner figures, in process over the embedded backends (filesystem blob store, SQLite), with the
 * fixture advisory database (../shared/fixtures/vulndb/osv: Debian 12, Alpine, npm, PyPI, Go) imported first:
 *
 * 1. **Scan end to end**: a Debian-like image of about `--mb` MB (three gzip layers: a Debian base with the
 *    ground-truth dpkg status, shared libraries and executables; Python and npm packages; a Go binary) is
 *    pushed through the registry service (untimed); then `scanNow` is timed — layers read from the blob store,
 *    inventory, matching, findings stored — with the stored inventory dropped between runs. Target < 5 s.
 * 2. **Re-match**: `--inventories` images (each a small manifest with its own stored inventory: the Debian,
 *    npm, PyPI and Go ground truth with per-image version variation) with COMPLETE scans; the npm advisories
 *    are imported again (the generation moves) and the `scan.rematch` job is timed. Target < 60 s for 10,000.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { manualClock } from '../../src/core/clock.ts';
import { sha256Digest } from '../../src/core/digest.ts';
import { createJobRunner } from '../../src/jobs/runner.ts';
import { createSqliteMetadata } from '../../src/metadata/dialects/sqlite.ts';
import { createRegistry } from '../../src/registry/registry.ts';
import { readInventory } from '../../src/scan/inventory/index.ts';
import { buildTar, fakeGoBinary, groundTruthEntries, LAYER_MEDIA_TYPES, layerSource, buildLayer, type LayerEntry } from '../../src/scan/inventory/test-layers.ts';
import { createScanService, SCAN_REMATCH_JOB } from '../../src/scan/service.ts';
import { VULNDB_FIXTURES } from '../../src/scan/testing.ts';
import type { Inventory } from '../../src/scan/types.ts';
import { importVulnDb } from '../../src/scan/vulndb/import.ts';
import { createFsBlobStore } from '../../src/storage/drivers/fs.ts';
import { elf, filler } from '../inventory/filler.ts';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '200' }, inventories: { type: 'string', default: '10000' }, runs: { type: 'string', default: '3' } } });
const TOTAL = Number(values.mb) * 1e6;
const INVENTORIES = Math.max(1, Number(values.inventories));
const RUNS = Math.min(Math.max(Number(values.runs), 1), 10);

function layers(): LayerEntry[][] {
  const base: LayerEntry[] = [...groundTruthEntries('debian-12')];
  for (let i = 0; i < 300; i++) base.push({ path: `/usr/bin/tool${i}`, content: elf(Math.floor(TOTAL * 0.25 / 300)), mode: 0o755 });
  for (let i = 0; i < 200; i++) base.push({ path: `/usr/lib/x86_64-linux-gnu/lib${i}.so.1`, content: elf(Math.floor(TOTAL * 0.25 / 200)) });
  for (let i = 0; i < 3000; i++) base.push({ path: `/usr/share/doc/pkg${i % 500}/f${i}.txt`, content: filler(Math.floor(TOTAL * 0.1 / 3000)) });
  const lang: LayerEntry[] = [...groundTruthEntries('pypi'), ...groundTruthEntries('npm')];
  for (let i = 0; i < 3000; i++) lang.push({ path: `/app/node_modules/dep${i % 300}/lib/f${i}.js`, content: filler(Math.floor(TOTAL * 0.15 / 3000)) });
  for (let i = 0; i < 300; i++) lang.push({ path: `/app/node_modules/dep${i}/package.json`, content: JSON.stringify({ name: `dep${i}`, version: `1.0.${i}` }) });
  const goSize = Math.floor(TOTAL * 0.25);
  const go = fakeGoBinary('go\tgo1.21.0\npath\texample.com/app\nmod\texample.com/app\tv1.0.0\t\ndep\tgolang.org/x/net\tv0.17.0\t\ndep\tgoogle.golang.org/grpc\tv1.58.2\t\n', Math.floor(goSize / 3));
  const app: LayerEntry[] = [{ path: '/usr/local/bin/app', content: Buffer.concat([go, filler(Math.max(0, goSize - go.length))]), mode: 0o755 }];
  return [base, lang, app];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A variant of a stored inventory: a few versions nudged so inventories differ as real images do. */
function variant(inv: Inventory, i: number): Inventory {
  return { ...inv, packages: inv.packages.map((p, j) => ((i + j) % 7 === 0 ? { ...p, version: `${p.version}${p.ecosystem === 'deb' ? `+b${i % 3}` : ''}` } : p)) };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'scan-bench-'));
  const clock = manualClock(new Date());
  const log = pino({ level: 'warn' });
  const meta = await createSqliteMetadata({ path: join(dir, 'metadata.sqlite') });
  const blobs = await createFsBlobStore({ root: join(dir, 'blobs') });
  try {
    const registry = createRegistry({ blobs, meta, clock, createRepositoryOnPush: true, maxManifestBytes: 4 << 20, maxPageSize: 1000 });
    const jobs = createJobRunner({ meta, clock, log });
    const scans = createScanService({ meta, blobs, jobs, clock, log, settings: { refreshIntervalMs: 86_400_000, rematchWindowMs: 30 * 86_400_000, startScanIntervalMs: 0 } });
    await scans.register();
    process.stderr.write('importing the fixture advisories (untimed)...\n');
    for (const d of ['debian-12', 'alpine', 'npm', 'pypi', 'go']) await importVulnDb(join(VULNDB_FIXTURES, 'osv', d), { store: meta.scan, clock });

    // 1. One ~200 MB image, scanned end to end.
    process.stderr.write(`building and pushing a ~${values.mb} MB image (untimed)...\n`);
    const put = async (repo: string, b: Buffer) => { await registry.putBlob(repo, sha256Digest(b), Readable.from([b]), b.length); return { digest: sha256Digest(b), size: b.length }; };
    let tarBytes = 0;
    const descriptors: { mediaType: string; digest: string; size: number }[] = [];
    for (const entries of layers()) {
      const tar = await buildTar(entries);
      tarBytes += tar.length;
      const blob = gzipSync(tar, { level: 1 });
      descriptors.push({ mediaType: LAYER_MEDIA_TYPES.gzip, ...(await put('bench/app', blob)) });
    }
    const config = await put('bench/app', Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })));
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: descriptors }));
    await registry.putManifest('bench/app', 'v1', 'application/vnd.oci.image.manifest.v1+json', manifest);
    const repo = await registry.getRepository('bench/app');
    const record = await registry.getManifest('bench/app', 'v1');
    const scanTimes: number[] = [];
    let findings = 0;
    for (let r = 0; r < RUNS; r++) {
      await dropInventory(dir, record.digest);
      const t0 = process.hrtime.bigint();
      const scan = await scans.scanNow(repo, record);
      scanTimes.push(Number(process.hrtime.bigint() - t0) / 1e9);
      findings = scan.findings?.length ?? 0;
    }

    // 2. Re-match stored inventories after a database update.
    process.stderr.write(`storing ${INVENTORIES} images with inventories and scans (untimed)...\n`);
    const kinds = ['debian-12', 'npm', 'pypi', 'go'] as const;
    const parts: Inventory[] = [];
    for (const k of kinds) parts.push(await readInventory([layerSource(await buildLayer(groundTruthEntries(k)))]));
    const template: Inventory = { os: parts[0]!.os, packages: parts.flatMap((p) => p.packages) };
    const layer = await put('bench/many', Buffer.from('shared layer'));
    const cfg = await put('bench/many', Buffer.from('{"architecture":"amd64","os":"linux"}'));
    const manyRepo = await registry.getRepository('bench/many');
    for (let i = 0; i < INVENTORIES; i++) {
      const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg }, layers: [{ mediaType: LAYER_MEDIA_TYPES.gzip, ...layer }], annotations: { n: String(i) } }));
      const digest = sha256Digest(body);
      await registry.putManifest('bench/many', digest, 'application/vnd.oci.image.manifest.v1+json', body);
      await meta.scan.putInventory(digest, variant(template, i), clock.now());
      await meta.scan.putScan({ repositoryId: manyRepo.id, digest, status: 'COMPLETE', description: 'The scan was completed successfully.', requestedAt: clock.now(), completedAt: clock.now(), dbGeneration: 0, findings: [] });
    }
    await importVulnDb(join(VULNDB_FIXTURES, 'osv', 'npm'), { store: meta.scan, clock });
    await jobs.enqueue(SCAN_REMATCH_JOB, 'registry', {}, { runAt: clock.now() });
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    await jobs.drain([SCAN_REMATCH_JOB]);
    const rematchSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(c0);
    const state = await meta.scan.state();
    console.log(JSON.stringify({
      scan: { uncompressedMB: +(tarBytes / 1e6).toFixed(1), findings, medianSeconds: +median(scanTimes).toFixed(2), runs: scanTimes.map((t) => +t.toFixed(2)), targetSeconds: 5 },
      rematch: { inventories: INVENTORIES, packagesEach: template.packages.length, seconds: +rematchSeconds.toFixed(2), cpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(2), perInventoryMs: +((rematchSeconds * 1000) / INVENTORIES).toFixed(2), generation: state.generation, targetSeconds: 60 },
      loadAverage1m: +loadavg()[0].toFixed(1),
    }, null, 1));
  } finally {
    await meta.close();
    await blobs.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Forgets the stored inventory so the next scan reads the layers again (what a first scan does). */
async function dropInventory(dir: string, digest: string): Promise<void> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(join(dir, 'metadata.sqlite'));
  try {
    db.prepare('delete from scan_inventories where digest = ?').run(digest);
  } finally {
    db.close();
  }
}

await main();
