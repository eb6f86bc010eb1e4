import { execFileSync } from 'node:child_process';

/**
 * CPU pinning for the closed-loop load scenarios (6, 7): the server on one core and wrk on the other, so
 * neither steals the other's core and run-to-run spread shrinks. Uses Linux `taskset`; without it (or with
 * BENCH_PIN=0) nothing is pinned.
 */
const enabled = process.env.BENCH_PIN !== '0' && (() => {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Sets the CPU affinity of every thread of `pid` (e.g. '1', or '0,1' to release). */
export function pinProcess(pid: number, cpus: string): void {
  if (!enabled) return;
  try {
    execFileSync('taskset', ['-a', '-cp', cpus, String(pid)], { stdio: 'ignore' });
  } catch {
    // The process may have exited; pinning is an optimisation of the measurement only.
  }
}

/** Command and arguments that run `bin args` on `cpus` when pinning is available. */
export function pinnedCommand(bin: string, args: string[], cpus: string): [string, string[]] {
  return enabled ? ['taskset', ['-c', cpus, bin, ...args]] : [bin, args];
}

export const pinning = enabled;
