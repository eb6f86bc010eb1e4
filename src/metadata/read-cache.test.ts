import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sha256Digest } from '../core/digest.ts';
import { createSqliteMetadata } from './dialects/sqlite.ts';
import { createReadCache } from './read-cache.ts';
import type { MetadataStore } from './types.ts';

const at = new Date('2026-01-01T00:00:00Z');

async function putImage(meta: MetadataStore, repositoryId: number, text: string) {
  const body = Buffer.from(text);
  const digest = sha256Digest(body);
  await meta.manifests.put({ repositoryId, digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: null, subjectDigest: null, annotations: null, size: body.length, body, pushedAt: at }, []);
  return digest;
}

describe('read cache', () => {
  let inner: MetadataStore;
  let now = 0;
  let meta: ReturnType<typeof createReadCache>;
  before(async () => {
    inner = await createSqliteMetadata({ path: ':memory:' });
    meta = createReadCache(inner, { ttlMs: 1000, now: () => now });
  });
  after(async () => { await meta.close(); });

  it('serves repeated reads from memory until the TTL passes', async () => {
    const repo = await meta.repositories.create('cache/a', at);
    const d = await putImage(meta, repo.id, '{"a":1}');
    await meta.tags.set(repo.id, 'v1', d, at);
    assert.equal((await meta.manifests.getByTag(repo.id, 'v1'))?.digest, d);
    // A write that bypasses this process (another node, the CLI) is unseen until the TTL passes.
    const d2 = await putImage(inner, repo.id, '{"a":2}');
    await inner.tags.set(repo.id, 'v1', d2, at);
    assert.equal((await meta.manifests.getByTag(repo.id, 'v1'))?.digest, d);
    now += 1001;
    assert.equal((await meta.manifests.getByTag(repo.id, 'v1'))?.digest, d2);
  });

  it('sees its own writes at once, in and out of transactions', async () => {
    const repo = await meta.repositories.create('cache/b', at);
    const d1 = await putImage(meta, repo.id, '{"b":1}');
    await meta.tags.set(repo.id, 'latest', d1, at);
    assert.equal((await meta.manifests.getByTag(repo.id, 'latest'))?.digest, d1);
    const d2 = await meta.transaction(async (tx) => {
      const d = await putImage(tx, repo.id, '{"b":2}');
      await tx.tags.set(repo.id, 'latest', d, at);
      return d;
    });
    assert.equal((await meta.manifests.getByTag(repo.id, 'latest'))?.digest, d2);
    await meta.tags.delete(repo.id, 'latest');
    assert.equal(await meta.manifests.getByTag(repo.id, 'latest'), undefined);
    assert.ok(await meta.repositories.get('cache/b'));
    await meta.repositories.delete(repo.id);
    assert.equal(await meta.repositories.get('cache/b'), undefined);
  });

  it('never caches a read that raced a write', async () => {
    const repo = await meta.repositories.create('cache/c', at);
    const d1 = await putImage(meta, repo.id, '{"c":1}');
    await meta.tags.set(repo.id, 't', d1, at);
    const reading = meta.manifests.getByTag(repo.id, 't');
    const d2 = await putImage(meta, repo.id, '{"c":2}');
    await meta.tags.set(repo.id, 't', d2, at);
    await reading;
    assert.equal((await meta.manifests.getByTag(repo.id, 't'))?.digest, d2);
  });

  it('is off with a TTL of 0', async () => {
    const off = createReadCache(inner, { ttlMs: 0 });
    const repo = await off.repositories.create('cache/d', at);
    const d1 = await putImage(off, repo.id, '{"d":1}');
    await off.tags.set(repo.id, 't', d1, at);
    assert.equal((await off.manifests.getByTag(repo.id, 't'))?.digest, d1);
    const d2 = await putImage(inner, repo.id, '{"d":2}');
    await inner.tags.set(repo.id, 't', d2, at);
    assert.equal((await off.manifests.getByTag(repo.id, 't'))?.digest, d2);
  });
});
