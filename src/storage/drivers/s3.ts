import { createHash, randomUUID, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand, UploadPartCommand, UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { digestAlgorithm, digestHex, isDigest, type Digest, type DigestAlgorithm } from '../../core/digest.ts';
import { RegistryError, isRegistryError } from '../../core/errors.ts';
import { UPLOAD_ID_RE, type BlobStore, type ByteRange, type StoredBlob, type StoredUpload, type TemporaryObject } from '../blob-store.ts';
import { checkLength, guardBody } from '../body-tap.ts';
import { blobUnknown, checkExpectedLength, checkRange, digestMismatch, malformedDigest, offsetMismatch, uploadUnknown } from '../driver-support.ts';
import { createKeyedMutex } from '../keyed-mutex.ts';
import { isMissing, s3ErrorName, s3Status } from './s3-client.ts';
import { createS3Reader } from './s3-reader.ts';
import { splitIntoParts, type PartRecord } from './s3-parts.ts';

const MIB = 1024 * 1024;
/** S3's limits: parts of 5 MiB..5 GiB (the last may be smaller), CopyObject up to 5 GiB, 1000 keys per DeleteObjects. */
export const MIN_PART_SIZE = 5 * MIB;
const MAX_COPY = 5 * 1024 * MIB;
const COPY_PART = 1024 * MIB;
const DELETE_BATCH = 1000;

export interface S3BlobStoreOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix for everything this store writes (e.g. `registry/`); '' for the bucket root. */
  prefix?: string;
  /** Multipart part size in bytes (≥ 5 MiB; default 8 MiB). Each body in flight holds two parts in memory. */
  partSize?: number;
  /** Blob reads: window size and GETs open at once (s3-reader defaults: 8 MiB, 3). */
  reads?: { windowBytes?: number; parallel?: number };
}

/**
 * An upload session as stored in `uploads/<id>/state.json`. Everything a node needs to continue the
 * upload lives here (nothing in memory), so any node can append to or commit a session another started.
 */
interface SessionState {
  v: 1;
  /** Bytes received so far (parts + tail). */
  size: number;
  /** Changes with every write, so a running hash held by one node is used only if nothing moved since. */
  gen: string;
  /** The S3 multipart upload behind the session, created with the first full part. */
  multipart?: string;
  parts: PartRecord[];
  /** Bytes short of a part, kept as their own object until more arrive (key under the session). */
  tail?: { key: string; size: number };
}

interface LoadedState {
  state: SessionState;
  /** ETag of state.json as read: the next write is conditional on it (If-Match). */
  etag: string;
  modifiedAt: Date;
}

/** The running sha256 of a session on this node, valid only for the state generation it covers. */
interface RunningHash {
  hash: Hash;
  gen: string;
}

const RUNNING_ALGORITHM: DigestAlgorithm = 'sha256';

/**
 * A BlobStore on an S3-compatible bucket.
 *
 * Layout under the prefix: `blobs/<alg>/<2 hex>/<hex>` (immutable blobs) and `uploads/<id>/` (one session:
 * `state.json`, `tail-<n>` and, once parts are completed, `data`).
 *
 * - Visibility: a whole-body put of up to one part is hashed in memory and written to its key only when it
 *   matches; a larger one goes as a multipart upload to its final key, completed only after the digest
 *   matched (aborted otherwise). A session's bytes live under `uploads/<id>/` and are copied (server-side)
 *   to the blob key after verification. So a blob key only ever holds verified content.
 * - Sessions: each append re-reads `state.json`, streams the body into parts (small chunks accumulate in
 *   the tail object until a full part is there) and writes the new state conditionally on the ETag it read
 *   (If-Match), so two nodes appending at once cannot both win; the loser gets RANGE_INVALID. An append is
 *   all-or-nothing: a failed one leaves the state as it was (the client resumes from `uploadSize`).
 * - Digest: a running sha256 is kept in memory by the node that received the bytes, tied to the state
 *   generation; a commit on another node (or after a restart, or for sha512) re-reads the assembled object
 *   once and hashes it.
 */
