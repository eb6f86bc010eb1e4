/**
 * Scans as durable background jobs (DESIGN convention 7):
 * - `scan.image` (key `<repositoryId>@<digest>`): reads the image's layers into an inventory (stored per
 *   manifest digest, an SBOM), matches it, stores the findings; an index scans each platform's image and
 *   reports their union. Requested on push (repository scanOnPush or a registry rule, enqueued in the push's
 *   own transaction) and by StartImageScan (once per image per 24 h, like ECR).
 * - `scan.rematch` (key `registry`): after the database changes, re-matches every image pushed or pulled within
 *   the configured window from its stored inventory, without reading layers.
 * - `vulndb.refresh` (key `registry`): re-imports the configured advisory source on a schedule.
 */
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import { isIndexMediaType } from '../core/media-types.ts';
import { RegistryError } from '../core/errors.ts';
import type { JobRecord, JobRunner } from '../jobs/types.ts';
import type { ManifestRecord, MetadataStore, RepositoryRecord } from '../metadata/types.ts';
import { InventoryError, readImageInventory, type BlobOpener } from './inventory/index.ts';
import { compactFinding, hydrateFindings, matchInventory, type AffectedLookup, type Finding, type MatchMemo, type StoredFinding } from './match/match.ts';
import { DEFAULT_REGISTRY_SCANNING, scanFrequencyFor, type RegistryScanningConfiguration } from './scanning-config.ts';
import type { AffectedMatchRow, ImageScanRecord, ScanStore } from './store.ts';
import type { Inventory } from './types.ts';
import { importVulnDb } from './vulndb/import.ts';

export const SCAN_IMAGE_JOB = 'scan.image';
export const SCAN_REMATCH_JOB = 'scan.rematch';
export const VULNDB_REFRESH_JOB = 'vulndb.refresh';
const SCAN_ATTEMPTS = 3;

/** Settings from config `scan`. */
export interface ScanSettings {
  /** Advisory source refreshed on a schedule (path or URL); undefined: only `cargohold vulndb import`. */
  source?: string;
  refreshIntervalMs: number;
  /** Images pushed or pulled within this window are re-matched when the database changes. */
  rematchWindowMs: number;
  /** StartImageScan: at most one per image in this period (ECR: 24 h). */
  startScanIntervalMs: number;
  /** Per-file limit for package databases read from layers. */
  maxFileBytes?: number;
}

export interface ScanServiceOptions {
  meta: MetadataStore;
  blobs: BlobOpener;
  jobs: JobRunner;
  clock: Clock;
  log: Logger;
  settings: ScanSettings;
}

/** What the ECR operations and the CLI ask of scanning. */
export interface ScanService {
  /** Called inside the push transaction: enqueues a scan when the repository's configuration says so. */
  onImagePut(tx: MetadataStore, put: { repository: RepositoryRecord; digest: string; mediaType: string; subject: string | null; artifactType: string | null; created: boolean }): Promise<void>;
  /** StartImageScan: LIMIT_EXCEEDED within the interval; UNSUPPORTED for artifacts. Returns the IN_PROGRESS record. */
  start(repository: RepositoryRecord, manifest: ManifestRecord): Promise<ImageScanRecord>;
  /** The image's scan (undefined: never scanned). */
  get(repositoryId: number, digest: string): Promise<ImageScanRecord | undefined>;
  /** Scans of several images of one repository (DescribeImages). */
  getMany(repositoryId: number, digests: readonly string[]): Promise<Map<string, ImageScanRecord>>;
  registryConfiguration(): Promise<RegistryScanningConfiguration>;
  putRegistryConfiguration(config: RegistryScanningConfiguration): Promise<void>;
  /** Runs a scan now, in this process (the CLI and tests): same code as the job. */
  scanNow(repository: RepositoryRecord, manifest: ManifestRecord): Promise<ImageScanRecord>;
  /** The stored inventory (SBOM) of an image; an index gives its platforms' packages together. */
  inventory(repositoryId: number, manifest: ManifestRecord): Promise<Inventory | undefined>;
  /** Registers the job kinds and the refresh schedule. */
  register(): Promise<void>;
}

