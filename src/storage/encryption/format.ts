import { createCipheriv, createDecipheriv, createHash, hkdfSync, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { createBufferPool } from '../../core/buffer-pool.ts';

/**
 * The on-disk format of an encrypted blob part (see docs/encryption.md).
 *
 * ```
 * header (40 bytes): "CHEB" | version (1) | segment shift (1) | reserved (2, zero) | salt (32, random)
 * segment i:         AES-256-GCM ciphertext of plaintext bytes [i·S, min((i+1)·S, size)) | tag (16)
 * ```
 *
 * S = 2^shift plaintext bytes per segment; a part of `size` bytes has max(1, ceil(size/S)) segments (an empty
 * part is one empty segment, so it still carries a tag). Each part has its own key and nonce prefix, derived
 * from the scope's data key with HKDF-SHA256 over the part's random salt; segment i uses the nonce
 * prefix(4) ‖ u64be(i) and authenticates header ‖ u64be(i) ‖ final, where final is 1 only on the last
 * segment. So a segment moved to another index, another part, or a part cut short fails its tag.
 */

export const MAGIC = Buffer.from('CHEB', 'latin1');
export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 40;
export const TAG_BYTES = 16;
export const SALT_BYTES = 32;
/** 256 KiB plaintext segments: large enough that per-segment cipher setup is noise, small enough for ranges. */
export const DEFAULT_SEGMENT_SHIFT = 18;
const MIN_SHIFT = 12;
const MAX_SHIFT = 24;

/** What identifies one encrypted part: its header fields. */
export interface PartParams {
  salt: Buffer;
  segmentShift: number;
}

/** A part's derived key material (never stored). */
export interface PartKey {
  header: Buffer;
  key: Buffer;
  noncePrefix: Buffer;
  segmentSize: number;
}

/** Thrown when stored bytes fail authentication or do not have the expected shape. */
export class IntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntegrityError';
  }
}

export function encodeHeader(p: PartParams): Buffer {
  if (p.salt.length !== SALT_BYTES) throw new Error('salt must be 32 bytes');
  if (!Number.isInteger(p.segmentShift) || p.segmentShift < MIN_SHIFT || p.segmentShift > MAX_SHIFT) throw new Error('segment shift out of range');
  const h = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(h, 0);
  h[4] = FORMAT_VERSION;
  h[5] = p.segmentShift;
  p.salt.copy(h, 8);
  return h;
}

/** Parses a header; IntegrityError for anything that is not a version-1 part header. */
export function decodeHeader(h: Buffer): PartParams {
  if (h.length < HEADER_BYTES || !h.subarray(0, 4).equals(MAGIC)) throw new IntegrityError('not an encrypted part (bad magic)');
  if (h[4] !== FORMAT_VERSION) throw new IntegrityError(`unknown encrypted part version ${h[4]}`);
  const shift = h[5]!;
  if (shift < MIN_SHIFT || shift > MAX_SHIFT || h[6] !== 0 || h[7] !== 0) throw new IntegrityError('malformed encrypted part header');
  return { segmentShift: shift, salt: Buffer.from(h.subarray(8, HEADER_BYTES)) };
}

const PART_INFO = Buffer.from('cargohold blob part v1', 'latin1');

/** Derives a part's key and nonce prefix from the scope data key (HKDF-SHA256, salt = the part's salt). */
export function derivePartKey(dataKey: Buffer, p: PartParams): PartKey {
  const okm = Buffer.from(hkdfSync('sha256', dataKey, p.salt, PART_INFO, 36));
  return { header: encodeHeader(p), key: okm.subarray(0, 32), noncePrefix: okm.subarray(32, 36), segmentSize: 2 ** p.segmentShift };
}

/** Number of segments of a part holding `size` plaintext bytes. */
export function segmentCount(size: number, segmentSize: number): number {
  return Math.max(1, Math.ceil(size / segmentSize));
}

/** Stored length of a part holding `size` plaintext bytes. */
export function cipherLength(size: number, segmentSize: number): number {
  return HEADER_BYTES + size + TAG_BYTES * segmentCount(size, segmentSize);
}

