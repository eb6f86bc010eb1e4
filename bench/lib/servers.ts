import { execFileSync } from 'node:child_process';
import { startDistribution, DISTRIBUTION_BIN } from '../../test/helpers/distribution.ts';
import { startCargohold, type RunningServer } from '../../test/helpers/server.ts';
import { track } from './proc.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

export type ServerName = 'cargohold' | 'distribution';

/** A registry process started for the benchmark, on 127.0.0.1, with a fresh temporary data directory. */
export interface BenchServer {
  name: ServerName;
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  pid: number;
  version: string;
  /** Authorization header value for /v2/ (cargohold authenticates; Distribution does not). */
  authorization?: string;
  alive(): boolean;
  /** Last lines of the server's log, for error messages. */
  logTail(lines?: number): string;
  /** SIGTERM by PID (SIGKILL after 10–15 s), then remove the temporary data directory. */
  stop(): Promise<void>;
}

function wrap(name: ServerName, server: RunningServer, version: string): BenchServer {
  const child = track(server.process);
  if (child.pid === undefined) throw new Error(`${name} has no pid`);
  return {
    name,
    url: server.url,
    pid: child.pid,
    version,
    authorization: server.authorization,
    alive: () => child.exitCode === null && child.signalCode === null,
    logTail: (lines = 20) => server.logs.slice(-lines).map((l) => JSON.stringify(l)).join('\n'),
    stop: () => server.stop(),
  };
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '?';
  }
}

/**
 * cargohold from this checkout (test/helpers/server.ts: `node bin/cargohold.js serve` on an ephemeral port)
 * with logging turned down to errors, like Distribution below, so neither server spends the run on access
 * logs. Extra serve flags can be given with BENCH_CARGOHOLD_ARGS (space separated).
 */
export async function startCargoholdServer(): Promise<BenchServer> {
  const args = (process.env.BENCH_CARGOHOLD_ARGS ?? '').split(' ').filter(Boolean);
  const server = await startCargohold({ args, env: { CARGOHOLD_LOG_LEVEL: process.env.CARGOHOLD_LOG_LEVEL ?? 'error' } });
  const dirty = git(['status', '--porcelain', '--', 'src', 'bin']) ? '+dirty' : '';
  return wrap('cargohold', server, `git ${git(['rev-parse', '--short', 'HEAD'])}${dirty}, node ${process.version}`);
}

/** Debian's CNCF Distribution 2.8.2 (test/helpers/distribution.ts): filesystem storage, delete enabled, error logs only. */
export async function startDistributionServer(): Promise<BenchServer> {
  let version = '?';
  try {
    version = execFileSync(DISTRIBUTION_BIN, ['--version'], { encoding: 'utf8' }).trim().split(' ').pop() ?? version;
  } catch {
    // keep '?'
  }
  const server = await startDistribution({ logLevel: 'error' });
  return wrap('distribution', server, version);
}

export async function startServer(name: ServerName): Promise<BenchServer> {
  return name === 'cargohold' ? await startCargoholdServer() : await startDistributionServer();
}
