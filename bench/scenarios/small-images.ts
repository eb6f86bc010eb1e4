import { KiB, makeImage } from '../lib/data.ts';
import { round, runPool } from '../lib/stats.ts';
import type { Scenario } from '../lib/types.ts';
import { cpuMeter, cpuMetric, deadlineSignal } from './common.ts';

/** 5. Small images: config + 2 layers (POST + PUT each), then the manifest PUT by tag. */
export const smallImages: Scenario = {
  id: 5,
  title: 'small image push',
  describe: (c) => `${c.images} images (config + 2 layers of ${c.smallBlobMinBytes / KiB}–${c.smallBlobMaxBytes / KiB} KiB + manifest PUT by tag), ${c.imageConcurrency} concurrent`,
  async run(ctx) {
    const { config, client } = ctx;
    const repo = 'bench/images';
    const images = Array.from({ length: config.images }, (_, i) => makeImage(i, 2, config.smallBlobMinBytes, config.smallBlobMaxBytes));
    const signal = deadlineSignal(ctx);
    const cpu = cpuMeter(ctx.server.pid);
    const t0 = performance.now();
    await runPool(images.length, config.imageConcurrency, ctx.deadline, async (i) => {
      await client.pushImage(repo, `v${i}`, images[i], signal);
    });
    const sec = (performance.now() - t0) / 1000;
    const cpuSeconds = cpu();
    ctx.details.seconds = round(sec, 3);
    // Untimed spot check: the last tag resolves to the manifest we pushed.
    const last = images.length - 1;
    const got = await client.getManifest(repo, `v${last}`);
    if (!got.body.equals(images[last].manifest.data)) throw new Error(`GET ${repo}:v${last} returned a different manifest`);
    return [
      { key: 'rate', label: 'images per second', unit: 'images/s', value: round(images.length / sec, 1) },
      cpuMetric('cpu', 'server CPU per image', cpuSeconds, images.length, 'ms'),
    ];
  },
};
