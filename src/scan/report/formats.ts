/**
 * Scan reports for people and tools: a readable table, JSON, SARIF 2.1.0 (code-scanning UIs) and CycloneDX 1.5
 * (the image's SBOM, with the vulnerabilities that affect its components when findings are given).
 */
import { createHash } from 'node:crypto';
import type { Finding } from '../match/match.ts';
import { SEVERITY_ORDER, severityRank, type Severity } from '../match/severity.ts';
import type { Inventory } from '../types.ts';

/** The image a report is about. */
export interface ReportSubject {
  repository: string;
  digest: string;
  tag?: string;
  /** When the advisory database was last updated. */
  databaseUpdatedAt?: Date;
  scannedAt?: Date;
}

/** True when some finding is at least `threshold` severe (the `--fail-on` gate). */
export function failsGate(findings: readonly Finding[], threshold: Severity): boolean {
  return findings.some((f) => f.severity !== 'UNDEFINED' && severityRank(f.severity) >= severityRank(threshold));
}

/** A plain-text table: SEVERITY, ID, PACKAGE, INSTALLED, FIXED (`(unfixed)` when there is no fix), then a count per severity. */
export function tableReport(subject: ReportSubject, findings: readonly Finding[]): string {
  const head = `${subject.repository}${subject.tag ? `:${subject.tag}` : ''} (${subject.digest})`;
  const lines = [head];
  if (subject.databaseUpdatedAt) lines.push(`advisory database updated ${subject.databaseUpdatedAt.toISOString()}`);
  const counts = SEVERITY_ORDER.map((s) => [s, findings.filter((f) => f.severity === s).length] as const).filter(([, n]) => n > 0);
  lines.push(`${findings.length} vulnerabilit${findings.length === 1 ? 'y' : 'ies'}${counts.length ? ` (${counts.map(([s, n]) => `${s} ${n}`).join(', ')})` : ''}`, '');
  if (findings.length === 0) return `${lines.join('\n')}\n`;
  const rows = [['SEVERITY', 'ID', 'PACKAGE', 'INSTALLED', 'FIXED']];
  for (const f of findings) rows.push([f.severity, f.id, f.package, f.version, f.fixedVersion ?? '(unfixed)']);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) lines.push(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  return `${lines.join('\n')}\n`;
}

/** JSON: the image, the database age and every finding as cargohold stores it. */
export function jsonReport(subject: ReportSubject, findings: readonly Finding[]): string {
  return `${JSON.stringify({
    repository: subject.repository,
    digest: subject.digest,
    ...(subject.tag ? { tag: subject.tag } : {}),
    ...(subject.scannedAt ? { scannedAt: subject.scannedAt.toISOString() } : {}),
    ...(subject.databaseUpdatedAt ? { databaseUpdatedAt: subject.databaseUpdatedAt.toISOString() } : {}),
    findings,
  }, null, 2)}\n`;
}

const SARIF_LEVEL: Record<Severity, 'error' | 'warning' | 'note' | 'none'> = { CRITICAL: 'error', HIGH: 'error', MEDIUM: 'warning', LOW: 'note', INFORMATIONAL: 'note', UNDEFINED: 'warning' };
const SECURITY_SEVERITY: Record<Severity, string> = { CRITICAL: '9.5', HIGH: '8.0', MEDIUM: '5.5', LOW: '2.0', INFORMATIONAL: '0.0', UNDEFINED: '0.0' };

/** SARIF 2.1.0: one rule per advisory, one result per affected package (GitHub code scanning reads `security-severity`). */
export function sarifReport(subject: ReportSubject, findings: readonly Finding[], toolVersion: string): string {
  const rules = new Map<string, Record<string, unknown>>();
  for (const f of findings) {
    if (rules.has(f.id)) continue;
    const score = f.cvss.find((c) => c.version.startsWith('3'))?.score ?? f.cvss[0]?.score;
    rules.set(f.id, {
      id: f.id,
      name: f.id.replace(/[^A-Za-z0-9]/g, ''),
      shortDescription: { text: f.title ?? f.id },
      fullDescription: { text: f.description ?? f.title ?? f.id },
      ...(f.url ? { helpUri: f.url } : {}),
      help: { text: f.description ?? f.id },
      properties: { tags: ['vulnerability', 'security', f.severity], 'security-severity': score !== undefined ? String(score) : SECURITY_SEVERITY[f.severity], precision: 'very-high' },
    });
  }
  const ruleIndex = [...rules.keys()];
  const results = findings.map((f) => ({
    ruleId: f.id,
    ruleIndex: ruleIndex.indexOf(f.id),
    level: SARIF_LEVEL[f.severity],
    message: { text: `${f.package} ${f.version} is affected by ${f.id} (${f.severity}); ${f.fixedVersion ? `fixed in ${f.fixedVersion}` : 'no fix available'}. Image ${subject.repository}@${subject.digest}.` },
    locations: [{ physicalLocation: { artifactLocation: { uri: f.path.replace(/^\/+/, ''), uriBaseId: 'ROOTPATH' } }, message: { text: `${subject.repository}@${subject.digest}: ${f.path}` } }],
    partialFingerprints: { packageVulnerability: createHash('sha256').update(`${subject.repository}\0${f.id}\0${f.package}\0${f.version}\0${f.path}`).digest('hex') },
  }));
  return `${JSON.stringify({
    version: '2.1.0',
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    runs: [{
      tool: { driver: { name: 'cargohold', informationUri: 'https://github.com/cargohold/cargohold', version: toolVersion, rules: [...rules.values()] } },
      originalUriBaseIds: { ROOTPATH: { uri: 'file:///' } },
      results,
    }],
  }, null, 2)}\n`;
}

