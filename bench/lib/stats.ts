/** Percentile (nearest-rank) of an unsorted sample; NaN for an empty sample. */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

export const MB = 1e6;

/** Bytes per second → MB/s (1 MB = 10^6 bytes). */
export function mbPerSec(bytes: number, ms: number): number {
  return bytes / MB / (ms / 1000);
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Runs `worker` over items 0..count-1 with `concurrency` parallel loops; stops early at the deadline. */
export async function runPool(count: number, concurrency: number, deadline: number, worker: (index: number) => Promise<void>): Promise<number> {
  let next = 0;
  let done = 0;
  let failure: unknown;
  const loop = async (): Promise<void> => {
    while (failure === undefined && next < count && performance.now() < deadline) {
      const i = next++;
      try {
        await worker(i);
        done++;
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, loop));
  if (failure !== undefined) throw failure;
  if (done < count) throw new Error(`time limit reached after ${done} of ${count}`);
  return done;
}
