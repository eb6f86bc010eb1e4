/**
 * Test support: image layers written byte by byte (tar, then gzip / zstd / nothing), and the ground-truth
 * images of ../shared/fixtures/vulndb/ground-truth as layer entries — for the inventory's own tests and the
 * scanner's end-to-end tests (push these layers, scan, compare with expected-findings.json).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { VULNDB_FIXTURES } from '../testing.ts';
import { encodeGoBuildInfo, parseGoVersionM } from './analyzers/go-buildinfo.ts';
import type { LayerSource } from './walk.ts';

/** One tar entry of a test layer. `whiteout` hides a lower layer's path; `opaque` hides a lower directory's content. */
export type LayerEntry =
  | { path: string; content: string | Buffer; mode?: number }
  | { path: string; dir: true }
  | { path: string; symlink: string }
  | { path: string; hardlink: string }
  | { whiteout: string }
  | { opaque: string };

export type LayerCompression = 'gzip' | 'zstd' | 'none';

export const LAYER_MEDIA_TYPES: Record<LayerCompression, string> = {
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  none: 'application/vnd.oci.image.layer.v1.tar',
};

const MTIME = new Date('2024-01-01T00:00:00Z');

function parentAndBase(path: string): [string, string] {
  const p = path.replace(/^\/+/, '');
  const i = p.lastIndexOf('/');
  return i < 0 ? ['', p] : [p.slice(0, i + 1), p.slice(i + 1)];
}

/** An uncompressed tar of the entries, in the given order (paths written without the leading `/`). */
export async function buildTar(entries: readonly LayerEntry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => { chunks.push(c as Buffer); });
  const done = new Promise<void>((resolve, reject) => { pack.on('end', resolve); pack.on('error', reject); });
  const base = { mtime: MTIME, uid: 0, gid: 0 };
  for (const e of entries) {
    if ('whiteout' in e) { const [d, b] = parentAndBase(e.whiteout); pack.entry({ ...base, name: `${d}.wh.${b}`, mode: 0o644 }, ''); }
    else if ('opaque' in e) pack.entry({ ...base, name: `${e.opaque.replace(/^\/+|\/+$/g, '')}/.wh..wh..opq`, mode: 0o644 }, '');
    else if ('dir' in e) pack.entry({ ...base, name: `${e.path.replace(/^\/+|\/+$/g, '')}/`, type: 'directory', mode: 0o755 });
    else if ('symlink' in e) pack.entry({ ...base, name: e.path.replace(/^\/+/, ''), type: 'symlink', linkname: e.symlink, mode: 0o777 });
    else if ('hardlink' in e) pack.entry({ ...base, name: e.path.replace(/^\/+/, ''), type: 'link', linkname: e.hardlink.replace(/^\/+/, ''), mode: 0o644 });
    else pack.entry({ ...base, name: e.path.replace(/^\/+/, ''), mode: e.mode ?? 0o644 }, typeof e.content === 'string' ? Buffer.from(e.content) : e.content);
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/**
 * A zstd frame holding `data` in raw (stored) blocks — a valid frame per RFC 8878 §3.1.1, written without a
 * compressor. Tests that want entropy-coded blocks too use the `zstd` tool when it is installed.
 */
export function zstdStoredFrame(data: Buffer): Buffer {
  const BLOCK = 128 * 1024;
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])]; // magic, no FCS/checksum, window 128 KiB
  let at = 0;
  do {
    const size = Math.min(BLOCK, data.length - at);
    const last = at + size >= data.length ? 1 : 0;
    const h = (size << 3) | last; // block type 0 (raw)
    parts.push(Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff]), data.subarray(at, at + size));
    at += size;
  } while (at < data.length);
  return Buffer.concat(parts);
}

export interface TestLayer {
  mediaType: string;
  blob: Buffer;
  digest: string;
}

