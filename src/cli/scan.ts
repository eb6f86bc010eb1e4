/**
 * `cargohold scan REPO:TAG|REPO@DIGEST` (findings as a table, JSON, SARIF or CycloneDX, with `--fail-on` for CI
 * gates) and `cargohold sbom REPO:TAG` (the CycloneDX SBOM, optionally attached to the image as an OCI referrer).
 * Both work on the data directory the server uses: a scan the server completed against the current database is
 * reused; otherwise the image is scanned here (layers read once, inventory and findings stored for the ECR API).
 */
import type { Command } from 'commander';
import type { DataOptions, OpenedData } from './open-data.ts';
import type { ImageScanRecord } from '../scan/store.ts';
import type { Finding } from '../scan/match/match.ts';
import type { Severity } from '../scan/match/severity.ts';

const FORMATS = ['table', 'json', 'sarif', 'cyclonedx'] as const;
const SEVERITIES: readonly Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL'];
/** Exit status when `--fail-on` finds a finding at or above the threshold (1 is any other failure). */
export const GATE_EXIT_CODE = 3;
const VERSION = '0.1.0';
export const SBOM_ARTIFACT_TYPE = 'application/vnd.cyclonedx+json';

interface ScanOptions extends DataOptions {
  format?: string;
  failOn?: string;
  output?: string;
}

interface SbomOptions extends DataOptions {
  attach?: boolean;
  output?: string;
}

const userError = (message: string) => Object.assign(new Error(message), { userError: true });

/** `repo:tag`, `repo@sha256:…` or `repo` (= `repo:latest`). */
export function parseImageRef(ref: string): { repository: string; reference: string; tag?: string } {
  const at = ref.indexOf('@');
  if (at > 0) return { repository: ref.slice(0, at), reference: ref.slice(at + 1) };
  const colon = ref.lastIndexOf(':');
  if (colon > 0 && !ref.slice(colon).includes('/')) return { repository: ref.slice(0, colon), reference: ref.slice(colon + 1), tag: ref.slice(colon + 1) };
  return { repository: ref, reference: 'latest', tag: 'latest' };
}

async function openScanning(data: OpenedData) {
  const [{ default: pino }, { openBlobStore }, { systemClock }, { createRegistry }, { createJobRunner }, { createScanService }] = await Promise.all([
    import('pino'), import('../storage/open.ts'), import('../core/clock.ts'), import('../registry/registry.ts'), import('../jobs/runner.ts'), import('../scan/service.ts'),
  ]);
  const { config, meta } = data;
  const log = pino({ level: 'warn' }, pino.destination(2));
  const blobs = await openBlobStore(config);
  const registry = createRegistry({ blobs, meta, clock: systemClock, createRepositoryOnPush: false, maxManifestBytes: config.registry.maxManifestBytes, maxPageSize: config.registry.maxPageSize, accountId: config.identity.accountId, region: config.identity.region });
  const scans = createScanService({
    meta, blobs, clock: systemClock, log, jobs: createJobRunner({ meta, clock: systemClock, log }),
    settings: { refreshIntervalMs: config.scan.refreshIntervalSeconds * 1000, rematchWindowMs: config.scan.rematchWindowDays * 86_400_000, startScanIntervalMs: config.scan.startScanIntervalSeconds * 1000, maxFileBytes: config.scan.maxFileBytes },
  });
  return { registry, scans, blobs, clock: systemClock };
}

/** The image's findings: the stored scan when it is COMPLETE against the current database, else a scan now. */
async function currentScan(data: OpenedData, ref: string) {
  const { repository, reference, tag } = parseImageRef(ref);
  const s = await openScanning(data);
  const repo = await s.registry.getRepository(repository);
  const manifest = await s.registry.getManifest(repository, reference, { recordPull: false });
  const state = await data.meta.scan.state();
  if (!state.updatedAt) process.stderr.write('cargohold: warning: the vulnerability database is empty (cargohold vulndb import PATH|URL)\n');
  let scan: ImageScanRecord | undefined = await s.scans.get(repo.id, manifest.digest);
  if (!scan || scan.status !== 'COMPLETE' || scan.dbGeneration !== state.generation) scan = await s.scans.scanNow(repo, manifest);
  return { ...s, repo, manifest, scan, state, subject: { repository, digest: manifest.digest, ...(tag ? { tag } : {}), databaseUpdatedAt: state.updatedAt, scannedAt: scan.completedAt } };
}

