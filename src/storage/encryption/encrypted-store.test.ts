import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { systemClock } from '../../core/clock.ts';
import { digestOf, type Digest } from '../../core/digest.ts';
import { createSqliteMetadata } from '../../metadata/dialects/sqlite.ts';
import type { MetadataStore } from '../../metadata/types.ts';
import { runBlobStoreContract } from '../blob-store.contract.ts';
import { readAll } from '../contract-helpers.ts';
import { createFsBlobStore } from '../drivers/fs.ts';
import { createMemoryBlobStore } from '../drivers/memory.ts';
import type { BlobStore } from '../blob-store.ts';
import { createEncryptedBlobStore, type EncryptedBlobStore } from './encrypted-store.ts';
import { REGISTRY_SCOPE, createKeyScopes } from './key-scopes.ts';
import { createLocalKeyring } from './providers/local-keyring.ts';

interface Setup {
  dir: string;
  meta: MetadataStore;
  inner: BlobStore;
  layer: EncryptedBlobStore;
  cleanup(): Promise<void>;
}

async function setup(innerKind: 'fs' | 'memory' = 'fs', options: { segmentShift?: number } = {}): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'enc-store-'));
  const meta = await createSqliteMetadata({ path: join(dir, 'metadata.sqlite') });
  const inner = innerKind === 'fs' ? await createFsBlobStore({ root: join(dir, 'blobs') }) : createMemoryBlobStore();
  const scopes = createKeyScopes({ provider: createLocalKeyring({ path: join(dir, 'keys', 'keyring.json'), region: 'us-east-1', accountId: '123456789012' }), store: meta.encryption, clock: systemClock });
  await scopes.ensureRegistryScope();
  const layer = createEncryptedBlobStore({ inner, store: meta.encryption, scopes, clock: systemClock, segmentShift: options.segmentShift });
  return {
    dir, meta, inner, layer,
    async cleanup() {
      await meta.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

for (const kind of ['fs', 'memory'] as const) {
  runBlobStoreContract(`encrypted over ${kind}`, async () => {
    const s = await setup(kind);
    return { store: { ...s.layer.scoped(REGISTRY_SCOPE), close: () => s.layer.close() }, cleanup: s.cleanup };
  });
}

/** Every regular file under `dir`. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((n) => join(dir, n)).filter((p) => statSync(p).isFile());
}

test('no plaintext reaches the inner store, and reads return the original bytes', async () => {
  const s = await setup('fs');
  try {
    const marker = Buffer.from('CARGOHOLD-PLAINTEXT-MARKER-7f3a9c');
    const body = Buffer.concat([Buffer.alloc(300_000, 1), marker, Buffer.alloc(5000, 2)]);
    const d = digestOf(body);
    const blobs = s.layer.scoped(REGISTRY_SCOPE);
    await blobs.createUpload('u1');
    await blobs.appendUpload('u1', 0, Readable.from([body.subarray(0, 100_001)]));
    await blobs.appendUpload('u1', 100_001, Readable.from([body.subarray(100_001)]));
    await blobs.commitUpload('u1', d);
    for (const f of filesUnder(join(s.dir, 'blobs'))) assert.ok(!readFileSync(f).includes(marker), `${f} holds the plaintext`);
    assert.deepEqual(await readAll(await blobs.open(d)), body);
    assert.deepEqual(await readAll(await blobs.open(d, { start: 99_990, end: 300_010 })), body.subarray(99_990, 300_011));
    assert.deepEqual((await s.layer.stat(d))?.size, body.length);
  } finally {
    await s.cleanup();
  }
});

test('a changed byte in a stored part fails the read with an error; no wrong byte is delivered', async () => {
  const s = await setup('memory', { segmentShift: 12 });
  try {
    const body = Buffer.alloc(20_000, 7);
    const d = digestOf(body);
    const blobs = s.layer.scoped(REGISTRY_SCOPE);
    await blobs.putBlob(d, Readable.from([body]));
    const [part] = (await collect(s.inner.list())).map((b) => b.digest);
    const stored = await readAll(await s.inner.open(part!));
    // Rewrite the part with one byte flipped in the third segment (memory store: replace the object as-is).
    stored[40 + 2 * (4096 + 16) + 10]! ^= 0x40;
    await replaceObject(s.inner, part!, stored);
    const got: Buffer[] = [];
    const stream = await blobs.open(d);
    await assert.rejects(async () => { for await (const c of stream) got.push(c as Buffer); }, /failed authentication/);
    const delivered = Buffer.concat(got);
    assert.ok(delivered.length <= 2 * 4096, 'nothing of the damaged segment or after it was delivered');
    assert.deepEqual(delivered, body.subarray(0, delivered.length));
    // A range inside the intact first segment still reads.
    assert.deepEqual(await readAll(await blobs.open(d, { start: 10, end: 20 })), body.subarray(10, 21));
  } finally {
    await s.cleanup();
  }
});

test('a blob is stored once per key scope (deduplication), and separately in another scope', async () => {
  const s = await setup('memory');
  try {
    const body = Buffer.from('shared layer bytes');
    const d = digestOf(body);
    const scopes = createKeyScopes({ provider: createLocalKeyring({ path: join(s.dir, 'keys', 'keyring.json'), region: 'us-east-1', accountId: '123456789012' }), store: s.meta.encryption, clock: systemClock });
    const own = await scopes.prepareRepository('team/own', { encryptionType: 'KMS', kmsKey: null });
    await s.layer.scoped(REGISTRY_SCOPE).putBlob(d, Readable.from([body]));
    await s.layer.scoped(REGISTRY_SCOPE).putBlob(d, Readable.from([body]));
    assert.equal((await collect(s.inner.list())).length, 1, 'one stored part for the registry scope');
    assert.equal(await s.layer.scoped(own.kmsKey!).stat(d), undefined, 'another scope does not see it');
    await s.layer.scoped(own.kmsKey!).putBlob(d, Readable.from([body]));
    assert.equal((await collect(s.inner.list())).length, 2);
    assert.deepEqual((await collect(s.layer.list())).map((b) => b.digest), [d]);
    // Crypto-shredding the repository scope: its copy is gone, the registry's stays readable.
    await s.layer.dropScopeObjects(own.kmsKey!);
    await scopes.shred(own.kmsKey!);
    assert.equal(await s.layer.scoped(own.kmsKey!).stat(d), undefined);
    assert.deepEqual(await readAll(await s.layer.scoped(REGISTRY_SCOPE).open(d)), body);
  } finally {
    await s.cleanup();
  }
});

test('blobs written before encryption (plaintext in the inner store) stay readable', async () => {
  const s = await setup('memory');
  try {
    const body = Buffer.from('legacy plaintext blob');
    const d = digestOf(body) as Digest;
    await s.inner.putBlob(d, Readable.from([body]));
    assert.deepEqual(await s.layer.scoped(REGISTRY_SCOPE).stat(d), { size: body.length });
    assert.deepEqual(await readAll(await s.layer.scoped(REGISTRY_SCOPE).open(d, { start: 7, end: 15 })), body.subarray(7, 16));
    assert.deepEqual((await collect(s.layer.list())).map((b) => b.digest), [d]);
  } finally {
    await s.cleanup();
  }
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Replaces a stored object's bytes behind the store's back (tampering), bypassing digest verification. */
async function replaceObject(inner: BlobStore, digest: Digest, bytes: Buffer): Promise<void> {
  const open = inner.open.bind(inner);
  inner.open = async (dg, range) => (dg === digest ? Readable.from([range ? bytes.subarray(range.start, range.end + 1) : bytes]) : open(dg, range));
}
