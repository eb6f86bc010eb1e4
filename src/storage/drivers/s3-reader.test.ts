import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createS3Reader } from './s3-reader.ts';

/** A loopback stand-in for an S3 GET endpoint, with switches to misbehave the ways a real one can. */
const DATA = randomBytes(5 * 1024 * 1024 + 12345);
let mode: 'ok' | 'status200' | 'wrongTotal' | 'dropMidway' | 'chunked' | 'tinyWrites' | 'status403' = 'ok';
let gets = 0;
let fallbacks = 0;
/** How far past what the test has consumed the furthest GET started: GETs opened ahead of the reader. */
let consumed = 0;
let aheadMax = 0;

/** The `sig` query parameter of every GET, in order. */
let signatures: string[] = [];

function serve(req: IncomingMessage, res: ServerResponse): void {
  gets++;
  signatures.push(new URL(req.url ?? '/', 'http://x').searchParams.get('sig') ?? '');
  aheadMax = Math.max(aheadMax, Number(/^bytes=(\d+)/.exec(req.headers.range ?? '')?.[1] ?? 0) - consumed);
  const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
  if (!m) { res.writeHead(400).end(); return; }
  const start = Number(m[1]);
  const end = Math.min(Number(m[2]), DATA.length - 1);
  const body = DATA.subarray(start, end + 1);
  const headers: Record<string, string | number> = { 'Content-Range': `bytes ${start}-${end}/${mode === 'wrongTotal' ? DATA.length + 1 : DATA.length}` };
  if (mode === 'status403') { res.writeHead(403, { 'Content-Type': 'application/xml' }).end('<Error><Code>AccessDenied</Code></Error>'); return; }
  if (mode === 'chunked') { res.writeHead(206, headers); res.end(body); return; }
  headers['Content-Length'] = body.length;
  if (mode === 'status200') { res.writeHead(200, headers).end(body); return; }
  res.writeHead(206, headers);
  if (mode === 'dropMidway') { res.write(body.subarray(0, Math.min(body.length, 300_000)), () => res.destroy()); return; }
  if (mode === 'tinyWrites') {
    let off = 0;
    const next = () => { if (off >= body.length) { res.end(); return; } const c = body.subarray(off, off + 7000); off += c.length; res.write(c, () => setImmediate(next)); };
    next();
    return;
  }
  res.end(body);
}

