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
    const authMetrics = server.name === 'cargohold' && !config.quick ? await authCost(ctx, image, measure, r.rps) : [];
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

type Measure = () => Promise<{ r: { rps: number }; cpuSeconds: number | null }>;

/**
 * The cost of authentication and authorization: the same build with `auth.enabled: false` on a second server,
 * measured alternately with the main one (off, on, off) so drift hits both; medians compared.
 */
async function authCost(ctx: Parameters<Scenario['run']>[0], image: ReturnType<typeof makeImage>, measureOn: Measure, firstOn: number): Promise<Metric[]> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-noauth-'));
  const file = join(dir, 'noauth.yaml');
  await writeFile(file, 'auth:\n  enabled: false\n');
  const off = await startCargohold({ args: ['--config', file], env: { CARGOHOLD_LOG_LEVEL: 'error' } });
  const client = new RegistryClient(off.url, undefined, undefined);
  try {
    const repo = 'bench/manifest-get';
    await client.pushImage(repo, 'latest', image, deadlineSignal(ctx));
    const measureOff = (async () => {
      const pid = off.process.pid!;
      pinProcess(pid, '1');
      try {
        const url = `${off.url}/v2/${repo}/manifests/latest`;
        const spec = { url, kind: { type: 'manifest' } as const, connections: ctx.config.manifestConnections };
        await runLoad(ctx.config.loadgen, { ...spec, durationSec: ctx.config.warmupSec });
        return (await runLoad(ctx.config.loadgen, { ...spec, durationSec: ctx.config.manifestDurationSec })).rps;
      } finally {
        pinProcess(pid, '0,1');
      }
    });
    const offRuns = [await measureOff()];
    const onRuns = [firstOn, (await measureOn()).r.rps];
    offRuns.push(await measureOff());
    const median = (xs: number[]) => { const v = [...xs].sort((a, b) => a - b); return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2; };
    const on = median(onRuns);
    const offRps = median(offRuns);
    ctx.details.authCost = { onRuns, offRuns };
    return [
      { key: 'rpsAuthOff', label: 'same build, auth off (median of 2)', unit: 'req/s', value: Math.round(offRps) },
      { key: 'authCost', label: 'auth cost (1 − on/off, medians)', unit: '%', value: round(Math.max(0, (1 - on / offRps) * 100), 1), target: { op: '<', value: 10 } },
    ];
  } finally {
    await client.close();
    await off.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
