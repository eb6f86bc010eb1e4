import { RssSampler, toMiB, type RssReport } from '../lib/proc.ts';
import { MB, mbPerSec, median, round } from '../lib/stats.ts';
import type { Scenario } from '../lib/types.ts';
import { checkDeadline, cpuMeter, cpuMetric, deadlineSignal, ensureBigBlob, rssDetails, rssGrowthMetric } from './common.ts';

/** 3. GET the big blob, consuming it through sha256 and checking the digest. */
export const pull: Scenario = {
  id: 3,
  title: 'blob pull',
  describe: (c) => `GET the ${toMiB(c.bigBlobBytes)} MiB blob, hashing the body as it arrives (lean socket reader; digest checked); median of ${c.bigRepeats}`,
  async run(ctx) {
    const { config, client, server } = ctx;
    const big = await ensureBigBlob(ctx);
    const rates: number[] = [];
    const sampler = new RssSampler(server.pid).start();
    const cpu = cpuMeter(server.pid);
    let rss: RssReport;
    try {
      for (let i = 0; i < config.bigRepeats; i++) {
        checkDeadline(ctx, 'pull');
        const t0 = performance.now();
        const { bytes, hex } = await client.pullBlobFast(big.repo, big.digest, deadlineSignal(ctx));
        const ms = performance.now() - t0;
        if (bytes !== big.data.size || `sha256:${hex}` !== big.digest) throw new Error(`pulled ${bytes} bytes with digest sha256:${hex}, expected ${big.data.size} / ${big.digest}`);
        rates.push(mbPerSec(bytes, ms));
      }
    } finally {
      rss = sampler.stop();
      ctx.details.rss = rssDetails(rss);
      ctx.details.ratesMBps = rates.map((r) => round(r));
    }
    return [
      { key: 'rate', label: 'throughput', unit: 'MB/s', value: round(median(rates)), target: { op: '>=', value: 900 } },
      rssGrowthMetric('rss', 'server peak RSS growth', rss),
      cpuMetric('cpu', 'server CPU per GB', cpu(), (rates.length * big.data.size) / (1000 * MB), 's'),
    ];
  },
};
