import { createHash, randomBytes, randomUUID, timingSafeEqual, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Clock } from '../../core/clock.ts';
import { digestAlgorithm, isDigest, type Digest } from '../../core/digest.ts';
import { RegistryError } from '../../core/errors.ts';
import type { EncryptedObjectRecord, EncryptionStore } from '../../metadata/encryption-types.ts';
import { UPLOAD_ID_RE, type BlobReader, type BlobStore, type ByteRange, type StoredBlob, type StoredUpload } from '../blob-store.ts';
import { checkLength, guardBody, tapBody } from '../body-tap.ts';
import { checkExpectedLength, checkRange, digestMismatch, malformedDigest, offsetMismatch, uploadUnknown } from '../driver-support.ts';
import { createKeyedMutex } from '../keyed-mutex.ts';
import { DEFAULT_SEGMENT_SHIFT, HEADER_BYTES, IntegrityError, MAGIC, PartEncryptor, cipherLength, decodeHeader, decryptSpan, decryptSpanAt, derivePartKey, spanOf, type PartKey, type SegmentSpan } from './format.ts';
import { objectMac, type KeyScopes } from './key-scopes.ts';
import { getOrCreateBounded, setBounded } from '../../core/bounded-map.ts';

/** One encrypted part as recorded: stored object digest, plaintext size, salt (base64), segment shift. */
export interface PartRef {
  d: Digest;
  n: number;
  s: string;
  z: number;
}

export interface EncryptedBlobStoreOptions {
  /** Any BlobStore driver; it holds ciphertext parts (named by their own sha256) and legacy plaintext blobs. */
  inner: BlobStore;
  store: EncryptionStore;
  scopes: KeyScopes;
  clock: Clock;
  /** When false, new blobs are written in plaintext (existing encrypted blobs stay readable). Default true. */
  encryptWrites?: boolean;
  segmentShift?: number;
}

/**
 * Encryption at rest as a layer over any BlobStore (docs/encryption.md).
 *
 * A blob is stored per key scope as one or more encrypted *parts* (one per upload append, or one for a
 * monolithic put), each an object of the inner store named by the sha256 of its ciphertext. A row in
 * `meta.encryption` maps (scope, digest) to its parts, with a MAC under the scope's key so a row pointing
 * at other parts is detected. Reads decrypt only the segments a range touches; every segment is verified
 * before a byte of it is released, and a failure makes the stream error (the HTTP layer then cuts the
 * connection): wrong bytes are never served.
 *
 * `scoped(scopeId)` is the BlobStore of one scope (what a repository uses). The root object is the
 * unscoped view for callers that do not know repositories: uploads by id, stat/open of a digest in any
 * scope, `delete` of every scope's copy, `list` of stored digests (GC). Blobs written before encryption was
 * enabled have no row and are served from the inner store as they are.
 */
export interface EncryptedBlobStore extends BlobStore {
  scoped(scopeId: string): BlobStore;
  /** Deletes the stored parts of every object of a scope (before the scope is shredded). */
  dropScopeObjects(scopeId: string): Promise<number>;
}

