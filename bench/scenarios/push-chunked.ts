import { PatternData } from '../lib/data.ts';
import { RssSampler, toMiB, type RssReport } from '../lib/proc.ts';
import { MB, mbPerSec, median, round } from '../lib/stats.ts';
import type { Scenario } from '../lib/types.ts';
import { checkDeadline, cpuMeter, cpuMetric, deadlineSignal, rssDetails, rssGrowthMetric, syncDisks } from './common.ts';

/** 2. POST, PATCH fixed-size chunks with Content-Range (each to the Location the previous answer gave), PUT ?digest=. */
export const pushChunked: Scenario = {
  id: 2,
  title: 'chunked push',
  describe: (c) => `${toMiB(c.chunkedBytes)} MiB blob, POST + PATCH ${toMiB(c.chunkBytes)} MiB chunks with Content-Range + PUT ?digest=; median of ${c.bigRepeats}`,
  async run(ctx) {
    const { config, client, server } = ctx;
    const repo = 'bench/chunked';
    const blobs = Array.from({ length: config.bigRepeats }, (_, i) => new PatternData(config.chunkedBytes, 100 + i));
    for (const b of blobs) b.digest();
    const rates: number[] = [];
    const sampler = new RssSampler(server.pid).start();
    let rss: RssReport;
    let cpuSeconds: number | null = 0;
    try {
      for (const blob of blobs) {
        checkDeadline(ctx, 'chunked push');
        await syncDisks();
        const signal = deadlineSignal(ctx);
        const cpu = cpuMeter(server.pid);
        const t0 = performance.now();
        let upload = await client.startUpload(repo, signal);
        for (let offset = 0; offset < blob.size; offset += config.chunkBytes) {
          const length = Math.min(config.chunkBytes, blob.size - offset);
          upload = await client.patchChunk(upload, offset, length, blob.stream(offset, length), signal);
        }
        await client.finishUpload(upload, blob.digest(), null, 0, signal);
        rates.push(mbPerSec(blob.size, performance.now() - t0));
        const used = cpu();
        cpuSeconds = cpuSeconds === null || used === null ? null : cpuSeconds + used;
      }
    } finally {
      rss = sampler.stop();
      ctx.details.rss = rssDetails(rss);
      ctx.details.ratesMBps = rates.map((r) => round(r));
    }
    return [
      { key: 'rate', label: 'throughput', unit: 'MB/s', value: round(median(rates)) },
      rssGrowthMetric('rss', 'server peak RSS growth', rss),
      cpuMetric('cpu', 'server CPU per GB', cpuSeconds, (rates.length * config.chunkedBytes) / (1000 * MB), 's'),
    ];
  },
};
