/**
 * `npm run bench [-- --quick] [--only cargohold|distribution] [--scenarios 1,3,6] [--loadgen wrk|undici]`
 *
 * Starts cargohold and CNCF Distribution (each on 127.0.0.1 with a fresh temporary data directory), runs the
 * same OCI Distribution API scenarios against both, prints a markdown table side by side and writes the
 * results as JSON to bench/results/<timestamp>.json. Both servers are stopped by PID at the end, on failure
 * and on Ctrl-C. See bench/README.md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measureBaseline, type Baseline } from './lib/baseline.ts';
import { RegistryClient } from './lib/client.ts';
import { makeConfig } from './lib/config.ts';
import { wrkAvailable } from './lib/loadgen.ts';
import { killTracked, loadAverage, readCpuSeconds, waitQuiet } from './lib/proc.ts';
import { renderTable, type ScenarioResult, type ServerRun } from './lib/report.ts';
import { startServer, type BenchServer, type ServerName } from './lib/servers.ts';
import { round } from './lib/stats.ts';
import type { Scenario, ServerState } from './lib/types.ts';
import { manifestGet } from './scenarios/manifest-get.ts';
import { pull } from './scenarios/pull.ts';
import { pushChunked } from './scenarios/push-chunked.ts';
import { pushMonolithic } from './scenarios/push-monolithic.ts';
import { rangeGet } from './scenarios/range-get.ts';
import { smallBlobs } from './scenarios/small-blobs.ts';
import { smallImages } from './scenarios/small-images.ts';
import { tagList } from './scenarios/tag-list.ts';

const SCENARIOS: Scenario[] = [pushMonolithic, pushChunked, pull, smallBlobs, smallImages, manifestGet, rangeGet, tagList];
const SERVERS: ServerName[] = ['cargohold', 'distribution'];
const RESULTS_DIR = new URL('./results/', import.meta.url).pathname;

const USAGE = `usage: npm run bench -- [--quick] [--only cargohold|distribution] [--scenarios 1,3,6] [--loadgen wrk|undici]

  --quick        small sizes and short durations (smoke test; numbers are not comparable to the targets)
  --only NAME    run against one server only
  --scenarios    comma-separated scenario numbers (default: all)
  --loadgen      load generator for scenarios 6 and 7 (default: wrk if /usr/bin/wrk exists)
  --quiet-wait S before each measurement wait up to S seconds (default 15, 0 = don't) for other
                 processes to use < 0.3 cores; what they used is reported either way

scenarios:
${SCENARIOS.map((s) => `  ${s.id}. ${s.title}: ${s.describe(makeConfig(false, 'wrk'))}`).join('\n')}`;

function parseCli(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      scenarios: { type: 'string' },
      loadgen: { type: 'string' },
      'quiet-wait': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values.only !== undefined && !SERVERS.includes(values.only as ServerName)) throw new Error(`--only must be cargohold or distribution`);
  const ids = values.scenarios ? values.scenarios.split(',').map((s) => Number(s.trim())) : SCENARIOS.map((s) => s.id);
  for (const id of ids) if (!SCENARIOS.some((s) => s.id === id)) throw new Error(`unknown scenario ${id} (1–${SCENARIOS.length})`);
  const loadgen = (values.loadgen ?? (wrkAvailable() ? 'wrk' : 'undici')) as 'wrk' | 'undici';
  if (loadgen !== 'wrk' && loadgen !== 'undici') throw new Error('--loadgen must be wrk or undici');
  if (loadgen === 'wrk' && !wrkAvailable()) throw new Error('wrk not found at /usr/bin/wrk (use --loadgen undici)');
  const quietWait = Number(values['quiet-wait'] ?? 15);
  if (!Number.isFinite(quietWait) || quietWait < 0 || quietWait > 600) throw new Error('--quiet-wait must be 0–600 seconds');
  return {
    quietWait,
    quick: values.quick ?? false,
    servers: values.only ? [values.only as ServerName] : SERVERS,
    scenarios: SCENARIOS.filter((s) => ids.includes(s.id)),
    loadgen,
  };
}

const log = (message: string): void => {
  process.stderr.write(`[bench] ${message}\n`);
};

async function main(): Promise<number> {
  const cli = parseCli(process.argv.slice(2));
  const config = makeConfig(cli.quick, cli.loadgen);
  const startedAt = new Date();
  const t0 = performance.now();
  const loadStart = loadAverage();
  const running = new Map<ServerName, BenchServer>();
  const startErrors = new Map<ServerName, string>();
  const clients: RegistryClient[] = [];

  let aborted = false;
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> =>
    (stopping ??= (async () => {
      await Promise.allSettled(clients.map((c) => c.close()));
      await Promise.allSettled([...running.values()].map((s) => s.stop()));
      killTracked('SIGKILL'); // anything left (wrk, sync)
    })());
  const onSignal = (signal: NodeJS.Signals): void => {
    aborted = true;
    log(`${signal}: stopping servers`);
    killTracked('SIGTERM');
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Whole-run bound: every scenario has its own limit; this catches anything else.
  const limitMs = (cli.scenarios.length * cli.servers.length * config.scenarioTimeoutMs) + 120_000;
  const watchdog = setTimeout(() => {
    aborted = true;
    log(`run exceeded ${Math.round(limitMs / 1000)} s: stopping`);
    killTracked('SIGTERM');
    void stopAll().finally(() => process.exit(1));
  }, limitMs);
  watchdog.unref();

  const results: ScenarioResult[] = [];
  let baseline: Baseline | undefined;
  try {
    baseline = await measureBaseline(config.bigBlobBytes);
    log(`baseline: sha256 ${baseline.sha256MBps} MB/s on one core, disk write + fsync ${baseline.diskWriteFsyncMBps} MB/s`);
    for (const name of cli.servers) {
      try {
        const server = await startServer(name);
        running.set(name, server);
        log(`${name} ${server.version} listening on ${server.url} (pid ${server.pid})`);
      } catch (err) {
        startErrors.set(name, (err as Error).message);
        log(`${name} failed to start: ${(err as Error).message}`);
      }
    }
    const states = new Map<ServerName, ServerState>(cli.servers.map((n) => [n, {}]));
    const clientFor = new Map<ServerName, RegistryClient>();
    for (const [name, server] of running) {
      const client = new RegistryClient(server.url, undefined, server.authorization);
      clients.push(client);
      clientFor.set(name, client);
    }

    // Scenario by scenario, each server in turn, so drift in the shared machine's load hits both alike.
    for (const scenario of cli.scenarios) {
      if (aborted) break;
      const result: ScenarioResult = { id: scenario.id, title: scenario.title, description: scenario.describe(config), runs: {} };
      results.push(result);
      for (const name of cli.servers) {
        if (aborted) break;
        const server = running.get(name);
        const loadAvg = loadAverage();
        if (!server || !server.alive()) {
          const why = startErrors.get(name) ?? `server exited:\n${server?.logTail() ?? ''}`;
          result.runs[name] = { status: 'error', metrics: [], error: why, seconds: 0, serverCpuSeconds: null, loadAverage: loadAvg, backgroundCores: null, details: {} };
          continue;
        }
        const backgroundCores = cli.quietWait > 0 ? await waitQuiet(cli.quietWait) : null;
        log(`${scenario.id}. ${scenario.title} — ${name}${backgroundCores === null ? '' : ` (other processes: ${backgroundCores} cores busy)`}`);
        const s0 = performance.now();
        const cpu0 = readCpuSeconds(server.pid);
        const run: ServerRun = { status: 'ok', metrics: [], seconds: 0, serverCpuSeconds: null, loadAverage: loadAvg, backgroundCores, details: {} };
        try {
          run.metrics = await scenario.run({
            server,
            client: clientFor.get(name)!,
            config,
            state: states.get(name)!,
            deadline: s0 + config.scenarioTimeoutMs,
            details: run.details,
            log: (m) => log(`  ${name}: ${m}`),
          });
        } catch (err) {
          if (aborted) break;
          run.status = 'error';
          run.error = `${(err as Error).message}${server.alive() ? '' : `\nserver exited:\n${server.logTail()}`}`;
          log(`  ${name} failed: ${run.error}`);
        }
        run.seconds = round((performance.now() - s0) / 1000, 1);
        const cpu1 = readCpuSeconds(server.pid);
        run.serverCpuSeconds = cpu0 !== null && cpu1 !== null ? round(cpu1 - cpu0, 2) : null;
        result.runs[name] = run;
        log(`  ${name}: ${run.seconds} s (server CPU ${run.serverCpuSeconds ?? '?'} s)`);
      }
    }
  } finally {
    await stopAll();
    clearTimeout(watchdog);
  }

  const seconds = round((performance.now() - t0) / 1000, 1);
  const { table, notes } = renderTable(results, cli.servers);
  const versions = cli.servers.map((n) => `${n} ${running.get(n)?.version ?? '(not started)'}`).join('; ');
  const loadgenNote =
    cli.loadgen === 'wrk'
      ? 'scenarios 6 and 7: wrk, 1 thread (one core), Lua script for the Accept/Range header; closed loop'
      : 'scenarios 6 and 7: undici Pool inside the bench process (pipelining 1); closed loop';
  const header = [
    `## cargohold vs Distribution${cli.quick ? ' (--quick: small sizes, targets are for the full run)' : ''}`,
    '',
    `${startedAt.toISOString()} · ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'} · ${round(totalmem() / 2 ** 30, 0)} GiB · node ${process.version} · load average ${loadStart} at start · run took ${seconds} s`,
    '',
    versions,
    '',
    ...(baseline ? [`Machine baseline (same run): sha256 ${baseline.sha256MBps.toLocaleString('en-US')} MB/s on one core; writing ${Math.round(baseline.bytes / 2 ** 20)} MiB + fsync in the temp dir ${baseline.diskWriteFsyncMBps.toLocaleString('en-US')} MB/s.`, ''] : []),
  ];
  const footer = [
    '',
    `MB = 10^6 bytes. Throughputs in scenarios 1–3 are medians of ${config.bigRepeats} run(s). RSS is the server's VmRSS (/proc, polled every 100 ms).`,
    ...(cli.scenarios.some((s) => s.id === 6 || s.id === 7) ? [loadgenNote + '.'] : []),
    ...cli.scenarios.map((s) => `${s.id}. ${s.describe(config)}`).map((l) => `- ${l}`),
    ...(notes.length ? ['', 'Notes:', ...notes.map((n) => `- ${n}`)] : []),
  ];
  const busy = results.flatMap((r) =>
    Object.entries(r.runs)
      .filter(([, run]) => run?.backgroundCores != null && run.backgroundCores >= 0.3)
      .map(([name, run]) => `${r.id}/${name} ${run!.backgroundCores}`),
  );
  if (busy.length) footer.push('', `Shared machine: other processes kept this many cores busy just before these runs started (scenario/server cores): ${busy.join(', ')}.`);
  const markdown = [...header, table, ...footer].join('\n');
  console.log(markdown);

  await mkdir(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  const json = {
    startedAt: startedAt.toISOString(),
    seconds,
    argv: process.argv.slice(2),
    config,
    baseline,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model.trim(), memGiB: round(totalmem() / 2 ** 30, 1), node: process.version, loadAverageStart: loadStart, loadAverageEnd: loadAverage() },
    servers: Object.fromEntries(cli.servers.map((n) => [n, { version: running.get(n)?.version ?? null, startError: startErrors.get(n) ?? null }])),
    scenarios: results,
    markdown,
  };
  await writeFile(file, `${JSON.stringify(json, null, 2)}\n`);
  log(`results written to ${file}`);
  return results.some((r) => Object.values(r.runs).some((run) => run?.status === 'error')) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    log(err.message);
    killTracked('SIGKILL');
    process.exit(2);
  },
);
