import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AdvisoryImport } from '../../scan/store.ts';
import { at, dg, manifest, type StoreRef } from './fixtures.ts';

const advisory = (id: string, ecosystem: string, name: string, fixed: string, extra: Partial<AdvisoryImport> = {}): AdvisoryImport => ({
  header: { id, aliases: [], related: [], severity: [], modified: '2025-01-01T00:00:00Z' },
  withdrawn: false,
  affected: [{ ecosystem, name, entry: { package: { ecosystem, name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] } }],
  ...extra,
});

export function scanCases(s: StoreRef): void {
  describe('scan', () => {
    it('advisories merge by id per ecosystem, are found by (ecosystem, package), and withdrawn ones drop out', async () => {
      await s().scan.putAdvisories([advisory('CVE-1', 'Debian:12', 'openssl', '3.0.15-1')]);
      // The same id from another ecosystem's export adds its entries instead of replacing the Debian ones.
      await s().scan.putAdvisories([advisory('CVE-1', 'Alpine:v3.20', 'openssl', '3.3.2-r0'), advisory('CVE-2', 'Debian:12', 'openssl', '3.0.16-1')]);
      const rows = await s().scan.affected([{ ecosystem: 'Debian:12', name: 'openssl' }, { ecosystem: 'Alpine:v3.20', name: 'openssl' }, { ecosystem: 'npm', name: 'openssl' }]);
      assert.deepEqual(rows.map((r) => `${r.ecosystem} ${r.advisory.id}`).sort(), ['Alpine:v3.20 CVE-1', 'Debian:12 CVE-1', 'Debian:12 CVE-2']);
      // Re-importing an id for one ecosystem replaces only that ecosystem's entries.
      await s().scan.putAdvisories([advisory('CVE-1', 'Debian:12', 'openssl', '3.0.17-1')]);
      const again = await s().scan.affected([{ ecosystem: 'Debian:12', name: 'openssl' }]);
      assert.deepEqual(again.filter((r) => r.advisory.id === 'CVE-1').map((r) => r.entry.ranges?.[0]?.events[1]?.fixed), ['3.0.17-1']);
      await s().scan.putAdvisories([{ ...advisory('CVE-2', 'Debian:12', 'openssl', '3.0.16-1'), withdrawn: true, affected: [] }]);
      assert.deepEqual((await s().scan.affected([{ ecosystem: 'Debian:12', name: 'openssl' }])).map((r) => r.advisory.id), ['CVE-1']);
      const state = await s().scan.state();
      assert.equal(state.advisories, 2);
      assert.equal(state.withdrawn, 1);
      assert.deepEqual(state.ecosystems, [{ ecosystem: 'Alpine:v3.20', entries: 1 }, { ecosystem: 'Debian:12', entries: 1 }]);
    });

    it('the generation moves only on imports that changed something; the age is recorded', async () => {
      assert.equal((await s().scan.state()).generation, 0);
      assert.equal((await s().scan.state()).updatedAt, undefined);
      const a = await s().scan.recordImport('/data/osv', true, at(100));
      assert.deepEqual([a.generation, a.updatedAt?.getTime(), a.source], [1, at(100).getTime(), '/data/osv']);
      const b = await s().scan.recordImport('/data/osv', false, at(200));
      assert.deepEqual([b.generation, b.updatedAt?.getTime()], [1, at(200).getTime()]);
    });

    it('inventories by digest; scans per (repository, image); re-match candidates by generation and push/pull window', async () => {
      const repo = await s().repositories.create('app', at(0));
      await s().scan.putInventory('sha256:aa', { os: { id: 'debian', versionId: '12' }, packages: [] }, at(1));
      assert.deepEqual(await s().scan.getInventory('sha256:aa'), { os: { id: 'debian', versionId: '12' }, packages: [] });
      assert.equal(await s().scan.getInventory('sha256:bb'), undefined);
      const a = manifest(repo.id, 'a', { pushedAt: at(10) });
      const b = manifest(repo.id, 'b', { pushedAt: at(500) });
      const c = manifest(repo.id, 'c', { pushedAt: at(600) });
      for (const x of [a, b, c]) await s().manifests.put(x, []);
      for (const x of [a, b, c]) {
        await s().scan.putScan({ repositoryId: repo.id, digest: x.digest, status: 'COMPLETE', description: 'ok', requestedAt: at(1), completedAt: at(2), dbGeneration: x === c ? 2 : 1, findings: [{ id: 'CVE-1' }] });
      }
      await s().scan.putScan({ repositoryId: repo.id, digest: b.digest, status: 'COMPLETE', description: 'ok', requestedAt: at(1), completedAt: at(3), dbGeneration: 1, findings: [{ id: 'CVE-1' }, { id: 'CVE-2' }] });
      const got = await s().scan.getScan(repo.id, b.digest);
      assert.deepEqual([got?.status, got?.dbGeneration, got?.findings, got?.completedAt?.getTime()], ['COMPLETE', 1, [{ id: 'CVE-1' }, { id: 'CVE-2' }], at(3).getTime()]);
      assert.deepEqual([...(await s().scan.getScans(repo.id, [a.digest, c.digest, dg('none')])).keys()].sort(), [a.digest, c.digest].sort());
      // Generation 2, window from 100: a is outside (pushed at 10, never pulled), c already matched at 2.
      assert.deepEqual(await s().scan.rematchCandidates(2, at(100), undefined, 10), [{ repositoryId: repo.id, digest: b.digest, requestedAt: at(1) }]);
      // Generation 3, window from 0: all three, paged in (repository, digest) order.
      const first = await s().scan.rematchCandidates(3, at(0), undefined, 2);
      const rest = await s().scan.rematchCandidates(3, at(0), first[first.length - 1], 2);
      assert.deepEqual([...first, ...rest].map((x) => x.digest), [a.digest, b.digest, c.digest].sort());
    });

    it('the registry scanning configuration is one document', async () => {
      assert.equal(await s().scan.getRegistryScanning(), undefined);
      await s().scan.putRegistryScanning({ scanType: 'BASIC', rules: [] }, at(1));
      await s().scan.putRegistryScanning({ scanType: 'ENHANCED', rules: [{ scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: [{ filter: '*', filterType: 'WILDCARD' }] }] }, at(2));
      assert.deepEqual(await s().scan.getRegistryScanning(), { scanType: 'ENHANCED', rules: [{ scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: [{ filter: '*', filterType: 'WILDCARD' }] }] });
    });
  });
}
