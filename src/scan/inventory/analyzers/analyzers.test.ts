import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { Zip, ZipDeflate, zipSync } from 'fflate';
import { matchInventory } from '../../match/match.ts';
import type { AffectedMatchRow } from '../../store.ts';
import type { Inventory } from '../../types.ts';
import { readInventory } from '../index.ts';
import { buildLayer, fakeGoBinary, GROUND_TRUTH, layerSource, type LayerEntry } from '../test-layers.ts';
import { bdbRpmBlobs, ndbRpmBlobs } from './rpm.ts';
import { encodeRpmHeader, parseRpmHeader, RPMTAG } from './rpm-header.ts';
import { decodeGoBuildInfo, encodeGoBuildInfo, goStdlibVersion } from './go-buildinfo.ts';

async function inventoryOf(entries: LayerEntry[], compression: 'gzip' | 'zstd' | 'none' = 'gzip'): Promise<Inventory> {
  return readInventory([layerSource(await buildLayer(entries, compression))]);
}
const GO_BUILDINFO = readFileSync(join(GROUND_TRUTH, 'go-buildinfo.txt'), 'utf8');
const short = (inv: Inventory) => inv.packages.map((p) => `${p.ecosystem}:${p.name}@${p.version}`);

// ---------------------------------------------------------------------------------------------------------
// RPM

const RPMS = [
  { name: 'openssl-libs', version: '3.0.7', release: '27.el9', epoch: 1, arch: 'x86_64', srpm: 'openssl-3.0.7-27.el9.src.rpm' },
  { name: 'bash', version: '5.1.8', release: '9.el9', arch: 'x86_64', srpm: 'bash-5.1.8-9.el9.src.rpm' },
  { name: 'tzdata', version: '2024a', release: '1.el9', arch: 'noarch', srpm: 'tzdata-2024a-1.el9.src.rpm' },
  { name: 'gpg-pubkey', version: 'fd431d51', release: '4ae0493b' },
];

function rpmHeader(p: (typeof RPMS)[number], filler = 0): Buffer {
  const tags: Parameters<typeof encodeRpmHeader>[0] = [
    { tag: RPMTAG.NAME, value: p.name }, { tag: RPMTAG.VERSION, value: p.version }, { tag: RPMTAG.RELEASE, value: p.release },
    { tag: 1004, value: `summary of ${p.name}` }, { tag: RPMTAG.VENDOR, value: 'Rocky Enterprise Software Foundation' },
  ];
  if (p.epoch !== undefined) tags.push({ tag: RPMTAG.EPOCH, value: p.epoch });
  if (p.arch) tags.push({ tag: RPMTAG.ARCH, value: p.arch });
  if (p.srpm) tags.push({ tag: RPMTAG.SOURCERPM, value: p.srpm });
  if (filler) tags.push({ tag: 1005, value: 'd'.repeat(filler) }); // a long description: spans overflow pages
  if (p.name === 'bash') tags.push({ tag: RPMTAG.DIRNAMES, value: ['/usr/bin/', '/usr/share/doc/bash/'] }, { tag: RPMTAG.BASENAMES, value: ['bash', 'sh', 'README'] }, { tag: RPMTAG.DIRINDEXES, value: [0, 0, 1] });
  return encodeRpmHeader(tags);
}

/** An rpmdb.sqlite as rpm ≥ 4.16 writes it (table Packages(hnum, blob)), in WAL mode as on disk. */
function rpmdbSqlite(): Buffer {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)');
  const ins = db.prepare('INSERT INTO Packages (blob) VALUES (?)');
  for (const p of RPMS) ins.run(rpmHeader(p));
  const bytes = db.serialize();
  db.close();
  bytes[18] = 2; bytes[19] = 2; // the file-format bytes of a WAL-mode database
  return bytes;
}

