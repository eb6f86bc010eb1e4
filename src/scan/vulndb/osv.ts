/**
 * The OSV schema subset cargohold reads (https://ossf.github.io/osv-schema/), validated with zod so a bad file
 * is reported by name instead of poisoning the database, plus the ecosystem rules the matcher relies on.
 */
import { z } from 'zod';
import type { VersionScheme } from '../versions/index.ts';

const event = z.object({
  introduced: z.string().optional(),
  fixed: z.string().optional(),
  last_affected: z.string().optional(),
  limit: z.string().optional(),
});

const range = z.object({
  type: z.string(),
  repo: z.string().optional(),
  events: z.array(event),
});

const affected = z.object({
  package: z.object({ ecosystem: z.string(), name: z.string(), purl: z.string().optional() }).optional(),
  ranges: z.array(range).optional(),
  versions: z.array(z.string()).optional(),
  ecosystem_specific: z.record(z.string(), z.unknown()).optional(),
  database_specific: z.record(z.string(), z.unknown()).optional(),
  severity: z.array(z.object({ type: z.string(), score: z.string() })).optional(),
});

export const osvRecordSchema = z.object({
  id: z.string().min(1).max(200),
  modified: z.string().optional(),
  published: z.string().optional(),
  withdrawn: z.string().optional(),
  aliases: z.array(z.string()).nullish(),
  related: z.array(z.string()).nullish(),
  summary: z.string().optional(),
  details: z.string().optional(),
  severity: z.array(z.object({ type: z.string(), score: z.string() })).nullish(),
  affected: z.array(affected).nullish(),
  references: z.array(z.object({ type: z.string(), url: z.string() })).nullish(),
  database_specific: z.record(z.string(), z.unknown()).nullish(),
});

export type OsvRecord = z.infer<typeof osvRecordSchema>;
export type OsvAffected = z.infer<typeof affected>;
export type OsvRange = z.infer<typeof range>;

/** An advisory without its affected entries: what every finding built from it carries. */
export interface AdvisoryHeader {
  id: string;
  modified?: string;
  published?: string;
  aliases: string[];
  related: string[];
  summary?: string;
  details?: string;
  /** CVSS vectors (`CVSS_V2`/`CVSS_V3`/`CVSS_V4`). */
  severity: { type: string; score: string }[];
  /** The publisher's own rating (GHSA `database_specific.severity`). */
  vendorSeverity?: string;
  /** First advisory/web reference, for the finding's URI. */
  url?: string;
}

/** Splits a record into its header and its affected entries with names normalised for lookup. */
export function splitRecord(record: OsvRecord): { header: AdvisoryHeader; affected: { ecosystem: string; name: string; entry: OsvAffected }[] } {
  const vendor = record.database_specific?.['severity'];
  const refs = record.references ?? [];
  const url = (refs.find((r) => r.type === 'ADVISORY') ?? refs.find((r) => r.type === 'WEB') ?? refs[0])?.url;
  const header: AdvisoryHeader = {
    id: record.id,
    modified: record.modified,
    published: record.published,
    aliases: record.aliases ?? [],
    related: record.related ?? [],
    summary: record.summary,
    details: record.details !== undefined && record.details.length > 4000 ? `${record.details.slice(0, 4000)}…` : record.details,
    severity: record.severity ?? [],
    vendorSeverity: typeof vendor === 'string' ? vendor : undefined,
    url,
  };
  const out: { ecosystem: string; name: string; entry: OsvAffected }[] = [];
  for (const a of record.affected ?? []) {
    if (!a.package) continue;
    // GIT ranges cannot be compared with a package version; keep only what the matcher can evaluate.
    const ranges = (a.ranges ?? []).filter((r) => r.type !== 'GIT');
    const versions = a.versions ?? [];
    if (ranges.length === 0 && versions.length === 0) continue;
    out.push({ ecosystem: a.package.ecosystem, name: normalizePackageName(a.package.ecosystem, a.package.name), entry: { ...a, ranges, versions } });
  }
  return { header, affected: out };
}

/** The version ordering of an OSV ecosystem (`Debian:12` → dpkg). Undefined: only exact `versions[]` can match. */
export function ecosystemScheme(ecosystem: string): VersionScheme | undefined {
  const base = ecosystem.split(':')[0]!;
  switch (base) {
    case 'Debian':
    case 'Ubuntu':
      return 'dpkg';
    case 'Alpine':
    case 'Wolfi':
    case 'Chainguard':
      return 'apk';
    case 'Red Hat':
    case 'Rocky Linux':
    case 'AlmaLinux':
    case 'SUSE':
    case 'openSUSE':
    case 'Mageia':
    case 'openEuler':
      return 'rpm';
    case 'npm':
    case 'crates.io':
    case 'NuGet':
    case 'Hex':
    case 'Pub':
    case 'Packagist':
      return 'semver';
    case 'Go':
      return 'go';
    case 'PyPI':
      return 'pep440';
    case 'Maven':
      return 'maven';
    default:
      return undefined;
  }
}

/** Package names as matched: PyPI per PEP 503 (lower case, runs of `-_.` → `-`); others as written. */
export function normalizePackageName(ecosystem: string, name: string): string {
  if (ecosystem === 'PyPI') return name.toLowerCase().replace(/[-_.]+/g, '-');
  return name;
}
