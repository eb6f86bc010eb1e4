import { KiB, randomBlob } from '../lib/data.ts';
import { percentile, round, runPool } from '../lib/stats.ts';
import type { Scenario } from '../lib/types.ts';
import { cpuMeter, cpuMetric, deadlineSignal } from './common.ts';

/** 4. Many small blobs (POST + PUT ?digest= each) from concurrent clients. */
export const smallBlobs: Scenario = {
  id: 4,
  title: 'small blob push',
  describe: (c) => `${c.smallBlobs} blobs of ${c.smallBlobMinBytes / KiB}–${c.smallBlobMaxBytes / KiB} KiB, POST + PUT each, ${c.smallBlobConcurrency} concurrent`,
  async run(ctx) {
    const { config, client } = ctx;
    const blobs = Array.from({ length: config.smallBlobs }, () => randomBlob(config.smallBlobMinBytes, config.smallBlobMaxBytes));
    const latencies = new Float64Array(blobs.length);
    const signal = deadlineSignal(ctx);
    const cpu = cpuMeter(ctx.server.pid);
    const t0 = performance.now();
    await runPool(blobs.length, config.smallBlobConcurrency, ctx.deadline, async (i) => {
      const s = performance.now();
      await client.pushSmallBlob('bench/small-blobs', blobs[i], signal);
      latencies[i] = performance.now() - s;
    });
    const sec = (performance.now() - t0) / 1000;
    const cpuSeconds = cpu();
    ctx.details.seconds = round(sec, 3);
    ctx.details.pushLatencyMs = { p50: round(percentile(latencies, 50), 2), p99: round(percentile(latencies, 99), 2) };
    return [
      { key: 'rate', label: 'blobs per second', unit: 'blobs/s', value: round(blobs.length / sec) },
      { key: 'p99', label: 'p99 per blob (POST+PUT)', unit: 'ms', value: round(percentile(latencies, 99), 2) },
      cpuMetric('cpu', 'server CPU per blob', cpuSeconds, blobs.length, 'ms'),
    ];
  },
};
