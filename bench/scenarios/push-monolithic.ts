import { PatternData } from '../lib/data.ts';
import { RssSampler, toMiB, type RssReport } from '../lib/proc.ts';
import { MB, mbPerSec, median, round } from '../lib/stats.ts';
import type { Scenario } from '../lib/types.ts';
import { checkDeadline, cpuMeter, cpuMetric, deadlineSignal, rssDetails, rssGrowthMetric, syncDisks } from './common.ts';

/** 1. POST, then one PUT ?digest= whose body is streamed from a generator (digest precomputed by a streaming pass). */
export const pushMonolithic: Scenario = {
  id: 1,
  title: 'monolithic push',
  describe: (c) => `${toMiB(c.bigBlobBytes)} MiB blob, POST + PUT ?digest= with the body streamed from a generator; median of ${c.bigRepeats} (a different blob each time)`,
  async run(ctx) {
    const { config, client, server } = ctx;
    const repo = 'bench/big';
    const blobs = Array.from({ length: config.bigRepeats }, (_, i) => new PatternData(config.bigBlobBytes, i + 1));
    for (const b of blobs) b.digest(); // the streaming digest pass, untimed
    const rates: number[] = [];
    const sampler = new RssSampler(server.pid).start();
    let rss: RssReport;
    let cpuSeconds: number | null = 0;
    try {
      for (const blob of blobs) {
        checkDeadline(ctx, 'monolithic push');
        await syncDisks();
        const cpu = cpuMeter(server.pid);
        const t0 = performance.now();
        await client.pushBlob(repo, blob.digest(), blob.stream(), blob.size, deadlineSignal(ctx));
        rates.push(mbPerSec(blob.size, performance.now() - t0));
        const used = cpu();
        cpuSeconds = cpuSeconds === null || used === null ? null : cpuSeconds + used;
      }
    } finally {
      rss = sampler.stop();
      ctx.details.rss = rssDetails(rss);
      ctx.details.ratesMBps = rates.map((r) => round(r));
    }
    // Scenarios 3 and 7 read this blob back.
    ctx.state.bigBlob = { repo, data: blobs[0], digest: blobs[0].digest() };
    return [
      { key: 'rate', label: 'throughput', unit: 'MB/s', value: round(median(rates)), target: { op: '>=', value: 400 } },
      rssGrowthMetric('rss', 'server peak RSS growth', rss),
      cpuMetric('cpu', 'server CPU per GB', cpuSeconds, (rates.length * config.bigBlobBytes) / (1000 * MB), 's'),
    ];
  },
};
