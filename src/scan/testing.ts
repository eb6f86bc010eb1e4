/** Test support: the shared vulnerability-database fixtures (`../shared/fixtures/vulndb` beside the checkout). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InstalledPackage, Inventory, OsRelease } from './types.ts';

/** Absolute path of the fixtures folder (read only; the whole offline "advisory universe" for tests). */
export const VULNDB_FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/vulndb/', import.meta.url));

/** The expected findings file. */
export function expectedFindings(): any {
  return JSON.parse(readFileSync(join(VULNDB_FIXTURES, 'ground-truth', 'expected-findings.json'), 'utf8'));
}

/** Reads one ground-truth input file. */
export function groundTruthFile(name: string): string {
  return readFileSync(join(VULNDB_FIXTURES, 'ground-truth', name), 'utf8');
}

function osRelease(text: string): OsRelease {
  const kv = new Map(text.split('\n').map((l) => /^([A-Z_]+)=(.*)$/.exec(l.trim())).filter((m) => m !== null).map((m) => [m[1]!, m[2]!.replace(/^"|"$/g, '')]));
  return { id: kv.get('ID')!, versionId: kv.get('VERSION_ID')!, codename: kv.get('VERSION_CODENAME') };
}

const pkg = (p: Omit<InstalledPackage, 'purl'>): InstalledPackage => ({ ...p, purl: `pkg:${p.ecosystem}/${p.name}@${p.version}` });

/**
 * The ground-truth inventories, read from the fixture inputs the way the inventory analyzers read them from an
 * image (installed stanzas only; dpkg `Source: name (version)`; apk origin; one installed package per npm
 * lockfile entry; `name==version` lines; `go version -m` lines with the toolchain as `stdlib`).
 */
export function groundTruthInventories(): Record<'debian' | 'alpine' | 'npm' | 'pypi' | 'go', Inventory> {
  const debian: InstalledPackage[] = [];
  for (const stanza of groundTruthFile('debian-12.dpkg-status').split(/\n\s*\n/)) {
    const f = new Map(stanza.split('\n').map((l) => /^([A-Za-z-]+):\s*(.*)$/.exec(l)).filter((m) => m !== null).map((m) => [m[1]!, m[2]!]));
    if (!f.get('Package') || f.get('Status')?.split(' ')[2] !== 'installed') continue;
    const src = /^(\S+)(?: \((.*)\))?$/.exec(f.get('Source') ?? '');
    debian.push(pkg({ ecosystem: 'deb', name: f.get('Package')!, version: f.get('Version')!, sourceName: src?.[1] ?? f.get('Package')!, sourceVersion: src?.[2] ?? f.get('Version')!, path: '/var/lib/dpkg/status' }));
  }
  const alpine: InstalledPackage[] = [];
  for (const stanza of groundTruthFile('alpine-3.20.apk-installed').split(/\n\s*\n/)) {
    const f = new Map(stanza.split('\n').filter((l) => l[1] === ':').map((l) => [l[0]!, l.slice(2)]));
    if (f.get('P')) alpine.push(pkg({ ecosystem: 'apk', name: f.get('P')!, version: f.get('V')!, sourceName: f.get('o'), path: '/lib/apk/db/installed' }));
  }
  const lock = JSON.parse(groundTruthFile('npm-package-lock.json')) as { packages: Record<string, { version?: string }> };
  const npm = Object.entries(lock.packages).filter(([k]) => k.startsWith('node_modules/')).map(([k, v]) => pkg({ ecosystem: 'npm', name: k.slice('node_modules/'.length), version: v.version!, path: `/app/${k}/package.json` }));
  const pypi = groundTruthFile('pypi-installed.txt').split('\n').map((l) => /^([^=\s]+)==(\S+)$/.exec(l.trim())).filter((m) => m !== null)
    .map((m) => pkg({ ecosystem: 'pypi', name: m[1]!, version: m[2]!, path: `/usr/lib/python3/site-packages/${m[1]}-${m[2]}.dist-info/METADATA` }));
  const go: InstalledPackage[] = [];
  for (const line of groundTruthFile('go-buildinfo.txt').split('\n')) {
    const [kind, a, b] = line.trim().split('\t');
    if (kind === 'go' && a) go.push(pkg({ ecosystem: 'go', name: 'stdlib', version: a.replace(/^go/, 'v'), path: '/usr/local/bin/app' }));
    if (kind === 'dep' && a && b) go.push(pkg({ ecosystem: 'go', name: a, version: b, path: '/usr/local/bin/app' }));
  }
  return {
    debian: { os: osRelease(groundTruthFile('debian-12.os-release')), packages: debian },
    alpine: { os: osRelease(groundTruthFile('alpine-3.20.os-release')), packages: alpine },
    npm: { packages: npm },
    pypi: { packages: pypi },
    go: { packages: go },
  };
}
