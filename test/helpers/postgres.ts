// A private PostgreSQL 15 cluster for tests (Debian's postgresql-15 binaries): initdb into a temp dir, postgres
// on a loopback port, stopped by PID. One per test process; or an existing server named by CARGOHOLD_TEST_PG_URL.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chownSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freePort } from './distribution.ts';
import type { ToolAvailability } from './dockerd.ts';
import { requireScaleOutBackends } from './s3.ts';

export const PG_BIN = process.env.CARGOHOLD_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** Whether a PostgreSQL server can be had: CARGOHOLD_TEST_PG_URL, or the postgresql-15 binaries (root runs them as `postgres`). */
export function hasPostgres(): ToolAvailability {
  if (process.env.CARGOHOLD_TEST_PG_URL) return { available: true, reason: '' };
  try {
    accessSync(join(PG_BIN, 'initdb'), constants.X_OK);
    accessSync(join(PG_BIN, 'postgres'), constants.X_OK);
  } catch {
    return { available: false, reason: `no PostgreSQL: ${PG_BIN}/initdb and postgres are missing (Debian package postgresql-15) and CARGOHOLD_TEST_PG_URL is unset` };
  }
  if (process.getuid?.() === 0 && !postgresUser()) return { available: false, reason: 'running as root but there is no "postgres" user to run the server as' };
  return { available: true, reason: '' };
}

/** For `describe(name, { skip: skipUnlessPostgres() }, …)`: skips with the reason unless available or required (CI). */
export function skipUnlessPostgres(): string | false {
  const check = hasPostgres();
  if (check.available || requireScaleOutBackends()) return false;
  return check.reason;
}

function postgresUser(): { uid: number; gid: number } | undefined {
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) return undefined;
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

export interface TestPostgres {
  /** postgres://… of a superuser on the server (database `postgres`). */
  url: string;
  port: number;
}

let shared: Promise<{ pg: TestPostgres; stop: () => Promise<void> }> | undefined;

async function startCluster(): Promise<{ pg: TestPostgres; stop: () => Promise<void> }> {
  const external = process.env.CARGOHOLD_TEST_PG_URL;
  if (external) return { pg: { url: external, port: Number(new URL(external).port || 5432) }, stop: async () => {} };
  const check = hasPostgres();
  if (!check.available) throw new Error(`required PostgreSQL unavailable: ${check.reason}`);
  const dir = mkdtempSync(join(tmpdir(), 'cargohold-pg-'));
  const data = join(dir, 'data');
  // The server refuses to run as root: as root, run it as the `postgres` user.
  const user = process.getuid?.() === 0 ? postgresUser() : undefined;
  if (user) chownSync(dir, user.uid, user.gid);
  const ids = user ? { uid: user.uid, gid: user.gid } : {};
  const init = spawnSync(join(PG_BIN, 'initdb'), ['-D', data, '-U', 'cargohold', '--auth=trust', '-E', 'UTF8', '--no-sync'], { ...ids, encoding: 'utf8', cwd: dir, timeout: 120_000 });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  let child: ChildProcess | undefined;
  let port = 0;
  let log = '';
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    port = await freePort();
    const c = spawn(join(PG_BIN, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'], {
      ...ids, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'],
    });
    c.stderr!.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-20_000); });
    const url = `postgres://cargohold@127.0.0.1:${port}/postgres`;
    for (let i = 0; i < 150; i++) {
      if (c.exitCode !== null) break;
      const client = new pg.Client({ connectionString: url });
      try {
        await client.connect();
        await client.end();
        child = c;
        break;
      } catch {
        await client.end().catch(() => undefined);
        await sleep(100);
      }
    }
    if (!child && c.exitCode === null) c.kill('SIGKILL');
  }
  if (!child) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`postgres did not start:\n${log}`);
  }
  const pid = child.pid!;
  const onExit = () => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } };
  process.once('exit', onExit);
  const stop = async () => {
    process.removeListener('exit', onExit);
    if (child!.exitCode === null) {
      const exited = new Promise((done) => child!.once('exit', done));
      try { process.kill(pid, 'SIGINT'); } catch { /* gone */ } // fast shutdown
      await Promise.race([exited, sleep(15_000)]);
      if (child!.exitCode === null) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { pg: { url: `postgres://cargohold@127.0.0.1:${port}/postgres`, port }, stop };
}

/** The PostgreSQL server of this test process (started on first use; stop it with {@link stopTestPostgres}). */
export async function testPostgres(): Promise<TestPostgres> {
  shared ??= startCluster();
  try {
    return (await shared).pg;
  } catch (err) {
    shared = undefined;
    throw err;
  }
}

/** Stops the server {@link testPostgres} started (no-op when none or external). */
export async function stopTestPostgres(): Promise<void> {
  const s = shared;
  shared = undefined;
  if (s) await (await s.catch(() => ({ stop: async () => {} }))).stop();
}

/**
 * A fresh, empty database on the test server; returns its URL and a function that drops it. Databases
 * (not schemas) so each store sees exactly what a deployment would.
 */
export async function freshDatabase(server: TestPostgres): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: server.url });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * Empties every table of a migrated database except `migrations` (identities restart), so one database can
 * serve many tests: far cheaper than creating and migrating a database per test.
 */
export async function truncateAll(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ t: string }>(`select quote_ident(tablename) as t from pg_tables where schemaname = current_schema() and tablename <> 'migrations'`);
    if (r.rows.length) await c.query(`truncate ${r.rows.map((x) => x.t).join(', ')} restart identity cascade`);
  } finally {
    await c.end();
  }
}