function nonce(k: PartKey, index: number): Buffer {
  const n = Buffer.allocUnsafe(12);
  k.noncePrefix.copy(n, 0);
  n.writeBigUInt64BE(BigInt(index), 4);
  return n;
}

function aad(k: PartKey, index: number, final: boolean): Buffer {
  const a = Buffer.allocUnsafe(HEADER_BYTES + 9);
  k.header.copy(a, 0);
  a.writeBigUInt64BE(BigInt(index), HEADER_BYTES);
  a[HEADER_BYTES + 8] = final ? 1 : 0;
  return a;
}

/**
 * A Transform from plaintext to a whole part (header first). Plaintext is gathered into one reused
 * segment buffer; a full segment is sealed only when the next byte arrives (or at the end), because the last
 * segment must be sealed with final=1. Memory stays at one segment whatever the body size.
 */
export class PartEncryptor extends Transform {
  private readonly seg: Buffer;
  private fill = 0;
  private index = 0;
  private headerSent = false;
  /** Plaintext bytes seen. */
  plainBytes = 0;
  /** sha256 of every byte this stream outputs (the stored object's digest), fed as bytes are produced. */
  readonly outputHash: Hash = createHash('sha256');

  constructor(private readonly k: PartKey) {
    super({ highWaterMark: 1024 * 1024 });
    this.seg = Buffer.allocUnsafe(k.segmentSize);
  }

  private out(b: Buffer): void {
    this.outputHash.update(b);
    this.push(b);
  }

  private seal(final: boolean): void {
    const c = createCipheriv('aes-256-gcm', this.k.key, nonce(this.k, this.index));
    c.setAAD(aad(this.k, this.index, final));
    const out = this.fill > 0 ? c.update(this.seg.subarray(0, this.fill)) : undefined;
    c.final();
    if (out) this.out(out);
    this.out(c.getAuthTag());
    this.index++;
    this.fill = 0;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      if (!this.headerSent) {
        this.out(this.k.header);
        this.headerSent = true;
      }
      this.plainBytes += chunk.length;
      let off = 0;
      while (off < chunk.length) {
        if (this.fill === this.seg.length) this.seal(false);
        const n = Math.min(chunk.length - off, this.seg.length - this.fill);
        chunk.copy(this.seg, this.fill, off, off + n);
        this.fill += n;
        off += n;
      }
      done();
    } catch (e) {
      done(e as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      if (!this.headerSent) {
        this.out(this.k.header);
        this.headerSent = true;
      }
      this.seal(true);
      done();
    } catch (e) {
      done(e as Error);
    }
  }
}

/** Encrypts a whole buffer as one part (small objects such as manifests). */
export function sealBuffer(k: PartKey, plain: Buffer): Buffer {
  const out: Buffer[] = [k.header];
  const n = segmentCount(plain.length, k.segmentSize);
  for (let i = 0; i < n; i++) {
    const c = createCipheriv('aes-256-gcm', k.key, nonce(k, i));
    c.setAAD(aad(k, i, i === n - 1));
    out.push(c.update(plain.subarray(i * k.segmentSize, Math.min(plain.length, (i + 1) * k.segmentSize))));
    c.final();
    out.push(c.getAuthTag());
  }
  return Buffer.concat(out);
}

/** Decrypts a whole part held in memory; IntegrityError on any mismatch. */
export function openBuffer(dataKey: Buffer, sealed: Buffer): Buffer {
  const k = derivePartKey(dataKey, decodeHeader(sealed));
  const body = sealed.length - HEADER_BYTES;
  const full = k.segmentSize + TAG_BYTES;
  // Invert cipherLength: every segment but the last is full.
  const n = Math.max(1, Math.ceil(body / full));
  const size = body - n * TAG_BYTES;
  if (size < 0 || cipherLength(size, k.segmentSize) !== sealed.length) throw new IntegrityError('encrypted object has an impossible length');
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const start = HEADER_BYTES + i * full;
    const len = Math.min(k.segmentSize, size - i * k.segmentSize);
    out.push(openSegment(k, i, i === n - 1, [sealed.subarray(start, start + len)], sealed.subarray(start + len, start + len + TAG_BYTES)));
  }
  return Buffer.concat(out);
}