/** Deterministic serial number (same image, same inventory → same BOM id). */
function serialNumber(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * CycloneDX 1.5 JSON: the image as the metadata component, its OS and packages as components (bom-ref = purl),
 * and — when findings are given — the vulnerabilities with ratings and the components they affect.
 */
export function cycloneDxReport(subject: ReportSubject, inventory: Inventory, findings: readonly Finding[] | undefined, toolVersion: string, now: Date): string {
  const imageRef = `pkg:oci/${encodeURIComponent(subject.repository.split('/').pop()!)}@${encodeURIComponent(subject.digest)}?repository_url=${encodeURIComponent(subject.repository)}`;
  const components: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  if (inventory.os) {
    components.push({ type: 'operating-system', 'bom-ref': `os:${inventory.os.id}@${inventory.os.versionId}`, name: inventory.os.id, version: inventory.os.versionId, ...(inventory.os.prettyName ? { description: inventory.os.prettyName } : {}) });
  }
  for (const p of inventory.packages) {
    if (seen.has(p.purl)) continue;
    seen.add(p.purl);
    const properties = [
      { name: 'cargohold:package:ecosystem', value: p.ecosystem },
      { name: 'cargohold:package:path', value: p.path },
      ...(p.sourceName ? [{ name: 'cargohold:package:source-name', value: p.sourceName }] : []),
      ...(p.sourceVersion ? [{ name: 'cargohold:package:source-version', value: p.sourceVersion }] : []),
      ...(p.arch ? [{ name: 'cargohold:package:arch', value: p.arch }] : []),
    ];
    components.push({ type: 'library', 'bom-ref': p.purl, name: p.name, version: p.version, purl: p.purl, properties });
  }
  const bom: Record<string, unknown> = {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: serialNumber(`${subject.digest}\0${JSON.stringify(inventory.packages.map((p) => p.purl))}\0${findings ? findings.length : -1}`),
    version: 1,
    metadata: {
      timestamp: now.toISOString(),
      tools: { components: [{ type: 'application', name: 'cargohold', version: toolVersion }] },
      component: { type: 'container', 'bom-ref': imageRef, name: subject.repository, version: subject.digest, purl: imageRef, ...(subject.tag ? { properties: [{ name: 'cargohold:image:tag', value: subject.tag }] } : {}) },
    },
    components,
    dependencies: [{ ref: imageRef, dependsOn: components.map((c) => c['bom-ref']) }],
  };
  if (findings) {
    const byId = new Map<string, Finding[]>();
    for (const f of findings) byId.set(f.id, [...(byId.get(f.id) ?? []), f]);
    bom.vulnerabilities = [...byId.entries()].map(([id, fs]) => {
      const f = fs[0]!;
      return {
        'bom-ref': `vuln:${id}`,
        id,
        source: { name: f.id.startsWith('CVE-') ? 'NVD' : 'OSV', ...(f.url ? { url: f.url } : {}) },
        ...(f.aliases.length ? { references: f.aliases.map((a) => ({ id: a, source: { name: a.startsWith('CVE-') ? 'NVD' : 'OSV' } })) } : {}),
        ratings: [
          { severity: f.severity === 'UNDEFINED' ? 'unknown' : f.severity === 'INFORMATIONAL' ? 'info' : f.severity.toLowerCase(), method: 'other', source: { name: f.severitySource === 'vendor' ? f.ecosystem : 'NVD' } },
          ...f.cvss.map((c) => ({ score: c.score, vector: c.vector, method: c.version === '2.0' ? 'CVSSv2' : c.version === '4.0' ? 'CVSSv4' : c.version === '3.0' ? 'CVSSv3' : 'CVSSv31' })),
        ],
        ...(f.description ? { description: f.description } : {}),
        ...(f.fixedVersion ? { recommendation: `Upgrade to ${f.fixedVersion}` } : {}),
        affects: fs.map((x) => ({ ref: x.purl, versions: [{ version: x.version, status: 'affected' }] })),
      };
    });
  }
  return `${JSON.stringify(bom, null, 2)}\n`;
}
