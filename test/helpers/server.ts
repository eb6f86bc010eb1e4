import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = new URL('../../', import.meta.url).pathname;

export interface RunningServer {
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  /** e.g. 127.0.0.1:40123 (what docker/skopeo/podman use as registry host) */
  host: string;
  port: number;
  dataDir: string;
  process: ChildProcess;
  /** Log lines (parsed JSON) the server printed so far. */
  logs: Array<Record<string, unknown>>;
  /** SIGTERM, wait for exit; removes the data dir unless keepData. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export interface StartOptions {
  /** Reuse an existing data directory (default: a new temp dir). */
  dataDir?: string;
  /** Extra CLI flags after `serve`. */
  args?: string[];
  /** Extra environment. */
  env?: Record<string, string>;
  /**
   * ECR behaviour for pushes to missing repositories (NAME_UNKNOWN unless a CREATE_ON_PUSH template applies).
   * Default false: the server creates repositories on first push (Distribution behaviour), which the
   * protocol and client suites rely on.
   */
  ecrSemantics?: boolean;
}

/**
 * Starts the real cargohold server (`bin/cargohold.js serve`) on 127.0.0.1 with an ephemeral port and
 * waits until it listens. The port is read from the `listening` log line.
 */
export async function startCargohold(options: StartOptions = {}): Promise<RunningServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'cargohold-test-')));
  const child = spawn(process.execPath, [join(ROOT, 'bin/cargohold.js'), 'serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...(options.args ?? [])], {
    cwd: ROOT,
    env: {
      ...process.env,
      CARGOHOLD_LOG_LEVEL: process.env.CARGOHOLD_LOG_LEVEL ?? 'info',
      CARGOHOLD_CREATE_REPOSITORY_ON_PUSH: options.ecrSemantics ? 'false' : 'true',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); if (stderr.length > 100_000) stderr = stderr.slice(-50_000); });
  const rl = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cargohold did not start within 30s\n${stderr}`)), 30_000);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`cargohold exited with ${code}\n${stderr}`)); });
    rl.on('line', (line) => {
      let rec: Record<string, unknown>;
      try { rec = JSON.parse(line); } catch { return; }
      if (logs.length < 50_000) logs.push(rec);
      if (rec.msg === 'listening' && typeof rec.port === 'number') { clearTimeout(timer); resolve(rec.port); }
    });
  });
  const host = `127.0.0.1:${port}`;
  return {
    url: `http://${host}`,
    host,
    port,
    dataDir,
    process: child,
    logs,
    async stop(opts) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(t);
      }
      if (!opts?.keepData && !options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
