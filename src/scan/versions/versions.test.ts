import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { VULNDB_FIXTURES } from '../testing.ts';
import { compareGo, compareSemver, compareVersions, normalizeGoToolchain, type VersionScheme } from './index.ts';

const VECTORS = join(VULNDB_FIXTURES, 'version-vectors');
const rows = readFileSync(join(VECTORS, 'curated.tsv'), 'utf8').split('\n').slice(1).filter((l) => l.trim()).map((l) => l.split('\t'));

const expected = (op: string): number => (op === '<' ? -1 : op === '>' ? 1 : op === '=' ? 0 : NaN);

function check(scheme: VersionScheme | ((a: string, b: string) => number), a: string, op: string, b: string): string | undefined {
  const cmp = typeof scheme === 'function' ? (x: string, y: string) => Math.sign(scheme(x, y)) : (x: string, y: string) => compareVersions(scheme, x, y);
  const want = expected(op);
  const got = cmp(a, b);
  const back = cmp(b, a);
  if (got !== want || back !== -want) return `${a} ${op} ${b}: got ${got} (reverse ${back})`;
  return undefined;
}

function curated(name: string): string[][] {
  const r = rows.filter((x) => x[0] === name);
  assert.ok(r.length > 0, `curated.tsv has ${name} rows`);
  return r;
}

function scalibr(file: string): [string, string, string][] {
  return readFileSync(join(VECTORS, 'osv-scalibr', file), 'utf8').split('\n')
    .filter((l) => l.trim() && !l.startsWith('# ') && !l.startsWith('// '))
    .map((l) => {
      const m = /^(.*?) ([<=>]) (.*)$/.exec(l.trim());
      assert.ok(m, `vector line: ${l}`);
      return [m[1]!, m[2]!, m[3]!];
    });
}

/**
 * Runs every vector; `known` lists the exact lines (`a op b`) where the source's own parser deliberately
 * differs from the algorithm cargohold follows (each explained where it is passed). Any other failure fails.
 */
function suite(scheme: VersionScheme | ((a: string, b: string) => number), vectors: string[][], known: readonly string[] = []): void {
  const failures = vectors.filter(([a, op, b]) => !known.includes(`${a} ${op} ${b}`)).map(([a, op, b]) => check(scheme, a!, op!, b!)).filter((x) => x !== undefined);
  assert.deepEqual(failures, [], `${failures.length} of ${vectors.length} failed`);
  for (const line of known) assert.ok(vectors.some(([a, op, b]) => `${a} ${op} ${b}` === line), `known deviation "${line}" is a vector`);
}

const fromCurated = (name: string) => curated(name).map((r) => [r[1]!, r[2]!, r[3]!]);

describe('dpkg', () => {
  it('every curated row (dpkg tests, Policy, bookworm strings)', () => suite('dpkg', fromCurated('dpkg')));
  it('osv-scalibr Debian vectors, hand-written and generated from real data', () => {
    suite('dpkg', scalibr('debian-versions.txt'));
    suite('dpkg', scalibr('debian-versions-generated.txt'));
  });
});

describe('apk (2.x rules)', () => {
  it('every curated row (apk-tools version.data)', () => suite('apk', fromCurated('apk')));
  it('the 2.x side of the 2.x-vs-3.x rows', () => {
    for (const [, a, op, b] of curated('apk-2x-vs-3x')) suite('apk', [[a!, op!.slice(0, 1), b!]]);
  });
  it('osv-scalibr Alpine vectors (generated from real data: all; hand-written: all but the apk-tools 3 invalid-version lines)', () => {
    suite('apk', scalibr('alpine-versions-generated.txt'));
    // apk-tools 3 rules for invalid versions (`-r-0`, `.r1`, upper-case letters, `-ruff`), which the 2.x
    // algorithm that every scanner uses orders differently (README: the hand-written newer-rule lines).
    suite('apk', scalibr('alpine-versions.txt'), ['1-r-0 < 1-r0', '1-r-1 < 1-r0', '0.r1 < 0r2', '0.8.21.r2 < 0.8.21r2', '1.2.0A < 1.2.0d', '1.2.0D < 1.2.0d', '1 > 1-ruff', '1-ruff2 = 1--ruff1']);
  });
});

describe('rpmvercmp / EVR', () => {
  it('every curated row (rpm tests/rpmvercmp.at)', () => suite('rpm', fromCurated('rpmvercmp')));
  it('osv-scalibr Red Hat vectors', () => {
    suite('rpm', scalibr('redhat-versions.txt'));
  });
  it('epoch beats version; a missing release sorts first', () => {
    assert.equal(compareVersions('rpm', '1:1.0-1', '2.0-1'), 1);
    assert.equal(compareVersions('rpm', '1.0', '1.0-5.el9'), -1);
    assert.equal(compareVersions('rpm', '0:3.0.7-27.el9', '3.0.7-28.el9'), -1);
  });
});

describe('SemVer (npm)', () => {
  it('every curated semver row', () => suite('semver', fromCurated('semver')));
  it('every curated semver-loose row', () => suite('semver', fromCurated('semver-loose')));
  it('osv-scalibr SemVer vectors (but numbers past 2^53, which npm itself rejects as invalid)', () => suite(compareSemver, scalibr('semver-versions.txt'), [
    '999999999999999999999999999991 < 999999999999999999999999999999',
    '999999999999999999999999999991.999999999999999999999999999991.999999999999999999999999999991 < 999999999999999999999999999999.999999999999999999999999999991.999999999999999999999999999991',
  ]));
});

describe('Go', () => {
  it('every curated go-semver row (golang/mod order, pseudo-versions, +incompatible)', () => suite('go', fromCurated('go-semver')));
  it('OSV spellings without v, toolchain versions', () => {
    assert.equal(compareGo('1.21.0', 'v1.21.1'), -1);
    assert.equal(normalizeGoToolchain('go1.21.0'), '1.21.0');
    assert.equal(normalizeGoToolchain('go1.22rc1'), '1.22.0-rc.1');
    assert.equal(normalizeGoToolchain('1.22.0-rc1'), '1.22.0-rc.1');
    assert.equal(compareGo(normalizeGoToolchain('go1.22rc1'), '1.22.0-0'), 1);
    assert.equal(compareGo(normalizeGoToolchain('go1.22rc1'), '1.22.0'), -1);
  });
});

describe('PEP 440', () => {
  it('every curated pep440 row (packaging ordering + normalisation)', () => suite('pep440', fromCurated('pep440')));
  it('osv-scalibr PyPI vectors', () => {
    suite('pep440', scalibr('pypi-versions.txt'));
    suite('pep440', scalibr('pypi-versions-generated.txt'));
  });
});

describe('Maven', () => {
  it('osv-scalibr Maven vectors', () => {
    // Maven 3.9 treats a `ga` qualifier inside a dash list as absent; ComparableVersion 3.8 (followed here) keeps the nesting.
    suite('maven', scalibr('maven-versions.txt'), ['1-1 = 1-ga-1']);
    suite('maven', scalibr('maven-versions-generated.txt'));
  });
});
