/**
 * Matching an inventory against the advisory database, as Trivy and Grype do it: distro packages only
 * against their own distro release's advisories (Debian/Ubuntu by source package and source version, Alpine
 * by origin per minor branch, RPM distributions by binary name), language packages against their ecosystem;
 * `introduced ≤ installed < fixed` (or `≤ last_affected`, or listed in `versions[]`); no fix = unfixed;
 * records that name each other (or share an alias) are one finding.
 */
import type { AffectedMatchRow } from '../store.ts';
import type { InstalledPackage, Inventory, OsRelease } from '../types.ts';
import { compareVersions, normalizeGoToolchain } from '../versions/index.ts';
import { ecosystemScheme, normalizePackageName, type AdvisoryHeader } from '../vulndb/osv.ts';
import { evaluateAffected } from './affected.ts';
import { cvssBand, cvssScores, debianUrgency, preferredScore, severityRank, vendorRating, type CvssScore, type Severity } from './severity.ts';
import { getOrCreateBounded } from '../../core/bounded-map.ts';

/** One vulnerability of one installed package. */
export interface Finding {
  /** The advisory id shown (a CVE when one of the merged records is one, else GO-, else GHSA, else the record's own). */
  id: string;
  /** The other record ids and aliases merged into this finding. */
  aliases: string[];
  /** OSV ecosystem matched (`Debian:12`, `npm`). */
  ecosystem: string;
  /** Installed package name and version. */
  package: string;
  version: string;
  /** The source/origin name and version compared (distro packages). */
  sourceName?: string;
  sourceVersion?: string;
  /** The version that fixes it; undefined when there is no fix yet (unfixed). */
  fixedVersion?: string;
  severity: Severity;
  /** Where the severity came from: `vendor` (distro/GHSA rating) or `cvss`. */
  severitySource?: 'vendor' | 'cvss';
  cvss: CvssScore[];
  title?: string;
  description?: string;
  url?: string;
  published?: string;
  modified?: string;
  /** The package's file in the image, purl and arch. */
  path: string;
  purl: string;
  arch?: string;
}

/** One advisory-database question for a package. */
export interface MatchQuery {
  ecosystems: string[];
  name: string;
  version: string;
  /** Normalises versions written in the advisories (Go: drop `v`; stdlib: toolchain spellings). */
  normalize?: (v: string) => string;
}

const major = (v: string) => v.split('.')[0] ?? v;
const minor = (v: string) => v.split('.').slice(0, 2).join('.');

/** What to look up for a package, given the image's distribution (undefined: nothing to match against). */
export function queryFor(pkg: InstalledPackage, os: OsRelease | undefined): MatchQuery | undefined {
  switch (pkg.ecosystem) {
    case 'deb': {
      if (!os) return undefined;
      const name = pkg.sourceName ?? pkg.name;
      const version = pkg.sourceVersion ?? pkg.version;
      if (os.id === 'debian') return { ecosystems: [`Debian:${major(os.versionId)}`], name, version };
      if (os.id === 'ubuntu') return { ecosystems: [`Ubuntu:${os.versionId}`, `Ubuntu:${os.versionId}:LTS`], name, version };
      return undefined;
    }
    case 'apk':
      if (!os || !['alpine', 'wolfi', 'chainguard'].includes(os.id)) return undefined;
      if (os.id === 'alpine') return { ecosystems: [`Alpine:v${minor(os.versionId)}`], name: pkg.sourceName ?? pkg.name, version: pkg.version };
      return { ecosystems: [os.id === 'wolfi' ? 'Wolfi' : 'Chainguard'], name: pkg.sourceName ?? pkg.name, version: pkg.version };
    case 'rpm': {
      if (!os) return undefined;
      const m = major(os.versionId);
      const ecosystems =
        os.id === 'rocky' ? [`Rocky Linux:${m}`]
        : os.id === 'almalinux' ? [`AlmaLinux:${m}`]
        : os.id === 'rhel' ? ['baseos', 'appstream', 'crb'].map((r) => `Red Hat:enterprise_linux:${m}::${r}`)
        : os.id === 'opensuse-leap' ? [`openSUSE:Leap ${os.versionId}`]
        : os.id === 'mageia' ? [`Mageia:${os.versionId}`]
        : [];
      return ecosystems.length ? { ecosystems, name: pkg.name, version: pkg.version } : undefined;
    }
    case 'npm':
      return { ecosystems: ['npm'], name: pkg.name, version: pkg.version };
    case 'pypi':
      return { ecosystems: ['PyPI'], name: normalizePackageName('PyPI', pkg.name), version: pkg.version };
    case 'go':
      if (pkg.name === 'stdlib' || pkg.name === 'toolchain') return { ecosystems: ['Go'], name: pkg.name, version: normalizeGoToolchain(pkg.version), normalize: normalizeGoToolchain };
      return { ecosystems: ['Go'], name: pkg.name, version: pkg.version.replace(/^v/, ''), normalize: (v) => v.replace(/^v/, '') };
    case 'maven':
      return { ecosystems: ['Maven'], name: pkg.name, version: pkg.version };
    case 'gem':
      return { ecosystems: ['RubyGems'], name: pkg.name, version: pkg.version };
    case 'cargo':
      return { ecosystems: ['crates.io'], name: pkg.name, version: pkg.version };
  }
}

