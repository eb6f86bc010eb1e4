import { execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Resident set size of a process in bytes (VmRSS from /proc/<pid>/status), or null if it is gone. */
export function readRss(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU seconds a process has used so far (from /proc/<pid>/stat), or null. */
export function readCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return null;
  }
}

export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'n/a';
  }
}

export interface RssReport {
  beforeBytes: number;
  peakBytes: number;
  afterBytes: number;
  samples: number;
}

/** Polls a process's RSS every `intervalMs` and keeps the peak. */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private readonly before: number;
  private peak: number;
  private samples = 0;

  constructor(private readonly pid: number, private readonly intervalMs = 100) {
    this.before = readRss(pid) ?? 0;
    this.peak = this.before;
  }

  start(): this {
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  private sample(): number {
    const rss = readRss(this.pid) ?? 0;
    this.samples++;
    if (rss > this.peak) this.peak = rss;
    return rss;
  }

  stop(): RssReport {
    if (this.timer) clearInterval(this.timer);
    const after = this.sample();
    return { beforeBytes: this.before, peakBytes: this.peak, afterBytes: after, samples: this.samples };
  }
}

export const toMiB = (bytes: number): number => Math.round((bytes / (1024 * 1024)) * 10) / 10;

/**
 * Every child process the benchmark starts (servers, wrk, sync) is registered here so that a failure or
 * Ctrl-C can stop each one by its PID.
 */
export const children = new Set<ChildProcess>();

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function killTracked(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const child of children) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, signal);
      } catch {
        // already gone
      }
    }
  }
}

function cpuTotals(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number); // user nice system idle iowait irq softirq steal
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - v[3] - v[4], total };
}

/** How many cores the whole machine kept busy over `sampleMs` (our servers are idle at that moment). */
export async function busyCores(sampleMs = 500): Promise<number> {
  const a = cpuTotals();
  await new Promise((r) => setTimeout(r, sampleMs));
  const b = cpuTotals();
  const cores = cpus().length;
  return b.total > a.total ? ((b.busy - a.busy) / (b.total - a.total)) * cores : 0;
}

/**
 * The machine is shared: before a measurement, wait (at most `maxWaitSec`) until other processes use less
 * than `threshold` cores. Returns the last reading so the report can say how busy the machine was.
 */
export async function waitQuiet(maxWaitSec: number, threshold = 0.3): Promise<number> {
  const until = Date.now() + maxWaitSec * 1000;
  let busy = await busyCores();
  while (busy >= threshold && Date.now() < until) busy = await busyCores();
  return Math.round(busy * 100) / 100;
}
