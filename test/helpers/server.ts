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
  /** The bootstrap administrator's key (cargohold only; Distribution has no auth). */
  credentials?: TestCredentials;
  /** `Basic base64(accessKeyId:secret)` for the administrator: what fetch-based tests send as Authorization. */
  authorization?: string;
  /** Log lines (parsed JSON) the server printed so far. */
  logs: Array<Record<string, unknown>>;
  /** SIGTERM, wait for exit; removes the data dir unless keepData. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

/** An access key with its region, as the AWS CLI/SDK take it. */
export interface TestCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

/** The administrator key every test server starts with (CARGOHOLD_ADMIN_* env; override through `env`). */
export const TEST_ADMIN: TestCredentials = { accessKeyId: 'AKIACARGOHOLDTESTADM', secretAccessKey: 'CargoholdTestAdminSecret0000000000000000', region: 'us-east-1' };

/** `Basic …` header value for an access key id and secret. */
export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
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
  /** Address to listen on (default 127.0.0.1:0; a loopback address with port 0). */
  listen?: string;
  /** Serve HTTPS with this PEM certificate and key (files); `url` is then https://. */
  tls?: { cert: string; key: string };
}

/**
 * Starts the real cargohold server (`bin/cargohold.js serve`) on 127.0.0.1 with an ephemeral port and
 * waits until it listens. The port is read from the `listening` log line.
 */
export async function startCargohold(options: StartOptions = {}): Promise<RunningServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'cargohold-test-')));
  const tlsArgs = options.tls ? ['--tls-cert', options.tls.cert, '--tls-key', options.tls.key] : [];
  const child = spawn(process.execPath, [join(ROOT, 'bin/cargohold.js'), 'serve', '--listen', options.listen ?? '127.0.0.1:0', '--data-dir', dataDir, ...tlsArgs, ...(options.args ?? [])], {
    cwd: ROOT,
    env: {
      ...process.env,
      CARGOHOLD_LOG_LEVEL: process.env.CARGOHOLD_LOG_LEVEL ?? 'info',
      CARGOHOLD_CREATE_REPOSITORY_ON_PUSH: options.ecrSemantics ? 'false' : 'true',
      CARGOHOLD_ADMIN_ACCESS_KEY_ID: TEST_ADMIN.accessKeyId,
      CARGOHOLD_ADMIN_SECRET_ACCESS_KEY: TEST_ADMIN.secretAccessKey,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); if (stderr.length > 100_000) stderr = stderr.slice(-50_000); });
  const rl = createInterface({ input: child.stdout! });
  let boundHost = '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cargohold did not start within 30s\n${stderr}`)), 30_000);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`cargohold exited with ${code}\n${stderr}`)); });
    rl.on('line', (line) => {
      let rec: Record<string, unknown>;
      try { rec = JSON.parse(line); } catch { return; }
      if (logs.length < 50_000) logs.push(rec);
      if (rec.msg === 'listening' && typeof rec.port === 'number') {
        clearTimeout(timer);
        if (typeof rec.host === 'string') boundHost = rec.host;
        resolve(rec.port);
      }
    });
  });
  const host = boundHost.includes(':') ? `[${boundHost}]:${port}` : `${boundHost}:${port}`;
  const env = { ...options.env };
  const credentials: TestCredentials = {
    accessKeyId: env.CARGOHOLD_ADMIN_ACCESS_KEY_ID ?? TEST_ADMIN.accessKeyId,
    secretAccessKey: env.CARGOHOLD_ADMIN_SECRET_ACCESS_KEY ?? TEST_ADMIN.secretAccessKey,
    region: env.CARGOHOLD_REGION ?? TEST_ADMIN.region,
  };
  return {
    url: `${options.tls ? 'https' : 'http'}://${host}`,
    host,
    port,
    dataDir,
    credentials,
    authorization: basicAuth(credentials.accessKeyId, credentials.secretAccessKey),
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
