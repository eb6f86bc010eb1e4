import { spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { PatternData } from '../lib/data.ts';
import { readCpuSeconds, track, type RssReport, toMiB } from '../lib/proc.ts';
import type { Metric, ScenarioContext } from '../lib/types.ts';

/** An AbortSignal that fires at the scenario's deadline. */
export function deadlineSignal(ctx: ScenarioContext): AbortSignal {
  const signal = AbortSignal.timeout(Math.max(1, Math.round(ctx.deadline - performance.now())));
  setMaxListeners(0, signal); // shared by many concurrent requests
  return signal;
}

export function checkDeadline(ctx: ScenarioContext, what: string): void {
  if (performance.now() > ctx.deadline) throw new Error(`time limit reached during ${what}`);
}

/**
 * Flushes dirty pages before a timed write, so one server's push does not pay for the write-back of the
 * previous one (the servers run one after the other on the same disk). Bounded to 60 s.
 */
export async function syncDisks(): Promise<void> {
  await new Promise<void>((resolve) => {
    const child = track(spawn('sync', [], { stdio: 'ignore' }));
    const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', () => resolve());
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** The big blob used by scenarios 1, 3 and 7: pushed by scenario 1, or here (untimed) when 1 was skipped. */
export async function ensureBigBlob(ctx: ScenarioContext): Promise<{ repo: string; data: PatternData; digest: string }> {
  if (!ctx.state.bigBlob) {
    const data = new PatternData(ctx.config.bigBlobBytes, 1);
    const digest = data.digest();
    ctx.log(`setup: pushing ${toMiB(data.size)} MiB blob`);
    await ctx.client.pushBlob('bench/big', digest, data.stream(), data.size, deadlineSignal(ctx));
    ctx.state.bigBlob = { repo: 'bench/big', data, digest };
  }
  return ctx.state.bigBlob;
}

/** The streaming requirement: server RSS may grow by less than 50 MiB over the scenario. */
export const RSS_LIMIT_MIB = 50;

export function rssGrowthMetric(key: string, label: string, rss: RssReport, use: 'peak' | 'after' = 'peak'): Metric {
  const top = use === 'peak' ? rss.peakBytes : rss.afterBytes;
  return { key, label, unit: 'MiB', value: toMiB(Math.max(0, top - rss.beforeBytes)), target: { op: '<', value: RSS_LIMIT_MIB } };
}

export function rssDetails(rss: RssReport): Record<string, number> {
  return { beforeMiB: toMiB(rss.beforeBytes), peakMiB: toMiB(rss.peakBytes), afterMiB: toMiB(rss.afterBytes), samples: rss.samples };
}

/**
 * Server CPU (user + system, from /proc/<pid>/stat) spent between now and the call of the returned function.
 * Normalised per unit of work it is a load-independent companion to the throughput numbers on a shared machine.
 */
export function cpuMeter(pid: number): () => number | null {
  const c0 = readCpuSeconds(pid);
  return () => {
    const c1 = readCpuSeconds(pid);
    return c0 !== null && c1 !== null ? c1 - c0 : null;
  };
}

export function cpuMetric(key: string, label: string, cpuSeconds: number | null, units: number, unit: 's' | 'ms' | 'µs'): Metric {
  const scale = unit === 's' ? 1 : unit === 'ms' ? 1e3 : 1e6;
  const value = cpuSeconds === null || units <= 0 ? null : (cpuSeconds / units) * scale;
  return { key, label, unit, value: value === null ? null : Math.round(value * 1000) / 1000 };
}
