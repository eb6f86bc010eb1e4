import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AffectedMatchRow } from '../store.ts';
import type { Inventory } from '../types.ts';
import { matchInventory } from './match.ts';

const row = (ecosystem: string, name: string, id: string, events: Record<string, string>[], extra: Partial<AffectedMatchRow['advisory']> = {}): AffectedMatchRow => ({
  ecosystem, name,
  entry: { package: { ecosystem, name }, ranges: [{ type: 'ECOSYSTEM', events }] },
  advisory: { id, aliases: [], related: [], severity: [], ...extra },
});
const lookupOf = (rows: AffectedMatchRow[]) => async (keys: readonly { ecosystem: string; name: string }[]) => rows.filter((r) => keys.some((k) => k.ecosystem === r.ecosystem && k.name === r.name));
const rpm = (version: string): Inventory => ({
  os: { id: 'rocky', versionId: '9.4' },
  packages: [{ ecosystem: 'rpm', name: 'openssl-libs', version, sourceName: 'openssl', path: '/var/lib/rpm/rpmdb.sqlite', purl: `pkg:rpm/rocky/openssl-libs@${version}` }],
});

describe('matching by distribution', () => {
  it('RPM distributions: by binary name in the release\'s ecosystem, epoch:version-release compared with rpmvercmp', async () => {
    const rows = [
      row('Rocky Linux:9', 'openssl-libs', 'RLSA-2024:1', [{ introduced: '0' }, { fixed: '1:3.0.7-28.el9_4' }], { aliases: ['CVE-2024-0727'], severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H' }] }),
      row('Rocky Linux:8', 'openssl-libs', 'RLSA-2023:9', [{ introduced: '0' }, { fixed: '1:9.9.9-1.el8' }]),
      row('Rocky Linux:9', 'openssl', 'RLSA-2024:2', [{ introduced: '0' }, { fixed: '1:9.9.9-1.el9' }]),
    ];
    const found = await matchInventory(rpm('1:3.0.7-27.el9'), lookupOf(rows));
    assert.deepEqual(found.map((f) => [f.id, f.fixedVersion, f.severity, f.ecosystem]), [['RLSA-2024:1', '1:3.0.7-28.el9_4', 'MEDIUM', 'Rocky Linux:9']]);
    assert.deepEqual(await matchInventory(rpm('1:3.0.7-28.el9_4'), lookupOf(rows)), []);
    assert.deepEqual(await matchInventory(rpm('3.0.7-27.el9'), lookupOf(rows)).then((f) => f.length), 1, 'no epoch on the package: epoch 0 < 1');
  });

  it('distro packages never match another distribution\'s or a language ecosystem\'s advisories', async () => {
    const rows = [row('Debian:12', 'openssl', 'CVE-1', [{ introduced: '0' }, { fixed: '9' }]), row('npm', 'openssl', 'GHSA-x', [{ introduced: '0' }])];
    assert.deepEqual(await matchInventory(rpm('1:3.0.7-27.el9'), lookupOf(rows)), []);
    const alpine: Inventory = { os: { id: 'alpine', versionId: '3.19.1' }, packages: [{ ecosystem: 'apk', name: 'libssl3', version: '3.1.4-r0', sourceName: 'openssl', path: '/lib/apk/db/installed', purl: 'pkg:apk/alpine/libssl3@3.1.4-r0' }] };
    const alpineRows = [row('Alpine:v3.20', 'openssl', 'CVE-2', [{ introduced: '0' }, { fixed: '3.3.2-r0' }]), row('Alpine:v3.19', 'openssl', 'CVE-3', [{ introduced: '0' }, { fixed: '3.1.5-r0' }])];
    assert.deepEqual((await matchInventory(alpine, lookupOf(alpineRows))).map((f) => f.id), ['CVE-3'], 'the image\'s own minor branch only');
  });

  it('last_affected closes an interval inclusively; versions[] lists affected versions; GHSA severity', async () => {
    const npm = (version: string): Inventory => ({ packages: [{ ecosystem: 'npm', name: 'pkg', version, path: '/app/node_modules/pkg/package.json', purl: `pkg:npm/pkg@${version}` }] });
    const rows = [
      row('npm', 'pkg', 'GHSA-last', [{ introduced: '1.0.0' }, { last_affected: '1.2.0' }], { vendorSeverity: 'MODERATE' }),
      { ...row('npm', 'pkg', 'GHSA-list', []), entry: { package: { ecosystem: 'npm', name: 'pkg' }, versions: ['0.9.0'] } },
    ];
    assert.deepEqual((await matchInventory(npm('1.2.0'), lookupOf(rows))).map((f) => [f.id, f.fixedVersion ?? null, f.severity]), [['GHSA-last', null, 'MEDIUM']]);
    assert.deepEqual(await matchInventory(npm('1.2.1'), lookupOf(rows)), []);
    assert.deepEqual((await matchInventory(npm('0.9.0'), lookupOf(rows))).map((f) => f.id), ['GHSA-list']);
    assert.deepEqual(await matchInventory(npm('0.9.1'), lookupOf(rows)), []);
  });
});
