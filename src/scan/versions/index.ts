/**
 * Version ordering per ecosystem. Distro schemes (dpkg, apk, rpm) and Maven are implemented here and proven by
 * the fixture vectors; SemVer (npm, Go) comes from node-semver and PEP 440 from @renovatebot/pep440.
 */
import { compare as pep440Compare, valid as pep440Valid } from '@renovatebot/pep440';
import semver from 'semver';
import { compareApk } from './apk.ts';
import { compareDpkg, parseDpkgVersion } from './dpkg.ts';
import { compareMaven } from './maven.ts';
import { compareRpm } from './rpm.ts';
import { getOrCreateBounded } from '../../core/bounded-map.ts';

export { compareApk } from './apk.ts';
export { compareDpkg, parseDpkgVersion } from './dpkg.ts';
export { compareMaven } from './maven.ts';
export { compareRpm, rpmvercmp } from './rpm.ts';

/** The version orderings cargohold knows. */
export type VersionScheme = 'dpkg' | 'apk' | 'rpm' | 'semver' | 'go' | 'pep440' | 'maven';

/** SemVer 2.0.0 precedence as npm orders versions (loose: a leading `v`/`=` is accepted). Invalid sorts below valid. */
export function compareSemver(a: string, b: string): number {
  const x = parseSemver(a);
  const y = parseSemver(b);
  if (!x || !y) return x ? 1 : y ? -1 : 0;
  return x.compare(y);
}

/** Parsed versions, remembered (matching compares the same advisory bounds over and over); bounded. */
const semverCache = new Map<string, semver.SemVer | null>();
function parseSemver(v: string): semver.SemVer | null {
  return getOrCreateBounded(semverCache, v, 100_000, () => semver.parse(v, { loose: true }));
}

/**
 * Go module ordering (golang.org/x/mod/semver): `v` optional here because OSV writes Go versions without it;
 * `v1`/`v1.2` are shorthand for `v1.0.0`/`v1.2.0` (but not with a pre-release or build); build metadata
 * (`+incompatible`) is ignored; invalid strings are equal to each other and below every valid version.
 */
export function compareGo(a: string, b: string): number {
  const x = parseGo(a);
  const y = parseGo(b);
  if (!x || !y) return x ? 1 : y ? -1 : 0;
  return x.compare(y);
}

function parseGo(text: string): semver.SemVer | null {
  const v = text.startsWith('v') ? text.slice(1) : text;
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?((?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$/.exec(v);
  if (!m) return null;
  if ((m[2] === undefined || m[3] === undefined) && m[4]) return null;
  for (const part of [m[1], m[2], m[3]]) if (part !== undefined && part.length > 1 && part.startsWith('0')) return null;
  return semver.parse(`${m[1]}.${m[2] ?? '0'}.${m[3] ?? '0'}${m[4]}`);
}

/**
 * Go toolchain versions as the Go vulnerability database writes them: `go1.21.0` → `1.21.0`, `go1.22rc1` →
 * `1.22.0-rc.1`, `1.22.0-rc1` → `1.22.0-rc.1` (vulndb uses both spellings).
 */
export function normalizeGoToolchain(version: string): string {
  let v = version.replace(/^go/, '').replace(/^v/, '');
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-?(rc|beta|alpha)\.?(\d+))?$/.exec(v);
  if (!m) return v;
  v = `${m[1]}.${m[2] ?? '0'}.${m[3] ?? '0'}`;
  return m[4] ? `${v}-${m[4]}.${m[5]}` : v;
}

/** PEP 440 ordering (local versions included). Invalid (legacy) versions sort below valid ones and as text among themselves. */
export function comparePep440(a: string, b: string): number {
  const va = pep440Valid(a);
  const vb = pep440Valid(b);
  if (!va || !vb) return va ? 1 : vb ? -1 : a < b ? -1 : a > b ? 1 : 0;
  return Math.sign(pep440Compare(a, b));
}

const COMPARATORS: Record<VersionScheme, (a: string, b: string) => number> = {
  dpkg: compareDpkg,
  apk: compareApk,
  rpm: compareRpm,
  semver: compareSemver,
  go: compareGo,
  pep440: comparePep440,
  maven: compareMaven,
};

/** Compares two versions in `scheme`: negative, zero or positive. */
export function compareVersions(scheme: VersionScheme, a: string, b: string): number {
  return Math.sign(COMPARATORS[scheme](a, b));
}

/** True when `version` parses in `scheme` (an unparsable installed version is never range-matched). */
export function isValidVersion(scheme: VersionScheme, version: string): boolean {
  switch (scheme) {
    case 'dpkg': return parseDpkgVersion(version) !== undefined;
    case 'apk': return /^\d/.test(version);
    case 'rpm': return version.trim() !== '';
    case 'semver': return semver.parse(version, { loose: true }) !== null;
    case 'go': return parseGo(version) !== null;
    case 'pep440': return pep440Valid(version) !== null;
    case 'maven': return version.trim() !== '';
  }
}
