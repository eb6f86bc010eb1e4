import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startCargohold, type RunningServer } from '../helpers/server.ts';

/**
 * Flat memory: a multi-GiB layer pushes and pulls with the server's RSS growing by less than 50 MiB.
 * Size: CARGOHOLD_BIG_BLOB_MIB (default 5120 = 5 GiB).
 */
const SIZE = Number(process.env.CARGOHOLD_BIG_BLOB_MIB ?? 5120) * 1024 * 1024;
const CHUNK = 1 << 20;
const LIMIT = 50 * 1024 * 1024;

/** Deterministic pseudo-random content: a 1 MiB block whose first 8 bytes carry the block number. */
function block(i: number, base: Buffer): Buffer {
  const b = Buffer.from(base);
  b.writeBigUInt64BE(BigInt(i), 0);
  return b;
}

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function watchRss(pid: number): { stop(): number } {
  let peak = rss(pid);
  const t = setInterval(() => { peak = Math.max(peak, rss(pid)); }, 100);
  return { stop() { clearInterval(t); return Math.max(peak, rss(pid)); } };
}

describe(`flat memory with a ${SIZE / 2 ** 30} GiB layer`, { timeout: 20 * 60_000 }, () => {
  let s: RunningServer;
  const base = createHash('sha512').update('cargohold').digest();
  const pattern = Buffer.alloc(CHUNK);
  for (let i = 0; i < CHUNK; i += base.length) base.copy(pattern, i);
  const blocks = SIZE / CHUNK;
  let digest = '';

  before(async () => {
    s = await startCargohold({ env: { CARGOHOLD_LOG_LEVEL: 'warn' } });
    const h = createHash('sha256');
    for (let i = 0; i < blocks; i++) h.update(block(i, pattern));
    digest = `sha256:${h.digest('hex')}`;
  });
  after(async () => { await s.stop(); });

  it('pushes with RSS growth under 50 MiB', async (t) => {
    // Warm the server up with a small push first, so what is measured is growth with the body's size and not the
    // runtime's one-time set-up: code compiled on first use, and the young generation V8 lets fill with up to
    // ~32 MiB of dead buffers before a scavenge (a fixed runtime threshold, reached by any 100 MiB stream).
    const warm = Buffer.alloc(64 * CHUNK, 7);
    const warmDigest = `sha256:${createHash('sha256').update(warm).digest('hex')}`;
    const res = await fetch(`${s.url}/v2/big/warm-up/blobs/uploads/?digest=${warmDigest}`, { method: 'POST', body: warm, headers: { Authorization: s.authorization!, 'Content-Type': 'application/octet-stream' } });
    await res.arrayBuffer();
    assert.equal(res.status, 201);
    const before = rss(s.process.pid!);
    const w = watchRss(s.process.pid!);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${s.url}/v2/big/layer/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: { 'Content-Length': String(SIZE), 'Content-Type': 'application/octet-stream', Authorization: s.authorization! } });
      req.on('error', reject);
      req.on('response', (res) => { res.resume(); resolve(res.statusCode ?? 0); });
      let i = 0;
      const pump = () => {
        while (i < blocks) {
          const ok = req.write(block(i++, pattern));
          if (!ok) { req.once('drain', pump); return; }
        }
        req.end();
      };
      pump();
    });
    const peak = w.stop();
    assert.equal(status, 201);
    t.diagnostic(`server RSS grew by ${((peak - before) / 2 ** 20).toFixed(1)} MiB`);
    assert.ok(peak - before < LIMIT, `RSS grew by ${((peak - before) / 2 ** 20).toFixed(1)} MiB during the push`);
  });

  it('pulls byte for byte with RSS growth under 50 MiB', async (t) => {
    const before = rss(s.process.pid!);
    const w = watchRss(s.process.pid!);
    const h = createHash('sha256');
    let received = 0;
    const status = await new Promise<number>((resolve, reject) => {
      request(`${s.url}/v2/big/layer/blobs/${digest}`, { headers: { Authorization: s.authorization! } }, (res) => {
        res.on('data', (c: Buffer) => { h.update(c); received += c.length; });
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      }).on('error', reject).end();
    });
    const peak = w.stop();
    assert.equal(status, 200);
    assert.equal(received, SIZE);
    assert.equal(`sha256:${h.digest('hex')}`, digest);
    t.diagnostic(`server RSS grew by ${((peak - before) / 2 ** 20).toFixed(1)} MiB`);
    assert.ok(peak - before < LIMIT, `RSS grew by ${((peak - before) / 2 ** 20).toFixed(1)} MiB during the pull`);
  });
});
