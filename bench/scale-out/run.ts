/**
 * `node --import tsx bench/scale-out/run.ts [--blob-mib 256] [--seconds 10] [--connections 64] [--pulls 5]`
 *
 * Scale-out figures in one run (issue 7): manifest GETs by tag and blob pulls against
 *   - one node on the embedded backends (filesystem + SQLite), the reference;
 *   - one node over PostgreSQL + S3;
 *   - two nodes over the same PostgreSQL + S3, loaded at once (half the connections each; the sum is reported).
 * PostgreSQL and S3 come from the test helpers (a private PostgreSQL 15 and Ceph RGW started here and stopped at
 * the end, or CARGOHOLD_TEST_PG_URL / CARGOHOLD_TEST_S3_ENDPOINT). Manifest load: wrk (one thread per node
 * loaded) when /usr/bin/wrk exists, else undici. Blob pulls: a raw socket reader hashing every byte; `--pulls`
 * rounds of one filesystem pull then one S3 pull (medians, and the median of the per-round S3/filesystem
 * ratios), then the same rounds from both S3 nodes at once. Everything shares the machine's cores: read the
 * ratios, not the absolute numbers.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { stopTestPostgres } from '../../test/helpers/postgres.ts';
import { stopTestS3 } from '../../test/helpers/s3.ts';
import { startCargohold, type RunningServer } from '../../test/helpers/server.ts';
import { RegistryClient } from '../lib/client.ts';
import { MiB, PatternData, makeImage } from '../lib/data.ts';
import { runLoad, wrkAvailable, type LoadResult } from '../lib/loadgen.ts';
import { median } from '../lib/stats.ts';
import { sharedBackends, timedPull, writeNodeConfig } from './shared.ts';

const { values } = parseArgs({
  options: {
    'blob-mib': { type: 'string', default: '256' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    pulls: { type: 'string', default: '5' },
  },
});
const BLOB = Number(values['blob-mib']) * MiB;
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const PULLS = Number(values.pulls);
const loadgen = wrkAvailable() ? 'wrk' : 'undici';
const REPO = 'bench/scale';

const servers: RunningServer[] = [];
const dir = await mkdtemp(join(tmpdir(), 'cargohold-bench-scale-'));

async function start(env: Record<string, string>, dataDir?: string): Promise<RunningServer> {
  const s = await startCargohold({ dataDir, env: { CARGOHOLD_LOG_LEVEL: 'error', ...env } });
  servers.push(s);
  return s;
}

async function pushFixtures(s: RunningServer, blob: PatternData): Promise<void> {
  const client = new RegistryClient(s.url, 8, s.authorization);
  await client.pushImage(REPO, 'latest', makeImage(0, 2, 1024, 4096));
  await client.pushBlob(REPO, blob.digest(), blob.stream(), blob.size);
}

/** Manifest GETs against one or more nodes at once (connections split evenly); requests summed. */
async function manifestLoad(nodes: RunningServer[]): Promise<{ rps: number; p99Ms: number; errors: number }> {
  const each = Math.max(1, Math.floor(CONNECTIONS / nodes.length));
  const spec = (s: RunningServer, durationSec: number) => ({ url: `${s.url}/v2/${REPO}/manifests/latest`, kind: { type: 'manifest' } as const, connections: each, durationSec, authorization: s.authorization });
  await Promise.all(nodes.map((s) => runLoad(loadgen, spec(s, 2)))); // warm-up
  const results: LoadResult[] = await Promise.all(nodes.map((s) => runLoad(loadgen, spec(s, SECONDS))));
  return { rps: results.reduce((a, r) => a + r.rps, 0), p99Ms: Math.max(...results.map((r) => r.p99Ms)), errors: results.reduce((a, r) => a + r.errors, 0) };
}

/** One full blob GET from a node, hashed and checked as it arrives; MB/s. */
function pullOnce(s: RunningServer, blob: PatternData): Promise<number> {
  return timedPull(new URL(`${s.url}/v2/${REPO}/blobs/${blob.digest()}`), { authorization: s.authorization! }, blob);
}

