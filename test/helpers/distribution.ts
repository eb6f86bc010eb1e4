// CNCF Distribution (Debian's docker-registry 2.8) as a reference registry: the e2e client tests run against it
// with CARGOHOLD_E2E_TARGET=distribution, and the benchmark uses it as the baseline.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import type { RunningServer } from './server.ts';

export const DISTRIBUTION_BIN = process.env.CARGOHOLD_DISTRIBUTION_BIN ?? '/usr/bin/docker-registry';

export interface StartDistributionOptions {
  /** Reuse an existing root directory (default: a new temp dir, removed by stop()). */
  dataDir?: string;
  /** Log level (default warn: the reference should not spend the benchmark's CPU on logging). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Access log lines on stdout (default false). */
  accessLog?: boolean;
  /** Distribution's in-memory blob descriptor cache (default true, as in its stock config). */
  blobDescriptorCache?: boolean;
  /** Merged over the generated config (deep merge of plain objects). */
  config?: Record<string, unknown>;
  /** Startup bound. Default 30 s. */
  startTimeoutMs?: number;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(extra)) out[k] = isPlainObject(v) && isPlainObject(out[k]) ? merge(out[k] as Record<string, unknown>, v) : v;
  return out;
}

/** A free TCP port on 127.0.0.1 (there is a small race until the registry binds it; start retries on EADDRINUSE). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Whether the docker-registry binary (Debian package docker-registry) is installed. */
export function hasDistribution(): { available: boolean; reason: string } {
  try {
    accessSync(DISTRIBUTION_BIN, constants.X_OK);
    return { available: true, reason: '' };
  } catch {
    return { available: false, reason: `CNCF Distribution is not installed (missing ${DISTRIBUTION_BIN}); install the Debian package docker-registry` };
  }
}

/**
 * Starts CNCF Distribution on 127.0.0.1 (a free port), filesystem storage in a temp root dir, deletes enabled,
 * no auth, JSON logs. Resolves once it answers `GET /v2/` with 200. Returns the same
 * shape as `startCargohold()`, so tests and the benchmark can take either.
 */
export async function startDistribution(options: StartDistributionOptions = {}): Promise<RunningServer> {
  const check = hasDistribution();
  if (!check.available) throw new Error(check.reason);
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'cargohold-distribution-')));
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    try {
      return await startOnPort(port, dataDir, options);
    } catch (e) {
      lastError = e as Error;
      if (!/address already in use/i.test(lastError.message)) break;
    }
  }
  if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
  throw lastError ?? new Error('distribution did not start');
}

async function startOnPort(port: number, dataDir: string, options: StartDistributionOptions): Promise<RunningServer> {
  const host = `127.0.0.1:${port}`;
  const configPath = join(dataDir, 'config.yml');
  const instance = randomBytes(8).toString('hex');
  let config: Record<string, unknown> = {
    version: 0.1,
    log: {
      level: options.logLevel ?? 'warn',
      formatter: 'json',
      accesslog: { disabled: !options.accessLog },
    },
    storage: {
      filesystem: { rootdirectory: join(dataDir, 'registry') },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false }, readonly: { enabled: false } },
      ...(options.blobDescriptorCache === false ? {} : { cache: { blobdescriptor: 'inmemory' } }),
    },
    http: {
      addr: host,
      secret: randomBytes(16).toString('hex'),
      // A per-instance header proves that the process answering on the port is this one (ports can race).
      headers: { 'X-Content-Type-Options': ['nosniff'], 'X-Test-Instance': [instance] },
    },
    health: { storagedriver: { enabled: false } },
  };
  if (options.config) config = merge(config, options.config);
  await writeFile(configPath, stringify(config));

  const child = spawn(DISTRIBUTION_BIN, ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start ${DISTRIBUTION_BIN}`);
  const onExit = () => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } };
  process.once('exit', onExit);
  const logs: Array<Record<string, unknown>> = [];
  let raw = '';
  const onLine = (line: string) => {
    raw += `${line}\n`;
    if (raw.length > 100_000) raw = raw.slice(-50_000);
    try {
      const rec = JSON.parse(line) as Record<string, unknown>;
      if (logs.length < 50_000) logs.push(rec);
    } catch { /* access log or plain text */ }
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  const stderrLines = createInterface({ input: child.stderr! });
  stderrLines.on('line', onLine);

  let exited = child.exitCode !== null;
  const exitedPromise = new Promise<void>((r) => child.once('exit', () => { exited = true; r(); }));

  const kill = async () => {
    process.removeListener('exit', onExit);
    if (exited) return;
    try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
    await Promise.race([exitedPromise, sleep(10_000, undefined, { ref: false })]);
    if (!exited) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      await exitedPromise;
    }
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (;;) {
    if (exited) {
      await kill();
      throw new Error(`docker-registry exited during startup (status ${child.exitCode ?? child.signalCode})\n${raw.slice(-4000)}`);
    }
    // With log level warn there is no `listening` line, so readiness is the API answering.
    const ok = await fetch(`http://${host}/v2/`).then((r) => { void r.body?.cancel(); return r.status === 200 && r.headers.get('x-test-instance') === instance; }, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await kill();
      throw new Error(`docker-registry did not listen on ${host} within ${(options.startTimeoutMs ?? 30_000) / 1000}s\n${raw.slice(-4000)}`);
    }
    await sleep(50);
  }

  let stopped: Promise<void> | undefined;
  return {
    url: `http://${host}`,
    host,
    port,
    dataDir,
    process: child,
    logs,
    stop(opts) {
      return (stopped ??= (async () => {
        await kill();
        if (!opts?.keepData && !options.dataDir) await rm(dataDir, { recursive: true, force: true });
      })());
    },
  };
}
