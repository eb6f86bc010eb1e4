import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { Inventory } from '../types.ts';
import { InventoryError, readImageInventory, readInventory, type InventoryWarning } from './index.ts';
import { zstdWindowSize } from './layer-stream.ts';
import { buildLayer, buildTar, GROUND_TRUTH, groundTruthEntries, layerSource, type LayerCompression, type LayerEntry } from './test-layers.ts';

async function inventoryOf(layers: { entries: LayerEntry[]; compression?: LayerCompression }[], warnings?: InventoryWarning[]): Promise<Inventory> {
  const built = await Promise.all(layers.map((l) => buildLayer(l.entries, l.compression ?? 'gzip')));
  return readInventory(built.map((b) => layerSource(b)), { onWarning: (w) => warnings?.push(w) });
}

const names = (inv: Inventory, eco?: string) => inv.packages.filter((p) => !eco || p.ecosystem === eco).map((p) => `${p.name}@${p.version}`).sort();

interface Expected { [k: string]: { binary?: string; binary_version?: string; source?: string; source_version?: string; package?: string; name?: string; module?: string; version?: string; origin?: string }[] }
const expected = JSON.parse(readFileSync(join(GROUND_TRUTH, 'expected-findings.json'), 'utf8')) as Expected;

describe('inventory: ground-truth images', () => {
  for (const compression of ['gzip', 'zstd', 'none'] as const) {
    it(`Debian 12 (${compression}): installed binaries with source name and version, os-release through a symlink`, async () => {
      const inv = await inventoryOf([{ entries: groundTruthEntries('debian-12'), compression }]);
      assert.deepEqual(inv.os, { id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)', codename: 'bookworm' });
      const deb = inv.packages.filter((p) => p.ecosystem === 'deb');
      assert.equal(deb.length, expected['debian-12'].length); // the deinstall/config-files stanza is not installed
      for (const e of expected['debian-12']) {
        const p = deb.find((x) => x.name === e.binary);
        assert.ok(p, `missing ${e.binary}`);
        assert.equal(p.version, e.binary_version);
        assert.equal(p.sourceName, e.source);
        assert.equal(p.sourceVersion, e.source_version);
        assert.equal(p.path, '/var/lib/dpkg/status');
      }
      assert.ok(!deb.some((p) => p.name === 'libssl1.1'));
      const bsd = deb.find((p) => p.name === 'bsdutils');
      assert.equal(bsd?.purl, 'pkg:deb/debian/bsdutils@1:2.38.1-5+b1?arch=amd64&distro=debian-12&upstream=util-linux%402.38.1-5');
    });
  }

  it('Alpine 3.20: packages with their origin', async () => {
    const inv = await inventoryOf([{ entries: groundTruthEntries('alpine-3.20') }]);
    assert.equal(inv.os?.id, 'alpine');
    assert.equal(inv.os?.versionId, '3.20.0');
    for (const e of expected['alpine-3.20']) {
      const p = inv.packages.find((x) => x.name === e.package);
      assert.ok(p, `missing ${e.package}`);
      assert.equal(p.version, e.version);
      assert.equal(p.sourceName, e.origin);
    }
    const ssl = inv.packages.find((p) => p.name === 'ssl_client');
    assert.equal(ssl?.purl, 'pkg:apk/alpine/ssl_client@1.36.1-r28?arch=x86_64&distro=alpine-3.20.0&upstream=busybox');
  });

  it('npm: installed package.json files, the lockfile adding nothing twice', async () => {
    const inv = await inventoryOf([{ entries: groundTruthEntries('npm') }]);
    const want = expected.npm.filter((e) => !(e.name === 'lodash' && e.version === '4.17.21')).map((e) => `${e.name}@${e.version}`).sort();
    assert.deepEqual(names(inv, 'npm'), want);
    assert.ok(inv.packages.every((p) => p.path.endsWith('/package.json')));
    // Without the installed files, the lockfile alone reports the same packages.
    const lockOnly = await inventoryOf([{ entries: groundTruthEntries('npm').filter((e) => 'path' in e && e.path.endsWith('package-lock.json')) }]);
    assert.deepEqual(names(lockOnly, 'npm'), want);
  });

  it('PyPI: dist-info METADATA, names normalised', async () => {
    const inv = await inventoryOf([{ entries: groundTruthEntries('pypi') }]);
    const want = expected.pypi.filter((e) => !(e.name === 'requests' && e.version === '2.32.3')).map((e) => `${e.name}@${e.version}`).sort();
    assert.deepEqual(names(inv, 'pypi'), want);
  });

  it('Go: modules and stdlib from the build info embedded in a binary', async () => {
    const inv = await inventoryOf([{ entries: groundTruthEntries('go') }]);
    const want = expected.go.map((e) => `${e.module}@v${e.version}`).sort();
    assert.deepEqual(names(inv, 'go'), want);
    const runc = inv.packages.find((p) => p.name === 'github.com/opencontainers/runc');
    assert.equal(runc?.purl, 'pkg:golang/github.com/opencontainers/runc@v1.1.11');
    assert.equal(runc?.path, '/usr/local/bin/cargohold-fixture');
  });
});

describe('inventory: layers', () => {
  it('a whiteout in a later layer removes a file of a lower one', async () => {
    const inv = await inventoryOf([
      { entries: [...groundTruthEntries('pypi'), ...groundTruthEntries('alpine-3.20')] },
      { entries: [{ whiteout: '/usr/local/lib/python3.11/site-packages/flask-2.2.4.dist-info' }, { whiteout: '/lib/apk/db/installed' }], compression: 'zstd' },
    ]);
    assert.ok(!names(inv, 'pypi').includes('flask@2.2.4'));
    assert.ok(names(inv, 'pypi').includes('requests@2.25.0'));
    assert.equal(names(inv, 'apk').length, 0);
    assert.equal(inv.os?.id, 'alpine');
  });

  it('an opaque directory hides the lower layers\' content but keeps its own layer\'s', async () => {
    const inv = await inventoryOf([
      { entries: groundTruthEntries('npm') },
      {
        entries: [
          { path: '/app/node_modules/left-pad/package.json', content: '{"name":"left-pad","version":"1.3.0"}' }, // before the marker: order in the layer does not matter
          { opaque: '/app/node_modules' },
        ],
        compression: 'none',
      },
    ]);
    // The lockfile's entries are still reported: their installed copies are gone.
    assert.ok(names(inv, 'npm').includes('left-pad@1.3.0'));
    assert.ok(inv.packages.filter((p) => p.name === 'lodash').every((p) => p.path === '/app/package-lock.json'));
  });

  it('a file replaced in a later layer reports the new content; a directory replaced by a file hides its tree', async () => {
    const status = (v: string) => `Package: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${v}\n`;
    const inv = await inventoryOf([
      { entries: [{ path: '/var/lib/dpkg/status', content: status('7.88.1-10') }, ...groundTruthEntries('pypi')] },
      { entries: [{ path: '/var/lib/dpkg/status', content: status('7.88.1-10+deb12u5') }, { path: '/usr/local/lib/python3.11/site-packages', content: 'not a directory any more' }] },
    ]);
    assert.deepEqual(names(inv), ['curl@7.88.1-10+deb12u5']);
    assert.equal(inv.packages[0].sourceName, 'curl');
  });

  it('a file re-added after a whiteout in a later layer is reported again', async () => {
    const inv = await inventoryOf([
      { entries: groundTruthEntries('alpine-3.20') },
      { entries: [{ whiteout: '/lib/apk' }] },
      { entries: [{ path: '/lib/apk/db/installed', content: 'P:musl\nV:1.2.5-r0\nA:x86_64\no:musl\n\n' }] },
    ]);
    assert.deepEqual(names(inv), ['musl@1.2.5-r0']);
  });

  it('a hard link to an analysed file reports the package at the link too', async () => {
    const meta = 'Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n';
    const inv = await inventoryOf([{ entries: [
      { path: '/usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA', content: meta },
      { path: '/opt/venv/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA', hardlink: '/usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA' },
    ] }]);
    assert.deepEqual(inv.packages.map((p) => p.path), ['/opt/venv/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA', '/usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA']);
  });

  it('language packages installed by an OS package (dpkg .list, apk R:) are left to the distro', async () => {
    const egg = '/usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO';
    const inv = await inventoryOf([
      { entries: [
        { path: '/var/lib/dpkg/status', content: 'Package: python3-requests\nStatus: install ok installed\nArchitecture: all\nSource: requests\nVersion: 2.28.1+dfsg-1\n' },
        { path: '/var/lib/dpkg/info/python3-requests.list', content: `/.\n/usr\n/usr/lib/python3/dist-packages/requests-2.28.1.egg-info\n${egg}\n` },
        { path: egg, content: 'Metadata-Version: 2.1\nName: requests\nVersion: 2.28.1\n' },
        { path: '/usr/local/lib/python3.11/site-packages/requests-2.25.0.dist-info/METADATA', content: 'Name: requests\nVersion: 2.25.0\n' }, // pip-installed: reported
        { path: '/lib/apk/db/installed', content: 'P:py3-six\nV:1.16.0-r9\nA:noarch\no:py3-six\nF:usr/lib/python3.12/site-packages/six-1.16.0.dist-info\nR:METADATA\nR:RECORD\n\n' },
        { path: '/usr/lib/python3.12/site-packages/six-1.16.0.dist-info/METADATA', content: 'Name: six\nVersion: 1.16.0\n' },
      ] },
    ]);
    assert.deepEqual(names(inv), ['py3-six@1.16.0-r9', 'python3-requests@2.28.1+dfsg-1', 'requests@2.25.0']);
    // Once the dpkg list is whited out, the egg-info is no longer the distro's and is reported.
    const after = await inventoryOf([
      { entries: [{ path: '/var/lib/dpkg/info/python3-requests.list', content: `${egg}\n` }, { path: egg, content: 'Name: requests\nVersion: 2.28.1\n' }] },
      { entries: [{ whiteout: '/var/lib/dpkg/info/python3-requests.list' }] },
    ]);
    assert.deepEqual(names(after), ['requests@2.28.1']);
  });

  it('os-release falls back to /usr/lib/os-release; none means no os', async () => {
    const inv = await inventoryOf([{ entries: [{ path: '/usr/lib/os-release', content: 'ID="rocky"\nVERSION_ID="9.4"\n' }] }]);
    assert.deepEqual(inv.os, { id: 'rocky', versionId: '9.4' });
    const none = await inventoryOf([{ entries: [{ path: '/bin/true', content: 'x' }] }]);
    assert.equal(none.os, undefined);
    assert.deepEqual(none.packages, []);
  });

  it('files above the size limit are skipped with a warning; the rest is read', async () => {
    const warnings: InventoryWarning[] = [];
    const big = 'Package: a\nVersion: 1\n\n'.repeat(100);
    const built = await buildLayer([{ path: '/var/lib/dpkg/status', content: big }, ...groundTruthEntries('pypi')]);
    const inv = await readInventory([layerSource(built)], { maxFileBytes: 1000, onWarning: (w) => warnings.push(w) });
    assert.equal(names(inv, 'deb').length, 0);
    assert.equal(names(inv, 'pypi').length, 10);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0].path, '/var/lib/dpkg/status');
    assert.equal(warnings[0].layer, 0);
    assert.match(warnings[0].message, /exceeds/);
  });

  it('a malformed package file is a warning, not a failure', async () => {
    const warnings: InventoryWarning[] = [];
    const inv = await inventoryOf([{ entries: [{ path: '/app/package-lock.json', content: '{not json' }, ...groundTruthEntries('alpine-3.20')] }], warnings);
    assert.ok(names(inv, 'apk').length > 0);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0].path, '/app/package-lock.json');
  });

  it('rejects non-tar layers as unsupported and broken blobs as corrupt', async () => {
    await assert.rejects(readInventory([{ mediaType: 'application/vnd.oci.image.layer.v1.tar+encrypted', open: () => layerSource({ mediaType: '', blob: Buffer.alloc(10) }).open() }]),
      (err: unknown) => err instanceof InventoryError && err.reason === 'unsupported');
    const gz = await buildLayer(groundTruthEntries('alpine-3.20'), 'gzip');
    const truncated = { ...gz, blob: gz.blob.subarray(0, gz.blob.length - 40) };
    await assert.rejects(readInventory([layerSource(truncated)]), (err: unknown) => err instanceof InventoryError && err.reason === 'corrupt');
    // A layer that fails half-way releases its blob stream (a file descriptor in the fs store).
    const badTar = { mediaType: 'application/vnd.oci.image.layer.v1.tar', blob: Buffer.concat([await buildTar(groundTruthEntries('pypi')).then((t) => t.subarray(0, 1024)), Buffer.alloc(512, 0x41)]) };
    const opened: Readable[] = [];
    const tracked = { mediaType: badTar.mediaType, open: () => { const r = layerSource(badTar, 256).open() as Readable; opened.push(r); return r; } };
    await assert.rejects(readInventory([tracked]), (err: unknown) => err instanceof InventoryError && err.reason === 'corrupt');
    assert.equal(opened.length, 1);
    assert.ok(opened[0].destroyed);
    const garbage = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', blob: Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(600, 7)]) };
    await assert.rejects(readInventory([layerSource(garbage)]), (err: unknown) => err instanceof InventoryError && err.reason === 'corrupt');
    const zst = { mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', blob: Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38]), Buffer.alloc(10, 0xff)]) };
    await assert.rejects(readInventory([layerSource(zst)]), (err: unknown) => err instanceof InventoryError && err.reason === 'corrupt');
    // A frame asking for a 1 GiB window (windowLog 30) is refused before anything is allocated, as zstd does.
    const huge = { mediaType: zst.mediaType, blob: Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 20 << 3]), Buffer.alloc(64)]) };
    await assert.rejects(readInventory([layerSource(huge)]), (err: unknown) => err instanceof InventoryError && err.reason === 'unsupported' && /window/.test(err.message));
  });

  it('an abort signal stops the walk', async () => {
    const ac = new AbortController();
    ac.abort(new Error('scan cancelled'));
    const built = await buildLayer(groundTruthEntries('alpine-3.20'));
    await assert.rejects(readInventory([layerSource(built)], { signal: ac.signal }), /scan cancelled/);
  });

  it('reads an image through a blob opener (the BlobStore shape) by manifest layer order', async () => {
    const base = await buildLayer(groundTruthEntries('debian-12'));
    const top = await buildLayer([{ whiteout: '/var/lib/dpkg/status' }], 'zstd');
    const blobs = new Map([[base.digest, base.blob], [top.digest, top.blob]]);
    const opener = { open: async (d: string) => layerSource({ mediaType: '', blob: blobs.get(d)! }).open() };
    const inv = await readImageInventory(opener, { layers: [base, top] });
    assert.equal(inv.os?.id, 'debian');
    assert.deepEqual(inv.packages, []);
    const onlyBase = await readImageInventory(opener, { layers: [base] });
    assert.equal(onlyBase.packages.length, expected['debian-12'].length);
  });

  it('zstd layers written by the zstd tool (entropy-coded blocks, several frames) decode', { skip: !hasZstd() && 'zstd is not installed' }, async () => {
    const tar = await buildTar([...groundTruthEntries('debian-12'), ...groundTruthEntries('pypi')]);
    const half = 2560; // two frames: a tar split at a 512-byte record boundary
    const frames = Buffer.concat([zstd(tar.subarray(0, half)), zstd(tar.subarray(half))]);
    const inv = await readInventory([layerSource({ mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', blob: frames }, 777)]);
    assert.equal(names(inv, 'deb').length, expected['debian-12'].length);
    assert.equal(names(inv, 'pypi').length, 10);
  });
});

describe('zstd window sizes', () => {
  it('reads the window descriptor, and the content size of single-segment frames', () => {
    const frame = (...b: number[]) => Buffer.from([0x28, 0xb5, 0x2f, 0xfd, ...b]);
    assert.equal(zstdWindowSize(frame(0x00, 0x38)), 128 * 1024); // exponent 7
    assert.equal(zstdWindowSize(frame(0x00, (11 << 3) | 4)), 2 ** 21 + 4 * 2 ** 18);
    assert.equal(zstdWindowSize(frame(0x20, 200)), 200); // single segment, 1-byte size
    assert.equal(zstdWindowSize(frame(0x60, 0x00, 0x01)), 256 + 256); // 2-byte size is offset by 256
    assert.equal(zstdWindowSize(frame(0xa1, 7, 0x00, 0x00, 0x00, 0x08)), 2 ** 27); // dictionary id byte, 4-byte size
    assert.equal(zstdWindowSize(frame(0xa0, 0x00)), undefined);
    if (hasZstd()) {
      const out = execFileSync('zstd', ['-q', '-c', '--no-content-size', '-19'], { input: Buffer.alloc(100_000, 1) });
      assert.equal(zstdWindowSize(out), 2 ** 23); // level 19: windowLog 23
    }
  });
});

function hasZstd(): boolean {
  try { execFileSync('zstd', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
}

function zstd(data: Buffer): Buffer {
  return execFileSync('zstd', ['-q', '-19', '-c'], { input: data, maxBuffer: 64 * 1024 * 1024 });
}
