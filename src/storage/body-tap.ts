import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { DigestAlgorithm } from '../core/digest.ts';
import { RegistryError } from '../core/errors.ts';

/** Chunk size used by the storage drivers for their stream buffers (fewer, larger syscalls). */
export const STREAM_HIGH_WATER_MARK = 1024 * 1024;

export interface BodyTapOptions {
  /** Hash algorithm; omit to only count bytes. */
  algorithm?: DigestAlgorithm;
  /** An existing hash to continue (running hash of an upload); takes precedence over `algorithm`. */
  hash?: Hash;
  /** When set, the body is destroyed with SIZE_INVALID as soon as more bytes than this arrive. */
  maxLength?: number;
}

/** What a tap saw of a body: the byte count and the hash fed with every byte, in order. */
export interface BodyTap {
  bytes: number;
  readonly hash: Hash | undefined;
  /** Finalizes the hash and returns its hex form (callable once). */
  digestHex(): string;
}

/**
 * Hashes and counts a body by listening to its 'data' events, so the bytes flow to the sink (through
 * `pipeline`, with backpressure) with no extra stream stage or copy: measurably cheaper per chunk than a
 * Transform. Call it right before `pipeline(body, sink)`, in the same tick, so no chunk is missed.
 *
 * The tap sees a chunk before or while the sink writes it, so after a failure `bytes` may exceed what
 * reached the sink: only trust the tap once the pipeline resolved. Overflowing `maxLength` destroys the
 * body with SIZE_INVALID, which fails the pipeline (an oversized body is never written in full).
 */
export function tapBody(body: Readable, options: BodyTapOptions = {}): BodyTap {
  const { maxLength } = options;
  const hash = options.hash ?? (options.algorithm ? createHash(options.algorithm) : undefined);
  const tap: BodyTap = {
    bytes: 0,
    hash,
    digestHex() {
      if (!hash) throw new Error('body tap has no hash');
      return hash.digest('hex');
    },
  };
  body.on('data', (chunk: Buffer | string) => {
    tap.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    if (maxLength !== undefined && tap.bytes > maxLength) {
      body.destroy(new RegistryError('SIZE_INVALID', `body is longer than the expected ${maxLength} bytes`, { expected: maxLength }));
      return;
    }
    hash?.update(chunk);
  });
  return tap;
}

/** Throws SIZE_INVALID when `expected` is given and differs from `actual`. */
export function checkLength(actual: number, expected: number | undefined): void {
  if (expected !== undefined && actual !== expected) {
    throw new RegistryError('SIZE_INVALID', `expected ${expected} bytes but received ${actual}`, { expected, received: actual });
  }
}

/**
 * Makes sure a body that fails while waiting (e.g. for an upload's lock) cannot crash the process with an
 * unhandled 'error': the error is still reported by the `pipeline` that consumes the body later (it sees
 * the stream as errored/destroyed).
 */
export function guardBody(body: Readable): void {
  if (body.listenerCount('error') === 0) body.on('error', ignoreError);
}

function ignoreError(): void {}
