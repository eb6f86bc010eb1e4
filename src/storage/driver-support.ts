import { RegistryError } from '../core/errors.ts';
import type { ByteRange } from './blob-store.ts';

/** Shared validation and error builders for BlobStore drivers, so every driver fails the same way. */

/** BLOB_UPLOAD_UNKNOWN for an unknown or malformed upload id (the id is echoed truncated). */
export function uploadUnknown(uploadId: string): RegistryError {
  return new RegistryError('BLOB_UPLOAD_UNKNOWN', 'upload session unknown', { uploadId: String(uploadId).slice(0, 200) });
}

/** BLOB_UNKNOWN for a missing blob or a malformed digest. */
export function blobUnknown(digest: string): RegistryError {
  return new RegistryError('BLOB_UNKNOWN', 'blob unknown', { digest: String(digest).slice(0, 200) });
}

/** DIGEST_INVALID for a digest that is not `sha256:<64 hex>` / `sha512:<128 hex>` (writes only). */
export function malformedDigest(digest: string): RegistryError {
  return new RegistryError('DIGEST_INVALID', 'invalid digest', { digest: String(digest).slice(0, 200) });
}

/** DIGEST_INVALID for content that hashes to `actual` instead of `digest`. */
export function digestMismatch(digest: string, actual: string): RegistryError {
  return new RegistryError('DIGEST_INVALID', 'content does not match the digest', { digest, actual });
}

/** RANGE_INVALID for an append at `offset` when the upload holds `size` bytes; `detail.size` tells where to resume. */
export function offsetMismatch(offset: number, size: number): RegistryError {
  return new RegistryError('RANGE_INVALID', `append at offset ${offset} but the upload holds ${size} bytes`, { size });
}

/** Validates an optional expected length (SIZE_INVALID unless a non-negative safe integer). */
export function checkExpectedLength(value: number | undefined): number | undefined {
  if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) {
    throw new RegistryError('SIZE_INVALID', 'expected length must be a non-negative integer', { expected: value });
  }
  return value;
}

/**
 * Throws RANGE_NOT_SATISFIABLE unless `range` is an exact inclusive range inside a blob of `size` bytes
 * (0 ≤ start ≤ end < size). Ranges are not clamped: the HTTP layer resolves open-ended ranges first.
 */
export function checkRange(range: ByteRange | undefined, size: number): void {
  if (!range) return;
  const { start, end } = range;
  if (Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start <= end && end < size) return;
  throw new RegistryError('RANGE_NOT_SATISFIABLE', `range ${start}-${end} is outside the blob (${size} bytes)`, { size });
}
