/**
 * `node --import tsx bench/scale-out/s3-far.ts [--blob-mib 128] [--mbps 40] [--rtt-ms 20] [--pulls 3]` (`--mbps 0`: no limit)
 *
 * Blob pulls from an S3 that is far away, where one connection carries only so much: the same local Ceph RGW
 * as the other benches, reached through a proxy that holds every connection to `--mbps` MB/s and delays its
 * first byte by `--rtt-ms` (an S3 endpoint across a network, whose single-stream throughput is what limits a
 * pull). Nodes with `storage.s3.reads.parallelGets` 1, 3 and 6 pull the same blob in alternated
 * rounds; the table shows what reading windows in parallel buys (docs/deployment.md, "Blob reads over S3").
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { parseArgs } from 'node:util';
import { stopTestPostgres } from '../../test/helpers/postgres.ts';
import { stopTestS3 } from '../../test/helpers/s3.ts';
import { startCargohold, type RunningServer } from '../../test/helpers/server.ts';
import { RegistryClient } from '../lib/client.ts';
import { MiB, PatternData } from '../lib/data.ts';
import { median } from '../lib/stats.ts';
import { sharedBackends, timedPull, writeNodeConfig } from './shared.ts';

const { values } = parseArgs({
  options: {
    'blob-mib': { type: 'string', default: '128' },
    mbps: { type: 'string', default: '40' },
    'rtt-ms': { type: 'string', default: '20' },
    pulls: { type: 'string', default: '3' },
  },
});
const BLOB = Number(values['blob-mib']) * MiB;
const RATE = Number(values.mbps) * 1e6;
const RTT = Number(values['rtt-ms']);
const PULLS = Number(values.pulls);
const SETTINGS = [1, 3, 6];

/** A TCP proxy to `target` that delays each connection's first answer by RTT and holds it to RATE bytes/s. */
function slowProxy(target: URL): Promise<{ server: Server; port: number }> {
  const server = createServer((client: Socket) => {
    const upstream = connect(Number(target.port), target.hostname);
    let paidUntil = -1; // when the bytes sent so far are paid for, at RATE
    const throttle = new Transform({
      transform(chunk: Buffer, _enc, done) {
        const now = performance.now();
        if (paidUntil < 0) paidUntil = now + RTT;
        paidUntil = Math.max(paidUntil, now) + (chunk.length / RATE) * 1000;
        setTimeout(() => done(null, chunk), paidUntil - now);
      },
    });
    const close = () => { client.destroy(); upstream.destroy(); };
    client.pipe(upstream);
    if (RATE > 0) upstream.pipe(throttle).pipe(client);
    else upstream.pipe(client);
    client.on('close', close); // the answer's last bytes may still sit in the throttle when S3 closes: that ends the client
    upstream.on('error', close);
    client.on('error', close);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })));
}

const servers: RunningServer[] = [];
const dir = await mkdtemp(join(tmpdir(), 'cargohold-bench-far-'));
let proxy: Server | undefined;
try {
  const blob = new PatternData(BLOB, 3);
  const backends = await sharedBackends();
  const { db, s3 } = backends;
  backends.client.destroy();
  const p = await slowProxy(new URL(s3.endpoint));
  proxy = p.server;
  const nodes: Array<{ parallel: number; node: RunningServer }> = [];
  for (const parallel of SETTINGS) {
    const config = await writeNodeConfig(join(dir, `far-${parallel}.yaml`), backends, { endpoint: `http://127.0.0.1:${p.port}`, reads: { parallelGets: parallel } });
    const dataDir = join(dir, `node-${parallel}`);
    if (nodes.length > 0) await cp(join(nodes[0]!.node.dataDir, 'keys'), join(dataDir, 'keys'), { recursive: true });
    const node = await startCargohold({ dataDir, env: { CARGOHOLD_LOG_LEVEL: 'error', CARGOHOLD_CONFIG: config } });
    servers.push(node);
    nodes.push({ parallel, node });
  }
  const first = nodes[0]!.node;
  await new RegistryClient(first.url, 8, first.authorization).pushBlob('bench/far', blob.digest(), blob.stream(), blob.size);
  const rates = new Map<number, number[]>(SETTINGS.map((n) => [n, []]));
  for (let round = 0; round < PULLS; round++) {
    for (const { parallel, node } of nodes) {
      rates.get(parallel)!.push(await timedPull(new URL(`${node.url}/v2/bench/far/blobs/${blob.digest()}`), { authorization: node.authorization! }, blob));
    }
  }
  console.log(`\nS3 at ${RATE / 1e6} MB/s per connection, ${RTT} ms to first byte; ${PULLS} alternated pulls of a ${BLOB / MiB} MiB blob (encryption on)\n`);
  console.log('| storage.s3.reads.parallelGets | blob pull (median) | rounds |');
  console.log('|---:|---:|---|');
  for (const n of SETTINGS) console.log(`| ${n} | ${median(rates.get(n)!).toFixed(0)} MB/s | ${rates.get(n)!.map((r) => r.toFixed(0)).join(', ')} |`);
  await db.drop();
} finally {
  for (const s of servers) await s.stop().catch(() => undefined);
  proxy?.close();
  await stopTestPostgres();
  await stopTestS3();
  await rm(dir, { recursive: true, force: true });
}
