import { KiB, MiB } from './data.ts';
import type { BenchConfig } from './types.ts';

/** Sizes for the full run (the numbers the targets are about) and for --quick smoke runs. */
export function makeConfig(quick: boolean, loadgen: 'wrk' | 'undici'): BenchConfig {
  const common = {
    quick,
    loadgen,
    chunkBytes: 8 * MiB,
    smallBlobConcurrency: 32,
    smallBlobMinBytes: 1 * KiB,
    smallBlobMaxBytes: 16 * KiB,
    imageConcurrency: 8,
    manifestConnections: 64,
    rangeConnections: 32,
    rangeBytes: 1 * MiB,
    tagSetupConcurrency: 16,
    pageSize: 100,
  };
  if (quick) {
    return {
      ...common,
      bigBlobBytes: 64 * MiB,
      bigRepeats: 1,
      chunkedBytes: 32 * MiB,
      smallBlobs: 200,
      images: 20,
      manifestDurationSec: 3,
      warmupSec: 1,
      rangeDurationSec: 3,
      tags: 1000,
      fullListRepeats: 3,
      pageWalks: 1,
      scenarioTimeoutMs: 120_000,
    };
  }
  return {
    ...common,
    bigBlobBytes: 512 * MiB,
    bigRepeats: 3,
    chunkedBytes: 256 * MiB,
    smallBlobs: 2000,
    images: 200,
    manifestDurationSec: 10,
    warmupSec: 2,
    rangeDurationSec: 10,
    tags: 10_000,
    fullListRepeats: 10,
    pageWalks: 3,
    scenarioTimeoutMs: 300_000,
  };
}