/** An advisory lookup that remembers rows per (ecosystem, package) while the database generation stays the same. */
export function createCachedLookup(store: ScanStore): { lookup: AffectedLookup; memo: MatchMemo; reset(): void } {
  let cache = new Map<string, AffectedMatchRow[]>();
  const memo: MatchMemo = new Map();
  return {
    memo,
    reset() {
      cache = new Map();
      memo.clear();
    },
    async lookup(keys) {
      const missing = keys.filter((k) => !cache.has(`${k.ecosystem}\0${k.name}`));
      if (missing.length) {
        const rows = await store.affected(missing);
        for (const k of missing) cache.set(`${k.ecosystem}\0${k.name}`, []);
        for (const r of rows) cache.get(`${r.ecosystem}\0${r.name}`)?.push(r);
      }
      return keys.flatMap((k) => cache.get(`${k.ecosystem}\0${k.name}`) ?? []);
    },
  };
}

interface ParsedManifest {
  mediaType?: string;
  config?: { mediaType?: string };
  layers?: { mediaType: string; digest: string }[];
  manifests?: { mediaType?: string; digest: string; platform?: { os?: string; architecture?: string } }[];
  artifactType?: string;
}

const IMAGE_CONFIGS = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);

function parse(m: ManifestRecord): ParsedManifest {
  return JSON.parse(m.body.toString('utf8')) as ParsedManifest;
}

/** True for container images and indexes; false for artifacts (SBOMs, signatures, Helm charts…). */
export function isScannable(m: ManifestRecord): boolean {
  if (isIndexMediaType(m.mediaType)) return true;
  const p = parse(m);
  if (p.artifactType) return false;
  return p.config?.mediaType === undefined || IMAGE_CONFIGS.has(p.config.mediaType);
}

