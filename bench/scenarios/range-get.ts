import { runLoad } from '../lib/loadgen.ts';
import { RssSampler, toMiB } from '../lib/proc.ts';
import { MB, round } from '../lib/stats.ts';
import type { Scenario } from '../lib/types.ts';
import { cpuMeter, cpuMetric, ensureBigBlob, rssDetails, rssGrowthMetric } from './common.ts';

/** 7. Random 1 MiB Range GETs of the big blob; the server's RSS must stay flat. */
export const rangeGet: Scenario = {
  id: 7,
  title: 'Range GET',
  describe: (c) => `random ${toMiB(c.rangeBytes)} MiB ranges of the ${toMiB(c.bigBlobBytes)} MiB blob, ${c.rangeConnections} connections for ${c.rangeDurationSec} s (${c.loadgen}); VmRSS before/after`,
  async run(ctx) {
    const { config, client, server } = ctx;
    const big = await ensureBigBlob(ctx);
    // Untimed check that the server honours Range: 206, exact length, right bytes.
    const start = Math.floor(big.data.size / 3) + 12345;
    const probe = await client.getBlob(big.repo, big.digest, { start, length: config.rangeBytes });
    if (probe.bytes !== config.rangeBytes || probe.hex !== big.data.rangeHex(start, config.rangeBytes)) throw new Error('Range GET returned the wrong bytes');

    const url = `${server.url}/v2/${big.repo}/blobs/${big.digest}`;
    const sampler = new RssSampler(server.pid).start();
    const cpu = cpuMeter(server.pid);
    const r = await runLoad(config.loadgen, {
      url,
      kind: { type: 'range', blobSize: big.data.size, rangeBytes: config.rangeBytes },
      connections: config.rangeConnections,
      durationSec: config.rangeDurationSec,
      authorization: server.authorization,
    });
    const cpuSeconds = cpu();
    const rss = sampler.stop();
    ctx.details.load = r;
    ctx.details.rss = rssDetails(rss);
    const perRequest = r.requests ? r.bytes / r.requests : 0;
    // Each response must be the range (plus headers), not the whole blob. The byte count also holds the
    // responses still in flight when the run stopped (up to one range per connection), so allow for those.
    const inFlight = r.requests ? (config.rangeConnections * config.rangeBytes) / r.requests : 0;
    if (r.requests && (perRequest < config.rangeBytes || perRequest > config.rangeBytes + 8192 + inFlight)) throw new Error(`responses average ${Math.round(perRequest)} bytes, not ${config.rangeBytes}`);
    return [
      { key: 'rps', label: 'requests per second', unit: 'req/s', value: Math.round(r.rps), target: { op: '>=', value: 1000 } },
      { key: 'mbps', label: 'throughput', unit: 'MB/s', value: round(r.bytes / MB / r.durationSec) },
      { key: 'p99', label: 'latency p99', unit: 'ms', value: round(r.p99Ms, 2) },
      { key: 'errors', label: 'errors / non-2xx', unit: 'count', value: r.errors, target: { op: '<', value: 1 } },
      cpuMetric('cpu', 'server CPU per request', cpuSeconds, r.requests, 'µs'),
      { key: 'rssBefore', label: 'server RSS before', unit: 'MiB', value: toMiB(rss.beforeBytes) },
      { key: 'rssAfter', label: 'server RSS after', unit: 'MiB', value: toMiB(rss.afterBytes) },
      rssGrowthMetric('rssGrowth', 'server RSS growth (after − before)', rss, 'after'),
    ];
  },
};