function openSegment(k: PartKey, index: number, final: boolean, pieces: Buffer[], tag: Buffer): Buffer {
  const d = createDecipheriv('aes-256-gcm', k.key, nonce(k, index));
  d.setAAD(aad(k, index, final));
  d.setAuthTag(tag);
  const outs = pieces.map((p) => d.update(p));
  try {
    d.final();
  } catch {
    throw new IntegrityError(`encrypted segment ${index} failed authentication`);
  }
  return outs.length === 1 ? outs[0]! : Buffer.concat(outs);
}

/** Where a plaintext range of a part lives in its stored bytes. */
export interface SegmentSpan {
  firstSegment: number;
  lastSegment: number;
  /** Inclusive byte range of the stored part to read. */
  cipherStart: number;
  cipherEnd: number;
}

/** The segments (and stored byte range) holding plaintext bytes [start, end] of a part of `size` bytes. */
export function spanOf(size: number, segmentSize: number, start: number, end: number): SegmentSpan {
  const full = segmentSize + TAG_BYTES;
  const firstSegment = Math.floor(start / segmentSize);
  const lastSegment = size === 0 ? 0 : Math.floor(end / segmentSize);
  const lastLen = Math.min(segmentSize, size - lastSegment * segmentSize);
  return { firstSegment, lastSegment, cipherStart: HEADER_BYTES + firstSegment * full, cipherEnd: HEADER_BYTES + lastSegment * full + lastLen + TAG_BYTES - 1 };
}

/**
 * Decrypts the stored bytes of `span` (as they stream in, in arbitrary chunks) and yields plaintext bytes
 * [start, end] of the part. A segment's plaintext is released only after its tag verified, so unauthenticated
 * bytes never leave; a short stream (truncated object) is an IntegrityError.
 */
export async function* decryptSpan(k: PartKey, size: number, span: SegmentSpan, start: number, end: number, cipher: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const S = k.segmentSize;
  const last = segmentCount(size, S) - 1;
  let index = span.firstSegment;
  let segLen = Math.min(S, size - index * S);
  let want = segLen; // ciphertext bytes of this segment still to feed
  let d = begin(index);
  let outs: Buffer[] = [];
  let tag: Buffer = Buffer.alloc(0);

  function begin(i: number) {
    const x = createDecipheriv('aes-256-gcm', k.key, nonce(k, i));
    x.setAAD(aad(k, i, i === last));
    return x;
  }

  for await (const chunk of cipher) {
    let off = 0;
    while (off < chunk.length) {
      if (index > span.lastSegment) throw new IntegrityError('encrypted object is longer than expected');
      if (want > 0) {
        const n = Math.min(want, chunk.length - off);
        outs.push(d.update(chunk.subarray(off, off + n)));
        want -= n;
        off += n;
        continue;
      }
      const n = Math.min(TAG_BYTES - tag.length, chunk.length - off);
      tag = tag.length === 0 && n === TAG_BYTES ? chunk.subarray(off, off + n) : Buffer.concat([tag, chunk.subarray(off, off + n)]);
      off += n;
      if (tag.length < TAG_BYTES) continue;
      d.setAuthTag(tag);
      try {
        d.final();
      } catch {
        throw new IntegrityError(`encrypted segment ${index} failed authentication`);
      }
      // Trim to the requested range (only the first and last segments can need it).
      const segStart = index * S;
      const from = Math.max(0, start - segStart);
      const to = Math.min(segLen, end - segStart + 1);
      const plain = outs.length === 1 ? outs[0]! : Buffer.concat(outs);
      if (to > from) yield from === 0 && to === plain.length ? plain : plain.subarray(from, to);
      outs = [];
      tag = Buffer.alloc(0);
      index++;
      if (index <= span.lastSegment) {
        segLen = Math.min(S, size - index * S);
        want = segLen;
        d = begin(index);
      }
    }
  }
  if (index <= span.lastSegment) throw new IntegrityError('encrypted object is shorter than expected');
}

/** Reads up to `length` bytes at `position` into `buffer` (from its offset 0); returns the count read. */
export type PositionalRead = (buffer: Buffer, position: number, length: number) => Promise<number>;

