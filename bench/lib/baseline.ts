import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PatternData } from './data.ts';
import { mbPerSec, round } from './stats.ts';

export interface Baseline {
  /** sha256 on one core over pattern data, MB/s. */
  sha256MBps: number;
  /** Writing a file in the temp directory (where both servers keep their data) and fsync, MB/s. */
  diskWriteFsyncMBps: number;
  bytes: number;
}

/**
 * What the machine itself can do, measured the same run: context for the push and pull targets (a server that
 * fsyncs before answering 201 cannot push faster than the disk's write+fsync rate).
 */
export async function measureBaseline(bytes: number): Promise<Baseline> {
  const data = new PatternData(bytes, 7);
  let t0 = performance.now();
  data.digest();
  const sha256MBps = round(mbPerSec(bytes, performance.now() - t0), 0);

  const file = join(tmpdir(), `bench-disk-${process.pid}.bin`);
  try {
    const fh = await open(file, 'w');
    try {
      t0 = performance.now();
      for (const chunk of data.slices()) await fh.write(chunk);
      await fh.sync();
    } finally {
      await fh.close();
    }
    const diskWriteFsyncMBps = round(mbPerSec(bytes, performance.now() - t0), 0);
    return { sha256MBps, diskWriteFsyncMBps, bytes };
  } finally {
    await rm(file, { force: true });
  }
}
