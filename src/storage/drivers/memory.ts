import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { digestAlgorithm, digestOf, isDigest } from '../../core/digest.ts';
import { RegistryError, isRegistryError } from '../../core/errors.ts';
import { UPLOAD_ID_RE, type BlobStore, type StoredBlob, type StoredUpload } from '../blob-store.ts';
import { blobUnknown, checkExpectedLength, checkRange, digestMismatch, malformedDigest, offsetMismatch, uploadUnknown } from '../driver-support.ts';
import { STREAM_HIGH_WATER_MARK, checkLength, guardBody, tapBody, type BodyTap, type BodyTapOptions } from '../body-tap.ts';
import { createKeyedMutex } from '../keyed-mutex.ts';

interface MemoryBlob {
  data: Buffer;
  modifiedAt: Date;
}

interface MemoryUpload {
  chunks: Buffer[];
  size: number;
  modifiedAt: Date;
}

/**
 * A BlobStore held in process memory, for unit tests. It follows the same contract as the fs driver
 * (validation, error kinds, resumable appends, serialized appends per upload) but of course holds whole
 * blobs in memory: do not use it for real traffic.
 */
export function createMemoryBlobStore(): BlobStore {
  const blobs = new Map<string, MemoryBlob>();
  const uploads = new Map<string, MemoryUpload>();
  const withLock = createKeyedMutex();

  function requireValidId(uploadId: string): void {
    if (typeof uploadId !== 'string' || !UPLOAD_ID_RE.test(uploadId)) throw uploadUnknown(uploadId);
  }

  /** Streams `body` into a list of chunks (with backpressure), tapping it for its size and hash. */
  async function collect(body: Readable, into: Buffer[], options: BodyTapOptions): Promise<BodyTap> {
    const sink = new Writable({
      highWaterMark: STREAM_HIGH_WATER_MARK,
      write(chunk: Buffer, _encoding, callback) {
        into.push(chunk);
        callback();
      },
    });
    const tap = tapBody(body, options);
    await pipeline(body, sink);
    return tap;
  }

  return {
    driver: 'memory',

    async createUpload(uploadId) {
      requireValidId(uploadId);
      await withLock(uploadId, async () => {
        if (uploads.has(uploadId)) throw new RegistryError('CONFLICT', 'upload session already exists', { uploadId });
        uploads.set(uploadId, { chunks: [], size: 0, modifiedAt: new Date() });
      });
    },

    async uploadSize(uploadId) {
      return typeof uploadId === 'string' && UPLOAD_ID_RE.test(uploadId) ? uploads.get(uploadId)?.size : undefined;
    },

    async appendUpload(uploadId, offset, body, options) {
      requireValidId(uploadId);
      const expectedLength = checkExpectedLength(options?.expectedLength);
      guardBody(body);
      return withLock(uploadId, async () => {
        const upload = uploads.get(uploadId);
        if (!upload) throw uploadUnknown(uploadId);
        if (offset !== upload.size) throw offsetMismatch(offset, upload.size);
        const received: Buffer[] = [];
        try {
          const tap = await collect(body, received, { maxLength: expectedLength });
          checkLength(tap.bytes, expectedLength);
        } catch (err) {
          // Mirror the fs driver: without an expected length, the bytes that arrived are kept (resumable).
          if (expectedLength === undefined) keep(upload, received);
          throw err;
        }
        keep(upload, received);
        return upload.size;
      });
    },

    async commitUpload(uploadId, digest) {
      requireValidId(uploadId);
      return withLock(uploadId, async () => {
        const upload = uploads.get(uploadId);
        if (!upload) throw uploadUnknown(uploadId);
        let data: Buffer;
        try {
          if (!isDigest(digest)) throw malformedDigest(digest);
          data = Buffer.concat(upload.chunks, upload.size);
          const actual = digestOf(data, digestAlgorithm(digest));
          if (actual !== digest) throw digestMismatch(digest, actual);
        } catch (err) {
          if (isRegistryError(err) && err.kind === 'DIGEST_INVALID') uploads.delete(uploadId);
          throw err;
        }
        uploads.delete(uploadId);
        if (!blobs.has(digest)) blobs.set(digest, { data, modifiedAt: new Date() });
        return { size: data.length };
      });
    },

    async deleteUpload(uploadId) {
      if (typeof uploadId !== 'string' || !UPLOAD_ID_RE.test(uploadId)) return;
      await withLock(uploadId, async () => {
        uploads.delete(uploadId);
      });
    },

    async *listUploads(): AsyncIterable<StoredUpload> {
      for (const [uploadId, u] of [...uploads]) yield { uploadId, size: u.size, modifiedAt: u.modifiedAt };
    },

    async putBlob(digest, body, options) {
      if (!isDigest(digest)) throw malformedDigest(digest);
      const expectedLength = checkExpectedLength(options?.expectedLength);
      const chunks: Buffer[] = [];
      const hasher = await collect(body, chunks, { algorithm: digestAlgorithm(digest), maxLength: expectedLength });
      checkLength(hasher.bytes, expectedLength);
      const actual = `${digestAlgorithm(digest)}:${hasher.digestHex()}`;
      if (actual !== digest) throw digestMismatch(digest, actual);
      if (!blobs.has(digest)) blobs.set(digest, { data: Buffer.concat(chunks, hasher.bytes), modifiedAt: new Date() });
      return { size: hasher.bytes };
    },

    async stat(digest) {
      const blob = isDigest(digest) ? blobs.get(digest) : undefined;
      return blob ? { size: blob.data.length } : undefined;
    },

    async open(digest, range) {
      const blob = isDigest(digest) ? blobs.get(digest) : undefined;
      if (!blob) throw blobUnknown(digest);
      checkRange(range, blob.data.length);
      const view = range ? blob.data.subarray(range.start, range.end + 1) : blob.data;
      return Readable.from(slices(view), { objectMode: false });
    },

    async delete(digest) {
      if (isDigest(digest)) blobs.delete(digest);
    },

    async *list(): AsyncIterable<StoredBlob> {
      for (const [digest, b] of [...blobs]) yield { digest, size: b.data.length, modifiedAt: b.modifiedAt };
    },

    async sweepTemporary() {
      // Bodies being put live only in the caller's stack: nothing temporary outlives a failed put here.
      return [];
    },

    async close() {
      blobs.clear();
      uploads.clear();
    },
  };
}

function keep(upload: MemoryUpload, received: Buffer[]): void {
  for (const chunk of received) {
    upload.chunks.push(chunk);
    upload.size += chunk.length;
  }
  upload.modifiedAt = new Date();
}

/** Yields a buffer in 1 MiB views (no copies), like a file read stream would. */
function* slices(data: Buffer): Generator<Buffer> {
  for (let i = 0; i < data.length; i += STREAM_HIGH_WATER_MARK) yield data.subarray(i, i + STREAM_HIGH_WATER_MARK);
}