/** Findings of several platforms as one list (an index): one per (id, package, version). */
function union(lists: Finding[][]): Finding[] {
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const f of lists.flat()) {
    const k = `${f.id}\0${f.ecosystem}\0${f.package}\0${f.version}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(f);
    }
  }
  return out;
}

export function createScanService(options: ScanServiceOptions): ScanService {
  const { meta, blobs, jobs, clock, log, settings } = options;
  const scan = meta.scan;

  async function registryConfiguration(): Promise<RegistryScanningConfiguration> {
    return ((await scan.getRegistryScanning()) as RegistryScanningConfiguration | undefined) ?? DEFAULT_REGISTRY_SCANNING;
  }

  async function enqueue(store: MetadataStore, repositoryId: number, digest: string, at: Date, existing?: ImageScanRecord): Promise<ImageScanRecord> {
    const record: ImageScanRecord = {
      repositoryId,
      digest,
      status: 'IN_PROGRESS',
      description: 'The scan is in progress.',
      requestedAt: at,
      ...(existing?.findings ? { completedAt: existing.completedAt, dbGeneration: existing.dbGeneration, vulnerabilitySourceUpdatedAt: existing.vulnerabilitySourceUpdatedAt } : {}),
    };
    await store.scan.putScan(record);
    await store.jobs.enqueue(SCAN_IMAGE_JOB, `${repositoryId}@${digest}`, { repositoryId, digest }, { runAt: at });
    return record;
  }

  /** The inventory of one image manifest: stored, else read from its layers (and stored). */
  async function imageInventory(m: ManifestRecord, signal?: AbortSignal): Promise<Inventory> {
    const stored = await scan.getInventory(m.digest);
    if (stored) return stored;
    const p = parse(m);
    const inventory = await readImageInventory(blobs, { layers: p.layers ?? [] }, {
      ...(settings.maxFileBytes ? { maxFileBytes: settings.maxFileBytes } : {}),
      ...(signal ? { signal } : {}),
      onWarning: (w) => log.debug({ digest: m.digest, layer: w.layer, path: w.path, message: w.message }, 'inventory warning'),
    });
    await scan.putInventory(m.digest, inventory, clock.now());
    return inventory;
  }

  /** The platform images of a manifest: itself, or an index's children present in the repository. */
  async function platformImages(repositoryId: number, m: ManifestRecord): Promise<ManifestRecord[]> {
    if (!isIndexMediaType(m.mediaType)) return [m];
    const out: ManifestRecord[] = [];
    for (const child of parse(m).manifests ?? []) {
      const c = await meta.manifests.get(repositoryId, child.digest as ManifestRecord['digest']);
      if (c && !isIndexMediaType(c.mediaType) && isScannable(c)) out.push(c);
    }
    return out;
  }

  async function matchImage(repositoryId: number, m: ManifestRecord, lookup: AffectedLookup, readLayers: boolean, signal?: AbortSignal, memo?: MatchMemo): Promise<Finding[] | undefined> {
    const lists: Finding[][] = [];
    for (const image of await platformImages(repositoryId, m)) {
      const inventory = readLayers ? await imageInventory(image, signal) : await scan.getInventory(image.digest);
      if (!inventory) return undefined;
      lists.push(await matchInventory(inventory, lookup, memo));
    }
    return union(lists);
  }

  async function complete(repositoryId: number, digest: string, findings: Finding[], requestedAt: Date): Promise<ImageScanRecord> {
    const state = await scan.state();
    const record: ImageScanRecord = {
      repositoryId,
      digest,
      status: 'COMPLETE',
      description: 'The scan was completed successfully.',
      requestedAt,
      completedAt: clock.now(),
      dbGeneration: state.generation,
      vulnerabilitySourceUpdatedAt: state.updatedAt,
      findings: findings.map(compactFinding),
    };
    await scan.putScan(record);
    return hydrate(record);
  }

  /** Puts the advisory texts back into a stored scan's findings. */
  async function hydrate(record: ImageScanRecord): Promise<ImageScanRecord> {
    if (!record.findings?.length) return record;
    const stored = record.findings as StoredFinding[];
    const headers = await scan.advisoryHeaders(stored.map((f) => f.id));
    return { ...record, findings: hydrateFindings(stored, headers) };
  }

  async function runScan(repositoryId: number, m: ManifestRecord, requestedAt: Date, signal?: AbortSignal): Promise<ImageScanRecord> {
    if (!isScannable(m)) {
      const record: ImageScanRecord = { repositoryId, digest: m.digest, status: 'UNSUPPORTED_IMAGE', description: 'The image is of a type that cannot be scanned (an artifact, not a container image).', requestedAt, completedAt: clock.now() };
      await scan.putScan(record);
      return record;
    }
    try {
      const { lookup } = createCachedLookup(scan);
      const findings = (await matchImage(repositoryId, m, lookup, true, signal)) ?? [];
      return await complete(repositoryId, m.digest, findings, requestedAt);
    } catch (e) {
      if (e instanceof InventoryError && (e as InventoryError & { reason?: string }).reason === 'unsupported') {
        const record: ImageScanRecord = { repositoryId, digest: m.digest, status: 'UNSUPPORTED_IMAGE', description: `UnsupportedImageError: ${e.message}`, requestedAt, completedAt: clock.now() };
        await scan.putScan(record);
        return record;
      }
      throw e;
    }
  }

  async function scanJob(job: JobRecord, signal: AbortSignal): Promise<void> {
    const { repositoryId, digest } = job.payload as { repositoryId: number; digest: string };
    const existing = await scan.getScan(repositoryId, digest);
    const m = await meta.manifests.get(repositoryId, digest as ManifestRecord['digest']);
    if (!m) return; // deleted since: its scan row goes with it (cascade) or is irrelevant
    const requestedAt = existing?.requestedAt ?? clock.now();
    try {
      await runScan(repositoryId, m, requestedAt, signal);
    } catch (e) {
      if (job.attempts < SCAN_ATTEMPTS && !(e instanceof InventoryError)) throw e;
      log.warn({ repositoryId, digest, err: e }, 'scan failed');
      await scan.putScan({ repositoryId, digest, status: 'FAILED', description: `The scan failed: ${(e as Error).message}`.slice(0, 1000), requestedAt, completedAt: clock.now() });
    }
  }

  async function rematchJob(): Promise<void> {
    const state = await scan.state();
    const since = new Date(clock.now().getTime() - settings.rematchWindowMs);
    const { lookup, memo } = createCachedLookup(scan);
    let after: { repositoryId: number; digest: string } | undefined;
    let count = 0;
    for (let page = 0; page < 1_000_000; page++) {
      const batch = await scan.rematchCandidates(state.generation, since, after, 500);
      if (batch.length === 0) break;
      const results: ImageScanRecord[] = [];
      for (const c of batch) {
        const m = await meta.manifests.get(c.repositoryId, c.digest as ManifestRecord['digest']);
        if (!m) continue;
        const findings = await matchImage(c.repositoryId, m, lookup, false, undefined, memo);
        if (!findings) continue; // inventory gone (never stored): a new scan will read layers
        results.push({ repositoryId: c.repositoryId, digest: c.digest, requestedAt: c.requestedAt, status: 'COMPLETE', description: 'The scan was completed successfully.', completedAt: clock.now(), dbGeneration: state.generation, vulnerabilitySourceUpdatedAt: state.updatedAt, findings: findings.map(compactFinding) });
      }
      // One transaction per page: the matching above reads; only the writes are batched.
      await meta.transaction(async (tx) => {
        for (const r of results) await tx.scan.putScan(r);
      });
      count += results.length;
      const last = batch[batch.length - 1]!;
      after = { repositoryId: last.repositoryId, digest: last.digest };
    }
    log.info({ images: count, generation: state.generation }, 're-matched stored inventories');
  }

  return {
    async onImagePut(tx, put) {
      // Referrers (signatures, SBOMs) and other artifacts are not container images.
      if (put.subject || (put.artifactType && !IMAGE_CONFIGS.has(put.artifactType))) return;
      // A re-push of an image already scanned (a new tag) is not a new scan.
      if (!put.created && (await tx.scan.getScan(put.repository.id, put.digest))) return;
      const settingsRow = await tx.ecr.getSettings(put.repository.id);
      const config = ((await tx.scan.getRegistryScanning()) as RegistryScanningConfiguration | undefined) ?? DEFAULT_REGISTRY_SCANNING;
      if (scanFrequencyFor(config, put.repository.name, settingsRow?.scanOnPush ?? false) === 'MANUAL') return;
      await enqueue(tx, put.repository.id, put.digest, clock.now());
    },

    async start(repository, manifest) {
      if (!isScannable(manifest)) throw new RegistryError('UNSUPPORTED', 'The image is of a type that cannot be scanned.', { digest: manifest.digest });
      const existing = await scan.getScan(repository.id, manifest.digest);
      const now = clock.now();
      if (existing && now.getTime() - existing.requestedAt.getTime() < settings.startScanIntervalMs) {
        throw new RegistryError('LIMIT_EXCEEDED', 'The scan quota per image has been exceeded. Wait and try again.', { digest: manifest.digest });
      }
      return enqueue(meta, repository.id, manifest.digest, now, existing);
    },

    async get(repositoryId, digest) {
      const record = await scan.getScan(repositoryId, digest);
      return record ? hydrate(record) : undefined;
    },
    getMany: (repositoryId, digests) => scan.getScans(repositoryId, digests),
    registryConfiguration,
    putRegistryConfiguration: (config) => scan.putRegistryScanning(config, clock.now()),

    async scanNow(repository, manifest) {
      return runScan(repository.id, manifest, clock.now());
    },

    async inventory(repositoryId, manifest) {
      const parts: Inventory[] = [];
      for (const image of await platformImages(repositoryId, manifest)) {
        const inv = await scan.getInventory(image.digest);
        if (!inv) return undefined;
        parts.push(inv);
      }
      if (parts.length === 0) return undefined;
      return { ...(parts[0]!.os ? { os: parts[0]!.os } : {}), packages: parts.flatMap((p) => p.packages) };
    },

    async register() {
      jobs.register(SCAN_IMAGE_JOB, scanJob, { maxAttempts: SCAN_ATTEMPTS, leaseMs: 5 * 60_000, concurrency: 2 });
      jobs.register(SCAN_REMATCH_JOB, rematchJob, { maxAttempts: 3, leaseMs: 10 * 60_000 });
      jobs.register(VULNDB_REFRESH_JOB, async () => {
        if (!settings.source) return;
        const report = await importVulnDb(settings.source, { store: scan, clock });
        log.info({ source: settings.source, imported: report.imported, withdrawn: report.withdrawn, rejected: report.rejectedCount, generation: report.state.generation }, 'refreshed the vulnerability database');
        if (report.imported + report.withdrawn > 0) await jobs.enqueue(SCAN_REMATCH_JOB, 'registry', {}, { runAt: clock.now() });
      }, { maxAttempts: 3, leaseMs: 30 * 60_000 });
      if (settings.source) await jobs.schedule(VULNDB_REFRESH_JOB, 'registry', settings.refreshIntervalMs, {}, clock.now());
    },
  };
}
