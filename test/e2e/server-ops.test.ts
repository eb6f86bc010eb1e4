import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startCargohold, type RunningServer } from '../helpers/server.ts';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/cargohold.js');

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else out.push(p);
  }
  return out;
}

describe('operations basics', () => {
  let s: RunningServer;
  before(async () => { s = await startCargohold(); });
  after(async () => { await s.stop(); });

  it('answers /healthz', async () => {
    const r = await fetch(`${s.url}/healthz`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { status: 'ok' });
  });

  it('`cargohold jobs` lists the background jobs the running server scheduled', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'jobs', '--data-dir', s.dataDir, '--json', '--kind', 'jobs.prune']);
    const rows = stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; key: string; state: string });
    assert.deepEqual(rows.map((r) => [r.kind, r.key, r.state]), [['jobs.prune', 'registry', 'pending']]);
    const table = await run(process.execPath, [CLI, 'jobs', '--data-dir', s.dataDir]);
    assert.match(table.stdout, /^ID\s+KIND\s+KEY\s+STATE/);
    assert.match(table.stdout, /jobs\.prune\s+registry\s+pending/);
    await assert.rejects(run(process.execPath, [CLI, 'jobs', '--data-dir', s.dataDir, '--state', 'sleeping']), /--state must be one of/);
  });

  it('logs each request as JSON with its request id', async () => {
    const r = await fetch(`${s.url}/v2/`, { headers: { 'X-Request-Id': 'test-req-42', Authorization: s.authorization! } });
    assert.equal(r.headers.get('x-request-id'), 'test-req-42');
    await r.arrayBuffer();
    for (let i = 0; i < 50 && !s.logs.some((l) => l.reqId === 'test-req-42'); i++) await new Promise((res) => setTimeout(res, 50));
    const line = s.logs.find((l) => l.reqId === 'test-req-42');
    assert.ok(line, 'request log line');
    assert.equal(line.msg, 'request');
    assert.equal(line.route, 'base');
    assert.equal(line.status, 200);
    assert.equal(typeof line.ms, 'number');
  });

  it('exposes Prometheus metrics by route and status, bytes and uploads in progress', async () => {
    await (await fetch(`${s.url}/v2/nope/manifests/latest`, { headers: { Authorization: s.authorization! } })).arrayBuffer();
    const text = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(text, /cargohold_http_requests_total\{route="manifest",method="GET",status="404"\} \d+/);
    assert.match(text, /cargohold_http_request_duration_seconds_bucket\{le="[^"]+",route="base",method="GET"\}/);
    assert.match(text, /cargohold_http_response_bytes_total\{route="base"\} \d+/);
    assert.match(text, /cargohold_uploads_in_progress \d+/);
  });

  it('a client that disconnects mid-upload leaves nothing visible and no temporary file', async () => {
    const digest = `sha256:${createHash('sha256').update(Buffer.alloc(4 << 20, 1)).digest('hex')}`;
    await new Promise<void>((resolve) => {
      const req = request(`${s.url}/v2/drop/test/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: { 'Content-Length': String(4 << 20), 'Content-Type': 'application/octet-stream', Authorization: s.authorization! } });
      req.on('error', () => resolve());
      req.on('response', (res) => { res.resume(); resolve(); });
      req.write(Buffer.alloc(1 << 20, 1));
      setTimeout(() => req.destroy(), 200);
    });
    await new Promise((r) => setTimeout(r, 300));
    const head = await fetch(`${s.url}/v2/drop/test/blobs/${digest}`, { method: 'HEAD', headers: { Authorization: s.authorization! } });
    assert.equal(head.status, 404);
    const files = await listFiles(join(s.dataDir, 'blobs'));
    assert.deepEqual(files.filter((f) => !f.includes('/uploads/')), [], `files left behind: ${files.join(', ')}`);
  });

  it('a client that disconnects mid-pull does not disturb the server or later pulls', async () => {
    const body = Buffer.alloc(24 << 20);
    for (let i = 0; i < body.length; i += 4096) body.writeUInt32BE(i, i);
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    const auth = { Authorization: s.authorization! };
    const put = await fetch(`${s.url}/v2/drop/pull/blobs/uploads/?digest=${digest}`, { method: 'POST', body, headers: auth });
    assert.equal(put.status, 201);
    for (let round = 0; round < 3; round++) {
      await new Promise<void>((resolve) => {
        const req = request(`${s.url}/v2/drop/pull/blobs/${digest}`, { headers: auth }, (res) => {
          res.once('data', () => { req.destroy(); resolve(); });
        });
        req.on('error', () => resolve());
        req.end();
      });
    }
    const whole = Buffer.from(await (await fetch(`${s.url}/v2/drop/pull/blobs/${digest}`, { headers: auth })).arrayBuffer());
    assert.equal(`sha256:${createHash('sha256').update(whole).digest('hex')}`, digest);
    const part = await fetch(`${s.url}/v2/drop/pull/blobs/${digest}`, { headers: { ...auth, Range: 'bytes=1048570-3145739' } });
    assert.equal(part.status, 206);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), body.subarray(1048570, 3145740));
  });

  it('finishes in-flight requests on SIGTERM, then exits', async () => {
    const s2 = await startCargohold();
    const body = Buffer.alloc(3 << 20, 7);
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    const status = new Promise<number>((resolve, reject) => {
      const req = request(`${s2.url}/v2/graceful/app/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: { 'Content-Length': String(body.length), Authorization: s2.authorization! } });
      req.on('error', reject);
      req.on('response', (res) => { res.resume(); resolve(res.statusCode ?? 0); });
      req.write(body.subarray(0, 1 << 20));
      setTimeout(() => {
        s2.process.kill('SIGTERM');
        setTimeout(() => req.end(body.subarray(1 << 20)), 300);
      }, 200);
    });
    assert.equal(await status, 201);
    const code = await new Promise((r) => (s2.process.exitCode !== null ? r(s2.process.exitCode) : s2.process.once('exit', r)));
    assert.equal(code, 0);
    await s2.stop();
  });
});

