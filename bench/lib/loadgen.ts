import { spawn, execFileSync } from 'node:child_process';
import { pinnedCommand } from './pin.ts';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { MEDIA } from './data.ts';
import { track } from './proc.ts';
import { percentile } from './stats.ts';

export const WRK_BIN = '/usr/bin/wrk';

/** What to hammer: the manifest by tag, or random 1 MiB ranges of a blob. */
export type LoadKind = { type: 'manifest' } | { type: 'range'; blobSize: number; rangeBytes: number };

export interface LoadSpec {
  url: string;
  kind: LoadKind;
  connections: number;
  durationSec: number;
  /** Authorization header sent with every request (cargohold). */
  authorization?: string;
}

export interface LoadResult {
  /** e.g. "wrk 4.1.0 (1 thread, 64 connections)". */
  generator: string;
  requests: number;
  durationSec: number;
  rps: number;
  bytes: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Connection/read/write/timeout errors plus responses with an unexpected status. */
  errors: number;
}

export function wrkAvailable(): boolean {
  return existsSync(WRK_BIN);
}

function wrkVersion(): string {
  try {
    // `wrk --version` prints its banner and exits non-zero.
    execFileSync(WRK_BIN, ['--version'], { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    const out = String((err as { stdout?: string }).stdout ?? '');
    const m = /wrk (\S+)/.exec(out);
    if (m) return m[1];
  }
  return '?';
}

const LUA_DONE = `
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors":%d,"p50_us":%.0f,"p99_us":%.0f,"max_us":%.0f}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
`;

function luaScript(kind: LoadKind, authorization?: string): string {
  const auth = authorization ? `wrk.headers["Authorization"] = "${authorization}"\n` : '';
  if (kind.type === 'manifest') {
    return `wrk.method = "GET"\nwrk.headers["Accept"] = "${MEDIA.manifestAccept}"\n${auth}${LUA_DONE}`;
  }
  return `
local size = ${kind.blobSize}
local len = ${kind.rangeBytes}
local headers = {}
${authorization ? `headers["Authorization"] = "${authorization}"\n` : ''}function init(args)
  math.randomseed(os.time())
end
function request()
  local start = math.random(0, size - len)
  headers["Range"] = "bytes=" .. start .. "-" .. (start + len - 1)
  return wrk.format("GET", wrk.path, headers)
end
${LUA_DONE}`;
}

/**
 * wrk with one thread (so it takes at most one of the two cores), a Lua script for the Accept or Range
 * header, and a done() hook that prints the summary as JSON. wrk counts statuses ≥ 400 as errors.
 */
export async function runWrk(spec: LoadSpec): Promise<LoadResult> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-wrk-'));
  try {
    const script = join(dir, 'script.lua');
    await writeFile(script, luaScript(spec.kind, spec.authorization));
    const args = ['-t1', `-c${spec.connections}`, `-d${spec.durationSec}s`, '--timeout', '10s', '-s', script, spec.url];
    const out = await new Promise<string>((resolve, reject) => {
      const [cmd, cmdArgs] = pinnedCommand(WRK_BIN, args, '0');
      const child = track(spawn(cmd, cmdArgs, { stdio: ['ignore', 'pipe', 'pipe'] }));
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const killer = setTimeout(() => child.kill('SIGKILL'), (spec.durationSec + 30) * 1000);
      child.once('error', reject);
      child.once('exit', (code) => {
        clearTimeout(killer);
        if (code === 0) resolve(stdout);
        else reject(new Error(`wrk exited with ${code}: ${stderr}${stdout}`));
      });
    });
    const line = out.split('\n').find((l) => l.startsWith('BENCH_JSON '));
    if (!line) throw new Error(`wrk printed no summary:\n${out}`);
    const r = JSON.parse(line.slice('BENCH_JSON '.length)) as { requests: number; duration_us: number; bytes: number; errors: number; p50_us: number; p99_us: number; max_us: number };
    const durationSec = r.duration_us / 1e6;
    return {
      generator: `wrk ${wrkVersion()} (1 thread, ${spec.connections} connections)`,
      requests: r.requests,
      durationSec,
      rps: r.requests / durationSec,
      bytes: r.bytes,
      p50Ms: r.p50_us / 1000,
      p99Ms: r.p99_us / 1000,
      maxMs: r.max_us / 1000,
      errors: r.errors,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The same closed loop in Node: `connections` workers on an undici Pool (pipelining 1), each sending the next
 * request as soon as the previous response has been read. Costs more client CPU than wrk on a shared machine.
 */
export async function runUndici(spec: LoadSpec): Promise<LoadResult> {
  const url = new URL(spec.url);
  const pool = new Pool(url.origin, { connections: spec.connections, pipelining: 1 });
  const latencies = new Float64Array(5_000_000);
  let count = 0;
  let errors = 0;
  let bytes = 0;
  let max = 0;
  const start = performance.now();
  const end = start + spec.durationSec * 1000;
  const expected = spec.kind.type === 'manifest' ? 200 : 206;
  const worker = async (): Promise<void> => {
    while (performance.now() < end && count < latencies.length) {
      const headers: Record<string, string> = spec.authorization ? { authorization: spec.authorization } : {};
      if (spec.kind.type === 'manifest') headers.accept = MEDIA.manifestAccept;
      else {
        const s = Math.floor(Math.random() * (spec.kind.blobSize - spec.kind.rangeBytes + 1));
        headers.range = `bytes=${s}-${s + spec.kind.rangeBytes - 1}`;
      }
      const t0 = performance.now();
      try {
        const res = await pool.request({ method: 'GET', path: url.pathname + url.search, headers });
        for await (const chunk of res.body) bytes += (chunk as Buffer).length;
        if (res.statusCode !== expected) errors++;
        const ms = performance.now() - t0;
        latencies[count++] = ms;
        if (ms > max) max = ms;
      } catch {
        errors++;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: spec.connections }, worker));
  } finally {
    await pool.close();
  }
  const durationSec = (performance.now() - start) / 1000;
  const sample = latencies.subarray(0, count);
  return {
    generator: `undici Pool in the bench process (${spec.connections} connections, pipelining 1)`,
    requests: count,
    durationSec,
    rps: count / durationSec,
    bytes,
    p50Ms: percentile(sample, 50),
    p99Ms: percentile(sample, 99),
    maxMs: count ? max : Number.NaN,
    errors,
  };
}

export async function runLoad(loadgen: 'wrk' | 'undici', spec: LoadSpec): Promise<LoadResult> {
  return loadgen === 'wrk' ? await runWrk(spec) : await runUndici(spec);
}
