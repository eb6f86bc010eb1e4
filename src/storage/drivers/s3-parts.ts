import type { Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { RegistryError } from '../../core/errors.ts';

/** S3's limit on parts per multipart upload. */
export const MAX_PARTS = 10_000;

/** One uploaded part of a multipart upload, as CompleteMultipartUpload needs it. */
export interface PartRecord {
  n: number;
  etag: string;
  size: number;
}

/** Where full parts go: the multipart upload is created on the first full part (small bodies never need one). */
export interface PartSink {
  uploadPart(partNumber: number, bytes: Buffer): Promise<string>;
}

/** What a body left behind once read: the parts uploaded (previous + new) and the bytes short of a part. */
export interface SplitResult {
  parts: PartRecord[];
  tail: Buffer;
  /** Bytes read from the body (not counting the initial tail). */
  received: number;
}

export interface SplitOptions {
  partSize: number;
  /** Parts already uploaded before this body (numbers continue after them). */
  parts: PartRecord[];
  /** Bytes carried over from earlier bodies (shorter than a part), placed before the body's bytes. */
  tail?: Buffer;
  /** Fed with every byte of the body, in order (not the initial tail). */
  hash?: Hash;
  /** SIZE_INVALID as soon as the body is longer than this. */
  maxLength?: number;
}

/**
 * Reads `body` into part-sized buffers and uploads each full buffer as the next part, keeping at most one
 * upload in flight while the next buffer fills (memory: two parts per body, whatever its size). S3 needs
 * every part but the last to be at least 5 MiB; clients send chunks of any size, so bytes short of a part
 * are returned as `tail` for the caller to keep until more arrive or the upload completes.
 *
 * Throws the body's error (client gone), SIZE_INVALID past `maxLength`, or an upload failure; parts already
 * sent by a failed call are simply not reported (their numbers are reused by the next attempt).
 */
export async function splitIntoParts(body: Readable, sink: PartSink, options: SplitOptions): Promise<SplitResult> {
  const { partSize, hash, maxLength } = options;
  const parts = [...options.parts];
  let buffer: Buffer = Buffer.allocUnsafe(partSize);
  let spare: Buffer | undefined;
  let filled = 0;
  let received = 0;
  let inflight: Promise<void> | undefined;
  if (options.tail?.length) {
    options.tail.copy(buffer, 0);
    filled = options.tail.length;
  }

  const flush = async (): Promise<void> => {
    if (inflight) await inflight;
    const bytes = buffer;
    const n = (parts.length ? parts[parts.length - 1].n : 0) + 1;
    if (n >= MAX_PARTS) {
      // The last part (the tail) needs a number too: S3 allows 10,000 parts per upload.
      throw new RegistryError('SIZE_INVALID', `blob larger than ${MAX_PARTS - 1} parts of ${partSize} bytes; raise storage.s3.partSizeMiB`, { partSize });
    }
    const record: PartRecord = { n, etag: '', size: partSize };
    parts.push(record);
    inflight = sink.uploadPart(n, bytes).then((etag) => {
      record.etag = etag;
      spare = bytes;
    });
    // Keep the rejection observed until it is awaited (no unhandled rejection while the body is read).
    inflight.catch(() => undefined);
    buffer = spare ?? Buffer.allocUnsafe(partSize);
    spare = undefined;
    filled = 0;
  };

  try {
    for await (const raw of body) {
      const chunk = typeof raw === 'string' ? Buffer.from(raw) : (raw as Buffer);
      received += chunk.length;
      if (maxLength !== undefined && received > maxLength) {
        throw new RegistryError('SIZE_INVALID', `body is longer than the expected ${maxLength} bytes`, { expected: maxLength });
      }
      hash?.update(chunk);
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(partSize - filled, chunk.length - offset);
        chunk.copy(buffer, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled === partSize) await flush();
      }
    }
    if (inflight) await inflight;
  } catch (err) {
    body.destroy();
    if (inflight) await inflight.catch(() => undefined);
    throw err;
  }
  return { parts, tail: buffer.subarray(0, filled), received };
}
