import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Finding } from '../match/match.ts';
import type { Inventory } from '../types.ts';
import { cycloneDxReport, failsGate, sarifReport, tableReport } from './formats.ts';

const finding = (over: Partial<Finding>): Finding => ({
  id: 'CVE-2024-6387', aliases: ['DSA-5724-1'], ecosystem: 'Debian:12', package: 'openssh-client', version: '1:9.2p1-2', sourceName: 'openssh', sourceVersion: '1:9.2p1-2',
  fixedVersion: '1:9.2p1-2+deb12u3', severity: 'HIGH', severitySource: 'vendor', cvss: [{ version: '3.1', vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H', score: 8.1 }],
  title: 'regreSSHion', description: 'signal handler race', url: 'https://security-tracker.debian.org/tracker/CVE-2024-6387',
  path: '/var/lib/dpkg/status', purl: 'pkg:deb/debian/openssh-client@1:9.2p1-2?arch=amd64&distro=debian-12', ...over,
});
const subject = { repository: 'app', digest: 'sha256:abc', tag: 'v1' };
const findings = [finding({}), finding({ id: 'CVE-2023-45853', package: 'zlib1g', version: '1:1.2.13.dfsg-1', fixedVersion: undefined, severity: 'CRITICAL', purl: 'pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1', cvss: [] })];

describe('report formats', () => {
  it('the table lists severity, id, package, installed and fixed ((unfixed) when there is none)', () => {
    const text = tableReport(subject, findings);
    assert.match(text, /^app:v1 \(sha256:abc\)$/m);
    assert.match(text, /^2 vulnerabilities \(CRITICAL 1, HIGH 1\)$/m);
    assert.match(text, /^SEVERITY\s+ID\s+PACKAGE\s+INSTALLED\s+FIXED$/m);
    assert.match(text, /^CRITICAL\s+CVE-2023-45853\s+zlib1g\s+1:1\.2\.13\.dfsg-1\s+\(unfixed\)$/m);
    assert.match(tableReport(subject, []), /^0 vulnerabilities$/m);
  });

  it('--fail-on compares severities (UNDEFINED never fails a gate)', () => {
    assert.equal(failsGate(findings, 'CRITICAL'), true);
    assert.equal(failsGate([findings[0]!], 'CRITICAL'), false);
    assert.equal(failsGate([findings[0]!], 'MEDIUM'), true);
    assert.equal(failsGate([finding({ severity: 'UNDEFINED' })], 'INFORMATIONAL'), false);
  });

  it('SARIF 2.1.0: a rule per advisory with security-severity, a result per package', () => {
    const sarif = JSON.parse(sarifReport(subject, findings, '0.1.0'));
    assert.equal(sarif.version, '2.1.0');
    const run = sarif.runs[0];
    assert.deepEqual(run.tool.driver.rules.map((r: any) => r.id), ['CVE-2024-6387', 'CVE-2023-45853']);
    assert.equal(run.tool.driver.rules[0].properties['security-severity'], '8.1');
    assert.deepEqual(run.results.map((r: any) => [r.ruleId, r.level, r.ruleIndex]), [['CVE-2024-6387', 'error', 0], ['CVE-2023-45853', 'error', 1]]);
    assert.equal(run.results[0].locations[0].physicalLocation.artifactLocation.uri, 'var/lib/dpkg/status');
  });

  it('CycloneDX 1.5: the image, its OS and packages; vulnerabilities affect components of the BOM', () => {
    const inventory: Inventory = { os: { id: 'debian', versionId: '12' }, packages: [
      { ecosystem: 'deb', name: 'openssh-client', version: '1:9.2p1-2', sourceName: 'openssh', path: '/var/lib/dpkg/status', purl: findings[0]!.purl },
      { ecosystem: 'deb', name: 'zlib1g', version: '1:1.2.13.dfsg-1', path: '/var/lib/dpkg/status', purl: findings[1]!.purl },
    ] };
    const now = new Date('2026-01-01T00:00:00Z');
    const bom = JSON.parse(cycloneDxReport(subject, inventory, findings, '0.1.0', now));
    assert.equal(bom.bomFormat, 'CycloneDX');
    assert.equal(bom.specVersion, '1.5');
    assert.match(bom.serialNumber, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(bom.metadata.component.type, 'container');
    assert.deepEqual(bom.components.map((c: any) => c.type), ['operating-system', 'library', 'library']);
    const refs = new Set(bom.components.map((c: any) => c['bom-ref']));
    for (const v of bom.vulnerabilities) for (const a of v.affects) assert.ok(refs.has(a.ref));
    assert.deepEqual(bom.vulnerabilities[0].ratings[1], { score: 8.1, vector: findings[0]!.cvss[0]!.vector, method: 'CVSSv31' });
    assert.equal(cycloneDxReport(subject, inventory, findings, '0.1.0', now), cycloneDxReport(subject, inventory, findings, '0.1.0', now), 'deterministic');
    assert.equal(JSON.parse(cycloneDxReport(subject, inventory, undefined, '0.1.0', now)).vulnerabilities, undefined);
  });
});