describe('cli and configuration', () => {
  it('prints help for every command', async () => {
    for (const args of [['--help'], ['serve', '--help'], ['verify-config', '--help']]) {
      const { stdout } = await run(process.execPath, [CLI, ...args]);
      assert.match(stdout, /Usage: cargohold/);
    }
    const { stdout } = await run(process.execPath, [CLI, 'serve', '--help']);
    for (const flag of ['--listen', '--data-dir', '--config']) assert.ok(stdout.includes(flag), flag);
  });

  it('verify-config accepts a good file and rejects a bad one with the reason', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cargohold-cfg-'));
    try {
      await writeFile(join(dir, 'good.yaml'), 'listen: 127.0.0.1:6000\ndataDir: /var/lib/cargohold\nregistry:\n  maxManifestBytes: 2097152\n');
      const { stdout } = await run(process.execPath, [CLI, 'verify-config', join(dir, 'good.yaml')]);
      assert.match(stdout, /OK/);
      assert.match(stdout, /"maxManifestBytes": 2097152/);
      await writeFile(join(dir, 'bad.yaml'), 'listen: nowhere\nunknownKey: 1\n');
      const err = await run(process.execPath, [CLI, 'verify-config', join(dir, 'bad.yaml')]).then(() => undefined, (e) => e);
      assert.ok(err, 'must fail');
      assert.equal(err.code, 2);
      assert.match(err.stderr, /listen: must be HOST:PORT/);
      assert.match(err.stderr, /unknownKey|Unrecognized/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('takes settings from the config file, then the environment, then flags', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cargohold-cfg-'));
    try {
      await writeFile(join(dir, 'c.json'), JSON.stringify({ listen: '127.0.0.1:1', dataDir: join(dir, 'from-file') }));
      // The file's listen is overridden by the helper's --listen flag; its dataDir by the env var, then by the flag.
      const s = await startCargohold({ args: ['--config', join(dir, 'c.json')], env: { CARGOHOLD_DATA_DIR: join(dir, 'from-env') } });
      const listening = s.logs.find((l) => l.msg === 'listening');
      assert.equal(listening?.dataDir, s.dataDir, 'the --data-dir flag wins over env and file');
      await s.stop();
      const s2 = await startCargohold({ args: ['--config', join(dir, 'c.json')], env: { CARGOHOLD_LOG_LEVEL: 'warn' } });
      assert.ok(!s2.logs.some((l) => l.msg === 'request'), 'no info lines at warn');
      await s2.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