export function createEncryptedBlobStore(options: EncryptedBlobStoreOptions): EncryptedBlobStore {
  const { inner, store, scopes, clock } = options;
  const encryptWrites = options.encryptWrites ?? true;
  const shift = options.segmentShift ?? DEFAULT_SEGMENT_SHIFT;
  const withLock = createKeyedMutex();
  /** Running plaintext sha256 of an upload, valid only while it covers exactly `hashed` bytes. */
  const running = new Map<string, { hash: Hash; hashed: number }>();
  /** Verified object records (immutable; a deleted one simply fails to open its parts). */
  const records = new Map<string, { size: number; parts: PartRef[] }>();
  /** The scope a digest was last written or read in, so an unscoped stat right after a push needs no query. */
  const lastScope = new Map<string, string>();
  const remember = (digest: string, scopeId: string, v: { size: number; parts: PartRef[] }) => {
    setBounded(records, `${scopeId}\n${digest}`, v, 50_000);
    setBounded(lastScope, digest, scopeId, 50_000);
  };

  async function writePart(scopeId: string, body: Readable, opts: { expectedLength?: number; hash?: Hash; algorithm?: 'sha256' | 'sha512' }): Promise<{ part: PartRef; plain: ReturnType<typeof tapBody> }> {
    const salt = randomBytes(32);
    const key = derivePartKey(await scopes.dataKey(scopeId), { salt, segmentShift: shift });
    const enc = new PartEncryptor(key);
    const innerId = `enc-${randomUUID()}`;
    await inner.createUpload(innerId);
    const plain = tapBody(body, { hash: opts.hash, algorithm: opts.hash ? undefined : opts.algorithm, maxLength: opts.expectedLength });
    try {
      const expected = opts.expectedLength === undefined ? undefined : cipherLength(opts.expectedLength, key.segmentSize);
      await Promise.all([pipeline(body, enc), inner.appendUpload(innerId, 0, enc, expected === undefined ? undefined : { expectedLength: expected })]);
      checkLength(plain.bytes, opts.expectedLength);
      const d = `sha256:${enc.outputHash.digest('hex')}` as Digest;
      await inner.commitUpload(innerId, d);
      return { part: { d, n: plain.bytes, s: salt.toString('base64'), z: shift }, plain };
    } catch (e) {
      enc.destroy();
      await inner.deleteUpload(innerId).catch(() => undefined);
      throw e;
    }
  }

  async function dropParts(parts: PartRef[]): Promise<void> {
    for (const p of parts) await inner.delete(p.d);
  }

  function parseParts(text: string): PartRef[] {
    const parts = JSON.parse(text) as PartRef[];
    if (!Array.isArray(parts)) throw new IntegrityError('object record parts are not a list');
    return parts;
  }

  /** The verified record of (scope, digest), or undefined when the scope does not hold it. */
  async function record(scopeId: string, digest: string): Promise<{ size: number; parts: PartRef[] } | undefined> {
    const cacheKey = `${scopeId}\n${digest}`;
    const cached = records.get(cacheKey);
    if (cached) return cached;
    const rec = await store.getObject(scopeId, digest);
    if (!rec) return undefined;
    const mac = objectMac(await scopes.macKey(scopeId), scopeId, digest, rec.size, rec.parts);
    if (rec.mac.length !== mac.length || !timingSafeEqual(rec.mac, mac)) {
      throw new RegistryError('INTERNAL', 'stored blob record failed authentication', { digest });
    }
    const v = { size: rec.size, parts: parseParts(rec.parts) };
    remember(digest, scopeId, v);
    return v;
  }

  /** Derived part keys (HKDF once per part, not per request): parts are immutable. */
  const partKeys = new Map<string, PartKey>();
  function partKey(scopeId: string, dataKey: Buffer, p: PartRef): PartKey {
    return getOrCreateBounded(partKeys, `${scopeId}\n${p.s}\n${p.z}`, 10_000, () => derivePartKey(dataKey, { salt: Buffer.from(p.s, 'base64'), segmentShift: p.z }));
  }

  async function* decrypt(scopeId: string, digest: string, parts: PartRef[], start: number, end: number): AsyncGenerator<Buffer> {
    const dataKey = await scopes.dataKey(scopeId);
    let offset = 0;
    for (const p of parts) {
      const partStart = offset;
      offset += p.n;
      if (p.n === 0 || offset - 1 < start || partStart > end) continue;
      const from = Math.max(start, partStart) - partStart;
      const to = Math.min(end, offset - 1) - partStart;
      const key = partKey(scopeId, dataKey, p);
      const span = spanOf(p.n, key.segmentSize, from, to);
      if (inner.openReader) {
        yield* decryptAt((d) => inner.openReader!(d, { size: cipherLength(p.n, key.segmentSize) }), digest, p, key, span, from, to);
        continue;
      }
      let cipher: Readable;
      try {
        cipher = await inner.open(p.d, { start: span.cipherStart, end: span.cipherEnd });
      } catch (e) {
        throw new RegistryError('INTERNAL', 'a stored part of this blob is missing or damaged', { digest, cause: (e as Error).message });
      }
      try {
        yield* decryptSpan(key, p.n, span, from, to, cipher);
      } catch (e) {
        if (e instanceof IntegrityError) throw new RegistryError('INTERNAL', `stored blob failed authentication: ${e.message}`, { digest });
        throw e;
      } finally {
        cipher.destroy();
      }
    }
  }

  /** One part's range through the driver's positional reads (fs): fewer copies than a stream. */
  async function* decryptAt(openReader: (d: Digest) => Promise<BlobReader>, digest: string, p: PartRef, key: PartKey, span: SegmentSpan, from: number, to: number): AsyncGenerator<Buffer> {
    let reader: BlobReader;
    try {
      reader = await openReader(p.d);
    } catch (e) {
      throw new RegistryError('INTERNAL', 'a stored part of this blob is missing or damaged', { digest, cause: (e as Error).message });
    }
    try {
      yield* decryptSpanAt(key, p.n, span, from, to, (buf, pos, len) => reader.read(buf, pos, len));
    } catch (e) {
      if (e instanceof IntegrityError) throw new RegistryError('INTERNAL', `stored blob failed authentication: ${e.message}`, { digest });
      throw e;
    } finally {
      await reader.close().catch(() => undefined);
    }
  }

  /** Plaintext digest of an upload's parts, by decrypting them (when no running hash is held). */
  async function hashParts(scopeId: string, parts: PartRef[], size: number, alg: 'sha256' | 'sha512'): Promise<string> {
    const h = createHash(alg);
    if (size > 0) for await (const b of decrypt(scopeId, 'upload', parts, 0, size - 1)) h.update(b);
    return h.digest('hex');
  }

  async function putObject(scopeId: string, digest: Digest, size: number, parts: PartRef[]): Promise<void> {
    const text = JSON.stringify(parts);
    const rec: EncryptedObjectRecord = { scopeId, digest, size, parts: text, mac: objectMac(await scopes.macKey(scopeId), scopeId, digest, size, text), createdAt: clock.now() };
    const { created } = await store.putObject(rec);
    if (created) remember(digest, scopeId, { size, parts });
    else await dropParts(parts); // the scope already holds this blob: keep one copy
  }

  async function uploadState(uploadId: string) {
    return UPLOAD_ID_RE.test(uploadId) ? store.getUpload(uploadId) : undefined;
  }

  function view(scopeId: string | undefined): BlobStore {
    const writeScope = (): string => {
      if (scopeId === undefined) throw new Error('writing a blob needs a key scope (use scoped())');
      return scopeId;
    };
    const locate = async (digest: string): Promise<{ scopeId: string; size: number; parts: PartRef[] } | undefined> => {
      if (scopeId !== undefined) {
        const r = await record(scopeId, digest);
        return r && { scopeId, ...r };
      }
      const known = lastScope.get(digest);
      const hit = known !== undefined ? records.get(`${known}\n${digest}`) : undefined;
      if (hit) return { scopeId: known!, ...hit };
      const [any] = await store.objectsFor(digest);
      if (!any) return undefined;
      const r = await record(any.scopeId, digest);
      return r && { scopeId: any.scopeId, ...r };
    };

    const bs: BlobStore & { sweepTemporary(olderThan: Date, o?: { dryRun?: boolean }): Promise<{ name: string; size: number; modifiedAt: Date }[]> } = {
      driver: inner.driver,

      async createUpload(uploadId) {
        if (!encryptWrites) return inner.createUpload(uploadId);
        if (!UPLOAD_ID_RE.test(uploadId)) throw uploadUnknown(uploadId);
        await withLock(uploadId, async () => {
          if (await store.getUpload(uploadId)) throw new RegistryError('CONFLICT', 'upload session already exists', { uploadId });
          await store.putUpload({ id: uploadId, scopeId: writeScope(), size: 0, parts: '[]', updatedAt: clock.now() });
          running.set(uploadId, { hash: createHash('sha256'), hashed: 0 });
        });
      },

      async uploadSize(uploadId) {
        const rec = await uploadState(uploadId);
        return rec ? rec.size : inner.uploadSize(uploadId);
      },

      async appendUpload(uploadId, offset, body, opts) {
        const expectedLength = checkExpectedLength(opts?.expectedLength);
        guardBody(body);
        return withLock(uploadId, async () => {
          const rec = await uploadState(uploadId);
          if (!rec) return inner.appendUpload(uploadId, offset, body, opts); // a plaintext session from before
          if (offset !== rec.size) throw offsetMismatch(offset, rec.size);
          const previous = running.get(uploadId);
          running.delete(uploadId);
          const hash = previous && previous.hashed === rec.size ? previous.hash : undefined;
          // A failed append keeps nothing of its chunk: the session stays at rec.size and the client resumes there.
          const { part } = await writePart(rec.scopeId, body, { expectedLength, hash });
          const parts = parseParts(rec.parts);
          if (part.n > 0) parts.push(part);
          else await inner.delete(part.d);
          const size = rec.size + part.n;
          await store.putUpload({ ...rec, size, parts: JSON.stringify(parts), updatedAt: clock.now() });
          if (hash) running.set(uploadId, { hash, hashed: size });
          return size;
        });
      },

      async commitUpload(uploadId, digest) {
        return withLock(uploadId, async () => {
          const rec = await uploadState(uploadId);
          if (!rec) return inner.commitUpload(uploadId, digest);
          const held = running.get(uploadId);
          running.delete(uploadId);
          const parts = parseParts(rec.parts);
          const discard = async () => {
            await dropParts(parts);
            await store.deleteUpload(uploadId);
          };
          if (!isDigest(digest)) {
            await discard();
            throw malformedDigest(digest);
          }
          const alg = digestAlgorithm(digest);
          const hex = alg === 'sha256' && held && held.hashed === rec.size ? held.hash.digest('hex') : await hashParts(rec.scopeId, parts, rec.size, alg);
          if (`${alg}:${hex}` !== digest) {
            await discard();
            throw digestMismatch(digest, `${alg}:${hex}`);
          }
          await putObject(rec.scopeId, digest, rec.size, parts);
          await store.deleteUpload(uploadId);
          return { size: rec.size };
        });
      },

      async deleteUpload(uploadId) {
        await withLock(uploadId, async () => {
          running.delete(uploadId);
          const rec = await uploadState(uploadId);
          if (!rec) return inner.deleteUpload(uploadId);
          await dropParts(parseParts(rec.parts));
          await store.deleteUpload(uploadId);
        });
      },

      async *listUploads(): AsyncIterable<StoredUpload> {
        let last: string | undefined;
        for (let page = 0; page < 10_000_000; page++) {
          const rows = await store.listUploads({ last, limit: 500 });
          if (!rows.length) break;
          for (const r of rows) yield { uploadId: r.id, size: r.size, modifiedAt: r.updatedAt };
          last = rows[rows.length - 1]!.id;
        }
        // Plaintext sessions from before, and part bodies being written right now (enc-…).
        yield* inner.listUploads();
      },

      async putBlob(digest, body, opts) {
        if (!encryptWrites) return inner.putBlob(digest, body, opts);
        if (!isDigest(digest)) throw malformedDigest(digest);
        const expectedLength = checkExpectedLength(opts?.expectedLength);
        const alg = digestAlgorithm(digest);
        const target = writeScope();
        const { part, plain } = await writePart(target, body, { expectedLength, algorithm: alg });
        const actual = `${alg}:${plain.digestHex()}`;
        if (actual !== digest) {
          await inner.delete(part.d);
          throw digestMismatch(digest, actual);
        }
        await putObject(target, digest, part.n, [part]);
        return { size: part.n };
      },

      async stat(digest) {
        if (!isDigest(digest)) return undefined;
        const r = await locate(digest);
        if (r) return { size: r.size };
        return inner.stat(digest);
      },

      async open(digest, range?: ByteRange) {
        const r = isDigest(digest) ? await locate(digest) : undefined;
        if (!r) return inner.open(digest, range);
        checkRange(range, r.size);
        if (r.size === 0) return Readable.from([]);
        return Readable.from(decrypt(r.scopeId, digest, r.parts, range?.start ?? 0, range?.end ?? r.size - 1), { objectMode: false, highWaterMark: 1024 * 1024 });
      },

      async delete(digest) {
        if (!isDigest(digest)) return;
        const copies = scopeId !== undefined ? [await store.getObject(scopeId, digest)] : await store.objectsFor(digest);
        for (const c of copies) {
          if (!c) continue;
          records.delete(`${c.scopeId}\n${digest}`);
          lastScope.delete(digest);
          await store.deleteObject(c.scopeId, digest);
          await dropParts(parseParts(c.parts));
        }
        if (scopeId === undefined || copies.every((c) => !c)) await inner.delete(digest);
      },

      async *list(): AsyncIterable<StoredBlob> {
        // Encrypted blobs by their digest (from the records), then plaintext blobs of the inner store; the
        // inner store's encrypted parts are storage details, not blobs, and are never listed here.
        const seen = new Set<string>();
        let last: string | undefined;
        const ids = scopeId !== undefined ? [scopeId] : await allScopeIds();
        for (const id of ids) {
          last = undefined;
          for (let page = 0; page < 10_000_000; page++) {
            const rows = await store.listObjects(id, { last, limit: 500 });
            if (!rows.length) break;
            for (const r of rows) {
              last = r.digest;
              if (seen.has(r.digest)) continue;
              if (seen.size < 1_000_000) seen.add(r.digest);
              yield { digest: r.digest as Digest, size: r.size, modifiedAt: r.createdAt };
            }
          }
        }
        if (scopeId !== undefined) return;
        for await (const b of inner.list()) {
          if (seen.has(b.digest) || (await isPart(b.digest))) continue;
          yield b;
        }
      },

      async sweepTemporary(olderThan, o) {
        const sweep = (inner as { sweepTemporary?: (d: Date, x?: { dryRun?: boolean }) => Promise<{ name: string; size: number; modifiedAt: Date }[]> }).sweepTemporary;
        return sweep ? sweep.call(inner, olderThan, o) : [];
      },

      async close() {
        running.clear();
        records.clear();
        lastScope.clear();
        await inner.close();
      },
    };
    return bs;
  }

  async function allScopeIds(): Promise<string[]> {
    const ids: string[] = [];
    let last: string | undefined;
    for (let page = 0; page < 100_000; page++) {
      const rows = await store.listScopes({ last, limit: 500 });
      if (!rows.length) break;
      for (const r of rows) ids.push(r.id);
      last = rows[rows.length - 1]!.id;
    }
    return ids;
  }

  /** Whether an inner object is an encrypted part (starts with a part header), not a plaintext blob. */
  async function isPart(digest: Digest): Promise<boolean> {
    const st = await inner.stat(digest);
    if (!st || st.size < HEADER_BYTES) return false;
    const chunks: Buffer[] = [];
    for await (const c of await inner.open(digest, { start: 0, end: HEADER_BYTES - 1 })) chunks.push(c as Buffer);
    const h = Buffer.concat(chunks);
    if (!h.subarray(0, 4).equals(MAGIC)) return false;
    try {
      decodeHeader(h);
      return true;
    } catch {
      return false;
    }
  }

  const root = view(undefined);
  const views = new Map<string, BlobStore>();
  return {
    ...root,
    scoped(scopeId) {
      return getOrCreateBounded(views, scopeId, 10_000, () => ({ ...view(scopeId), close: async () => undefined }));
    },
    async dropScopeObjects(scopeId) {
      let n = 0;
      for (let page = 0; page < 10_000_000; page++) {
        const rows = await store.listObjects(scopeId, { limit: 500 });
        if (!rows.length) break;
        partKeys.clear();
        views.delete(scopeId);
        for (const r of rows) {
          records.delete(`${scopeId}\n${r.digest}`);
          lastScope.delete(r.digest);
          await store.deleteObject(scopeId, r.digest);
          await dropParts(parseParts(r.parts));
          n++;
        }
      }
      return n;
    },
  };
}
