// A private Docker daemon for end-to-end tests: its own data root, exec root, socket and containerd
// namespace under one temp dir, no networking (no bridge, no iptables), stopped by PID. It never touches a
// system dockerd that may be running on the same machine.
import { spawn } from 'node:child_process';
import { accessSync, constants, openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Absolute paths: /usr/local/bin/docker on PATH is a different client, so never rely on PATH. */
export const DOCKERD_BIN = process.env.CARGOHOLD_DOCKERD_BIN ?? '/usr/sbin/dockerd';
export const DOCKER_BIN = process.env.CARGOHOLD_DOCKER_BIN ?? '/usr/bin/docker';

export interface CommandResult {
  stdout: string;
  stderr: string;
  /** Exit status (or 128 + signal number when killed by a signal). */
  code: number;
}

export interface CommandOptions {
  /** Kill the command (SIGKILL, by PID) and reject after this long. Default 120 s. */
  timeoutMs?: number;
  /** Resolve with the non-zero exit status instead of rejecting. Default false: a failure throws. */
  allowFailure?: boolean;
  /** Written to stdin, which is then closed. */
  input?: string | Buffer;
  cwd?: string;
  /** Extra environment, merged over the helper's environment. */
  env?: Record<string, string | undefined>;
}

/** Error thrown by {@link runCommand} for a failed or timed-out command; the message says which and shows output. */
export class CommandError extends Error {
  constructor(message: string, readonly result: CommandResult & { command: string; timedOut: boolean }) {
    super(message);
    this.name = 'CommandError';
  }
}

function tail(text: string, max = 4000): string {
  return text.length > max ? `…${text.slice(-max)}` : text;
}

/**
 * Runs one command to completion with a bounded time. Stdout/stderr are collected as text. Rejects with a
 * {@link CommandError} naming the command, its status and the tail of its output unless `allowFailure`.
 */
export function runCommand(file: string, args: string[], options: CommandOptions = {}): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const command = [file, ...args].join(' ');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...options.env })) if (v !== undefined) env[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) {
        try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
      }
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new CommandError(`cannot run ${command}: ${e.message}`, { command, stdout: '', stderr: e.message, code: -1, timedOut }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = {
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code: code ?? 128 + (signal ? signalNumber(signal) : 0),
      };
      if (timedOut) {
        reject(new CommandError(`timed out after ${timeoutMs / 1000}s: ${command}\n--- stdout\n${tail(result.stdout)}\n--- stderr\n${tail(result.stderr)}`, { ...result, command, timedOut }));
      } else if (result.code !== 0 && !options.allowFailure) {
        reject(new CommandError(`exit ${result.code}: ${command}\n--- stdout\n${tail(result.stdout)}\n--- stderr\n${tail(result.stderr)}`, { ...result, command, timedOut }));
      } else {
        resolve(result);
      }
    });
    child.stdin.on('error', () => { /* the command may exit without reading stdin */ });
    child.stdin.end(options.input ?? '');
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGHUP: 1, SIGABRT: 6, SIGSEGV: 11 } as Record<string, number>)[signal] ?? 0;
}

/** Whether an external tool can be used, and if not, a message saying what to install. */
export interface ToolAvailability {
  available: boolean;
  /** Empty when available. */
  reason: string;
}

function isExecutable(path: string): boolean {
  try { accessSync(path, constants.X_OK); return true; } catch { return false; }
}

/** Checks that docker.io (dockerd + the docker CLI) is installed and that we are root (a daemon needs it). */
export function hasDocker(): ToolAvailability {
  const missing = [DOCKERD_BIN, DOCKER_BIN].filter((p) => !isExecutable(p));
  if (missing.length) return { available: false, reason: `docker is not installed (missing ${missing.join(', ')}); install the Debian package docker.io` };
  if (process.getuid?.() !== 0) return { available: false, reason: 'starting a private dockerd needs root' };
  return { available: true, reason: '' };
}

/**
 * For `test(name, { skip: skipUnless(check) }, fn)`: outside CI a missing tool skips with its reason; in CI
 * (CI=true) it never skips, so the test runs and fails with the reason (see {@link assertAvailable}).
 */
export function skipUnless(check: ToolAvailability): string | false {
  if (check.available || process.env.CI === 'true' || process.env.CI === '1') return false;
  return check.reason;
}

/** Throws the tool's reason when it is unavailable (called in a test body or hook, so CI fails loudly). */
export function assertAvailable(check: ToolAvailability): void {
  if (!check.available) throw new Error(`required tool unavailable: ${check.reason}`);
}

export interface DockerOptions extends CommandOptions {}

export interface RunningDockerd {
  /** Path of the daemon's unix socket. */
  socket: string;
  /** unix://<socket>, what `docker -H` takes. */
  host: string;
  /** The private directory holding data root, exec root, socket, logs and the CLI config. */
  dir: string;
  pid: number;
  /** Runs /usr/bin/docker against this daemon (isolated CLI config, legacy builder unless env says otherwise). */
  docker(args: string[], opts?: DockerOptions): Promise<CommandResult>;
  /** The daemon's log so far (for failure messages). */
  log(): Promise<string>;
  /** SIGTERM, wait, then SIGKILL by PID; unmounts leftovers and removes the private directory. Idempotent. */
  stop(): Promise<void>;
}

function pingSocket(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping', method: 'GET', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
    req.end();
  });
}

function isAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** PIDs of processes whose command line mentions our private directory (containerd, shims) — our own, by construction. */
function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmdline.includes(dir)) pids.push(Number(name));
    } catch { /* exited */ }
  }
  return pids;
}

