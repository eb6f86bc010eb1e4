import type { Readable } from 'node:stream';
import type { Digest } from '../core/digest.ts';

/** An inclusive byte range [start, end] within a blob. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface StoredBlob {
  digest: Digest;
  size: number;
  modifiedAt: Date;
}

export interface StoredUpload {
  uploadId: string;
  size: number;
  modifiedAt: Date;
}

/** A driver-private temporary object (fs: a file in tmp/; S3: an incomplete multipart upload). */
export interface TemporaryObject {
  name: string;
  size: number;
  modifiedAt: Date;
}

/**
 * Content-addressed blob storage. Every implementation passes `storage/blob-store.contract.ts`.
 *
 * Contract:
 * - Blobs are immutable and stored once per digest; a blob becomes visible (stat/open) only after its
 *   bytes were verified to hash to its digest and were made durable (fs: fsync + rename).
 * - Upload sessions hold bytes that are not yet a blob. They are keyed by an opaque id chosen by the caller
 *   (validated as `[A-Za-z0-9_-]{1,128}` by implementations; anything else is BLOB_UPLOAD_UNKNOWN).
 * - Bodies stream with backpressure; nothing buffers a whole body.
 * - Errors are `RegistryError`s: BLOB_UNKNOWN, BLOB_UPLOAD_UNKNOWN, RANGE_INVALID (append at the wrong offset,
 *   with the current size in `detail`), DIGEST_INVALID (content does not hash to the digest),
 *   SIZE_INVALID (fewer/more bytes than `expectedLength`), RANGE_NOT_SATISFIABLE (open beyond the end).
 * - A body stream that errors or is destroyed mid-way (client gone) leaves no blob visible and no temporary
 *   file behind for `putBlob`; for `appendUpload` the session keeps only whole bytes that were written, and
 *   `uploadSize` reports them so a client can resume.
 * - The store does not know repositories; access control lives in metadata (repository links).
 */
export interface BlobStore {
  /** Short name of the driver (fs, memory, s3), for logs and metrics. */
  readonly driver: string;

  /** Creates an empty upload session. */
  createUpload(uploadId: string): Promise<void>;
  /** Bytes stored so far for an upload, or undefined when the session is unknown. */
  uploadSize(uploadId: string): Promise<number | undefined>;
  /**
   * Appends `body` to the upload. `offset` must equal the current size (else RANGE_INVALID). When
   * `expectedLength` is given, exactly that many bytes must arrive (else SIZE_INVALID and nothing of this
   * chunk is kept). Returns the new size.
   */
  appendUpload(uploadId: string, offset: number, body: Readable, options?: { expectedLength?: number }): Promise<number>;
  /**
   * Verifies that the upload's bytes hash to `digest` (re-hashing when no running hash is held) and makes
   * them the blob `digest`. The session is gone afterwards, whether it succeeded or failed with
   * DIGEST_INVALID. If the blob already exists the upload is simply dropped. Returns the blob's size.
   */
  commitUpload(uploadId: string, digest: Digest): Promise<{ size: number }>;
  /** Discards an upload session; a no-op when unknown. */
  deleteUpload(uploadId: string): Promise<void>;
  /** Lists upload sessions (for the reconcile pass of GC; never called at startup). */
  listUploads(): AsyncIterable<StoredUpload>;

  /** Streams a whole blob in, verifying its digest (and `expectedLength` if given) before it becomes visible. */
  putBlob(digest: Digest, body: Readable, options?: { expectedLength?: number }): Promise<{ size: number }>;
  /** Size of a stored blob, or undefined. */
  stat(digest: Digest): Promise<{ size: number } | undefined>;
  /** Opens a blob for reading, optionally a range of it. Throws BLOB_UNKNOWN / RANGE_NOT_SATISFIABLE. */
  open(digest: Digest, range?: ByteRange): Promise<Readable>;
  /** Deletes a blob; a no-op when absent. */
  delete(digest: Digest): Promise<void>;
  /** Lists stored blobs (for GC reconcile; never at startup). Must list every blob, with its modification time. */
  list(): AsyncIterable<StoredBlob>;
  /**
   * Removes the driver's temporary objects (bodies of `putBlob` calls that never finished: a crash, a killed
   * process) last modified before `olderThan`, and returns them; with `dryRun`, only returns them. Never
   * touches blobs or upload sessions. Drivers without temporary objects return []. For GC reconcile.
   */
  sweepTemporary(olderThan: Date, options?: { dryRun?: boolean }): Promise<TemporaryObject[]>;

  /**
   * Optional fast path: positional reads into caller-owned buffers, so a server can send a blob with a few
   * reused buffers instead of allocating one per chunk (fs: pread; S3: lean ranged GETs). `size`, when the
   * caller knows it, saves the driver a lookup. Same errors as `open` (BLOB_UNKNOWN).
   */
  openReader?(digest: Digest, options?: { size?: number }): Promise<BlobReader>;

  /**
   * Optional: deletes many blobs in as few requests as the backend allows (S3: DeleteObjects, 1000 keys per
   * call). Absent blobs and malformed digests are skipped. Callers fall back to `delete` one by one.
   */
  deleteMany?(digests: Digest[]): Promise<void>;

  /**
   * Optional: a time-limited URL from which a client can GET the blob's bytes directly (S3 presigned URL),
   * so the server can redirect blob downloads. Only drivers whose stored bytes ARE the blob offer it (an
   * encrypting wrapper must not pass it through). Throws BLOB_UNKNOWN for a malformed digest; does not check
   * existence (callers check metadata first).
   */
  presign?(digest: Digest, expiresInSeconds: number): Promise<string>;

  /** Releases resources. */
  close(): Promise<void>;
}

/** A blob opened for positional reads (see `BlobStore.openReader`). */
export interface BlobReader {
  /** Size of the blob as opened (a concurrent delete does not change it). */
  readonly size: number;
  /** Reads up to `length` bytes at `position` into `buffer` (from offset 0); returns the count read. */
  read(buffer: Buffer, position: number, length: number): Promise<number>;
  close(): Promise<void>;
}

export const UPLOAD_ID_RE = /^[A-Za-z0-9_-]{1,128}$/;
