import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { manualClock } from '../core/clock.ts';
import { sha256Digest } from '../core/digest.ts';
import { errorCatalogue, isRegistryError, type ErrorKind } from '../core/errors.ts';
import { createSqliteMetadata } from '../metadata/dialects/sqlite.ts';
import { migrate, migrations } from '../metadata/migrations/index.ts';
import type { MetadataStore } from '../metadata/types.ts';
import { createMemoryBlobStore } from '../storage/drivers/memory.ts';
import { createDownloadLinks } from './download-links.ts';
import { MIN_LAYER_PART_BYTES } from './images.ts';
import { createRegistry, type Registry } from './registry.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

let meta: MetadataStore;
let registry: Registry;
let clock: ReturnType<typeof manualClock>;

beforeEach(async () => {
  meta = await createSqliteMetadata({ path: ':memory:', pullFlushIntervalMs: 5 });
  clock = manualClock(new Date('2026-02-01T00:00:00Z'));
  registry = createRegistry({
    blobs: createMemoryBlobStore(),
    meta,
    clock,
    createRepositoryOnPush: true,
    maxManifestBytes: 4 << 20,
    maxPageSize: 1000,
    downloads: createDownloadLinks({ key: Buffer.alloc(32, 7), clock, ttlSeconds: 600 }),
  });
  await meta.repositories.create('app', clock.now());
});
afterEach(async () => {
  await meta.close();
});