/** A Berkeley DB hash file (little-endian, 4 KiB pages) with each header on a chain of overflow pages. */
function rpmdbBdb(pageSize = 4096): Buffer {
  const pages: Buffer[] = [Buffer.alloc(pageSize), Buffer.alloc(pageSize)];
  const hash = pages[1];
  const items: Buffer[] = [];
  RPMS.forEach((p, i) => {
    const blob = rpmHeader(p, i === 0 ? 6000 : 0);
    const key = Buffer.alloc(5); key[0] = 1; key.writeUInt32LE(i + 1, 1); // H_KEYDATA: the package number
    const first = pages.length;
    for (let at = 0; at < blob.length; at += pageSize - 26) {
      const ov = Buffer.alloc(pageSize);
      const part = blob.subarray(at, at + pageSize - 26);
      ov.writeUInt32LE(pages.length, 8);
      ov.writeUInt32LE(at + part.length < blob.length ? pages.length + 1 : 0, 16); // next_pgno
      ov.writeUInt16LE(part.length, 22); // bytes used
      ov[25] = 7; // P_OVERFLOW
      part.copy(ov, 26);
      pages.push(ov);
    }
    const off = Buffer.alloc(12); off[0] = 3; off.writeUInt32LE(first, 4); off.writeUInt32LE(blob.length, 8); // H_OFFPAGE
    items.push(key, off);
  });
  // One small inline value as rpm keeps for bookkeeping (key 0): not a header, skipped.
  const k0 = Buffer.alloc(5); k0[0] = 1; const v0 = Buffer.alloc(5); v0[0] = 1; v0.writeUInt32LE(99, 1);
  items.push(k0, v0);
  hash.writeUInt32LE(1, 8);
  hash.writeUInt16LE(items.length, 20);
  hash[25] = 13; // P_HASH
  let top = pageSize;
  items.forEach((it, i) => { top -= it.length; it.copy(hash, top); hash.writeUInt16LE(top, 26 + i * 2); });
  const meta = pages[0];
  meta.writeUInt32LE(0x061561, 12); meta.writeUInt32LE(9, 16); meta.writeUInt32LE(pageSize, 20); meta[25] = 8; meta.writeUInt32LE(pages.length - 1, 32);
  return Buffer.concat(pages);
}

/** An NDB Packages.db (SUSE): one slot page, then each blob in 16-byte blocks. */
function rpmdbNdb(): Buffer {
  const blobs = RPMS.map((p) => rpmHeader(p));
  const slotPage = Buffer.alloc(4096);
  slotPage.write('RpmP', 0, 'latin1'); slotPage.writeUInt32LE(0, 4); slotPage.writeUInt32LE(3, 8); slotPage.writeUInt32LE(1, 12);
  const blocks: Buffer[] = [];
  let blk = 4096 / 16;
  blobs.forEach((b, i) => {
    const s = 16 * (i + 1);
    slotPage.write('Slot', s, 'latin1'); slotPage.writeUInt32LE(i + 1, s + 4); slotPage.writeUInt32LE(blk, s + 8);
    const head = Buffer.alloc(16); head.write('BlbS', 0, 'latin1'); head.writeUInt32LE(i + 1, 4); head.writeUInt32LE(3, 8); head.writeUInt32LE(b.length, 12);
    const body = Buffer.concat([head, b, Buffer.alloc(16)]);
    const padded = Buffer.concat([body, Buffer.alloc((16 - (body.length % 16)) % 16)]);
    slotPage.writeUInt32LE(padded.length / 16, s + 12);
    blocks.push(padded);
    blk += padded.length / 16;
  });
  // An empty slot (pkgIdx 0) is ignored.
  slotPage.write('Slot', 16 * (blobs.length + 1), 'latin1');
  return Buffer.concat([slotPage, ...blocks]);
}

