// A real S3 server for tests: Ceph RADOS Gateway started by ../shared/s3/start-s3.sh (see its README), one per
// test process, on a loopback port; or an already running one named by CARGOHOLD_TEST_S3_ENDPOINT.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client, type S3ConnectionOptions } from '../../src/storage/drivers/s3-client.ts';
import type { ToolAvailability } from './dockerd.ts';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
/**
 * Where start-s3.sh / stop-s3.sh live: CARGOHOLD_S3_SCRIPTS (set by .ci/run), else the shared folder next to
 * the checkout (../shared/s3 from the repository root), else /work/shared/s3 (a clone made elsewhere on the
 * development machine).
 */
export const S3_SCRIPTS = [process.env.CARGOHOLD_S3_SCRIPTS, resolve(ROOT, '..', 'shared', 's3'), '/work/shared/s3']
  .filter((d): d is string => !!d)
  .find((d) => existsSync(resolve(d, 'start-s3.sh'))) ?? resolve(ROOT, '..', 'shared', 's3');
const RADOSGW = '/usr/bin/radosgw';

/** Where a test S3 server is and how to sign in. */
export interface TestS3 {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

/**
 * True when the scale-out backends must be tested (CI sets CARGOHOLD_REQUIRE_PG_S3=1, and CI=true implies it):
 * a missing server then fails the test instead of skipping it.
 */
export function requireScaleOutBackends(): boolean {
  const flag = process.env.CARGOHOLD_REQUIRE_PG_S3;
  return flag === '1' || flag === 'true' || process.env.CI === 'true' || process.env.CI === '1';
}

/** Whether an S3 server can be had: an external one (CARGOHOLD_TEST_S3_ENDPOINT) or Ceph + start-s3.sh. */
export function hasS3(): ToolAvailability {
  if (process.env.CARGOHOLD_TEST_S3_ENDPOINT) return { available: true, reason: '' };
  if (!existsSync(resolve(S3_SCRIPTS, 'start-s3.sh'))) return { available: false, reason: `no S3 server: ${S3_SCRIPTS}/start-s3.sh is missing and CARGOHOLD_TEST_S3_ENDPOINT is unset` };
  try {
    accessSync(RADOSGW, constants.X_OK);
  } catch {
    return { available: false, reason: `no S3 server: Ceph is not installed (Debian packages ceph-mon ceph-osd radosgw; .ci/run installs them)` };
  }
  if (process.getuid?.() !== 0) return { available: false, reason: 'starting a private Ceph RGW needs root' };
  return { available: true, reason: '' };
}

/** For `describe(name, { skip: skipUnlessS3() }, …)`: skips with the reason unless S3 is available or required. */
export function skipUnlessS3(): string | false {
  const check = hasS3();
  if (check.available || requireScaleOutBackends()) return false;
  return check.reason;
}

let shared: Promise<{ s3: TestS3; stop: () => Promise<void> }> | undefined;

/** Two free loopback ports 50 apart are a good sign the range PORT..PORT+40 Ceph uses is free. */
async function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const srv = createServer();
    srv.once('error', () => done(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => done(true)));
  });
}

async function pickBase(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const base = 21000 + 50 * Math.floor(Math.random() * 700);
    if ((await portFree(base)) && (await portFree(base + 1)) && (await portFree(base + 40))) return base;
  }
  throw new Error('no free port range for the S3 server');
}

async function startShared(): Promise<{ s3: TestS3; stop: () => Promise<void> }> {
  const external = process.env.CARGOHOLD_TEST_S3_ENDPOINT;
  if (external) {
    return {
      s3: {
        endpoint: external,
        accessKeyId: process.env.CARGOHOLD_TEST_S3_ACCESS_KEY ?? 'cargohold-test',
        secretAccessKey: process.env.CARGOHOLD_TEST_S3_SECRET_KEY ?? 'cargohold-test-secret',
        region: 'us-east-1',
      },
      stop: async () => {},
    };
  }
  const check = hasS3();
  if (!check.available) throw new Error(`required S3 server unavailable: ${check.reason}`);
  const port = await pickBase();
  const base = '/tmp/cargohold-test-s3';
  const { stdout } = await run('bash', [resolve(S3_SCRIPTS, 'start-s3.sh'), String(port), base], {
    env: { ...process.env, S3_NO_INSTALL: '1', S3_START_TIMEOUT: '120' },
    timeout: 300_000,
    maxBuffer: 4 * 1024 * 1024,
  });
  const env: Record<string, string> = {};
  for (const m of stdout.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1]] = m[2];
  if (!env.S3_ENDPOINT) throw new Error(`start-s3.sh printed no endpoint:\n${stdout}`);
  const stop = async () => {
    await run('bash', [resolve(S3_SCRIPTS, 'stop-s3.sh'), String(port), base, '--purge'], { timeout: 120_000 }).catch(() => undefined);
  };
  // A test process that ends without its after-hook (crash) must not leave Ceph running.
  process.once('exit', () => { void stop(); });
  return { s3: { endpoint: env.S3_ENDPOINT, accessKeyId: env.S3_ACCESS_KEY, secretAccessKey: env.S3_SECRET_KEY, region: env.S3_REGION ?? 'us-east-1' }, stop };
}

/** The S3 server of this test process (started on first use; stop it with {@link stopTestS3} in an `after` hook). */
export async function testS3(): Promise<TestS3> {
  shared ??= startShared();
  try {
    return (await shared).s3;
  } catch (err) {
    shared = undefined;
    throw err;
  }
}

/** Stops the server {@link testS3} started (no-op when none or external). */
export async function stopTestS3(): Promise<void> {
  const s = shared;
  shared = undefined;
  if (s) await (await s.catch(() => ({ stop: async () => {} }))).stop();
}

/** Connection options for the test server and `bucket`. */
export function s3Connection(s3: TestS3, bucket: string): S3ConnectionOptions {
  return {
    bucket,
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    maxAttempts: 3,
  };
}

/** Creates a fresh bucket on the test server and returns a client for it. */
export async function freshBucket(s3: TestS3): Promise<{ bucket: string; client: S3Client; connection: S3ConnectionOptions }> {
  const bucket = `cargohold-${randomBytes(6).toString('hex')}`;
  const connection = s3Connection(s3, bucket);
  const client = createS3Client(connection);
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return { bucket, client, connection };
}