async function rejects(p: Promise<unknown>, kind: ErrorKind): Promise<Record<string, unknown>> {
  try {
    await p;
  } catch (e) {
    assert.ok(isRegistryError(e), `expected a RegistryError, got ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    return (e.detail ?? {}) as Record<string, unknown>;
  }
  assert.fail(`expected ${kind}`);
}

async function blob(name: string, content: string | Buffer): Promise<{ digest: string; size: number }> {
  const b = Buffer.isBuffer(content) ? content : Buffer.from(content);
  await registry.putBlob(name, sha256Digest(b), Readable.from([b]), b.length);
  return { digest: sha256Digest(b), size: b.length };
}

/** An image manifest over a config and layers of these contents (blobs pushed first unless `push: false`). */
async function image(name: string, seed: string, options: { layers?: string[]; push?: boolean; mediaType?: string; extra?: Record<string, unknown> } = {}): Promise<{ body: Buffer; digest: string; blobs: Array<{ digest: string; size: number }> }> {
  const contents = [`{"config":"${seed}"}`, ...(options.layers ?? [`layer-${seed}`])];
  const blobs = [];
  for (const c of contents) {
    const b = Buffer.from(c);
    blobs.push(options.push === false ? { digest: sha256Digest(b), size: b.length } : await blob(name, b));
  }
  const mediaType = options.mediaType ?? OCI_MANIFEST;
  const body = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType,
    config: { mediaType: mediaType === DOCKER_MANIFEST ? 'application/vnd.docker.container.image.v1+json' : 'application/vnd.oci.image.config.v1+json', digest: blobs[0]!.digest, size: blobs[0]!.size },
    layers: blobs.slice(1).map((b) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: b.digest, size: b.size })),
    ...options.extra,
  }, null, 1));
  return { body, digest: sha256Digest(body), blobs };
}

function index(children: Array<{ body: Buffer; digest: string }>): { body: Buffer; digest: string } {
  const body = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: children.map((c, i) => ({ mediaType: OCI_MANIFEST, digest: c.digest, size: c.body.length, platform: { os: 'linux', architecture: i ? 'arm64' : 'amd64' } })),
  }));
  return { body, digest: sha256Digest(body) };
}

async function tagsOf(name: string, digest: string): Promise<string[]> {
  const repo = await registry.getRepository(name);
  return meta.tags.forDigest(repo.id, digest);
}

describe('put (PutImage ≡ manifest PUT)', () => {
  it('digests the exact bytes, keeps the media type and stores ECR imageSizeInBytes', async () => {
    const img = await image('app', 'a', { layers: ['x'.repeat(1000), 'y'.repeat(234)] });
    const r = await registry.images.put('app', { body: img.body, tag: 'v1', api: 'ecr' });
    assert.equal(r.digest, img.digest);
    assert.equal(r.mediaType, OCI_MANIFEST);
    assert.equal(r.imageSize, img.blobs.reduce((s, b) => s + b.size, 0));
    const page = await registry.images.describePage('app', { limit: 10, tagStatus: 'ANY' });
    assert.equal(page.images[0]?.imageSize, r.imageSize);
    const m = await registry.getManifest('app', 'v1');
    assert.deepEqual(m.body, img.body);
  });

  it('sizes an index as its largest child', async () => {
    const small = await image('app', 's', { layers: ['1'] });
    const big = await image('app', 'b', { layers: ['1'.repeat(5000)] });
    const rs = await registry.images.put('app', { body: small.body, api: 'ecr' });
    const rb = await registry.images.put('app', { body: big.body, api: 'ecr' });
    const idx = index([small, big]);
    const r = await registry.images.put('app', { body: idx.body, tag: 'multi', api: 'ecr' });
    assert.equal(r.imageSize, Math.max(rs.imageSize, rb.imageSize));
  });

  it('takes the media type from the caller, else the body', async () => {
    const img = await image('app', 'd', { mediaType: DOCKER_MANIFEST });
    const r = await registry.images.put('app', { body: img.body, mediaType: DOCKER_MANIFEST, api: 'ecr' });
    assert.equal(r.mediaType, DOCKER_MANIFEST);
    await rejects(registry.images.put('app', { body: img.body, mediaType: OCI_MANIFEST, tag: 'x', api: 'ecr' }), 'MANIFEST_INVALID');
  });

  it('refuses a digest that does not match: ImageDigestDoesNotMatch on ECR, DIGEST_INVALID on /v2/', async () => {
    const img = await image('app', 'm');
    const wrong = sha256Digest('something else');
    const detail = await rejects(registry.images.put('app', { body: img.body, digest: wrong, api: 'ecr' }), 'MANIFEST_DIGEST_MISMATCH');
    assert.equal(detail.expected, wrong);
    assert.equal(errorCatalogue.MANIFEST_DIGEST_MISMATCH.oci, 'DIGEST_INVALID');
    assert.equal(errorCatalogue.MANIFEST_DIGEST_MISMATCH.ecr, 'ImageDigestDoesNotMatchException');
    await rejects(registry.putManifest('app', wrong, OCI_MANIFEST, img.body), 'MANIFEST_DIGEST_MISMATCH');
    const ok = await registry.images.put('app', { body: img.body, digest: img.digest, api: 'ecr' });
    assert.equal(ok.digest, img.digest);
  });

  it('needs every blob in the repository (LayersNotFound / MANIFEST_BLOB_UNKNOWN) and every child (ReferencedImagesNotFound)', async () => {
    const img = await image('app', 'missing', { push: false });
    const detail = await rejects(registry.images.put('app', { body: img.body, api: 'ecr' }), 'MANIFEST_BLOB_UNKNOWN');
    assert.deepEqual(detail.missing, img.blobs.map((b) => b.digest));
    assert.equal(errorCatalogue.MANIFEST_BLOB_UNKNOWN.ecr, 'LayersNotFoundException');
    // A blob in another repository does not count.
    await meta.repositories.create('other', clock.now());
    const elsewhere = await image('other', 'elsewhere');
    await rejects(registry.images.put('app', { body: elsewhere.body, api: 'ecr' }), 'MANIFEST_BLOB_UNKNOWN');
    const child = await image('app', 'child');
    await rejects(registry.images.put('app', { body: index([child]).body, api: 'ecr' }), 'REFERENCED_IMAGES_NOT_FOUND');
    assert.equal(errorCatalogue.REFERENCED_IMAGES_NOT_FOUND.oci, 'MANIFEST_BLOB_UNKNOWN');
  });

  it('ECR needs the repository; /v2/ may create it on push', async () => {
    const img = await image('app', 'r');
    await rejects(registry.images.put('nope', { body: img.body, api: 'ecr' }), 'NAME_UNKNOWN');
  });

  it('same digest and tag again: ImageAlreadyExists on ECR, idempotent on /v2/', async () => {
    const img = await image('app', 'again');
    await registry.images.put('app', { body: img.body, tag: 'v1', api: 'ecr' });
    const detail = await rejects(registry.images.put('app', { body: img.body, tag: 'v1', api: 'ecr' }), 'IMAGE_ALREADY_EXISTS');
    assert.equal(detail.tag, 'v1');
    await rejects(registry.images.put('app', { body: img.body, api: 'ecr' }), 'IMAGE_ALREADY_EXISTS');
    const r = await registry.putManifest('app', 'v1', OCI_MANIFEST, img.body);
    assert.equal(r.created, false);
    // A new tag on the same digest is fine and keeps the push time.
    clock.advance(5000);
    await registry.images.put('app', { body: img.body, tag: 'v2', api: 'ecr' });
    assert.deepEqual(await tagsOf('app', img.digest), ['v1', 'v2']);
    const page = await registry.images.describePage('app', { limit: 10, tagStatus: 'ANY' });
    assert.equal(page.images[0]?.pushedAt.getTime(), Date.parse('2026-02-01T00:00:00Z'));
  });

  it('MUTABLE: a tag moves and the old image stays, untagged', async () => {
    const one = await image('app', 'one');
    const two = await image('app', 'two');
    await registry.images.put('app', { body: one.body, tag: 'latest', api: 'ecr' });
    await registry.putManifest('app', 'latest', OCI_MANIFEST, two.body);
    assert.deepEqual(await tagsOf('app', one.digest), []);
    assert.deepEqual(await tagsOf('app', two.digest), ['latest']);
    const untagged = await registry.images.describePage('app', { limit: 10, tagStatus: 'UNTAGGED' });
    assert.deepEqual(untagged.images.map((i) => i.digest), [one.digest]);
  });

  it('IMMUTABLE: the tag cannot move (both APIs, ECR wording), re-pushing the same digest still works on /v2/', async () => {
    const repo = await registry.getRepository('app');
    await meta.ecr.putSettings(repo.id, { imageTagMutability: 'IMMUTABLE', imageTagMutabilityExclusionFilters: [], scanOnPush: false, encryptionType: 'AES256', kmsKey: null }, clock.now());
    const one = await image('app', 'i1');
    const two = await image('app', 'i2');
    await registry.images.put('app', { body: one.body, tag: 'v1', api: 'ecr' });
    const message = "The image tag 'v1' already exists in the 'app' repository and cannot be overwritten because the tag is immutable.";
    await assert.rejects(registry.images.put('app', { body: two.body, tag: 'v1', api: 'ecr' }), (e: unknown) => isRegistryError(e) && e.kind === 'TAG_IMMUTABLE' && e.message === message);
    await assert.rejects(registry.putManifest('app', 'v1', OCI_MANIFEST, two.body), (e: unknown) => isRegistryError(e) && e.spec.oci === 'TAG_INVALID' && e.spec.status === 400 && e.message === message);
    // Rolled back: the second image was not stored either.
    assert.equal(await meta.manifests.get(repo.id, two.digest), undefined);
    assert.deepEqual(await tagsOf('app', one.digest), ['v1']);
    assert.equal((await registry.putManifest('app', 'v1', OCI_MANIFEST, one.body)).created, false);
    // New tags are fine.
    await registry.images.put('app', { body: two.body, tag: 'v2', api: 'ecr' });
  });

  it('exclusion filters: IMMUTABLE_WITH_EXCLUSION and MUTABLE_WITH_EXCLUSION', async () => {
    const repo = await registry.getRepository('app');
    const settings = (mode: 'IMMUTABLE_WITH_EXCLUSION' | 'MUTABLE_WITH_EXCLUSION') => meta.ecr.putSettings(repo.id, { imageTagMutability: mode, imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'dev-*' }], scanOnPush: false, encryptionType: 'AES256', kmsKey: null }, clock.now());
    const a = await image('app', 'xa');
    const b = await image('app', 'xb');
    for (const tag of ['dev-1', 'prod-1']) await registry.images.put('app', { body: a.body, tag, api: 'ecr' });
    await settings('IMMUTABLE_WITH_EXCLUSION');
    await registry.images.put('app', { body: b.body, tag: 'dev-1', api: 'ecr' });
    await rejects(registry.images.put('app', { body: b.body, tag: 'prod-1', api: 'ecr' }), 'TAG_IMMUTABLE');
    await settings('MUTABLE_WITH_EXCLUSION');
    await rejects(registry.images.put('app', { body: a.body, tag: 'dev-1', api: 'ecr' }), 'TAG_IMMUTABLE');
    await registry.images.put('app', { body: b.body, tag: 'prod-1', api: 'ecr' });
  });
});

describe('ids, listings and deletes', () => {
  it('resolves ids with ECR failure codes', async () => {
    const one = await image('app', 'id1');
    const two = await image('app', 'id2');
    await registry.images.put('app', { body: one.body, tag: 'one', api: 'ecr' });
    await registry.images.put('app', { body: two.body, tag: 'two', api: 'ecr' });
    const r = await registry.images.batchGet('app', [
      { tag: 'one' },
      { digest: two.digest },
      { tag: 'one', digest: one.digest },
      { tag: 'one' },
      {},
      { digest: 'sha256:abc' },
      { tag: 'bad tag' },
      { tag: 'one', digest: two.digest },
      { tag: 'ghost' },
    ]);
    assert.deepEqual(r.images.map((i) => i.id), [{ tag: 'one', digest: one.digest }, { digest: two.digest }, { tag: 'one', digest: one.digest }]);
    assert.deepEqual(r.failures.map((f) => f.code), ['MissingDigestAndTag', 'InvalidImageDigest', 'InvalidImageTag', 'ImageTagDoesNotMatchDigest', 'ImageNotFound']);
    assert.equal(r.failures[4]?.reason, 'Requested image not found');
    const accepted = await registry.images.batchGet('app', [{ tag: 'one' }], ['application/vnd.docker.distribution.manifest.v2+json']);
    assert.deepEqual(accepted.failures.map((f) => f.code), ['ImageNotFound']);
  });

  it('records pulls (coalesced) for BatchGetImage', async () => {
    const img = await image('app', 'pull');
    await registry.images.put('app', { body: img.body, tag: 'p', api: 'ecr' });
    clock.advance(60_000);
    await registry.images.batchGet('app', [{ tag: 'p' }]);
    await new Promise((r) => setTimeout(r, 50));
    const page = await registry.images.describePage('app', { limit: 10, tagStatus: 'ANY' });
    assert.equal(page.images[0]?.lastPulledAt?.getTime(), clock.now().getTime());
  });

  it('pages images in push order and (digest, tag) pairs without gaps or repeats', async () => {
    const digests: string[] = [];
    for (let i = 0; i < 7; i++) {
      clock.advance(1000);
      const img = await image('app', `p${i}`);
      digests.push(img.digest);
      const tags = i % 3 === 0 ? [] : i % 3 === 1 ? [`t${i}`] : [`t${i}a`, `t${i}b`, `t${i}c`];
      if (tags.length === 0) await registry.images.put('app', { body: img.body, api: 'ecr' });
      for (const tag of tags) await registry.putManifest('app', tag, OCI_MANIFEST, img.body);
    }
    // Same push time: ordered by digest.
    const seen: string[] = [];
    let after;
    for (;;) {
      const page = await registry.images.describePage('app', { after, limit: 2, tagStatus: 'ANY' });
      seen.push(...page.images.map((i) => i.digest));
      if (!page.next) break;
      after = page.next;
    }
    assert.deepEqual(seen, digests);
    const tagged = await registry.images.describePage('app', { limit: 100, tagStatus: 'TAGGED' });
    assert.equal(tagged.images.length, 4);
    assert.deepEqual(tagged.images[1]?.tags, ['t2a', 't2b', 't2c']);
    const pairs: string[] = [];
    let cursor;
    for (;;) {
      const page = await registry.images.listIds('app', { after: cursor, limit: 2, tagStatus: 'ANY' });
      pairs.push(...page.ids.map((i) => `${i.digest.slice(7, 12)}:${i.tag ?? '-'}`));
      if (!page.next) break;
      cursor = page.next;
    }
    // 3 untagged + 2 single-tag + 2×3 tags.
    assert.equal(pairs.length, 3 + 2 + 6);
    assert.equal(new Set(pairs).size, pairs.length);
    const untagged = await registry.images.listIds('app', { limit: 100, tagStatus: 'UNTAGGED' });
    assert.deepEqual(untagged.ids.map((i) => i.tag), [null, null, null]);
    const onlyTagged = await registry.images.listIds('app', { limit: 100, tagStatus: 'TAGGED' });
    assert.equal(onlyTagged.ids.length, 8);
  });

  it('BatchDeleteImage: by tag, by digest, both, referenced by an index', async () => {
    const a = await image('app', 'da');
    const b = await image('app', 'db');
    const c = await image('app', 'dc');
    await registry.images.put('app', { body: a.body, tag: 'a1', api: 'ecr' });
    await registry.images.put('app', { body: a.body, tag: 'a2', api: 'ecr' });
    await registry.images.put('app', { body: b.body, tag: 'b1', api: 'ecr' });
    await registry.images.put('app', { body: b.body, tag: 'b2', api: 'ecr' });
    await registry.images.put('app', { body: c.body, api: 'ecr' });
    const idx = index([c]);
    await registry.images.put('app', { body: idx.body, tag: 'multi', api: 'ecr' });

    let r = await registry.images.batchDelete('app', [{ tag: 'a1' }]);
    assert.deepEqual(r.removed, [{ digest: a.digest, tag: 'a1' }]);
    assert.deepEqual(await tagsOf('app', a.digest), ['a2']);
    // The last tag takes the image with it.
    r = await registry.images.batchDelete('app', [{ tag: 'a2' }]);
    assert.deepEqual(r.removed, [{ digest: a.digest, tag: 'a2' }]);
    assert.equal(await meta.manifests.get((await registry.getRepository('app')).id, a.digest), undefined);

    r = await registry.images.batchDelete('app', [{ digest: b.digest }, { digest: c.digest }, { tag: 'multi', digest: b.digest }, { digest: a.digest }]);
    assert.deepEqual(r.removed, [{ digest: b.digest, tag: 'b1' }, { digest: b.digest, tag: 'b2' }]);
    assert.deepEqual(r.failures.map((f) => f.code), ['ImageReferencedByManifestList', 'ImageTagDoesNotMatchDigest', 'ImageNotFound']);
    assert.equal(r.failures[0]?.reason, `Requested image referenced by manifest list: [${idx.digest}]`);
    // /v2/ DELETE by digest follows the same rule.
    await rejects(registry.deleteManifest('app', c.digest), 'IMAGE_REFERENCED_BY_INDEX');
    r = await registry.images.batchDelete('app', [{ digest: idx.digest }, { digest: c.digest }]);
    assert.deepEqual(r.removed, [{ digest: idx.digest, tag: 'multi' }, { digest: c.digest }]);
  });
});

describe('layers', () => {
  it('availability: present with size and media type, missing, invalid', async () => {
    const img = await image('app', 'la');
    await registry.images.put('app', { body: img.body, api: 'ecr' });
    const r = await registry.images.layerAvailability('app', [img.blobs[1]!.digest, sha256Digest('nope'), 'sha256:xyz']);
    assert.deepEqual(r, [
      { digest: img.blobs[1]!.digest, status: 'present', size: img.blobs[1]!.size, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' },
      { digest: sha256Digest('nope'), status: 'missing' },
      { digest: 'sha256:xyz', status: 'invalid' },
    ]);
  });

  it('uploads parts over a /v2/ session: contiguous, lengths checked, part sizes, completion', async () => {
    const data = Buffer.alloc(MIN_LAYER_PART_BYTES + 10, 1);
    const up = await registry.startUpload('app');
    await rejects(registry.images.completeLayerUpload('app', up.id, sha256Digest(data)), 'EMPTY_UPLOAD');
    const first = data.subarray(0, MIN_LAYER_PART_BYTES);
    assert.deepEqual(await registry.images.uploadLayerPart('app', up.id, 0, first.length - 1, first), { lastByteReceived: first.length - 1 });
    const gap = await rejects(registry.images.uploadLayerPart('app', up.id, first.length + 1, first.length + 10, data.subarray(first.length + 1)), 'RANGE_INVALID');
    assert.equal(gap.size, first.length);
    await rejects(registry.images.uploadLayerPart('app', up.id, first.length, first.length + 3, data.subarray(first.length)), 'RANGE_INVALID');
    // The /v2/ status of the same session sees the bytes.
    assert.equal((await registry.uploadStatus('app', up.id)).size, first.length);
    await registry.images.uploadLayerPart('app', up.id, first.length, data.length - 1, data.subarray(first.length));
    const done = await registry.images.completeLayerUpload('app', up.id, sha256Digest(data));
    assert.deepEqual(done, { digest: sha256Digest(data), size: data.length });
    assert.equal((await registry.statBlob('app', sha256Digest(data))).size, data.length);
  });

  it('refuses a non-final part under 5 MiB, a blob already present, a wrong digest, an unknown upload', async () => {
    const small = await registry.startUpload('app');
    await registry.images.uploadLayerPart('app', small.id, 0, 9, Buffer.alloc(10));
    await registry.images.uploadLayerPart('app', small.id, 10, 19, Buffer.alloc(10));
    await rejects(registry.images.completeLayerUpload('app', small.id, sha256Digest(Buffer.alloc(20))), 'LAYER_PART_TOO_SMALL');

    const existing = await blob('app', 'already here');
    const again = await registry.startUpload('app');
    await registry.images.uploadLayerPart('app', again.id, 0, 11, Buffer.from('already here'));
    await rejects(registry.images.completeLayerUpload('app', again.id, existing.digest), 'LAYER_ALREADY_EXISTS');

    const wrong = await registry.startUpload('app');
    await registry.images.uploadLayerPart('app', wrong.id, 0, 2, Buffer.from('abc'));
    await rejects(registry.images.completeLayerUpload('app', wrong.id, sha256Digest('abd')), 'DIGEST_INVALID');
    await rejects(registry.images.completeLayerUpload('app', wrong.id, sha256Digest('abc')), 'BLOB_UPLOAD_UNKNOWN');
    await rejects(registry.images.uploadLayerPart('app', '00000000-0000-0000-0000-000000000000', 0, 0, Buffer.from('a')), 'BLOB_UPLOAD_UNKNOWN');
  });

  it('download links: only for referenced blobs, signed, expiring', async () => {
    const loose = await blob('app', 'loose blob');
    await rejects(registry.images.layerDownloadPath('app', loose.digest), 'LAYER_INACCESSIBLE');
    await rejects(registry.images.layerDownloadPath('app', sha256Digest('absent')), 'BLOB_UNKNOWN');
    const img = await image('app', 'dl');
    await registry.images.put('app', { body: img.body, api: 'ecr' });
    const layer = img.blobs[1]!;
    const path = await registry.images.layerDownloadPath('app', layer.digest);
    const url = new URL(path, 'http://x');
    assert.equal(url.pathname, `/_cargohold/download/app/${layer.digest}`);
    const expires = url.searchParams.get('expires');
    const signature = url.searchParams.get('signature');
    assert.deepEqual(await registry.images.openDownload('app', layer.digest, expires, signature), { digest: layer.digest, size: layer.size });
    await rejects(registry.images.openDownload('app', img.blobs[0]!.digest, expires, signature), 'DENIED');
    await rejects(registry.images.openDownload('app', layer.digest, String(Number(expires) + 1), signature), 'DENIED');
    clock.advance(601_000);
    await assert.rejects(registry.images.openDownload('app', layer.digest, expires, signature), /expired/);
  });
});

describe('migration 0004', () => {
  it('backfills imageSize for images and indexes', async () => {
    const conn = new BetterSqlite3(':memory:');
    conn.pragma('foreign_keys = ON');
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: conn }) });
    try {
      await migrate(db, migrations.filter((m) => m.version < 4));
      await db.insertInto('repositories').values({ name: 'r', created_at: 1 }).execute();
      const row = (digest: string, mediaType: string) => ({ repository_id: 1, digest, media_type: mediaType, artifact_type: null, subject_digest: null, annotations: null, size: 10, body: Buffer.from('{}'), pushed_at: 1, last_pulled_at: null });
      await db.insertInto('manifests').values([row('sha256:a', OCI_MANIFEST), row('sha256:b', OCI_MANIFEST), row('sha256:i', OCI_INDEX)]).execute();
      const ref = (m: string, position: number, child: string, kind: string, size: number) => ({ repository_id: 1, manifest_digest: m, position, child_digest: child, kind, size, media_type: 'x/y' });
      await db.insertInto('manifest_references').values([
        ref('sha256:a', 0, 'sha256:c1', 'blob', 100), ref('sha256:a', 1, 'sha256:l1', 'blob', 1000),
        ref('sha256:b', 0, 'sha256:c2', 'blob', 50),
        ref('sha256:i', 0, 'sha256:a', 'manifest', 10), ref('sha256:i', 1, 'sha256:b', 'manifest', 10),
      ]).execute();
      await migrate(db);
      const sizes = await db.selectFrom('manifests').select(['digest', 'image_size']).orderBy('digest').execute();
      assert.deepEqual(sizes.map((s) => [s.digest, Number(s.image_size)]), [['sha256:a', 1100], ['sha256:b', 50], ['sha256:i', 1100]]);
    } finally {
      await db.destroy();
    }
  });
});