describe('rpm', () => {
  const want = ['rpm:bash@5.1.8-9.el9', 'rpm:openssl-libs@1:3.0.7-27.el9', 'rpm:tzdata@2024a-1.el9'];

  it('header blobs round-trip the tags the inventory reads', () => {
    const h = parseRpmHeader(rpmHeader(RPMS[0]));
    assert.deepEqual(h, { name: 'openssl-libs', version: '3.0.7', release: '27.el9', epoch: 1, arch: 'x86_64', sourceRpm: 'openssl-3.0.7-27.el9.src.rpm', vendor: 'Rocky Enterprise Software Foundation' });
    assert.deepEqual(parseRpmHeader(rpmHeader(RPMS[1])).files, ['/usr/bin/bash', '/usr/bin/sh', '/usr/share/doc/bash/README']);
    assert.throws(() => parseRpmHeader(Buffer.from([0, 0, 0, 9, 0, 0, 0, 1])), /exceeds/);
  });

  it('an RPM image: rpmdb.sqlite read from the layer, epoch, source RPM, purl with the distro', async () => {
    const inv = await inventoryOf([
      { path: '/etc/os-release', content: 'NAME="Rocky Linux"\nVERSION="9.4 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\nPRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\n' },
      { path: '/var/lib/rpm/rpmdb.sqlite', content: rpmdbSqlite() },
    ], 'zstd');
    assert.equal(inv.os?.id, 'rocky');
    assert.deepEqual(short(inv).sort(), want);
    const ssl = inv.packages.find((p) => p.name === 'openssl-libs');
    assert.equal(ssl?.sourceName, 'openssl');
    assert.equal(ssl?.sourceVersion, '3.0.7-27.el9');
    assert.equal(ssl?.arch, 'x86_64');
    assert.equal(ssl?.path, '/var/lib/rpm/rpmdb.sqlite');
    assert.equal(ssl?.purl, 'pkg:rpm/rocky/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=rocky-9.4&epoch=1&upstream=openssl');
  });

  it('an RPM image end to end: the inventory read from its layer matches its release\'s advisories by binary name', async () => {
    const inv = await inventoryOf([
      { path: '/etc/os-release', content: 'NAME="Rocky Linux"\nID="rocky"\nVERSION_ID="9.4"\n' },
      { path: '/var/lib/rpm/rpmdb.sqlite', content: rpmdbSqlite() },
    ], 'gzip');
    const advisory = (ecosystem: string, name: string, id: string, fixed: string): AffectedMatchRow => ({
      ecosystem, name,
      entry: { package: { ecosystem, name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] },
      advisory: { id, aliases: [], related: [], severity: [] },
    });
    const rows = [
      advisory('Rocky Linux:9', 'openssl-libs', 'RLSA-2024:1234', '1:3.0.7-28.el9_4'), // installed 1:3.0.7-27.el9: affected
      advisory('Rocky Linux:9', 'bash', 'RLSA-2022:0001', '5.1.8-2.el9'), // installed 5.1.8-9.el9: already fixed
      advisory('Rocky Linux:8', 'tzdata', 'RLSA-2024:0002', '2099a-1.el8'), // another release: never
      advisory('Rocky Linux:9', 'openssl', 'RLSA-2024:0003', '1:9.9.9-1.el9'), // source name: RPM matches binaries only
    ];
    const lookup = async (keys: readonly { ecosystem: string; name: string }[]) => rows.filter((r) => keys.some((k) => k.ecosystem === r.ecosystem && k.name === r.name));
    const found = await matchInventory(inv, lookup);
    assert.deepEqual(found.map((f) => [f.id, f.ecosystem, f.package, f.version, f.fixedVersion]), [['RLSA-2024:1234', 'Rocky Linux:9', 'openssl-libs', '1:3.0.7-27.el9', '1:3.0.7-28.el9_4']]);
  });

  it('a Go binary an RPM installed is left to the distro; one it did not install is reported', async () => {
    const go = fakeGoBinary(GO_BUILDINFO);
    const inv = await inventoryOf([
      { path: '/var/lib/rpm/rpmdb.sqlite', content: rpmdbSqlite() },
      { path: '/usr/bin/sh', content: go, mode: 0o755 },
      { path: '/usr/local/bin/app', content: go, mode: 0o755 },
    ]);
    assert.deepEqual([...new Set(inv.packages.filter((p) => p.ecosystem === 'go').map((p) => p.path))], ['/usr/local/bin/app']);
  });

  it('Berkeley DB Packages (older RHEL/CentOS), headers spanning overflow pages', async () => {
    assert.equal(bdbRpmBlobs(rpmdbBdb()).length, RPMS.length);
    const inv = await inventoryOf([{ path: '/var/lib/rpm/Packages', content: rpmdbBdb() }]);
    assert.deepEqual(short(inv).sort(), want);
    assert.throws(() => bdbRpmBlobs(Buffer.alloc(4096)), /not a Berkeley DB hash/);
  });

  it('NDB Packages.db (SUSE)', async () => {
    assert.equal(ndbRpmBlobs(rpmdbNdb()).length, RPMS.length);
    const inv = await inventoryOf([{ path: '/usr/lib/sysimage/rpm/Packages.db', content: rpmdbNdb() }]);
    assert.deepEqual(short(inv).sort(), want);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Go, cargo-auditable


function cc(): string | undefined {
  try { execFileSync('cc', ['--version'], { stdio: 'ignore' }); return 'cc'; } catch { return undefined; }
}

/** A real ELF executable linked by the system C toolchain, with the given bytes in a named section. */
function linkWithSection(section: string, bytes: Buffer, dir: string): Buffer {
  const arr = [...bytes].join(',');
  writeFileSync(join(dir, 'm.c'), `__attribute__((used, section("${section}"), aligned(16))) static const unsigned char payload[${bytes.length}] = {${arr}};\nint main(void) { return payload[0] == 7; }\n`);
  execFileSync('cc', ['-O0', '-o', join(dir, 'm'), join(dir, 'm.c')], { stdio: 'ignore' });
  return readFileSync(join(dir, 'm'));
}

/**
 * An ELF executable laid out as Go 1.13–1.17 links one: the version and module strings in read-only data,
 * then (16-byte aligned, in the data segment) the build-info header with two pointers to Go string headers
 * {data, len}, which follow it. One PT_LOAD segment maps the file at 0x400000.
 */
function legacyGoElf(bits: 64 | 32, goVersion: string, modules: string): Buffer {
  const ptr = bits / 8, base = 0x400000, is64 = bits === 64;
  const sentinelled = Buffer.concat([Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex'), Buffer.from(modules), Buffer.from('f932433186182072008242104116d8f2', 'hex')]);
  const versionAt = 0x200, modulesAt = versionAt + 64, infoAt = 0x4000, headersAt = infoAt + 32, total = infoAt + 0x2000;
  const f = Buffer.alloc(total, 0);
  const word = (o: number, v: number) => (is64 ? f.writeBigUInt64LE(BigInt(v), o) : f.writeUInt32LE(v, o));
  f.writeUInt32BE(0x7f454c46, 0); f[4] = is64 ? 2 : 1; f[5] = 1; f[6] = 1;
  f.writeUInt16LE(2, 16);
  const phoff = is64 ? 64 : 52;
  word(is64 ? 0x20 : 0x1c, phoff);
  f.writeUInt16LE(is64 ? 56 : 32, is64 ? 0x36 : 0x2a); f.writeUInt16LE(1, is64 ? 0x38 : 0x2c);
  f.writeUInt32LE(1, phoff); // PT_LOAD
  if (is64) { f.writeBigUInt64LE(0n, phoff + 8); f.writeBigUInt64LE(BigInt(base), phoff + 16); f.writeBigUInt64LE(BigInt(total), phoff + 32); }
  else { f.writeUInt32LE(0, phoff + 4); f.writeUInt32LE(base, phoff + 8); f.writeUInt32LE(total, phoff + 16); }
  f.write(goVersion, versionAt);
  sentinelled.copy(f, modulesAt);
  f.write('\xff Go buildinf:', infoAt, 'latin1');
  f[infoAt + 14] = ptr; f[infoAt + 15] = 0; // little-endian, pointer layout
  word(infoAt + 16, base + headersAt); word(infoAt + 16 + ptr, base + headersAt + 2 * ptr);
  word(headersAt, base + versionAt); word(headersAt + ptr, goVersion.length);
  word(headersAt + 2 * ptr, base + modulesAt); word(headersAt + 3 * ptr, sentinelled.length);
  return f;
}

const AUDIT_JSON = { packages: [
  { name: 'demo', version: '0.1.0', source: 'local', kind: 'runtime', root: true, dependencies: [1, 2] },
  { name: 'regex', version: '1.5.4', source: 'crates.io', kind: 'runtime' },
  { name: 'smallvec', version: '1.6.0', source: 'crates.io', kind: 'runtime' },
] };

describe('go and rust binaries', () => {
  it('build info encodes and decodes as Go lays it out; stdlib versions', () => {
    const blob = encodeGoBuildInfo('go1.22.1', 'path\texample.com/x\nmod\texample.com/x\tv1.0.0\t\n');
    assert.equal(blob.subarray(0, 14).toString('latin1'), '\xff Go buildinf:');
    assert.equal(blob[15] & 2, 2);
    assert.deepEqual(decodeGoBuildInfo(blob), { goVersion: 'go1.22.1', modules: 'path\texample.com/x\nmod\texample.com/x\tv1.0.0\t\n' });
    assert.equal(goStdlibVersion('go1.21.0'), 'v1.21.0');
    assert.equal(goStdlibVersion('go1.22'), 'v1.22.0');
    assert.equal(goStdlibVersion('go1.21.5 X:boringcrypto'), 'v1.21.5');
    assert.equal(goStdlibVersion('go1.23rc1'), 'v1.23.0-rc1');
    assert.equal(goStdlibVersion('devel go1.24-abc'), undefined);
  });

  it('main module with a version, replaced dependencies, build info straddling chunk boundaries', async () => {
    const mods = 'path\texample.com/app\nmod\texample.com/app\tv2.3.4\th1:x=\ndep\tgolang.org/x/net\tv0.17.0\th1:y=\n=>\tgolang.org/x/net\tv0.23.0\th1:z=\ndep\tgithub.com/local/lib\tv0.0.0\n=>\t../lib\t\ndep\tgopkg.in/yaml.v3\tv3.0.1\th1:w=\nbuild\t-compiler=gc\n';
    for (const padding of [0, 4000, 4087, 8190]) {
      const elf = fakeGoBinary(`go\tgo1.21.0\n${mods}`, padding);
      const inv = await inventoryOf([{ path: '/bin/app', content: elf, mode: 0o755 }], 'none');
      assert.deepEqual(short(inv).sort(), ['go:example.com/app@v2.3.4', 'go:golang.org/x/net@v0.23.0', 'go:gopkg.in/yaml.v3@v3.0.1', 'go:stdlib@v1.21.0'], `padding ${padding}`);
    }
  });

  it('Go 1.13–1.17 build info (pointers to string headers, strings earlier in the file), 64- and 32-bit', async () => {
    for (const bits of [64, 32] as const) {
      let opens = 0;
      const layer = await buildLayer([{ path: '/usr/bin/old', content: legacyGoElf(bits, 'go1.16.15', 'path\texample.com/old\nmod\texample.com/old\tv0.3.0\t\ndep\tgithub.com/gorilla/websocket\tv1.4.0\th1:x=\n'), mode: 0o755 }], 'gzip');
      const src = layerSource(layer);
      const warnings: string[] = [];
      const inv = await readInventory([{ mediaType: src.mediaType, open: () => { opens++; return src.open(); } }], { onWarning: (w) => warnings.push(w.message) });
      assert.deepEqual(short(inv).sort(), ['go:example.com/old@v0.3.0', 'go:github.com/gorilla/websocket@v1.4.0', 'go:stdlib@v1.16.15'], `${bits}-bit`);
      assert.equal(opens, 2);
      assert.deepEqual(warnings, []);
    }
  });

  it('files that are not executables, or not binaries, report nothing', async () => {
    const elf = fakeGoBinary(GO_BUILDINFO);
    const inv = await inventoryOf([
      { path: '/data/app.bin', content: elf, mode: 0o644 }, // not executable
      { path: '/bin/script.sh', content: `#!/bin/sh\n${'# \xff Go buildinf:\n'.repeat(100)}`, mode: 0o755 },
    ]);
    assert.deepEqual(inv.packages, []);
  });

  it('a real ELF with a .go.buildinfo section, linked by the C toolchain', { skip: !cc() && 'no C compiler' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inv-go-'));
    try {
      const lines = GO_BUILDINFO.split('\n');
      const bin = linkWithSection('.go.buildinfo', encodeGoBuildInfo(lines[0].split('\t')[1], `${lines.slice(1).join('\n')}`), dir);
      const inv = await inventoryOf([{ path: '/usr/bin/fixture', content: bin, mode: 0o755 }], 'zstd');
      assert.deepEqual(short(inv).sort(), ['go:github.com/opencontainers/runc@v1.1.11', 'go:golang.org/x/crypto@v0.16.0', 'go:golang.org/x/net@v0.17.0', 'go:google.golang.org/grpc@v1.58.2', 'go:google.golang.org/protobuf@v1.32.0', 'go:stdlib@v1.21.0']);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  it('cargo-auditable: the .dep-v0 section of a real ELF, fetched by a second read of its layer', { skip: !cc() && 'no C compiler' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inv-rust-'));
    try {
      const bin = linkWithSection('.dep-v0', deflateSync(JSON.stringify(AUDIT_JSON)), dir);
      let opens = 0;
      const layer = await buildLayer([{ path: '/usr/local/bin/demo', content: bin, mode: 0o755 }, { path: '/etc/motd', content: 'hi' }], 'gzip');
      const src = layerSource(layer);
      const inv = await readInventory([{ mediaType: src.mediaType, open: () => { opens++; return src.open(); } }]);
      assert.deepEqual(short(inv).sort(), ['cargo:regex@1.5.4', 'cargo:smallvec@1.6.0']);
      assert.equal(inv.packages[0].purl, 'pkg:cargo/regex@1.5.4');
      assert.equal(opens, 2);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});

// ---------------------------------------------------------------------------------------------------------
// Java, Ruby, Cargo.lock, npm v1, PyPI egg-info

/** A zip written as a stream (fflate Zip): deflated members with their sizes in trailing data descriptors. */
function streamingZip(files: Record<string, Uint8Array>): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const parts: Uint8Array[] = [];
    const zip = new Zip((err, chunk, final) => {
      if (err) return reject(err);
      parts.push(chunk);
      if (final) resolve(Buffer.concat(parts));
    });
    for (const [name, data] of Object.entries(files)) {
      const f = new ZipDeflate(name, { level: 6 });
      zip.add(f);
      f.push(data, true);
    }
    zip.end();
  });
}

function jar(files: Record<string, string | Uint8Array>): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, typeof v === 'string' ? new TextEncoder().encode(v) : v])));
}

describe('language packages', () => {
  it('Java: pom.properties, nested jars in a Spring Boot jar and a war, MANIFEST fallback', async () => {
    const log4j = jar({ 'META-INF/MANIFEST.MF': 'Manifest-Version: 1.0\n', 'META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties': '#Generated\ngroupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n' });
    const noPom = jar({ 'META-INF/MANIFEST.MF': 'Manifest-Version: 1.0\r\nImplementation-Title: commons-text\r\nImplementation-Version: 1.9\r\nImplementation-Vendor-Id: org.apache.commons\r\n\r\nName: x\r\n' });
    const noGroup = jar({ 'META-INF/MANIFEST.MF': 'Manifest-Version: 1.0\nImplementation-Version: 3.0\n' });
    const inner = jar({ 'META-INF/maven/com.fasterxml.jackson.core/jackson-databind/pom.properties': 'groupId=com.fasterxml.jackson.core\nartifactId=jackson-databind\nversion=2.9.10.1\n', 'lib/deeper.jar': log4j });
    const boot = jar({
      'META-INF/maven/com.example/app/pom.properties': 'groupId=com.example\nartifactId=app\nversion=1.0.0\n',
      'BOOT-INF/lib/jackson-databind-2.9.10.1.jar': inner,
      'BOOT-INF/lib/commons-text-1.9.jar': noPom,
      'BOOT-INF/lib/mystery-3.0.jar': noGroup,
    });
    const war = jar({ 'WEB-INF/lib/log4j-core-2.14.1.jar': log4j });
    const inv = await inventoryOf([{ path: '/app/app.jar', content: Buffer.from(boot) }, { path: '/srv/ROOT.war', content: Buffer.from(war) }]);
    assert.deepEqual(short(inv).sort(), [
      'maven:com.example:app@1.0.0', 'maven:com.fasterxml.jackson.core:jackson-databind@2.9.10.1', 'maven:org.apache.commons:commons-text@1.9',
      'maven:org.apache.logging.log4j:log4j-core@2.14.1', 'maven:org.apache.logging.log4j:log4j-core@2.14.1',
    ]);
    const nested = inv.packages.find((p) => p.name.endsWith('jackson-databind'));
    assert.equal(nested?.path, '/app/app.jar!/BOOT-INF/lib/jackson-databind-2.9.10.1.jar');
    assert.equal(nested?.purl, 'pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10.1');
    assert.ok(inv.packages.some((p) => p.path === '/app/app.jar!/BOOT-INF/lib/jackson-databind-2.9.10.1.jar!/lib/deeper.jar'));
  });

  it('Java: an archive above the in-memory limit is read as a stream (sizes in headers, or in data descriptors)', async () => {
    const inner = jar({ 'META-INF/maven/org.yaml/snakeyaml/pom.properties': 'groupId=org.yaml\nartifactId=snakeyaml\nversion=1.33\n' });
    const big = randomBytes(50_000);
    const plain = jar({ 'META-INF/MANIFEST.MF': 'Manifest-Version: 1.0\n', 'blob.bin': big, 'META-INF/maven/com.example/fat/pom.properties': 'groupId=com.example\nartifactId=fat\nversion=2.0.0\n', 'BOOT-INF/lib/snakeyaml-1.33.jar': inner });
    const streamed = await streamingZip({ 'blob.bin': big, 'META-INF/maven/com.example/fat/pom.properties': new TextEncoder().encode('groupId=com.example\nartifactId=fat\nversion=2.0.0\n'), 'BOOT-INF/lib/snakeyaml-1.33.jar': inner });
    for (const [what, bytes] of [['sizes in local headers', plain], ['data descriptors', streamed]] as const) {
      const warnings: string[] = [];
      const layer = await buildLayer([{ path: '/app/fat.jar', content: Buffer.from(bytes) }], 'gzip');
      const inv = await readInventory([layerSource(layer)], { maxFileBytes: 4096, onWarning: (w) => warnings.push(w.message) });
      assert.deepEqual(short(inv).sort(), ['maven:com.example:fat@2.0.0', 'maven:org.yaml:snakeyaml@1.33'], what);
      assert.deepEqual(warnings, [], what);
    }
  });

  it('Ruby: installed gemspecs', async () => {
    const spec = (n: string, v: string) => `# -*- encoding: utf-8 -*-\n# stub: ${n} ${v} ruby lib\n\nGem::Specification.new do |s|\n  s.name = "${n}".freeze\n  s.version = "${v}".freeze\n  s.require_paths = ["lib".freeze]\nend\n`;
    const inv = await inventoryOf([
      { path: '/usr/local/bundle/specifications/rack-2.2.3.gemspec', content: spec('rack', '2.2.3') },
      { path: '/usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec', content: spec('json', '2.6.1') },
      { path: '/usr/local/bundle/gems/rack-2.2.3/rack.gemspec', content: spec('rack', '9.9.9') }, // a source gemspec, not an installed one
    ]);
    assert.deepEqual(short(inv).sort(), ['gem:json@2.6.1', 'gem:rack@2.2.3']);
    assert.equal(inv.packages.find((p) => p.name === 'rack')?.purl, 'pkg:gem/rack@2.2.3');
  });

  it('Rust: Cargo.lock', async () => {
    const lock = '# This file is automatically @generated by Cargo.\nversion = 3\n\n[[package]]\nname = "demo"\nversion = "0.1.0"\ndependencies = [\n "time",\n]\n\n[[package]]\nname = "time"\nversion = "0.1.43"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\nchecksum = "ca8a50ef2360fbd1eeb0ecd46795a87a19024eb4b53c5dc916ca1fd95fe62438"\n';
    const inv = await inventoryOf([{ path: '/src/demo/Cargo.lock', content: lock }]);
    assert.deepEqual(short(inv).sort(), ['cargo:demo@0.1.0', 'cargo:time@0.1.43']);
  });

  it('npm: lockfile v1 (nested dependencies, dev skipped) and a scoped package', async () => {
    const v1 = { name: 'a', lockfileVersion: 1, dependencies: { express: { version: '4.17.1', dependencies: { qs: { version: '6.7.0' } } }, mocha: { version: '8.0.0', dev: true }, local: { version: 'file:../local' } } };
    const inv = await inventoryOf([
      { path: '/srv/package-lock.json', content: JSON.stringify(v1) },
      { path: '/srv/node_modules/@babel/core/package.json', content: '{"name":"@babel/core","version":"7.12.3"}' },
      { path: '/srv/node_modules/@babel/core/lib/package.json', content: '{"type":"module"}' },
    ]);
    assert.deepEqual(short(inv).sort(), ['npm:@babel/core@7.12.3', 'npm:express@4.17.1', 'npm:qs@6.7.0']);
    assert.equal(inv.packages.find((p) => p.name === '@babel/core')?.purl, 'pkg:npm/%40babel/core@7.12.3');
  });

  it('PyPI: egg-info directory and file', async () => {
    const inv = await inventoryOf([
      { path: '/usr/lib/python3/dist-packages/PyYAML-5.3.1.egg-info/PKG-INFO', content: 'Metadata-Version: 1.2\nName: PyYAML\nVersion: 5.3.1\n' },
      { path: '/usr/lib/python3/dist-packages/zope.interface-5.4.0.egg-info', content: 'Metadata-Version: 1.1\nName: zope.interface\nVersion: 5.4.0\n' },
    ]);
    assert.deepEqual(short(inv).sort(), ['pypi:pyyaml@5.3.1', 'pypi:zope-interface@5.4.0']);
  });

  it('dpkg: distroless status.d files (no Status field), md5sums skipped', async () => {
    const inv = await inventoryOf([
      { path: '/var/lib/dpkg/status.d/libssl3', content: 'Package: libssl3\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\nSource: openssl\n' },
      { path: '/var/lib/dpkg/status.d/libssl3.md5sums', content: '0123  usr/lib/libssl.so.3\n' },
      { path: '/var/lib/dpkg/status.d/tzdata', content: 'Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n' },
    ]);
    assert.deepEqual(short(inv).sort(), ['deb:libssl3@3.0.11-1~deb12u2', 'deb:tzdata@2024a-0+deb12u1']);
    assert.equal(inv.packages.find((p) => p.name === 'libssl3')?.sourceName, 'openssl');
  });
});
