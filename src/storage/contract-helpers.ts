import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Digest, DigestAlgorithm } from '../core/digest.ts';
import { isRegistryError, type ErrorKind, type RegistryError } from '../core/errors.ts';

/** Test helpers for `blob-store.contract.ts` (and driver-specific tests). Not used by production code. */

/** A body that yields `data` in `chunkSize` pieces (several chunks even for small data). */
export function bodyOf(data: Buffer | string, chunkSize = 5): Readable {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  return Readable.from((function* () {
    for (let i = 0; i < buf.length; i += chunkSize) yield buf.subarray(i, i + chunkSize);
  })());
}

/** Reads a stream to the end. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * A body that emits `data`, then, after giving the store time to write it, fails like a dropped client:
 * `destroy(error)` or, with `how: 'destroy'`, a bare `destroy()` (premature close).
 */
export function abortingBody(data: Buffer, how: 'error' | 'destroy' = 'error', delayMs = 30): Readable {
  let step = 0;
  return new Readable({
    read() {
      if (step++ === 0) {
        this.push(data);
        return;
      }
      if (step === 2) setTimeout(() => (how === 'error' ? this.destroy(new Error('client went away')) : this.destroy()), delayMs);
    },
  });
}

/** A body that emits `data` in `pieces` chunks with `delayMs` between them (keeps a request in flight). */
export function slowBody(data: Buffer, pieces = 4, delayMs = 15): Readable {
  const size = Math.ceil(data.length / pieces);
  return Readable.from((async function* () {
    for (let i = 0; i < data.length; i += size) {
      await new Promise((r) => setTimeout(r, delayMs));
      yield data.subarray(i, i + size);
    }
  })());
}

/** Asserts that `promise` rejects with a RegistryError of `kind` (and passes `check` if given). */
export async function rejectsWith(promise: Promise<unknown>, kind: ErrorKind, check?: (e: RegistryError) => void): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isRegistryError(err), `expected a RegistryError(${kind}), got ${String(err)}`);
    assert.equal(err.kind, kind, `expected ${kind}, got ${err.kind}: ${err.message}`);
    check?.(err);
    return true;
  });
}

/** Collects an async iterable. */
export async function collectAll<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/**
 * A large deterministic content generated on the fly: `count` chunks of `chunkSize` bytes, chunk i being a
 * fixed random block stamped with i. Nothing but the one block is held in memory.
 */
export function largeContent(count: number, chunkSize = 1024 * 1024): {
  size: number;
  chunk(i: number): Buffer;
  /** Chunks [from, to) as a stream (all of them by default). */
  stream(from?: number, to?: number): Readable;
  digest(alg?: DigestAlgorithm): Digest;
  slice(start: number, end: number): Buffer;
} {
  const block = randomBytes(chunkSize);
  const chunk = (i: number): Buffer => {
    const c = Buffer.from(block);
    c.writeUInt32BE(i, 0);
    return c;
  };
  const all = function* (from = 0, to = count): Generator<Buffer> {
    for (let i = from; i < to; i++) yield chunk(i);
  };
  return {
    size: count * chunkSize,
    chunk,
    stream: (from?: number, to?: number) => Readable.from(all(from, to)),
    digest(alg = 'sha256') {
      const h = createHash(alg);
      for (const c of all()) h.update(c);
      return `${alg}:${h.digest('hex')}`;
    },
    /** Bytes [start, end] inclusive. */
    slice(start, end) {
      const parts: Buffer[] = [];
      for (let i = Math.floor(start / chunkSize); i <= Math.floor(end / chunkSize); i++) parts.push(chunk(i));
      const base = Math.floor(start / chunkSize) * chunkSize;
      return Buffer.concat(parts).subarray(start - base, end - base + 1);
    },
  };
}

/** Streams a blob and returns its digest and size without holding it. */
export async function hashStream(stream: Readable, alg: DigestAlgorithm = 'sha256'): Promise<{ digest: Digest; size: number }> {
  const h = createHash(alg);
  let size = 0;
  for await (const chunk of stream) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: `${alg}:${h.digest('hex')}`, size };
}