export function createS3BlobStore(options: S3BlobStoreOptions): BlobStore & Required<Pick<BlobStore, 'deleteMany' | 'presign'>> {
  const { client, bucket } = options;
  const prefix = normalizePrefix(options.prefix ?? '');
  const partSize = options.partSize ?? 8 * MIB;
  if (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE) throw new Error(`S3 part size must be at least ${MIN_PART_SIZE} bytes`);
  const withLock = createKeyedMutex();
  const running = new Map<string, RunningHash>();

  const blobKey = (digest: Digest) => {
    const hex = digestHex(digest);
    return `${prefix}blobs/${digestAlgorithm(digest)}/${hex.slice(0, 2)}/${hex}`;
  };
  const sessionDir = (id: string) => `${prefix}uploads/${id}/`;
  const stateKey = (id: string) => `${sessionDir(id)}state.json`;
  const dataKey = (id: string) => `${sessionDir(id)}data`;

  function requireId(uploadId: string): string {
    if (typeof uploadId !== 'string' || !UPLOAD_ID_RE.test(uploadId)) throw uploadUnknown(uploadId);
    return uploadId;
  }

  async function head(key: string): Promise<{ size: number; modifiedAt: Date } | undefined> {
    try {
      const r = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { size: Number(r.ContentLength ?? 0), modifiedAt: r.LastModified ?? new Date(0) };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async function getBytes(key: string): Promise<Buffer> {
    const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await r.Body!.transformToByteArray());
  }

  async function put(key: string, bytes: Buffer, condition?: { ifMatch?: string; ifNoneMatch?: '*' }): Promise<string> {
    const r = await client.send(new PutObjectCommand({
      Bucket: bucket, Key: key, Body: bytes, ContentLength: bytes.length, ContentType: 'application/octet-stream',
      IfMatch: condition?.ifMatch, IfNoneMatch: condition?.ifNoneMatch,
    }));
    return r.ETag ?? '';
  }

  async function deleteKeys(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      if (batch.length === 1) {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: batch[0] }));
        continue;
      }
      const r = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
      const failed = (r.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length) throw new Error(`S3 DeleteObjects failed for ${failed.length} key(s): ${failed[0].Code} ${failed[0].Message ?? ''}`);
    }
  }

  async function* listKeys(keyPrefix: string): AsyncGenerator<{ key: string; size: number; modifiedAt: Date }> {
    let token: string | undefined;
    for (let page = 0; page < 10_000_000; page++) {
      const r = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: keyPrefix, ContinuationToken: token }));
      for (const o of r.Contents ?? []) if (o.Key) yield { key: o.Key, size: Number(o.Size ?? 0), modifiedAt: o.LastModified ?? new Date(0) };
      if (!r.IsTruncated || !r.NextContinuationToken) return;
      token = r.NextContinuationToken;
    }
  }

  async function loadState(id: string): Promise<LoadedState | undefined> {
    try {
      const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: stateKey(id) }));
      const state = JSON.parse(await r.Body!.transformToString()) as SessionState;
      return { state, etag: r.ETag ?? '', modifiedAt: r.LastModified ?? new Date(0) };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async function requireState(id: string): Promise<LoadedState> {
    const loaded = await loadState(id);
    if (!loaded) throw uploadUnknown(id);
    return loaded;
  }

  /**
   * Writes the next state only if state.json is still the one read (ETag sent unquoted: RGW compares it
   * that way, AWS accepts both). Another node's write in between → RANGE_INVALID with the size it left.
   */
  async function saveState(id: string, state: SessionState, previousEtag: string, offset: number): Promise<void> {
    try {
      await put(stateKey(id), Buffer.from(JSON.stringify(state)), { ifMatch: previousEtag.replaceAll('"', '') });
    } catch (err) {
      if (s3Status(err) !== 412) throw err;
      const now = await loadState(id);
      if (!now) throw uploadUnknown(id);
      throw offsetMismatch(offset, now.state.size);
    }
  }

  /** Removes every object of a session and aborts its multipart upload (if still open). */
  async function dropSession(id: string, state: SessionState | undefined): Promise<void> {
    if (state?.multipart) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: dataKey(id), UploadId: state.multipart })).catch((err) => {
        if (s3Status(err) !== 404) throw err;
      });
    }
    const keys: string[] = [];
    for await (const o of listKeys(sessionDir(id))) keys.push(o.key);
    await deleteKeys(keys.sort((a, b) => (a.endsWith('state.json') ? 1 : b.endsWith('state.json') ? -1 : 0)));
  }

  function partSink(key: string, getUploadId: () => Promise<string>) {
    return {
      async uploadPart(partNumber: number, bytes: Buffer): Promise<string> {
        const UploadId = await getUploadId();
        const r = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: partNumber, Body: bytes, ContentLength: bytes.length }));
        return r.ETag ?? '';
      },
    };
  }

  /** A lazily created multipart upload at `key` (one creation even when two parts race to need it). */
  function lazyMultipart(key: string, existing?: string): { id: () => Promise<string>; created: () => string | undefined } {
    let pending: Promise<string> | undefined = existing ? Promise.resolve(existing) : undefined;
    let made: string | undefined;
    return {
      id: () => (pending ??= client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: 'application/octet-stream' })).then((r) => {
        made = r.UploadId!;
        return made;
      })),
      created: () => made,
    };
  }

  async function complete(key: string, uploadId: string, parts: PartRecord[]): Promise<void> {
    await client.send(new CompleteMultipartUploadCommand({
      Bucket: bucket, Key: key, UploadId: uploadId,
      MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.n, ETag: p.etag })) },
    }));
  }

  /** Server-side copy (multipart copy above CopyObject's 5 GiB limit). */
  async function copy(from: string, to: string, size: number): Promise<void> {
    const CopySource = `${bucket}/${from.split('/').map(encodeURIComponent).join('/')}`;
    if (size <= MAX_COPY) {
      await client.send(new CopyObjectCommand({ Bucket: bucket, Key: to, CopySource, ContentType: 'application/octet-stream', MetadataDirective: 'REPLACE' }));
      return;
    }
    const mp = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: to, ContentType: 'application/octet-stream' }));
    try {
      const parts: PartRecord[] = [];
      for (let start = 0, n = 1; start < size; start += COPY_PART, n++) {
        const end = Math.min(start + COPY_PART, size) - 1;
        const r = await client.send(new UploadPartCopyCommand({ Bucket: bucket, Key: to, UploadId: mp.UploadId, PartNumber: n, CopySource, CopySourceRange: `bytes=${start}-${end}` }));
        parts.push({ n, etag: r.CopyPartResult?.ETag ?? '', size: end - start + 1 });
      }
      await complete(to, mp.UploadId!, parts);
    } catch (err) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: to, UploadId: mp.UploadId })).catch(() => undefined);
      throw err;
    }
  }

  async function hashObject(key: string, alg: DigestAlgorithm): Promise<string> {
    const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const hash = createHash(alg);
    for await (const chunk of r.Body as Readable) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }

  async function exists(key: string): Promise<boolean> {
    return (await head(key)) !== undefined;
  }

  const store: BlobStore & Required<Pick<BlobStore, 'deleteMany' | 'presign'>> = {
    driver: 's3',

    async createUpload(uploadId) {
      const id = requireId(uploadId);
      const state: SessionState = { v: 1, size: 0, gen: randomUUID(), parts: [] };
      await withLock(id, async () => {
        try {
          await put(stateKey(id), Buffer.from(JSON.stringify(state)), { ifNoneMatch: '*' });
        } catch (err) {
          if (s3Status(err) === 412 || s3Status(err) === 409) throw new RegistryError('CONFLICT', 'upload session already exists', { uploadId: id });
          throw err;
        }
        running.set(id, { hash: createHash(RUNNING_ALGORITHM), gen: state.gen });
      });
    },

    async uploadSize(uploadId) {
      if (typeof uploadId !== 'string' || !UPLOAD_ID_RE.test(uploadId)) return undefined;
      return (await loadState(uploadId))?.state.size;
    },

    async appendUpload(uploadId, offset, body, options) {
      const id = requireId(uploadId);
      const expectedLength = checkExpectedLength(options?.expectedLength);
      guardBody(body);
      return withLock(id, async () => {
        const { state, etag } = await requireState(id);
        if (offset !== state.size) throw offsetMismatch(offset, state.size);
        const held = running.get(id);
        running.delete(id);
        const hash = held && held.gen === state.gen ? held.hash : undefined;
        const tail = state.tail ? await getBytes(state.tail.key) : undefined;
        const multipart = lazyMultipart(dataKey(id), state.multipart);
        let tailKey: string | undefined;
        let next: SessionState;
        try {
          const split = await splitIntoParts(body, partSink(dataKey(id), multipart.id), { partSize, parts: state.parts, tail, hash, maxLength: expectedLength });
          checkLength(split.received, expectedLength);
          if (split.received === 0) {
            if (hash) running.set(id, { hash, gen: state.gen });
            return state.size;
          }
          if (split.tail.length) {
            tailKey = `${sessionDir(id)}tail-${randomUUID()}`;
            await put(tailKey, split.tail);
          }
          next = {
            v: 1,
            size: state.size + split.received,
            gen: randomUUID(),
            multipart: state.multipart ?? multipart.created(),
            parts: split.parts,
            tail: tailKey ? { key: tailKey, size: split.tail.length } : undefined,
          };
          await saveState(id, next, etag, offset);
        } catch (err) {
          // Nothing of a failed append is kept: the state still points at the previous tail and parts.
          if (tailKey) await deleteKeys([tailKey]).catch(() => undefined);
          const made = multipart.created();
          if (made && !state.multipart) {
            await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: dataKey(id), UploadId: made })).catch(() => undefined);
          }
          throw err;
        }
        if (state.tail) await deleteKeys([state.tail.key]).catch(() => undefined);
        if (hash) running.set(id, { hash, gen: next.gen });
        return next.size;
      });
    },

    async commitUpload(uploadId, digest) {
      const id = requireId(uploadId);
      return withLock(id, async () => {
        const { state } = await requireState(id);
        const held = running.get(id);
        running.delete(id);
        try {
          if (!isDigest(digest)) throw malformedDigest(digest);
          const alg = digestAlgorithm(digest);
          const target = blobKey(digest);
          if (!state.multipart) {
            // Everything is in the tail (less than one part): verify in memory, write the blob directly.
            const bytes = state.tail ? await getBytes(state.tail.key) : Buffer.alloc(0);
            const actual = `${alg}:${createHash(alg).update(bytes).digest('hex')}`;
            if (actual !== digest) throw digestMismatch(digest, actual);
            if (!(await exists(target))) await put(target, bytes);
          } else {
            const assembled = await head(dataKey(id));
            // A commit that failed after completing the multipart upload left `data` in place: reuse it.
            if (assembled?.size !== state.size) {
              const parts = [...state.parts];
              if (state.tail) {
                const sink = partSink(dataKey(id), async () => state.multipart!);
                const n = (parts.length ? parts[parts.length - 1].n : 0) + 1;
                parts.push({ n, etag: await sink.uploadPart(n, await getBytes(state.tail.key)), size: state.tail.size });
              }
              try {
                await complete(dataKey(id), state.multipart, parts);
              } catch (err) {
                // A part whose ETag no longer matches was overwritten by another node appending at the same
                // offset at the same time (the loser of the conditional state write). The session cannot be
                // trusted any more: the client starts the upload again.
                if (s3ErrorName(err) !== 'InvalidPart' && s3ErrorName(err) !== 'InvalidPartOrder') throw err;
                throw new RegistryError('BLOB_UPLOAD_INVALID', 'the upload was corrupted by concurrent appends; start it again', { uploadId: id });
              }
            }
            const fromRunning = alg === RUNNING_ALGORITHM && held && held.gen === state.gen;
            const hex = fromRunning ? held.hash.digest('hex') : await hashObject(dataKey(id), alg);
            if (`${alg}:${hex}` !== digest) throw digestMismatch(digest, `${alg}:${hex}`);
            if (!(await exists(target))) await copy(dataKey(id), target, state.size);
          }
        } catch (err) {
          if (isRegistryError(err) && (err.kind === 'DIGEST_INVALID' || err.kind === 'BLOB_UPLOAD_INVALID')) await dropSession(id, state);
          throw err;
        }
        await dropSession(id, { ...state, multipart: undefined });
        return { size: state.size };
      });
    },

    async deleteUpload(uploadId) {
      if (typeof uploadId !== 'string' || !UPLOAD_ID_RE.test(uploadId)) return;
      await withLock(uploadId, async () => {
        running.delete(uploadId);
        const loaded = await loadState(uploadId);
        await dropSession(uploadId, loaded?.state);
      });
    },

    async *listUploads(): AsyncIterable<StoredUpload> {
      const base = `${prefix}uploads/`;
      for await (const o of listKeys(base)) {
        if (!o.key.endsWith('/state.json')) continue;
        const id = o.key.slice(base.length, -'/state.json'.length);
        if (!UPLOAD_ID_RE.test(id)) continue;
        const loaded = await loadState(id);
        if (loaded) yield { uploadId: id, size: loaded.state.size, modifiedAt: loaded.modifiedAt };
      }
    },

    async putBlob(digest, body, options) {
      if (!isDigest(digest)) throw malformedDigest(digest);
      const expectedLength = checkExpectedLength(options?.expectedLength);
      const alg = digestAlgorithm(digest);
      const hash = createHash(alg);
      const target = blobKey(digest);
      const multipart = lazyMultipart(target);
      try {
        const split = await splitIntoParts(body, partSink(target, multipart.id), { partSize, parts: [], hash, maxLength: expectedLength });
        checkLength(split.received, expectedLength);
        const actual = `${alg}:${hash.digest('hex')}`;
        if (actual !== digest) throw digestMismatch(digest, actual);
        const uploadId = multipart.created();
        if (!uploadId) {
          await put(target, Buffer.from(split.tail));
        } else {
          const parts = split.parts;
          if (split.tail.length) {
            const n = parts.length + 1;
            parts.push({ n, etag: await partSink(target, multipart.id).uploadPart(n, split.tail), size: split.tail.length });
          }
          await complete(target, uploadId, parts);
        }
        return { size: split.received };
      } catch (err) {
        const made = multipart.created();
        if (made) await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: target, UploadId: made })).catch(() => undefined);
        throw err;
      }
    },

    async stat(digest) {
      if (!isDigest(digest)) return undefined;
      const h = await head(blobKey(digest));
      return h ? { size: h.size } : undefined;
    },

    async open(digest, range?: ByteRange) {
      if (!isDigest(digest)) throw blobUnknown(digest);
      if (range) checkRange(range, Number.MAX_SAFE_INTEGER);
      let r;
      try {
        r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: blobKey(digest), Range: range ? `bytes=${range.start}-${range.end}` : undefined }));
      } catch (err) {
        if (isMissing(err)) throw blobUnknown(digest);
        if (s3Status(err) === 416) {
          const h = await head(blobKey(digest));
          if (!h) throw blobUnknown(digest);
          checkRange(range, h.size);
        }
        throw err;
      }
      const stream = r.Body as Readable;
      if (range) {
        // S3 clamps a range that runs past the end; the contract wants it refused.
        const total = Number(/\/(\d+)$/.exec(r.ContentRange ?? '')?.[1] ?? NaN);
        if (Number.isFinite(total) && range.end >= total) {
          stream.destroy();
          checkRange(range, total);
        }
      }
      return stream;
    },

    async openReader(digest, opts) {
      if (!isDigest(digest)) throw blobUnknown(digest);
      const key = blobKey(digest);
      let size = opts?.size;
      if (size === undefined) {
        const h = await head(key);
        if (!h) throw blobUnknown(digest);
        size = h.size;
      }
      return createS3Reader({
        ...options.reads,
        size,
        sign: () => store.presign(digest, 3600),
        // The ordinary ranged GET (`open`): the SDK's retries and the driver's error mapping.
        async fallback(buffer, position, length) {
          let n = 0;
          for await (const chunk of await store.open(digest, { start: position, end: position + length - 1 })) {
            const c = chunk as Buffer;
            if (n + c.length > length) throw new Error(`S3 returned more than the ${length} bytes asked for at ${position}`);
            c.copy(buffer, n);
            n += c.length;
          }
          return n;
        },
      });
    },

    async delete(digest) {
      if (!isDigest(digest)) return;
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: blobKey(digest) }));
    },

    async deleteMany(digests) {
      await deleteKeys(digests.filter((d) => isDigest(d)).map(blobKey));
    },

    async *list(): AsyncIterable<StoredBlob> {
      const base = `${prefix}blobs/`;
      for await (const o of listKeys(base)) {
        const m = /^(sha256|sha512)\/([a-f0-9]{2})\/([a-f0-9]+)$/.exec(o.key.slice(base.length));
        if (!m || !m[3].startsWith(m[2])) continue;
        const digest = `${m[1]}:${m[3]}`;
        if (isDigest(digest)) yield { digest, size: o.size, modifiedAt: o.modifiedAt };
      }
    },

    async presign(digest, expiresInSeconds) {
      if (!isDigest(digest)) throw blobUnknown(digest);
      return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: blobKey(digest) }), { expiresIn: expiresInSeconds });
    },

    async sweepTemporary(olderThan, sweepOptions) {
      // putBlob bodies that never finished are multipart uploads left open under blobs/ (session parts live
      // under uploads/ and belong to their session until it expires).
      const found: TemporaryObject[] = [];
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      for (let page = 0; page < 1_000_000; page++) {
        const r = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `${prefix}blobs/`, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
        for (const u of r.Uploads ?? []) {
          if (!u.Key || !u.UploadId || !u.Initiated || u.Initiated >= olderThan) continue;
          found.push({ name: `${u.Key.slice(prefix.length)}#${u.UploadId}`, size: 0, modifiedAt: u.Initiated });
          if (!sweepOptions?.dryRun) {
            await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId })).catch((err) => {
              if (s3Status(err) !== 404) throw err;
            });
          }
        }
        if (!r.IsTruncated) break;
        keyMarker = r.NextKeyMarker;
        uploadIdMarker = r.NextUploadIdMarker;
      }
      return found;
    },

    async close() {
      running.clear();
    },
  };
  return store;
}

function normalizePrefix(prefix: string): string {
  const p = prefix.replace(/^\/+/, '').replace(/\/+$/, '');
  if (p.split('/').some((s) => s === '.' || s === '..')) throw new Error(`S3 key prefix "${prefix}" must not contain . or .. segments`);
  return p ? `${p}/` : '';
}
