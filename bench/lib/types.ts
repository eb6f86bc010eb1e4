import type { BenchServer } from './servers.ts';
import type { RegistryClient } from './client.ts';
import type { PatternData } from './data.ts';

/** A threshold a cargohold metric must meet; checked only for cargohold (Distribution is the reference). */
export interface Target {
  op: '>=' | '<';
  value: number;
}

/** One measured number. `value` is null when it could not be measured (error, unsupported). */
export interface Metric {
  /** Stable key, unique within a scenario (used to line the two servers up in the table and in JSON). */
  key: string;
  label: string;
  unit: 'MB/s' | 'blobs/s' | 'images/s' | 'req/s' | 'ms' | 'µs' | 'MiB' | 'count' | 's' | '%';
  value: number | null;
  target?: Target;
  /** Short remark shown under the table (e.g. "pagination not supported"). */
  note?: string;
}

export interface BenchConfig {
  quick: boolean;
  /** Scenario 1/3/7 blob size. */
  bigBlobBytes: number;
  /** Timed repetitions for scenarios 1, 2 and 3 (median is reported). */
  bigRepeats: number;
  chunkedBytes: number;
  chunkBytes: number;
  smallBlobs: number;
  smallBlobConcurrency: number;
  smallBlobMinBytes: number;
  smallBlobMaxBytes: number;
  images: number;
  imageConcurrency: number;
  manifestConnections: number;
  manifestDurationSec: number;
  warmupSec: number;
  rangeConnections: number;
  rangeDurationSec: number;
  rangeBytes: number;
  tags: number;
  tagSetupConcurrency: number;
  pageSize: number;
  fullListRepeats: number;
  pageWalks: number;
  /** Upper bound for one scenario on one server, setup included. */
  scenarioTimeoutMs: number;
  loadgen: 'wrk' | 'undici';
}

/** State shared between scenarios run against the same server (e.g. the big blob pushed by scenario 1). */
export interface ServerState {
  bigBlob?: { repo: string; data: PatternData; digest: string };
}

export interface ScenarioContext {
  server: BenchServer;
  client: RegistryClient;
  config: BenchConfig;
  state: ServerState;
  /** Absolute time (performance.now()) after which the scenario must stop. */
  deadline: number;
  /** Extra data kept in the JSON results only. */
  details: Record<string, unknown>;
  log(message: string): void;
}

export interface Scenario {
  id: number;
  title: string;
  /** One line for the README/--help: what is measured. */
  describe(config: BenchConfig): string;
  run(ctx: ScenarioContext): Promise<Metric[]>;
}
