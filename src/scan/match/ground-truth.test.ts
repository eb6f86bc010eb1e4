import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { manualClock } from '../../core/clock.ts';
import { createSqliteMetadata } from '../../metadata/dialects/sqlite.ts';
import type { MetadataStore } from '../../metadata/types.ts';
import { readInventory } from '../inventory/index.ts';
import { buildLayer, groundTruthEntries, layerSource } from '../inventory/test-layers.ts';
import { expectedFindings, VULNDB_FIXTURES } from '../testing.ts';
import type { Inventory } from '../types.ts';
import { importVulnDb } from '../vulndb/import.ts';
import { matchInventory, type Finding } from './match.ts';

let dir: string;
let meta: MetadataStore;
const expected = expectedFindings();
// The ground-truth images' inventories, read from layers by the real inventory (as a scan does).
const inventories = {} as Record<'debian' | 'alpine' | 'npm' | 'pypi' | 'go', Inventory>;
const clock = manualClock(new Date('2026-11-27T00:00:00Z'));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cargohold-match-'));
  meta = await createSqliteMetadata({ path: join(dir, 'meta.sqlite') });
  for (const d of ['debian-12', 'alpine', 'npm', 'pypi', 'go']) await importVulnDb(join(VULNDB_FIXTURES, 'osv', d), { store: meta.scan, clock });
  const kinds = { debian: 'debian-12', alpine: 'alpine-3.20', npm: 'npm', pypi: 'pypi', go: 'go' } as const;
  for (const [key, kind] of Object.entries(kinds) as [keyof typeof kinds, (typeof kinds)[keyof typeof kinds]][]) {
    inventories[key] = await readInventory([layerSource(await buildLayer(groundTruthEntries(kind)))]);
  }
});
after(async () => {
  await meta.close();
  rmSync(dir, { recursive: true, force: true });
});

const lookup = (keys: readonly { ecosystem: string; name: string }[]) => meta.scan.affected(keys);
const byPackage = (findings: Finding[], name: string) => findings.filter((f) => f.package === name);
const sorted = (xs: Iterable<string>) => [...xs].sort();