/** A layer blob of the entries with the given compression (zstd: stored blocks, see `zstdStoredFrame`). */
export async function buildLayer(entries: readonly LayerEntry[], compression: LayerCompression = 'gzip'): Promise<TestLayer> {
  const tar = await buildTar(entries);
  const blob = compression === 'gzip' ? gzipSync(tar) : compression === 'zstd' ? zstdStoredFrame(tar) : tar;
  return { mediaType: LAYER_MEDIA_TYPES[compression], blob, digest: `sha256:${createHash('sha256').update(blob).digest('hex')}` };
}

/** A LayerSource over an in-memory blob, streamed in small chunks (so parsers meet chunk boundaries). */
export function layerSource(layer: Pick<TestLayer, 'mediaType' | 'blob'>, chunkSize = 4096): LayerSource {
  return {
    mediaType: layer.mediaType,
    open: () => Readable.from((function* () { for (let i = 0; i < layer.blob.length; i += chunkSize) yield layer.blob.subarray(i, i + chunkSize); })()),
  };
}

// ---------------------------------------------------------------------------------------------------------
// ground-truth images

export const GROUND_TRUTH = join(VULNDB_FIXTURES, 'ground-truth');
const gt = (name: string) => readFileSync(join(GROUND_TRUTH, name));

/**
 * An ELF64 file as far as scanners look (ELF header, then Go build info at a 16-byte-aligned offset, as the
 * linker's .go.buildinfo section puts it); not runnable. `padding` bytes go before the build info.
 */
export function fakeGoBinary(goVersionM: string, padding = 8192): Buffer {
  const info = parseGoVersionM(goVersionM);
  const elf = Buffer.alloc(64);
  elf.writeUInt32BE(0x7f454c46, 0);
  elf[4] = 2; elf[5] = 1; elf[6] = 1; // ELF64, little-endian, version 1
  elf.writeUInt16LE(2, 16); elf.writeUInt16LE(62, 18); // ET_EXEC, x86-64
  const pad = Buffer.alloc(padding + ((16 - ((64 + padding) % 16)) % 16), 0xcc);
  return Buffer.concat([elf, pad, encodeGoBuildInfo(info.goVersion, info.modules), Buffer.alloc(4096)]);
}

/** Installed-package files of one ground-truth input, laid out where image scanners read them. */
export function groundTruthEntries(kind: 'debian-12' | 'alpine-3.20' | 'npm' | 'pypi' | 'go'): LayerEntry[] {
  switch (kind) {
    case 'debian-12':
      return [
        { path: '/usr/lib/os-release', content: gt('debian-12.os-release') },
        { path: '/etc/os-release', symlink: '../usr/lib/os-release' },
        { path: '/var/lib/dpkg/status', content: gt('debian-12.dpkg-status') },
      ];
    case 'alpine-3.20':
      return [
        { path: '/etc/os-release', content: gt('alpine-3.20.os-release') },
        { path: '/lib/apk/db/installed', content: gt('alpine-3.20.apk-installed') },
      ];
    case 'npm': {
      const lock = gt('npm-package-lock.json');
      const pkgs = (JSON.parse(lock.toString('utf8')) as { packages: Record<string, { version: string }> }).packages;
      const installed: LayerEntry[] = Object.entries(pkgs).filter(([k]) => k.startsWith('node_modules/')).map(([k, v]) => ({
        path: `/app/${k}/package.json`,
        content: JSON.stringify({ name: k.slice('node_modules/'.length), version: v.version }),
      }));
      return [{ path: '/app/package-lock.json', content: lock }, ...installed];
    }
    case 'pypi':
      return gt('pypi-installed.txt').toString('utf8').split('\n').filter((l) => l.includes('==')).map((line) => {
        const [name, version] = line.trim().split('==');
        return {
          path: `/usr/local/lib/python3.11/site-packages/${name.replace(/-/g, '_')}-${version}.dist-info/METADATA`,
          content: `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nSummary: ${name}\n\n${name} long description\n`,
        };
      });
    case 'go':
      return [{ path: '/usr/local/bin/cargohold-fixture', content: fakeGoBinary(gt('go-buildinfo.txt').toString('utf8')), mode: 0o755 }];
  }
}
