import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { BlobReader } from '../storage/blob-store.ts';
import { blobBuffersInFlight, sendBlob } from './send-blob.ts';

/** Byte i of the test blob is (i * 31 + 7) & 0xff (period 256), so any window is a slice of PATTERN. */
const PATTERN = Buffer.from(Array.from({ length: 8 * 1024 * 1024 + 256 }, (_, i) => (i * 31 + 7) & 0xff));

function expected(start: number, length: number): Buffer {
  return PATTERN.subarray(start % 256, (start % 256) + length);
}

/** A deterministic in-memory blob of `size` bytes (at most 8 MiB). */
function patternReader(size: number): BlobReader {
  return {
    size,
    async read(buffer, position, length) {
      const n = Math.max(0, Math.min(length, size - position));
      expected(position, n).copy(buffer, 0);
      return n;
    },
    async close() {},
  };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('sendBlob', () => {
  const SIZE = 6 * 1024 * 1024 + 12345;
  let server: Server;
  let port: number;
  before(async () => {
    server = createServer((req, res) => {
      const [, a, b] = /^\/(\d+)\/(\d+)$/.exec(req.url ?? '') ?? [];
      const start = Number(a);
      const length = Number(b);
      res.writeHead(200, { 'Content-Length': String(length) });
      sendBlob(patternReader(SIZE), res, start, length).catch(() => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise((r) => server.close(r));
  });

  it('sends exactly the requested bytes, whole blob and ranges, many at once', async () => {
    const cases = [[0, SIZE], [1, 1], [1024 * 1024 - 3, 7], [5 * 1024 * 1024 + 1, 1024 * 1024 + 100], [SIZE - 1, 1]];
    const all = Array.from({ length: 40 }, (_, i) => cases[i % cases.length]);
    const bodies = await Promise.all(all.map(async ([s, n]) => Buffer.from(await (await fetch(`http://127.0.0.1:${port}/${s}/${n}`)).arrayBuffer())));
    bodies.forEach((body, i) => {
      const [s, n] = all[i];
      assert.equal(createHash('sha256').update(body).digest('hex'), createHash('sha256').update(expected(s, n)).digest('hex'));
    });
    await until(() => blobBuffersInFlight() === 0);
    assert.equal(blobBuffersInFlight(), 0);
  });

  it('gives back every buffer when clients disconnect mid-body, and keeps serving', async () => {
    const aborted = await Promise.all(Array.from({ length: 40 }, () => new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: `/0/${SIZE}` }, (res) => {
        res.once('data', () => { req.destroy(); resolve(); });
      });
      req.on('error', () => resolve());
      req.end();
    })));
    assert.equal(aborted.length, 40);
    await until(() => blobBuffersInFlight() === 0);
    assert.equal(blobBuffersInFlight(), 0, 'no buffer share leaked by dropped writes');
    const body = Buffer.from(await (await fetch(`http://127.0.0.1:${port}/0/${SIZE}`)).arrayBuffer());
    assert.ok(body.equals(expected(0, SIZE)));
  });
});