/** Median aggregate MB/s of `PULLS` rounds, each round pulling once from every node at the same time. */
async function pullRate(nodes: RunningServer[], blob: PatternData): Promise<number> {
  const rounds: number[] = [];
  for (let i = 0; i < PULLS; i++) rounds.push((await Promise.all(nodes.map((s) => pullOnce(s, blob)))).reduce((a, b) => a + b, 0));
  return median(rounds);
}

try {
  const blob = new PatternData(BLOB, 1);
  const backends = await sharedBackends();
  const { db, bucket, client } = backends;
  // The S3 server on its own: the same bytes as a plain object, read by a presigned GET with the same client.
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'bench/direct', Body: Buffer.concat([...blob.slices()]) }));
  const directUrl = new URL(await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: 'bench/direct' }), { expiresIn: 3600 }));
  client.destroy();
  const config = await writeNodeConfig(join(dir, 'scale.yaml'), backends);

  const embedded = await start({});
  const nodeA = await start({ CARGOHOLD_CONFIG: config });
  await cp(join(nodeA.dataDir, 'keys'), join(dir, 'node-b', 'keys'), { recursive: true });
  const nodeB = await start({ CARGOHOLD_CONFIG: config }, join(dir, 'node-b'));
  await pushFixtures(embedded, blob);
  await pushFixtures(nodeA, blob);

  const rows: Array<[string, string, string, string]> = [];
  const m0 = await manifestLoad([embedded]);
  const m1 = await manifestLoad([nodeA]);
  const m2 = await manifestLoad([nodeA, nodeB]);
  // Filesystem and S3 pulls alternate, one of each per round, so drift in the shared machine's load hits both
  // alike; the ratio is the median of the per-round ratios.
  const fsRates: number[] = [];
  const s3Rates: number[] = [];
  const directRates: number[] = [];
  for (let i = 0; i < PULLS; i++) {
    fsRates.push(await pullOnce(embedded, blob));
    s3Rates.push(await pullOnce(nodeA, blob));
    directRates.push(await timedPull(directUrl, {}, blob));
  }
  const ratios = fsRates.map((f, i) => s3Rates[i]! / f);
  const p0 = median(fsRates);
  const p1 = median(s3Rates);
  const pullRatio = median(ratios);
  const directRatios = fsRates.map((f, i) => directRates[i]! / f);
  const p2 = await pullRate([nodeA, nodeB], blob);
  const fmt = (m: { rps: number; p99Ms: number; errors: number }) => `${Math.round(m.rps)} req/s (p99 ${m.p99Ms.toFixed(1)} ms, ${m.errors} errors)`;
  rows.push(['1 node, filesystem + SQLite', fmt(m0), `${p0.toFixed(0)} MB/s`, 'reference']);
  rows.push(['1 node, S3 + PostgreSQL', fmt(m1), `${p1.toFixed(0)} MB/s`, `pull ${(100 * pullRatio).toFixed(0)}% of filesystem (target ≥ 60%; rounds ${ratios.map((r) => `${(100 * r).toFixed(0)}%`).join(', ')})`]);
  rows.push(['S3 server alone (presigned GET, no cargohold)', '', `${median(directRates).toFixed(0)} MB/s`, `${(100 * median(directRatios)).toFixed(0)}% of the filesystem node (rounds ${directRatios.map((r) => `${(100 * r).toFixed(0)}%`).join(', ')}): the ceiling for any node over this S3`]);
  rows.push(['2 nodes, S3 + PostgreSQL', fmt(m2), `${p2.toFixed(0)} MB/s`, `manifest GETs ${(m2.rps / m1.rps).toFixed(2)}× one node (target ≥ 1.3×)`]);
  console.log(`\nscale-out: ${SECONDS} s of manifest GETs (${loadgen}, ${CONNECTIONS} connections in all), ${PULLS} pulls of a ${BLOB / MiB} MiB blob\n`);
  console.log('| setup | manifest GET by tag | blob pull | |');
  console.log('|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  await db.drop();
} finally {
  for (const s of servers) await s.stop().catch(() => undefined);
  await stopTestPostgres();
  await stopTestS3();
  await rm(dir, { recursive: true, force: true });
}