/** Plaintext segments read per positional read (≈1 MiB of stored bytes at the default segment size). */
const READ_BATCH_BYTES = 1024 * 1024;
/**
 * Batch buffers lent out across the process (16, ~17 MiB), so memory stays flat however many clients read
 * encrypted blobs at once (CPU, not buffers, is the limit by then). A GET holds a buffer only while a batch is
 * read and decrypted, never while its client takes the plaintext, so a slow client cannot keep one; a GET may
 * also read its next batch ahead into a second buffer, which it does hold while its client reads, but only
 * while less than half the budget is lent. Buffers return to a pool: steady streaming allocates none.
 */
const BATCH_BUDGET = 16;
const batchBuffers = createBufferPool({ budget: BATCH_BUDGET, bufferBytes: READ_BATCH_BYTES + 64 * 1024 });

/** Batch buffers currently lent out (for tests). */
export function batchBuffersLent(): number {
  return batchBuffers.lent();
}

/**
 * Like {@link decryptSpan}, over positional reads (a driver's `openReader`): whole batches of segments are read
 * into pooled buffers and each segment is decrypted from the buffer in one call (no stream chunks to stitch);
 * the next batch is read while the current one is decrypted and handed out, when the budget allows. Same
 * guarantees: a segment's plaintext is released only after its tag verified; a short read is an
 * IntegrityError.
 */
export async function* decryptSpanAt(k: PartKey, size: number, span: SegmentSpan, start: number, end: number, read: PositionalRead): AsyncGenerator<Buffer> {
  const S = k.segmentSize;
  const full = S + TAG_BYTES;
  const last = segmentCount(size, S) - 1;
  const segLen = (i: number) => Math.min(S, size - i * S);
  const batch = Math.max(1, Math.min(Math.floor(READ_BATCH_BYTES / full), span.lastSegment - span.firstSegment + 1));
  const bufferBytes = batch * full;

  interface Batch { first: number; buf: Buffer; read: Promise<number> }
  /** Reads the batch starting at segment `first` into `buf`; resolves with its last segment. */
  async function readBatch(first: number, buf: Buffer): Promise<number> {
    const lastInBatch = Math.min(span.lastSegment, first + batch - 1);
    const pos = HEADER_BYTES + first * full;
    const len = (lastInBatch - first) * full + segLen(lastInBatch) + TAG_BYTES;
    let got = 0;
    while (got < len) {
      const n = await read(got === 0 ? buf : buf.subarray(got), pos + got, len - got);
      if (n <= 0) throw new IntegrityError('encrypted object is shorter than expected');
      got += n;
    }
    return lastInBatch;
  }
  const begin = (first: number, buf: Buffer): Batch => {
    const b = { first, buf, read: readBatch(first, buf) };
    b.read.catch(() => undefined); // observed when its turn comes; a consumer that stops early must not leave it unhandled
    return b;
  };

  let ahead: Batch | undefined;
  let next = span.firstSegment;
  try {
    while (next <= span.lastSegment) {
      const cur = ahead ?? begin(next, await batchBuffers.acquire(bufferBytes));
      ahead = undefined;
      const plain: Buffer[] = [];
      try {
        const lastInBatch = await cur.read;
        next = lastInBatch + 1;
        if (next <= span.lastSegment) {
          const buf = batchBuffers.tryAcquire(bufferBytes, BATCH_BUDGET / 2);
          if (buf) ahead = begin(next, buf);
        }
        for (let i = cur.first; i <= lastInBatch; i++) {
          const off = (i - cur.first) * full;
          const len = segLen(i);
          const p = openSegment(k, i, i === last, [cur.buf.subarray(off, off + len)], cur.buf.subarray(off + len, off + len + TAG_BYTES));
          const segStart = i * S;
          const from = Math.max(0, start - segStart);
          const to = Math.min(len, end - segStart + 1);
          if (to > from) plain.push(from === 0 && to === p.length ? p : p.subarray(from, to));
        }
      } finally {
        batchBuffers.release(cur.buf);
      }
      for (const p of plain) yield p;
    }
  } finally {
    if (ahead) {
      await ahead.read.catch(() => undefined);
      batchBuffers.release(ahead.buf);
    }
  }
}