/** Looks up the affected entries for a set of (ecosystem, name) keys. */
export type AffectedLookup = (keys: readonly { ecosystem: string; name: string }[]) => Promise<AffectedMatchRow[]>;

/** One advisory that matched a package. */
export interface Hit {
  advisory: AdvisoryHeader;
  ecosystem: string;
  fixed?: string;
  severity: Severity;
  severitySource?: 'vendor' | 'cvss';
  cvss: CvssScore[];
}

/** Severity per advisory row, computed once (rows are cached across packages and images). */
const severityCache = new WeakMap<AffectedMatchRow, { severity: Severity; source?: 'vendor' | 'cvss'; cvss: CvssScore[] }>();

function severityOf(row: AffectedMatchRow): { severity: Severity; source?: 'vendor' | 'cvss'; cvss: CvssScore[] } {
  let v = severityCache.get(row);
  if (!v) {
    v = computeSeverity(row);
    severityCache.set(row, v);
  }
  return v;
}

function computeSeverity(row: AffectedMatchRow): { severity: Severity; source?: 'vendor' | 'cvss'; cvss: CvssScore[] } {
  const cvss = cvssScores([...row.advisory.severity, ...(row.entry.severity ?? [])]);
  const urgency = row.entry.ecosystem_specific?.['urgency'];
  const vendor = (typeof urgency === 'string' ? debianUrgency(urgency) : undefined) ?? (row.advisory.vendorSeverity ? vendorRating(row.advisory.vendorSeverity) : undefined);
  if (vendor) return { severity: vendor, source: 'vendor', cvss };
  const best = preferredScore(cvss);
  if (best) return { severity: cvssBand(best.score), source: 'cvss', cvss };
  return { severity: 'UNDEFINED', cvss };
}

/**
 * Remembers, per (ecosystems, name, version), which advisories matched, for one database generation: images
 * share most packages, so a re-match of many inventories evaluates each distinct package once.
 */
export type MatchMemo = Map<string, Hit[][]>;

/** Matches every package of `inventory`; findings sorted by severity, then id, then package. */
export async function matchInventory(inventory: Inventory, lookup: AffectedLookup, memo?: MatchMemo): Promise<Finding[]> {
  const queries: { pkg: InstalledPackage; q: MatchQuery }[] = [];
  for (const pkg of inventory.packages) {
    const q = queryFor(pkg, inventory.os);
    if (q) queries.push({ pkg, q });
  }
  const keys = new Map<string, { ecosystem: string; name: string }>();
  for (const { q } of queries) for (const ecosystem of q.ecosystems) keys.set(`${ecosystem}\0${q.name}`, { ecosystem, name: q.name });
  const rows = await lookup([...keys.values()]);
  const byKey = new Map<string, AffectedMatchRow[]>();
  for (const r of rows) {
    const k = `${r.ecosystem}\0${r.name}`;
    const list = byKey.get(k);
    if (list) list.push(r);
    else byKey.set(k, [r]);
  }

  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const { pkg, q } of queries) {
    const memoKey = `${q.ecosystems.join(',')}\0${q.name}\0${q.version}`;
    const compute = () => aliasGroups([...matchPackage(q, byKey).values()]);
    const groups = memo ? getOrCreateBounded(memo, memoKey, 200_000, compute) : compute();
    for (const group of groups) {
      const f = toFinding(pkg, q, group);
      const key = `${f.id}\0${f.ecosystem}\0${f.package}\0${f.version}`;
      if (seen.has(key)) continue;
      seen.add(key);
      findings.push(f);
    }
  }
  findings.sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || cmp(a.id, b.id) || cmp(a.package, b.package) || cmp(a.path, b.path));
  return findings;
}