async function unmountUnder(dir: string): Promise<void> {
  let mountinfo: string;
  try { mountinfo = await readFile('/proc/self/mountinfo', 'utf8'); } catch { return; }
  const points = mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((p): p is string => !!p && (p === dir || p.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const p of points) await runCommand('umount', ['-l', p], { allowFailure: true, timeoutMs: 10_000 }).catch(() => undefined);
}

export interface StartDockerdOptions {
  /** Total time to wait for /_ping. Default 60 s. */
  startTimeoutMs?: number;
  /** Extra dockerd flags (e.g. ['--storage-driver', 'vfs']). CARGOHOLD_DOCKERD_STORAGE_DRIVER also sets the driver. */
  args?: string[];
}

/**
 * Starts a private dockerd (as root) and waits until it answers /_ping. Everything lives in one temp dir;
 * networking is off (`--bridge=none`, no iptables/ip-forward/masquerade), so builds and runs must use
 * `--network none`. It uses its own containerd namespace so it cannot see a system daemon's containers even
 * when it attaches to a running system containerd.
 */
export async function startDockerd(options: StartDockerdOptions = {}): Promise<RunningDockerd> {
  assertAvailable(hasDocker());
  const dir = await mkdtemp(join(tmpdir(), 'cargohold-dockerd-'));
  const id = dir.slice(dir.lastIndexOf('-') + 1);
  const socket = join(dir, 'docker.sock');
  const host = `unix://${socket}`;
  const logPath = join(dir, 'dockerd.log');
  const cliConfig = join(dir, 'cli');
  await mkdir(cliConfig);
  await writeFile(join(cliConfig, 'config.json'), '{}\n');
  // An explicit empty daemon.json so a host /etc/docker/daemon.json (mirrors, insecure registries…) is ignored.
  await writeFile(join(dir, 'daemon.json'), '{}\n');

  const storageDriver = process.env.CARGOHOLD_DOCKERD_STORAGE_DRIVER;
  const args = [
    '--config-file', join(dir, 'daemon.json'),
    '--data-root', join(dir, 'data'),
    '--exec-root', join(dir, 'exec'),
    '--pidfile', join(dir, 'dockerd.pid'),
    '--host', host,
    '--containerd-namespace', `cargohold-${id}`,
    '--containerd-plugins-namespace', `cargohold-${id}-plugins`,
    '--iptables=false',
    '--ip-forward=false',
    '--ip-masq=false',
    '--bridge=none',
    '--userland-proxy=false',
    '--exec-opt', 'native.cgroupdriver=cgroupfs',
    '--shutdown-timeout', '5',
    '--log-level', 'info',
    ...(storageDriver ? ['--storage-driver', storageDriver] : []),
    ...(options.args ?? []),
  ];
  const logFd = openSync(logPath, 'a');
  const child = spawn(DOCKERD_BIN, args, { stdio: ['ignore', logFd, logFd], env: { ...process.env, DOCKER_HOST: undefined } as NodeJS.ProcessEnv });
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start ${DOCKERD_BIN}`);
  let exited = false;
  const exitedPromise = new Promise<void>((r) => child.once('exit', () => { exited = true; r(); }));
  // If the test process dies before stop(), still ask the daemon to shut down (it cleans up by itself).
  const onExit = () => { try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } };
  process.once('exit', onExit);

  const log = async () => readFile(logPath, 'utf8').catch(() => '');

  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= (async () => {
    process.removeListener('exit', onExit);
    if (!exited) {
      try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
      await Promise.race([exitedPromise, sleep(20_000, undefined, { ref: false })]);
      if (!exited) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
        await Promise.race([exitedPromise, sleep(5_000, undefined, { ref: false })]);
      }
    }
    // After a clean shutdown nothing is left; after SIGKILL containerd and shims may survive: they are ours
    // (their command lines name our private dir), so kill them by PID.
    for (let attempt = 0; attempt < 2; attempt++) {
      const leftovers = processesUsing(dir).filter(isAlive);
      if (!leftovers.length) break;
      for (const p of leftovers) { try { process.kill(p, attempt === 0 ? 'SIGTERM' : 'SIGKILL'); } catch { /* gone */ } }
      await sleep(1000);
    }
    await unmountUnder(dir);
    await rm(dir, { recursive: true, force: true, maxRetries: 3 }).catch(async (e: Error) => {
      throw new Error(`could not remove ${dir}: ${e.message}`);
    });
  })());

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) {
      const text = await log();
      await stop();
      throw new Error(`dockerd exited during startup (status ${child.exitCode ?? child.signalCode})\n--- dockerd log\n${tail(text)}`);
    }
    if (await pingSocket(socket)) break;
    if (Date.now() > deadline) {
      const text = await log();
      await stop();
      throw new Error(`dockerd did not answer /_ping within ${(options.startTimeoutMs ?? 60_000) / 1000}s\n--- dockerd log\n${tail(text)}`);
    }
    await sleep(200);
  }

  const cliEnv: Record<string, string | undefined> = {
    DOCKER_CONFIG: cliConfig,
    DOCKER_HOST: undefined,
    DOCKER_CONTEXT: undefined,
    DOCKER_TLS_VERIFY: undefined,
    DOCKER_CERT_PATH: undefined,
    // The classic builder works fully offline with local base images; BuildKit in 20.10 may try to resolve them.
    DOCKER_BUILDKIT: '0',
    DOCKER_CLI_HINTS: 'false',
  };
  return {
    socket,
    host,
    dir,
    pid,
    log,
    stop,
    docker(dockerArgs, opts = {}) {
      return runCommand(DOCKER_BIN, ['-H', host, ...dockerArgs], { ...opts, env: { ...cliEnv, ...opts.env } });
    },
  };
}
