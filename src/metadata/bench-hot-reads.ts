/**
 * Measures the per-call cost of the metadata hot reads and of keyset paging at scale (a script, not a test):
 *   npx tsx src/metadata/bench-hot-reads.ts [iterations]
 * Compares the SQLite fast paths (prepared statements) with the portable Kysely path over the same file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sha256Digest } from '../core/digest.ts';
import { createSqliteMetadata } from './dialects/sqlite.ts';
import type { MetadataStore } from './types.ts';

const N = Number(process.argv[2] ?? 50_000);
const dir = mkdtempSync(join(tmpdir(), 'cargohold-bench-'));
const path = join(dir, 'metadata.db');
const now = new Date();

async function time(label: string, n: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < Math.min(n, 2000); i++) await fn(i); // warm-up
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn(i);
  const c = process.cpuUsage(c0);
  const wall = Number(process.hrtime.bigint() - t0) / 1000 / n;
  // CPU time is the honest figure on a shared machine; wall time includes waiting for a core.
  const cpu = (c.user + c.system) / n;
  console.log(`${label.padEnd(44)} cpu ${cpu.toFixed(2).padStart(7)} µs/call   wall ${wall.toFixed(2).padStart(7)} µs/call`);
}

const store = await createSqliteMetadata({ path });
const repo = await store.repositories.create('library/bench', now);
const manifests: string[] = [];
const layers = Array.from({ length: 100 }, (_, i) => sha256Digest(`layer${i}`));
await store.transaction(async (tx) => {
  for (let i = 0; i < 100; i++) {
    const layer = layers[i];
    await tx.blobs.put(layer, 1000 + i, 'application/vnd.oci.image.layer.v1.tar+gzip', now);
    await tx.blobs.link(repo.id, layer, now);
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, i, pad: 'x'.repeat(1500) }));
    const digest = sha256Digest(body);
    await tx.manifests.put(
      { repositoryId: repo.id, digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: null, subjectDigest: null, annotations: null, size: body.length, body, pushedAt: now },
      [{ digest: layer, kind: 'blob', size: 1000 + i, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }],
    );
    await tx.tags.set(repo.id, `v${i}`, digest, now);
    manifests.push(digest);
  }
});

// The portable path over the same file: the same stores with no fast paths.
const portable: MetadataStore = await createSqliteMetadata({ path, fastReads: false });

for (const [name, s] of [['fast path', store], ['portable kysely', portable]] as const) {
  console.log(`-- ${name}`);
  await time('repositories.get', N, () => s.repositories.get('library/bench'));
  await time('manifests.get', N, (i) => s.manifests.get(repo.id, manifests[i % 100]));
  await time('manifests.getByTag', N, (i) => s.manifests.getByTag(repo.id, `v${i % 100}`));
  await time('blobs.getLinked', N, (i) => s.blobs.getLinked(repo.id, layers[i % 100]));
  await time('manifests.touchPulled (coalesced)', N, (i) => s.manifests.touchPulled(repo.id, manifests[i % 100], now));
}
// Floor: the same primary-key lookup as a bare better-sqlite3 prepared statement on its own connection.
const floorConn = new BetterSqlite3(path, { readonly: true });
const floor = floorConn.prepare('select * from manifests where repository_id = ? and digest = ?').raw();
await time('floor: bare better-sqlite3 manifest get (sync)', N, async (i) => floor.get(repo.id, manifests[i % 100]));
floorConn.close();
await time('tags.set (portable, own transaction)', 2000, (i) => store.tags.set(repo.id, `v${i % 100}`, manifests[(i + 1) % 100], now));

// Keyset paging at scale: 100,000 tags in one repository and 100,000 repositories (seeded with raw SQL).
const raw = new BetterSqlite3(path);
raw.transaction(() => {
  const tag = raw.prepare('insert into tags (repository_id, name, manifest_digest, updated_at) values (?, ?, ?, ?)');
  const rep = raw.prepare('insert into repositories (name, created_at) values (?, ?)');
  for (let i = 0; i < 100_000; i++) {
    tag.run(repo.id, `t-${(i * 7919) % 100_000}.${i % 3 ? 'x' : 'Y'}_${i}`, manifests[i % 100], 0);
    rep.run(`ns${i % 50}/repo-${i}`, 0);
  }
})();
raw.close();
for (const s of [store]) {
  const tagPages: string[] = [];
  let last: string | undefined;
  await time('tags.list 100 (walk of 100k tags)', 1000, async () => {
    const page = await s.tags.list(repo.id, { last, limit: 100 });
    last = page.length === 100 ? page[99] : undefined;
    tagPages.push(page[0]);
  });
  let lastRepo: string | undefined;
  await time('repositories.list 100 (walk of 100k repos)', 1000, async () => {
    const page = await s.repositories.list({ last: lastRepo, limit: 100 });
    lastRepo = page.length === 100 ? page[99] : undefined;
  });
  await time('tags.list 100 from the end', 200, () => s.tags.list(repo.id, { last: 't-99999', limit: 100 }));
}

await portable.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