/** The advisories that affect one package, by advisory id. */
function matchPackage(q: MatchQuery, byKey: Map<string, AffectedMatchRow[]>): Map<string, Hit> {
  const hits = new Map<string, Hit>();
  for (const ecosystem of q.ecosystems) {
    const scheme = ecosystemScheme(ecosystem);
    for (const row of byKey.get(`${ecosystem}\0${q.name}`) ?? []) {
      const verdict = evaluateAffected(row.entry, q.version, scheme, q.normalize);
      if (!verdict.affected) continue;
      const prev = hits.get(row.advisory.id);
      const sev = severityOf(row);
      if (prev) {
        // Several entries of one record for this package: keep the highest fix and severity.
        if (verdict.fixed && (!prev.fixed || (scheme && compareVersions(scheme, verdict.fixed, prev.fixed) > 0))) prev.fixed = verdict.fixed;
        if (severityRank(sev.severity) > severityRank(prev.severity)) Object.assign(prev, { severity: sev.severity, severitySource: sev.source });
        continue;
      }
      hits.set(row.advisory.id, { advisory: row.advisory, ecosystem, fixed: verdict.fixed, severity: sev.severity, severitySource: sev.source, cvss: sev.cvss });
    }
  }
  return hits;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Groups hits whose records name each other or share an alias (union-find). */
function aliasGroups(hits: Hit[]): Hit[][] {
  const parent = hits.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const byName = new Map<string, number>();
  hits.forEach((h, i) => {
    for (const name of [h.advisory.id, ...h.advisory.aliases]) {
      const j = byName.get(name);
      if (j === undefined) byName.set(name, i);
      else parent[find(i)] = find(j);
    }
  });
  const groups = new Map<number, Hit[]>();
  hits.forEach((h, i) => {
    const r = find(i);
    groups.set(r, [...(groups.get(r) ?? []), h]);
  });
  return [...groups.values()];
}

/** Which merged record names the finding: a CVE, else the Go database's own id, else GHSA, else the rest. */
function primaryRank(id: string): number {
  return id.startsWith('CVE-') ? 0 : id.startsWith('GO-') ? 1 : id.startsWith('GHSA-') ? 2 : 3;
}

function toFinding(pkg: InstalledPackage, q: MatchQuery, members: Hit[]): Finding {
  const group = [...members].sort((a, b) => primaryRank(a.advisory.id) - primaryRank(b.advisory.id) || cmp(a.advisory.id, b.advisory.id));
  const primary = group[0]!;
  const scheme = ecosystemScheme(primary.ecosystem);
  let fixed: string | undefined;
  let best = primary;
  for (const h of group) {
    if (h.fixed && (!fixed || (scheme && compareVersions(scheme, h.fixed, fixed) > 0))) fixed = h.fixed;
    if (severityRank(h.severity) > severityRank(best.severity)) best = h;
  }
  const aliases = new Set<string>();
  for (const h of group) for (const n of [h.advisory.id, ...h.advisory.aliases]) if (n !== primary.advisory.id) aliases.add(n);
  const distro = pkg.ecosystem === 'deb' || pkg.ecosystem === 'apk' || pkg.ecosystem === 'rpm';
  return {
    id: primary.advisory.id,
    aliases: [...aliases].sort(),
    ecosystem: primary.ecosystem,
    package: pkg.name,
    version: pkg.version,
    ...(distro && (q.name !== pkg.name || q.version !== pkg.version) ? { sourceName: q.name, sourceVersion: q.version } : {}),
    fixedVersion: fixed,
    severity: best.severity,
    severitySource: best.severitySource,
    cvss: group.flatMap((h) => h.cvss).filter((c, i, all) => all.findIndex((x) => x.vector === c.vector) === i),
    title: primary.advisory.summary,
    description: primary.advisory.details ?? primary.advisory.summary,
    url: primary.advisory.url ?? advisoryUrl(primary.advisory.id),
    published: primary.advisory.published,
    modified: primary.advisory.modified,
    path: pkg.path,
    purl: pkg.purl,
    arch: pkg.arch,
  };
}

/** The advisory texts of a finding, which are not stored with it (they are read back from the advisory). */
type AdvisoryTexts = 'title' | 'description' | 'url' | 'published' | 'modified';

/** A finding as stored with a scan: without its advisory's texts (they would repeat for every image). */
export type StoredFinding = Omit<Finding, AdvisoryTexts>;

export function compactFinding(f: Finding): StoredFinding {
  const { title: _t, description: _d, url: _u, published: _p, modified: _m, ...rest } = f;
  return rest;
}

/** Fills stored findings' texts from their advisories' headers (by the finding's id). */
export function hydrateFindings(findings: readonly StoredFinding[], headers: ReadonlyMap<string, AdvisoryHeader>): Finding[] {
  return findings.map((f) => {
    const h = headers.get(f.id);
    return {
      ...f,
      ...(h?.summary ? { title: h.summary } : {}),
      ...(h?.details ?? h?.summary ? { description: h?.details ?? h?.summary } : {}),
      url: h?.url ?? advisoryUrl(f.id),
      ...(h?.published ? { published: h.published } : {}),
      ...(h?.modified ? { modified: h.modified } : {}),
    };
  });
}

/** A public page for an id when the record names none. */
export function advisoryUrl(id: string): string {
  if (id.startsWith('CVE-')) return `https://nvd.nist.gov/vuln/detail/${id}`;
  return `https://osv.dev/vulnerability/${id}`;
}