describe('ground truth: Debian 12', () => {
  it('every binary package reports exactly the expected ids, fixed versions and unfixed ids (source name + source version)', async () => {
    const findings = await matchInventory(inventories.debian, lookup);
    for (const e of expected['debian-12']) {
      const mine = byPackage(findings, e.binary);
      const want = [...e.fixed.map((x: any) => `${x.id} ${x.fixed_version}`), ...e.unfixed.map((x: any) => `${x.id} unfixed`)];
      assert.deepEqual(sorted(mine.map((f) => `${f.id} ${f.fixedVersion ?? 'unfixed'}`)), sorted(want), e.binary);
      for (const f of mine) {
        assert.equal(f.version, e.binary_version);
        assert.equal(f.ecosystem, 'Debian:12');
      }
    }
    assert.deepEqual(byPackage(findings, 'libssl1.1'), [], 'deinstall/config-files stanza reports nothing');
    const names = new Set(expected['debian-12'].map((e: any) => e.binary));
    assert.deepEqual(findings.filter((f) => !names.has(f.package)), []);
  });

  it('tricky cases: epochs, binNMU source version, binary → source, unfixed, tilde', async () => {
    const findings = await matchInventory(inventories.debian, lookup);
    const openssh = byPackage(findings, 'openssh-client').find((f) => f.id === 'CVE-2024-6387');
    assert.equal(openssh?.fixedVersion, '1:9.2p1-2+deb12u3');
    assert.equal(openssh?.sourceName, 'openssh');
    assert.equal(byPackage(findings, 'bsdutils').find((f) => f.id === 'CVE-2024-28085')?.fixedVersion, '2.38.1-5+deb12u1');
    assert.equal(byPackage(findings, 'libssl3').find((f) => f.id === 'CVE-2023-5363')?.sourceName, 'openssl');
    const zlib = byPackage(findings, 'zlib1g').find((f) => f.id === 'CVE-2023-45853');
    assert.ok(zlib && zlib.fixedVersion === undefined, 'zlib CVE-2023-45853 is unfixed (the minizip fix does not apply)');
    // A patched bookworm openssl (3.0.11-1~deb12u2) no longer has CVE-2023-5363 but still has CVE-2023-5678.
    const patched = { ...inventories.debian, packages: inventories.debian.packages.filter((p) => p.name === 'libssl3').map((p) => ({ ...p, version: '3.0.11-1~deb12u2', sourceVersion: '3.0.11-1~deb12u2' })) };
    const ids = (await matchInventory(patched, lookup)).map((f) => f.id);
    assert.ok(!ids.includes('CVE-2023-5363') && !ids.includes('DSA-5532-1'));
    assert.ok(ids.includes('CVE-2023-5678'));
  });

  it('severity from the Debian urgency, else CVSS', async () => {
    const findings = await matchInventory(inventories.debian, lookup);
    const unimportant = byPackage(findings, 'libssl3').find((f) => f.id === 'CVE-2010-0928');
    assert.equal(unimportant?.severity, 'LOW');
    assert.equal(unimportant?.severitySource, 'vendor');
    for (const f of findings) assert.ok(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED'].includes(f.severity));
  });
});

describe('ground truth: Alpine 3.20', () => {
  it('every package reports exactly the OSV ids with fixed versions (by origin, per minor branch); secfixes "0" never', async () => {
    const findings = await matchInventory(inventories.alpine, lookup);
    for (const e of expected['alpine-3.20']) {
      const mine = byPackage(findings, e.package);
      assert.deepEqual(sorted(mine.map((f) => `${f.id} ${f.fixedVersion ?? 'unfixed'}`)), sorted(e.osv_ids.map((x: any) => `${x.id} ${x.fixed_version}`)), e.package);
      for (const id of e.secdb_not_affected_0) assert.ok(!mine.some((f) => f.id === id), `${e.package} ${id} is not affected`);
      for (const f of mine) assert.equal(f.ecosystem, 'Alpine:v3.20');
    }
    assert.ok(!byPackage(findings, 'openssl').some((f) => f.id === 'CVE-2024-4603'), 'fixed version equal to installed is fixed');
    assert.equal(byPackage(findings, 'ssl_client').find((f) => f.id === 'CVE-2023-42364')?.fixedVersion, '1.36.1-r29');
  });
});

/** Language ecosystems: ids and fixed versions, with records that name each other merged into one finding. */
async function checkLanguage(key: 'npm' | 'pypi' | 'go', nameField: string): Promise<void> {
  const findings = await matchInventory(inventories[key], lookup);
  const seenPackages = new Set<string>();
  for (const e of expected[key]) {
    const name = e[nameField];
    const inInventory = inventories[key].packages.some((p) => p.name === name && p.version.replace(/^v|^go/, '') === e.version.replace(/^v/, ''));
    if (!inInventory) {
      assert.equal(e.ids.length, 0, `${name} ${e.version} (control entry) has no ids`);
      continue;
    }
    seenPackages.add(name);
    const mine = byPackage(findings, name);
    const recordIds = new Set<string>(e.ids.map((x: any) => x.id));
    // A finding may also merge a record of another dump that aliases one of these (GHSA-45x7 lists Go too).
    const groups = mine.map((f) => sorted([f.id, ...f.aliases].filter((a) => recordIds.has(a))));
    for (const g of groups) assert.ok(g.length > 0, `${name}: every finding is one of the expected records`);
    assert.deepEqual(sorted(groups.flat()), sorted(recordIds), `${name}: ids`);
    if (e.alias_groups) assert.deepEqual(sorted(groups.map((g) => g.join(' '))), sorted(e.alias_groups.map((g: string[]) => sorted(g).join(' '))), `${name}: alias groups`);
    for (const f of mine) {
      const fixes = e.ids.filter((x: any) => x.id === f.id || f.aliases.includes(x.id)).map((x: any) => x.fixed_version ?? 'unfixed');
      assert.ok(fixes.includes(f.fixedVersion ?? 'unfixed'), `${name} ${f.id}: fixed ${f.fixedVersion} in ${fixes.join(',')}`);
    }
  }
  assert.deepEqual(findings.filter((f) => !seenPackages.has(f.package)).map((f) => `${f.package} ${f.id}`), []);
}

describe('ground truth: language packages', () => {
  it('npm', () => checkLanguage('npm', 'name'));
  it('PyPI (GHSA and PYSEC records merged by aliases)', () => checkLanguage('pypi', 'name'));
  it('Go (stdlib from the toolchain version; withdrawn records skipped)', async () => {
    await checkLanguage('go', 'module');
    const ids = (await matchInventory(inventories.go, lookup)).flatMap((f) => [f.id, ...f.aliases]);
    for (const w of ['GO-2025-3543', 'GO-2026-6166', 'GO-2026-6168']) assert.ok(!ids.includes(w), `${w} is withdrawn`);
  });
});
