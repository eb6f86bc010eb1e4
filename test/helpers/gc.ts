/**
 * Helpers of the GC end-to-end tests: images over a pool of shared layers, a server config with a tiny grace
 * period, and independent checks of what storage and metadata hold.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { configSchema } from '../../src/config/schema.ts';
import { createFsBlobStore } from '../../src/storage/drivers/fs.ts';
import { MT, sha256, type OciClient } from './oci-client.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

/** A deterministic PRNG (mulberry32), so a failing run can be replayed from its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TestImage {
  repo: string;
  digest: string;
  bytes: Buffer;
  blobs: Map<string, Buffer>;
}

/** An OCI image: a unique config, `shared` layers from the pool and one unique layer. */
export function imageOver(repo: string, shared: Buffer[]): TestImage {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', nonce: randomBytes(8).toString('hex') }));
  const unique = randomBytes(2048);
  const layers = [...shared, unique];
  const blobs = new Map<string, Buffer>([[sha256(config), config], ...layers.map((l) => [sha256(l), l] as [string, Buffer])]);
  const bytes = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MT.ociManifest,
    config: { mediaType: MT.ociConfig, digest: sha256(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: MT.ociLayer, digest: sha256(l), size: l.length })),
  }));
  return { repo, digest: sha256(bytes), bytes, blobs };
}

/** Pushes blobs (HEAD first, like docker: present ones are skipped) then the manifest. Returns the PUT status and body. */
export async function pushTestImage(client: OciClient, image: TestImage, reference: string): Promise<{ status: number; text: string }> {
  for (const [digest, data] of image.blobs) {
    const head = await client.headBlob(image.repo, digest);
    if (head.status === 200) continue;
    await client.pushBlob(image.repo, data);
  }
  const res = await client.putManifest(image.repo, reference, image.bytes, MT.ociManifest);
  return { status: res.status, text: res.text() };
}

/** Pulls an image by digest and checks every byte of the manifest and its blobs. */
export async function assertPulls(client: OciClient, image: TestImage): Promise<void> {
  const m = await client.getManifest(image.repo, image.digest);
  assert.equal(m.status, 200, `${image.repo}@${image.digest}: manifest ${m.status} ${m.text().slice(0, 200)}`);
  assert.ok(m.body.equals(image.bytes), `${image.repo}@${image.digest}: manifest bytes differ`);
  for (const [digest, data] of image.blobs) {
    const b = await client.getBlob(image.repo, digest);
    assert.equal(b.status, 200, `${image.repo}: blob ${digest} of ${image.digest} answered ${b.status}`);
    assert.ok(b.body.equals(data), `${image.repo}: blob ${digest} bytes differ`);
  }
}

/**
 * A data dir with a config file: GC every second, a 5 s grace period (it must exceed the longest push, which
 * on a loaded CI machine takes seconds), jobs polled often, plaintext storage.
 */
export async function gcTestDataDir(extra: Record<string, unknown> = {}): Promise<{ dataDir: string; configFile: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cargohold-gc-'));
  const config: Record<string, unknown> = {
    log: { level: 'warn', requests: false },
    jobs: { pollIntervalMs: 100 },
    gc: { intervalSeconds: 1, gracePeriodSeconds: 5, reconcileIntervalSeconds: 2 },
    ...extra,
  };
  // The storage check below reads the driver's own listing, which names blobs by digest only when unencrypted.
  if ('encryption' in configSchema.shape && !('encryption' in extra)) config.encryption = { enabled: false };
  const configFile = join(dataDir, 'config.json');
  await writeFile(configFile, JSON.stringify(config));
  return { dataDir, configFile };
}

/** What the data dir holds: blob digests in storage, blob rows, the digests some manifest lists, upload sessions in storage and in metadata, temporary files. */
export async function holdings(dataDir: string): Promise<{ stored: Set<string>; rows: Set<string>; referenced: Set<string>; uploads: number; uploadRows: number; temporary: number }> {
  const store = await createFsBlobStore({ root: join(dataDir, 'blobs') });
  const stored = new Set<string>();
  for await (const b of store.list()) stored.add(b.digest);
  let uploads = 0;
  for await (const _u of store.listUploads()) uploads++;
  const temporary = (await store.sweepTemporary(new Date(Date.now() + 3_600_000), { dryRun: true })).length;
  await store.close();
  const db = new BetterSqlite3(join(dataDir, 'metadata.sqlite'), { readonly: true });
  try {
    const rows = new Set((db.prepare('select digest from blobs').all() as Array<{ digest: string }>).map((r) => r.digest));
    const referenced = new Set((db.prepare("select distinct child_digest as d from manifest_references where kind = 'blob'").all() as Array<{ d: string }>).map((r) => r.d));
    const uploadRows = Number((db.prepare('select count(*) as n from uploads').get() as { n: number }).n);
    return { stored, rows, referenced, uploads, uploadRows, temporary };
  } finally {
    db.close();
  }
}

/** Runs `cargohold <args>` against a data dir; resolves with its exit code and output. */
export function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/cargohold.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
