import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  HEADER_BYTES, IntegrityError, PartEncryptor, TAG_BYTES, batchBuffersLent, cipherLength, decryptSpan, decryptSpanAt, derivePartKey, openBuffer, sealBuffer, spanOf, type PartKey,
} from './format.ts';

const dataKey = randomBytes(32);

function partKey(shift = 12): PartKey {
  return derivePartKey(dataKey, { salt: randomBytes(32), segmentShift: shift });
}

async function encrypt(k: PartKey, plain: Buffer, chunk: number): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < plain.length; i += chunk) pieces.push(plain.subarray(i, i + chunk));
  const out: Buffer[] = [];
  for await (const b of Readable.from(pieces, { objectMode: false }).pipe(new PartEncryptor(k))) out.push(b as Buffer);
  return Buffer.concat(out);
}

/** Feeds the stored bytes of the range's segments in chunks of `chunk` bytes, as a storage read would. */
async function readRange(k: PartKey, stored: Buffer, size: number, start: number, end: number, chunk: number): Promise<Buffer> {
  const span = spanOf(size, k.segmentSize, start, end);
  const slice = stored.subarray(span.cipherStart, span.cipherEnd + 1);
  async function* chunks() {
    for (let i = 0; i < slice.length; i += chunk) yield slice.subarray(i, i + chunk);
  }
  const out: Buffer[] = [];
  for await (const b of decryptSpan(k, size, span, start, end, chunks())) out.push(b);
  return Buffer.concat(out);
}

/** The same through positional reads that return at most `chunk` bytes each (short reads). */
async function readRangeAt(k: PartKey, stored: Buffer, size: number, start: number, end: number, chunk: number): Promise<Buffer> {
  const read = async (buf: Buffer, pos: number, len: number) => stored.copy(buf, 0, pos, Math.min(pos + Math.min(len, chunk), stored.length));
  const out: Buffer[] = [];
  for await (const b of decryptSpanAt(k, size, spanOf(size, k.segmentSize, start, end), start, end, read)) out.push(b);
  return Buffer.concat(out);
}

test('stored length matches cipherLength, and whole parts round-trip', async () => {
  for (const size of [0, 1, 4095, 4096, 4097, 3 * 4096, 3 * 4096 + 7]) {
    const k = partKey();
    const plain = randomBytes(size);
    const stored = await encrypt(k, plain, 1000);
    assert.equal(stored.length, cipherLength(size, k.segmentSize));
    assert.deepEqual(openBuffer(dataKey, stored), plain);
    assert.deepEqual(sealBuffer(k, plain).length, stored.length);
    if (size > 0) assert.deepEqual(await readRange(k, stored, size, 0, size - 1, 777), plain);
  }
});

test('property: any range of any part decrypts to the same bytes, whatever the read chunking', async () => {
  await fc.assert(fc.asyncProperty(
    fc.integer({ min: 1, max: 40_000 }),
    fc.integer({ min: 1, max: 9_000 }),
    fc.integer({ min: 1, max: 9_000 }),
    fc.nat(), fc.nat(),
    async (size, writeChunk, readChunk, a, b) => {
      const k = partKey();
      const plain = randomBytes(size);
      const stored = await encrypt(k, plain, writeChunk);
      const start = a % size;
      const end = start + (b % (size - start));
      const got = await readRange(k, stored, size, start, end, readChunk);
      assert.deepEqual(got, plain.subarray(start, end + 1));
      assert.deepEqual(await readRangeAt(k, stored, size, start, end, readChunk), plain.subarray(start, end + 1));
    },
  ), { numRuns: 150 });
});

test('a changed byte anywhere in the segments read fails authentication', async () => {
  const k = partKey();
  const size = 3 * 4096 + 100;
  const plain = randomBytes(size);
  const stored = await encrypt(k, plain, 4096);
  for (const pos of [HEADER_BYTES, HEADER_BYTES + 4096, HEADER_BYTES + 4096 + TAG_BYTES + 5, stored.length - 1]) {
    const bad = Buffer.from(stored);
    bad[pos]! ^= 0x01;
    await assert.rejects(readRange(k, bad, size, 0, size - 1, 1000), IntegrityError);
    await assert.rejects(readRangeAt(k, bad, size, 0, size - 1, 1000), IntegrityError);
  }
  // A changed header byte: a reader deriving the key from the stored header no longer authenticates.
  const badHeader = Buffer.from(stored);
  badHeader[HEADER_BYTES - 1]! ^= 0x80;
  assert.throws(() => openBuffer(dataKey, badHeader), IntegrityError);
});

test('truncation, swapped segments and a wrong final flag are detected', async () => {
  const k = partKey();
  const size = 3 * 4096;
  const plain = randomBytes(size);
  const stored = await encrypt(k, plain, 4096);
  const full = 4096 + TAG_BYTES;
  // Cut off the last segment: the remaining last segment was sealed as not final.
  assert.throws(() => openBuffer(dataKey, stored.subarray(0, stored.length - full)), IntegrityError);
  // A short read of a range is an error, never a short body.
  const span = spanOf(size, k.segmentSize, 0, size - 1);
  async function* cut() { yield stored.subarray(span.cipherStart, span.cipherEnd - 10); }
  await assert.rejects(async () => { for await (const _ of decryptSpan(k, size, span, 0, size - 1, cut())) { /* drain */ } }, IntegrityError);
  await assert.rejects(readRangeAt(k, stored.subarray(0, stored.length - 10), size, 0, size - 1, 5000), IntegrityError);
  // Swap segments 0 and 1.
  const swapped = Buffer.concat([stored.subarray(0, HEADER_BYTES), stored.subarray(HEADER_BYTES + full, HEADER_BYTES + 2 * full), stored.subarray(HEADER_BYTES, HEADER_BYTES + full), stored.subarray(HEADER_BYTES + 2 * full)]);
  assert.throws(() => openBuffer(dataKey, swapped), IntegrityError);
  // Another data key (another scope) cannot open it.
  assert.throws(() => openBuffer(randomBytes(32), stored), IntegrityError);
});

test('positional decryption keeps its batch buffers within a process-wide budget; slow readers do not starve others', async () => {
  const k = partKey(18); // 256 KiB segments: ~1 MiB batches, as in production
  const size = 6 * 1024 * 1024 + 123;
  const plain = randomBytes(size);
  const stored = sealBuffer(k, plain);
  let peak = 0;
  const read = async (buf: Buffer, pos: number, len: number) => {
    await new Promise((r) => setImmediate(r));
    peak = Math.max(peak, batchBuffersLent());
    return stored.copy(buf, 0, pos, Math.min(pos + len, stored.length));
  };
  const whole = () => decryptSpanAt(k, size, spanOf(size, k.segmentSize, 0, size - 1), 0, size - 1, read);
  // 24 clients that take the first piece of a pull and then stop reading (a slow or stalled client) ...
  const stalled = Array.from({ length: 24 }, whole);
  await Promise.all(stalled.map((g) => g.next()));
  assert.ok(batchBuffersLent() <= 8, `stalled readers hold ${batchBuffersLent()} buffers`);
  // ... while 40 others pull the whole blob at once: all complete, byte for byte, within the budget.
  const outs = await Promise.all(Array.from({ length: 40 }, async () => {
    const parts: Buffer[] = [];
    for await (const b of whole()) parts.push(b);
    return Buffer.concat(parts);
  }));
  for (const o of outs) assert.ok(o.equals(plain));
  assert.ok(peak <= 16, `peak ${peak} buffers lent`);
  for (const g of stalled) await g.return(undefined);
  assert.equal(batchBuffersLent(), 0, 'every buffer comes back');
});
