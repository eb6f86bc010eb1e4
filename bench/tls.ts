/**
 * `node --import tsx bench/tls.ts [--seconds N] [--rounds N] [--connections N]`
 *
 * The cost of HTTPS (docs/security.md): two cargohold servers of this build, one plain HTTP and one with a
 * certificate from `cargohold tls self-signed`, each holding one small image. A closed loop of manifest GETs by tag
 * (the hottest request a registry serves) runs against each, alternating plain/TLS per round so drift in a shared
 * machine's load hits both alike: with keep-alive connections (what docker, containerd and the SDKs do), and over
 * TLS with a new connection per request (`Connection: close`), which shows what keep-alive saves. Prints req/s
 * medians and the TLS/plain ratio; writes JSON to bench/results/tls-<timestamp>.json. Not a test.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSelfSigned } from '../src/tls/self-signed.ts';
import { makeImage, OciClient } from '../test/helpers/oci-client.ts';
import { startCargohold, type RunningServer } from '../test/helpers/server.ts';

const RESULTS_DIR = new URL('./results/', import.meta.url).pathname;
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';
const log = (m: string) => process.stderr.write(`[bench:tls] ${m}\n`);

/** Requests per second of a closed loop of manifest GETs on `connections` connections for `seconds`. */
async function load(s: RunningServer, ca: string, connections: number, seconds: number, keepAlive: boolean): Promise<{ rps: number; errors: number }> {
  // Imported late: loading undici installs its dispatcher as the global one, which Node 20's own fetch (the test
  // client that pushes the image) cannot use.
  const { Pool } = await import('undici');
  const pool = new Pool(s.url, { connections, connect: { ca }, pipelining: 1 });
  const path = '/v2/bench/tls/manifests/latest';
  const headers = { authorization: s.authorization!, accept: ACCEPT, ...(keepAlive ? {} : { connection: 'close' }) };
  let done = 0;
  let errors = 0;
  const until = Date.now() + seconds * 1000;
  const worker = async () => {
    while (Date.now() < until) {
      try {
        const r = await pool.request({ method: 'GET', path, headers, reset: !keepAlive });
        await r.body.arrayBuffer();
        if (r.statusCode === 200) done++;
        else errors++;
      } catch {
        errors++;
      }
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsed = (Date.now() - started) / 1000;
  await pool.close();
  return { rps: Math.round(done / elapsed), errors };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' }, connections: { type: 'string', default: '32' } }, strict: true });
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  const connections = Number(values.connections);
  const dir = await mkdtemp(join(tmpdir(), 'cargohold-bench-tls-'));
  const bundle = await createSelfSigned({ host: 'localhost' });
  await writeFile(join(dir, 'server.crt'), bundle.serverCert);
  await writeFile(join(dir, 'server.key'), bundle.serverKey);
  const env = { CARGOHOLD_LOG_LEVEL: 'error' };
  const plain = await startCargohold({ env });
  await new OciClient(plain.url, { authorization: plain.authorization }).pushImage('bench/tls', makeImage(), 'latest');
  // The TLS server reads the same data directory (it only serves reads here).
  const tls = await startCargohold({ env, dataDir: plain.dataDir, tls: { cert: join(dir, 'server.crt'), key: join(dir, 'server.key') } });
  const samples: Record<string, number[]> = { plain: [], tls: [], 'tls, new connection per request': [] };
  try {
    for (let round = 0; round < rounds; round++) {
      const order: Array<[string, RunningServer, boolean]> = round % 2 === 0
        ? [['plain', plain, true], ['tls', tls, true], ['tls, new connection per request', tls, false]]
        : [['tls, new connection per request', tls, false], ['tls', tls, true], ['plain', plain, true]];
      for (const [name, s, keepAlive] of order) {
        const r = await load(s, bundle.caCert, connections, seconds, keepAlive);
        log(`round ${round + 1} ${name}: ${r.rps} req/s${r.errors ? `, ${r.errors} errors` : ''}`);
        samples[name]!.push(r.rps);
      }
    }
  } finally {
    await plain.stop();
    await tls.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const base = median(samples.plain!);
  const rows = Object.entries(samples).map(([name, xs]) => `| ${name} | ${median(xs)} | ${Math.round((median(xs) / base) * 100)} % |`);
  process.stdout.write([`manifest GET by tag, ${connections} connections, ${seconds} s × ${rounds} rounds (median req/s)`, '', '| mode | req/s | of plain |', '|---|---|---|', ...rows, ''].join('\n'));
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(join(RESULTS_DIR, `tls-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ connections, seconds, rounds, samples }, null, 2));
}

await main();