async function write(text: string, output: string | undefined): Promise<void> {
  if (!output || output === '-') {
    process.stdout.write(text);
    return;
  }
  const { writeFile } = await import('node:fs/promises');
  await writeFile(output, text);
}

/** Adds `scan` and `sbom` to the program. */
export function registerScanCommands(program: Command): void {
  program
    .command('scan')
    .description('scan an image for known vulnerabilities (OS and language packages) and print the findings')
    .argument('<image>', 'REPO:TAG or REPO@DIGEST in this registry')
    .option('-c, --config <file>', 'config file (YAML or JSON); also CARGOHOLD_CONFIG')
    .option('-d, --data-dir <dir>', 'data directory; also CARGOHOLD_DATA_DIR')
    .option('-f, --format <format>', `${FORMATS.join('|')} (default table)`)
    .option('--fail-on <severity>', `exit ${GATE_EXIT_CODE} when a finding is at least this severe: ${SEVERITIES.join('|')}`)
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .action(async (image: string, opts: ScanOptions) => {
      const format = (opts.format ?? 'table').toLowerCase();
      if (!(FORMATS as readonly string[]).includes(format)) throw userError(`--format must be one of ${FORMATS.join(', ')}`);
      const failOn = opts.failOn?.toUpperCase() as Severity | undefined;
      if (failOn !== undefined && !SEVERITIES.includes(failOn)) throw userError(`--fail-on must be one of ${SEVERITIES.join(', ')}`);
      const { withData } = await import('./open-data.ts');
      const reports = await import('../scan/report/formats.ts');
      await withData(opts, async (data) => {
        const c = await currentScan(data, image);
        try {
          if (c.scan.status !== 'COMPLETE') throw userError(`${image}: ${c.scan.status}: ${c.scan.description}`);
          const findings = (c.scan.findings ?? []) as Finding[];
          let text: string;
          if (format === 'json') text = reports.jsonReport(c.subject, findings);
          else if (format === 'sarif') text = reports.sarifReport(c.subject, findings, VERSION);
          else if (format === 'cyclonedx') {
            const inventory = await c.scans.inventory(c.repo.id, c.manifest);
            text = reports.cycloneDxReport(c.subject, inventory ?? { packages: [] }, findings, VERSION, c.clock.now());
          } else text = reports.tableReport(c.subject, findings);
          await write(text, opts.output);
          if (failOn && reports.failsGate(findings, failOn)) {
            process.stderr.write(`cargohold: ${image} has findings at or above ${failOn}\n`);
            process.exitCode = GATE_EXIT_CODE;
          }
        } finally {
          await c.blobs.close();
        }
      });
    });

  program
    .command('sbom')
    .description('the CycloneDX SBOM (installed packages) of an image; --attach stores it as an OCI referrer of the image')
    .argument('<image>', 'REPO:TAG or REPO@DIGEST in this registry')
    .option('-c, --config <file>', 'config file (YAML or JSON); also CARGOHOLD_CONFIG')
    .option('-d, --data-dir <dir>', 'data directory; also CARGOHOLD_DATA_DIR')
    .option('--attach', `push the SBOM as an artifact (${SBOM_ARTIFACT_TYPE}) whose subject is the image manifest`)
    .option('-o, --output <file>', 'write the SBOM to a file instead of stdout')
    .action(async (image: string, opts: SbomOptions) => {
      const { withData } = await import('./open-data.ts');
      const [{ cycloneDxReport }, { attachSbom }] = await Promise.all([import('../scan/report/formats.ts'), import('../scan/report/attach.ts')]);
      await withData(opts, async (data) => {
        const c = await currentScan(data, image);
        try {
          const inventory = await c.scans.inventory(c.repo.id, c.manifest);
          if (!inventory) throw userError(`${image}: ${c.scan.status}: ${c.scan.description}`);
          const text = cycloneDxReport(c.subject, inventory, undefined, VERSION, c.clock.now());
          if (opts.attach) {
            const digest = await attachSbom(c.registry, c.subject.repository, c.manifest, Buffer.from(text), c.clock.now());
            process.stderr.write(`attached the SBOM to ${c.subject.repository}@${c.manifest.digest} as ${digest}\n`);
          }
          await write(text, opts.output);
        } finally {
          await c.blobs.close();
        }
      });
    });
}
