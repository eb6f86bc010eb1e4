import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { bodyOf, rejectsWith } from '../contract-helpers.ts';
import { MAX_PARTS, splitIntoParts } from './s3-parts.ts';

/** A sink that keeps every part it is sent (later sends of one number replace earlier ones, as in S3). */
function memorySink() {
  const parts = new Map<number, Buffer>();
  return { parts, uploadPart: async (n: number, bytes: Buffer) => { parts.set(n, Buffer.from(bytes)); return `"etag-${n}"`; } };
}

describe('splitIntoParts (S3 part buffering)', () => {
  it('cuts any chunking into full parts plus a tail, continuing earlier parts and tail, hashing only the body', async () => {
    const data = randomBytes(1000);
    const sink = memorySink();
    const hash = createHash('sha256');
    const first = await splitIntoParts(bodyOf(data.subarray(0, 250), 7), sink, { partSize: 64, parts: [], hash });
    assert.equal(first.received, 250);
    assert.deepEqual(first.parts.map((p) => [p.n, p.size, p.etag]), [1, 2, 3].map((n) => [n, 64, `"etag-${n}"`]));
    assert.ok(first.tail.equals(data.subarray(192, 250)));
    const second = await splitIntoParts(bodyOf(data.subarray(250), 33), sink, { partSize: 64, parts: first.parts, tail: Buffer.from(first.tail), hash });
    assert.equal(second.received, 750);
    assert.equal(second.parts.length, 15);
    const assembled = Buffer.concat([...second.parts.map((p) => sink.parts.get(p.n)!), second.tail]);
    assert.ok(assembled.equals(data));
    assert.equal(hash.digest('hex'), createHash('sha256').update(data).digest('hex'));
  });

  it('refuses a body longer than maxLength (SIZE_INVALID) and reports nothing', async () => {
    await rejectsWith(splitIntoParts(bodyOf(randomBytes(100), 10), memorySink(), { partSize: 16, parts: [], maxLength: 99 }), 'SIZE_INVALID');
  });

  it('refuses a blob that would need more parts than S3 allows, with a clear SIZE_INVALID', async () => {
    await rejectsWith(splitIntoParts(bodyOf(Buffer.alloc(MAX_PARTS + 5), 4096), memorySink(), { partSize: 1, parts: [] }), 'SIZE_INVALID', (e) => assert.match(e.message, /partSizeMiB/));
  });

  it('fails with the sink error and destroys the body', async () => {
    const body = bodyOf(randomBytes(300), 10);
    await assert.rejects(splitIntoParts(body, { uploadPart: async () => { throw new Error('S3 down'); } }, { partSize: 32, parts: [] }), /S3 down/);
    assert.ok(body.destroyed);
  });
});