describe('lean S3 ranged-GET reader', () => {
  let server: Server;
  let url = '';
  before(async () => {
    server = createServer(serve);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bucket/blobs/x?X-Amz-Signature=abc`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => { mode = 'ok'; gets = 0; fallbacks = 0; consumed = 0; aheadMax = 0; signatures = []; });

  const reader = (windowBytes?: number) => createS3Reader({
    windowBytes,
    size: DATA.length,
    sign: async () => url,
    async fallback(buf, pos, len) {
      fallbacks++;
      DATA.copy(buf, 0, pos, pos + len);
      return Math.min(len, DATA.length - pos);
    },
  });

  /** Reads [start, end) in reads of `step` bytes, as sendBlob and the decryption layer do. */
  async function readAll(r: ReturnType<typeof reader>, start: number, end: number, step: number): Promise<Buffer> {
    const out: Buffer[] = [];
    const buf = Buffer.alloc(step);
    for (let pos = start; pos < end;) {
      const n = await r.read(buf, pos, Math.min(step, end - pos));
      assert.ok(n > 0, `read at ${pos} returned ${n}`);
      out.push(Buffer.from(buf.subarray(0, n)));
      pos += n;
      consumed = pos;
    }
    return Buffer.concat(out);
  }

  it('reads a whole object front to back through one GET, whatever the read size', async () => {
    for (const step of [1024 * 1024, 100_000, 4096]) {
      gets = 0;
      const r = reader();
      assert.deepEqual(await readAll(r, 0, DATA.length, step), DATA);
      assert.equal(await r.read(Buffer.alloc(10), DATA.length, 10), 0, 'a read at the end returns 0');
      await r.close();
      assert.equal(gets, 1);
      assert.equal(fallbacks, 0);
    }
  });

  it('starts a new GET for a read at another position (a Range request, a jump back)', async () => {
    const r = reader();
    assert.deepEqual(await readAll(r, 3_000_000, 3_500_000, 65536), DATA.subarray(3_000_000, 3_500_000));
    assert.deepEqual(await readAll(r, 10, 5000, 65536), DATA.subarray(10, 5000));
    assert.deepEqual(await readAll(r, 5000, 9000, 65536), DATA.subarray(5000, 9000), 'the next position continues the same GET');
    await r.close();
    assert.equal(gets, 2);
  });

  it('holds a slow consumer\'s bytes in the socket, not in memory, and hands them out in order', async () => {
    const r = reader();
    const out: Buffer[] = [];
    const buf = Buffer.alloc(200_000);
    for (let pos = 0; pos < DATA.length;) {
      const n = await r.read(buf, pos, buf.length);
      out.push(Buffer.from(buf.subarray(0, n)));
      pos += n;
      if (out.length % 5 === 0) await new Promise((res) => setTimeout(res, 5));
    }
    await r.close();
    assert.deepEqual(Buffer.concat(out), DATA);
  });

  it('copes with the body arriving in many small pieces', async () => {
    mode = 'tinyWrites';
    const r = reader();
    assert.deepEqual(await readAll(r, 1000, 400_000, 65536), DATA.subarray(1000, 400_000));
    await r.close();
    assert.equal(fallbacks, 0);
  });

  for (const bad of ['status200', 'wrongTotal', 'chunked', 'status403'] as const) {
    it(`does not trust an unexpected answer (${bad}): the read goes through the fallback`, async () => {
      mode = bad;
      const r = reader();
      assert.deepEqual(await readAll(r, 100, 2_000_100, 1024 * 1024), DATA.subarray(100, 2_000_100));
      await r.close();
      assert.ok(fallbacks >= 1);
    });
  }

  it('a connection that drops mid-body loses nothing: delivered bytes stay, the rest comes from the fallback or a new GET', async () => {
    mode = 'dropMidway';
    const r = reader();
    assert.deepEqual(await readAll(r, 0, DATA.length, 1024 * 1024), DATA);
    await r.close();
    assert.ok(fallbacks >= 1);
  });

  it('reads a pull through consecutive window GETs, several open at once', async () => {
    const W = 1024 * 1024;
    for (const step of [1024 * 1024, 300_000, 4096]) {
      gets = 0;
      consumed = 0;
      aheadMax = 0;
      const r = reader(W);
      assert.deepEqual(await readAll(r, 0, DATA.length, step), DATA);
      await r.close();
      assert.equal(gets, Math.ceil(DATA.length / W), 'one GET per window');
      // Windows are asked for before the reader gets to them, and never more than the two beyond the current one.
      assert.ok(aheadMax > 0 && aheadMax <= 3 * W, `furthest GET started ${aheadMax} bytes ahead of the reader`);
      assert.equal(fallbacks, 0);
    }
  });

  it('keeps a Range-sized read on one GET (no windows opened ahead)', async () => {
    const r = reader(1024 * 1024);
    assert.deepEqual(await readAll(r, 2_000_000, 2_400_000, 1024 * 1024), DATA.subarray(2_000_000, 2_400_000));
    await r.close();
    assert.equal(gets, 1);
  });

  it('a window that drops mid-body is retried without losing or repeating a byte', async () => {
    mode = 'dropMidway';
    const r = reader(1024 * 1024);
    assert.deepEqual(await readAll(r, 0, DATA.length, 1024 * 1024), DATA);
    await r.close();
    assert.ok(fallbacks >= 1);
  });

  it('signs the URL afresh when a long pull outlives it', async () => {
    let clock = 0;
    let signed = 0;
    const r = createS3Reader({
      size: DATA.length,
      windowBytes: 1024 * 1024,
      now: () => clock,
      sign: async () => `${url.replace(/\?.*$/, '')}?sig=${++signed}`,
      fallback: async () => { throw new Error('no fallback expected'); },
    });
    const buf = Buffer.alloc(256 * 1024);
    const out: Buffer[] = [];
    for (let pos = 0; pos < DATA.length;) {
      if (pos >= 2 * 1024 * 1024) clock = 16 * 60_000; // the reader's URL is now 16 minutes old
      const n = await r.read(buf, pos, buf.length);
      out.push(Buffer.from(buf.subarray(0, n)));
      pos += n;
    }
    await r.close();
    assert.deepEqual(Buffer.concat(out), DATA);
    assert.equal(signed, 2, 'signed once at the start and once after it aged');
    assert.equal(signatures[0], '1');
    assert.equal(signatures.at(-1), '2');
  });

  it('refuses a negative position', async () => {
    const r = reader();
    await assert.rejects(r.read(Buffer.alloc(4), -1, 4), RangeError);
    await r.close();
  });
});
