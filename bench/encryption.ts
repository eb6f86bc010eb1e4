/**
 * `npm run bench:encryption [-- --quick] [--rounds N]`
 *
 * The cost of encryption at rest (docs/encryption.md): two cargohold servers of this build, one with
 * encryption on (the default) and one with `CARGOHOLD_ENCRYPTION=false`, each on a fresh data directory, run
 * the same scenarios as `npm run bench` — 1. monolithic push of a 512 MiB blob, 3. pull of it, 7. random
 * 1 MiB Range GETs — alternating off/on per round so drift in a shared machine's load hits both alike.
 * Reports the medians per mode and on/off ratios against the targets (push and pull ≥ 75 %, Range GETs
 * within 15 %), and writes JSON to bench/results/encryption-<timestamp>.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startCargohold } from '../test/helpers/server.ts';
import { RegistryClient } from './lib/client.ts';
import { makeConfig } from './lib/config.ts';
import { wrkAvailable } from './lib/loadgen.ts';
import { killTracked, loadAverage, track } from './lib/proc.ts';
import type { BenchServer } from './lib/servers.ts';
import { median, round } from './lib/stats.ts';
import type { Metric, Scenario, ServerState } from './lib/types.ts';
import { pull } from './scenarios/pull.ts';
import { pushMonolithic } from './scenarios/push-monolithic.ts';
import { rangeGet } from './scenarios/range-get.ts';

type Mode = 'off' | 'on';
const RESULTS_DIR = new URL('./results/', import.meta.url).pathname;
const log = (m: string) => process.stderr.write(`[bench:encryption] ${m}\n`);

/** What each scenario is judged on: the metric and the lowest acceptable on/off ratio. */
const MEASURES: Array<{ scenario: Scenario; metric: string; minRatio: number; label: string }> = [
  { scenario: pushMonolithic, metric: 'rate', minRatio: 0.75, label: '512 MiB push (MB/s)' },
  { scenario: pull, metric: 'rate', minRatio: 0.75, label: '512 MiB pull (MB/s)' },
  { scenario: rangeGet, metric: 'rps', minRatio: 0.85, label: '1 MiB Range GETs (req/s)' },
];

async function startMode(mode: Mode): Promise<BenchServer> {
  const server = await startCargohold({ env: { CARGOHOLD_LOG_LEVEL: 'error', CARGOHOLD_ENCRYPTION: mode === 'on' ? 'true' : 'false' } });
  const child = track(server.process);
  return {
    name: 'cargohold',
    url: server.url,
    pid: child.pid!,
    version: `encryption ${mode}`,
    authorization: server.authorization,
    alive: () => child.exitCode === null && child.signalCode === null,
    logTail: (n = 20) => server.logs.slice(-n).map((l) => JSON.stringify(l)).join('\n'),
    stop: () => server.stop(),
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { quick: { type: 'boolean', default: false }, rounds: { type: 'string' } }, strict: true });
  const config = makeConfig(values.quick ?? false, wrkAvailable() ? 'wrk' : 'undici');
  const rounds = Number(values.rounds ?? (values.quick ? 1 : 2));
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 10) throw new Error('--rounds must be 1–10');
  const startedAt = new Date();
  const servers = new Map<Mode, BenchServer>();
  const clients: RegistryClient[] = [];
  const samples: Record<Mode, Record<string, number[]>> = { off: {}, on: {} };
  const watchdog = setTimeout(() => {
    log('run took too long: stopping');
    killTracked('SIGKILL');
    process.exit(1);
  }, rounds * MEASURES.length * 2 * config.scenarioTimeoutMs + 120_000);
  watchdog.unref();
  try {
    for (const mode of ['off', 'on'] as const) servers.set(mode, await startMode(mode));
    const state = new Map<Mode, ServerState>([['off', {}], ['on', {}]]);
    const clientOf = new Map<Mode, RegistryClient>();
    for (const [mode, s] of servers) {
      const c = new RegistryClient(s.url, undefined, s.authorization);
      clients.push(c);
      clientOf.set(mode, c);
    }
    for (let round_ = 0; round_ < rounds; round_++) {
      for (const m of MEASURES) {
        // Alternate which mode goes first, round by round.
        const order: Mode[] = round_ % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
        for (const mode of order) {
          const server = servers.get(mode)!;
          log(`round ${round_ + 1}: ${m.scenario.id}. ${m.scenario.title} — encryption ${mode}`);
          const metrics: Metric[] = await m.scenario.run({
            server,
            client: clientOf.get(mode)!,
            config,
            state: state.get(mode)!,
            deadline: performance.now() + config.scenarioTimeoutMs,
            details: {},
            log: (x) => log(`  ${mode}: ${x}`),
          });
          const v = metrics.find((x) => x.key === m.metric)?.value;
          if (v === null || v === undefined) throw new Error(`${m.label}: no ${m.metric} measured with encryption ${mode}`);
          (samples[mode][m.label] ??= []).push(v);
          log(`  ${mode}: ${m.metric} ${v}`);
        }
      }
    }
  } catch (e) {
    // Report what was measured so far.
    log(`stopped early: ${(e as Error).message}`);
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
    await Promise.allSettled([...servers.values()].map((s) => s.stop()));
    killTracked('SIGKILL');
    clearTimeout(watchdog);
  }

  const rows = MEASURES.filter((m) => samples.off[m.label]?.length && samples.on[m.label]?.length).map((m) => {
    const off = median(samples.off[m.label]!);
    const on = median(samples.on[m.label]!);
    const ratio = on / off;
    return { label: m.label, off: round(off), on: round(on), ratio: round(ratio * 100, 1), target: `≥ ${Math.round(m.minRatio * 100)} %`, met: ratio >= m.minRatio };
  });
  const markdown = [
    `## Encryption at rest: same server, on vs off${values.quick ? ' (--quick: 64 MiB, targets are for the full run)' : ''}`,
    '',
    `${startedAt.toISOString()} · ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'} · node ${process.version} · load average ${loadAverage()} · medians of ${rounds} round(s), modes alternated`,
    '',
    '| measure | off | on | on/off | target |',
    '|---|---:|---:|---:|---|',
    ...rows.map((r) => `| ${r.label} | ${r.off} | ${r.on} | ${r.ratio} % | ${r.target} ${r.met ? '✓' : '✗'} |`),
  ].join('\n');
  console.log(markdown);
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `encryption-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify({ startedAt: startedAt.toISOString(), config, rounds, samples, rows, markdown }, null, 2)}\n`);
  log(`results written to ${file}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    log(err.stack ?? err.message);
    killTracked('SIGKILL');
    process.exit(2);
  },
);
