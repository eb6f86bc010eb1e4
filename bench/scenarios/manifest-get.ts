import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCargohold } from '../../test/helpers/server.ts';
import { RegistryClient } from '../lib/client.ts';
import { MEDIA, makeImage } from '../lib/data.ts';
import { pinProcess } from '../lib/pin.ts';
import { runLoad } from '../lib/loadgen.ts';
import { round } from '../lib/stats.ts';
import type { Metric, Scenario } from '../lib/types.ts';
import { cpuMeter, cpuMetric, deadlineSignal } from './common.ts';

/** 6. GET /v2/<repo>/manifests/<tag> with the standard Accept header, closed loop, fixed duration. */
export const manifestGet: Scenario = {
  id: 6,
  title: 'manifest GET by tag',
  describe: (c) => `${c.manifestConnections} connections for ${c.manifestDurationSec} s after a ${c.warmupSec} s warm-up (${c.loadgen})`,
  async run(ctx) {
    const { config, client, server } = ctx;
    const repo = 'bench/manifest-get';
    const image = makeImage(0, 2, 1024, 4096);
    await client.pushImage(repo, 'latest', image, deadlineSignal(ctx));
    const got = await client.getManifest(repo, 'latest');
    if (!got.body.equals(image.manifest.data)) throw new Error('GET by tag returned a different manifest');
    if (got.contentType !== MEDIA.ociManifest) throw new Error(`manifest Content-Type ${got.contentType}`);
    if (got.digest !== image.manifest.digest) throw new Error(`Docker-Content-Digest ${got.digest}`);

    const url = `${server.url}/v2/${repo}/manifests/latest`;
    const kind = { type: 'manifest' } as const;
    const authorization = server.authorization;
    const load = (target: string, pid: number, auth: string | undefined) => async () => {
      pinProcess(pid, '1');
      try {
        await runLoad(config.loadgen, { url: target, kind, connections: config.manifestConnections, durationSec: config.warmupSec, authorization: auth });
        const cpu = cpuMeter(pid);
        const r = await runLoad(config.loadgen, { url: target, kind, connections: config.manifestConnections, durationSec: config.manifestDurationSec, authorization: auth });
        return { r, cpuSeconds: cpu() };
      } finally {
        pinProcess(pid, '0,1');
      }
    };
    const measure = load(url, server.pid, authorization);
    const { r, cpuSeconds } = await measure();
    ctx.details.load = r;
    const perRequest = r.requests ? r.bytes / r.requests : 0;
    if (r.requests && perRequest < image.manifest.data.length) throw new Error(`responses average ${round(perRequest)} bytes, smaller than the manifest`);
    const authMetrics = server.name === 'cargohold' && !config.quick ? await authCost(ctx, image) : [];
    return [
      { key: 'rps', label: 'requests per second', unit: 'req/s', value: Math.round(r.rps), target: { op: '>=', value: 8000 } },
      { key: 'p50', label: 'latency p50', unit: 'ms', value: round(r.p50Ms, 2) },
      { key: 'p99', label: 'latency p99', unit: 'ms', value: round(r.p99Ms, 2), target: { op: '<', value: 25 } },
      { key: 'errors', label: 'errors / non-2xx', unit: 'count', value: r.errors, target: { op: '<', value: 1 } },
      cpuMetric('cpu', 'server CPU per request', cpuSeconds, r.requests, 'µs'),
      ...authMetrics,
    ];
  },
};

/**
 * The cost of authentication and authorization: two fresh servers of the same build, one with `auth.enabled:
 * false`, given the same image and measured alternately (on, off, on, off) so drift hits both; medians
 * compared. Fresh servers on both sides: the main server has served the big pushes by then, which is not the
 * state the auth-off server is in.
 */
async function authCost(ctx: Parameters<Scenario['run']>[0], image: ReturnType<typeof makeImage>): Promise<Metric[]> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-noauth-'));
  const file = join(dir, 'noauth.yaml');
  await writeFile(file, 'auth:\n  enabled: false\n');
  const on = await startCargohold({ env: { CARGOHOLD_LOG_LEVEL: 'error' } });
  const off = await startCargohold({ args: ['--config', file], env: { CARGOHOLD_LOG_LEVEL: 'error' } });
  const clients = [new RegistryClient(on.url, undefined, on.authorization), new RegistryClient(off.url, undefined, undefined)];
  const repo = 'bench/manifest-get';
  try {
    for (const c of clients) await c.pushImage(repo, 'latest', image, deadlineSignal(ctx));
    const measure = async (server: typeof on, authorization: string | undefined) => {
      const pid = server.process.pid!;
      pinProcess(pid, '1');
      try {
        const spec = { url: `${server.url}/v2/${repo}/manifests/latest`, kind: { type: 'manifest' } as const, connections: ctx.config.manifestConnections, authorization };
        await runLoad(ctx.config.loadgen, { ...spec, durationSec: ctx.config.warmupSec });
        return (await runLoad(ctx.config.loadgen, { ...spec, durationSec: ctx.config.manifestDurationSec })).rps;
      } finally {
        pinProcess(pid, '0,1');
      }
    };
    const onRuns: number[] = [];
    const offRuns: number[] = [];
    for (let i = 0; i < 2; i++) {
      onRuns.push(await measure(on, on.authorization));
      offRuns.push(await measure(off, undefined));
    }
    const median = (xs: number[]) => { const v = [...xs].sort((a, b) => a - b); return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2; };
    const onRps = median(onRuns);
    const offRps = median(offRuns);
    ctx.details.authCost = { onRuns, offRuns };
    return [
      { key: 'rpsAuthOn', label: 'fresh server, auth on (median of 2)', unit: 'req/s', value: Math.round(onRps) },
      { key: 'rpsAuthOff', label: 'fresh server, auth off (median of 2)', unit: 'req/s', value: Math.round(offRps) },
      { key: 'authCost', label: 'auth cost (1 − on/off)', unit: '%', value: round(Math.max(0, (1 - onRps / offRps) * 100), 1), target: { op: '<', value: 10 } },
    ];
  } finally {
    for (const c of clients) await c.close();
    await on.stop();
    await off.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
