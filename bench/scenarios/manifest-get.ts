import { MEDIA, makeImage } from '../lib/data.ts';
import { runLoad } from '../lib/loadgen.ts';
import { round } from '../lib/stats.ts';
import type { Scenario } from '../lib/types.ts';
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
    await runLoad(config.loadgen, { url, kind, connections: config.manifestConnections, durationSec: config.warmupSec, authorization });
    const cpu = cpuMeter(server.pid);
    const r = await runLoad(config.loadgen, { url, kind, connections: config.manifestConnections, durationSec: config.manifestDurationSec, authorization });
    const cpuSeconds = cpu();
    ctx.details.load = r;
    const perRequest = r.requests ? r.bytes / r.requests : 0;
    if (r.requests && perRequest < image.manifest.data.length) throw new Error(`responses average ${round(perRequest)} bytes, smaller than the manifest`);
    return [
      { key: 'rps', label: 'requests per second', unit: 'req/s', value: Math.round(r.rps), target: { op: '>=', value: 8000 } },
      { key: 'p50', label: 'latency p50', unit: 'ms', value: round(r.p50Ms, 2) },
      { key: 'p99', label: 'latency p99', unit: 'ms', value: round(r.p99Ms, 2), target: { op: '<', value: 25 } },
      { key: 'errors', label: 'errors / non-2xx', unit: 'count', value: r.errors, target: { op: '<', value: 1 } },
      cpuMetric('cpu', 'server CPU per request', cpuSeconds, r.requests, 'µs'),
    ];
  },
};
