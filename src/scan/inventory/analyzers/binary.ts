// Executables read as streams, never buffered whole: Go build information (found by its magic, as Go's
// debug/buildinfo does for any format) and cargo-auditable's `.dep-v0` section in ELF binaries. The section
// table of an ELF file comes after the section data, so a cargo-auditable section is located on the first
// read and its bytes fetched by a second, targeted read of the layer (`FileFinding.reread`).
import type { Readable } from 'node:stream';
import { inflateSync } from 'node:zlib';
import { RangeCapture, type AnalyzeContext, type FileAnalyzer, type FileFinding, type FoundPackage, type LayerFile } from '../analyzer.ts';
import { decodeGoBuildInfo, goModules, GO_BUILDINFO_MAGIC } from './go-buildinfo.ts';

const GO_INFO_CAPTURE = 64 * 1024;
const DEP_NAME = Buffer.from('.dep-v0\0', 'latin1');
const MAX_SECTION_TABLE = 1024 * 1024;
const MAX_DEP_SECTION = 8 * 1024 * 1024;
const MIN_BINARY = 1024;

/** Finds occurrences of a pattern across chunk boundaries without copying the chunks. */
class Searcher {
  private tail = Buffer.alloc(0);
  constructor(private readonly pattern: Buffer) {}
  /** Offsets (absolute in the file) of up to `limit` matches that end inside `chunk`, which starts at `at`. */
  feed(chunk: Buffer, at: number, limit: number): number[] {
    const found: number[] = [];
    const keep = this.pattern.length - 1;
    if (this.tail.length) { // matches straddling the previous chunk and this one
      const seam = Buffer.concat([this.tail, chunk.subarray(0, keep)]);
      for (let i = seam.indexOf(this.pattern); i >= 0 && i < this.tail.length && found.length < limit; i = seam.indexOf(this.pattern, i + 1)) found.push(at - this.tail.length + i);
    }
    for (let i = chunk.indexOf(this.pattern); i >= 0 && found.length < limit; i = chunk.indexOf(this.pattern, i + 1)) found.push(at + i);
    this.tail = chunk.length >= keep ? Buffer.from(chunk.subarray(chunk.length - keep)) : Buffer.concat([this.tail, chunk]).subarray(-keep);
    return found;
  }
}

interface ElfLayout { le: boolean; is64: boolean; shoff: number; shentsize: number; shnum: number; shstrndx: number }

function elfLayout(h: Buffer): ElfLayout | undefined {
  if (h.length < 64 || h.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = h[4] === 2;
  const le = h[5] === 1;
  const u16 = (o: number) => (le ? h.readUInt16LE(o) : h.readUInt16BE(o));
  const u32 = (o: number) => (le ? h.readUInt32LE(o) : h.readUInt32BE(o));
  const shoff = is64 ? Number(le ? h.readBigUInt64LE(0x28) : h.readBigUInt64BE(0x28)) : u32(0x20);
  const base = is64 ? 0x3a : 0x2e;
  return { le, is64, shoff, shentsize: u16(base), shnum: u16(base + 2), shstrndx: u16(base + 4) };
}

/** The (offset, size) of the section whose name starts at one of `nameOffsets` in the file. */
function findSection(elf: ElfLayout, table: Buffer, nameOffsets: number[]): { offset: number; size: number } | undefined {
  const entry = (i: number) => {
    const o = i * elf.shentsize;
    const u32 = (x: number) => (elf.le ? table.readUInt32LE(o + x) : table.readUInt32BE(o + x));
    const u64 = (x: number) => Number(elf.le ? table.readBigUInt64LE(o + x) : table.readBigUInt64BE(o + x));
    return elf.is64 ? { name: u32(0), offset: u64(24), size: u64(32) } : { name: u32(0), offset: u32(16), size: u32(20) };
  };
  if (elf.shstrndx >= elf.shnum) return undefined;
  const strtab = entry(elf.shstrndx).offset;
  for (let i = 0; i < elf.shnum; i++) {
    const s = entry(i);
    if (nameOffsets.includes(strtab + s.name)) return { offset: s.offset, size: s.size };
  }
  return undefined;
}

/** Crates recorded by cargo-auditable: the zlib-compressed JSON of a `.dep-v0` section. */
export function cargoAuditablePackages(section: Buffer, path: string): FoundPackage[] {
  const doc = JSON.parse(inflateSync(section, { maxOutputLength: 64 * 1024 * 1024 }).toString('utf8')) as { packages?: { name?: unknown; version?: unknown; source?: unknown }[] };
  const out: FoundPackage[] = [];
  for (const p of Array.isArray(doc.packages) ? doc.packages : []) {
    if (typeof p?.name === 'string' && typeof p.version === 'string' && p.source !== 'local') out.push({ ecosystem: 'cargo', name: p.name, version: p.version, path });
  }
  return out;
}

function isExecutableFormat(h: Buffer): boolean {
  if (h.length < 4) return false;
  const m = h.readUInt32BE(0);
  return m === 0x7f454c46 /* ELF */ || (h[0] === 0x4d && h[1] === 0x5a) /* PE */ ||
    m === 0xfeedface || m === 0xfeedfacf || m === 0xcefaedfe || m === 0xcffaedfe; // Mach-O
}

/** Scans one executable; consumes the whole stream. */
export async function scanExecutable(file: LayerFile, body: Readable, ctx: AnalyzeContext): Promise<FileFinding | undefined> {
  let head = Buffer.alloc(0);
  let at = 0;
  let format: 'unknown' | 'binary' | 'other' = 'unknown';
  let elf: ElfLayout | undefined;
  const goSearch = new Searcher(GO_BUILDINFO_MAGIC);
  const depSearch = new Searcher(DEP_NAME);
  let goInfo: RangeCapture | undefined;
  let sectionTable: RangeCapture | undefined;
  const depNames: number[] = [];
  for await (const raw of body) {
    const chunk = raw as Buffer;
    if (format === 'other') { at += chunk.length; continue; } // drain
    if (format === 'unknown') {
      head = Buffer.concat([head, chunk.subarray(0, 64 - head.length)]);
      if (head.length >= 64 || at + chunk.length >= file.size) {
        format = isExecutableFormat(head) ? 'binary' : 'other';
        elf = elfLayout(head);
        if (elf && elf.shnum && elf.shnum * elf.shentsize <= MAX_SECTION_TABLE) sectionTable = new RangeCapture(elf.shoff, elf.shoff + elf.shnum * elf.shentsize);
        if (format === 'other') { at += chunk.length; continue; }
      }
    }
    if (!goInfo) {
      const hit = goSearch.feed(chunk, at, 1)[0];
      if (hit !== undefined) goInfo = new RangeCapture(hit, Math.min(hit + GO_INFO_CAPTURE, file.size));
      // The capture may start in the previous chunk's tail (at most 13 bytes back).
      if (goInfo && hit < at) goInfo.feed(GO_BUILDINFO_MAGIC.subarray(0, at - hit), hit);
    }
    goInfo?.feed(chunk, at);
    if (elf) {
      if (depNames.length < 16) depNames.push(...depSearch.feed(chunk, at, 16 - depNames.length));
      sectionTable?.feed(chunk, at);
    }
    at += chunk.length;
  }
  if (format !== 'binary') return undefined;
  const packages: FoundPackage[] = [];
  if (goInfo) {
    const info = decodeGoBuildInfo(goInfo.bytes());
    if (info) packages.push(...goModules(info, file.path));
    else ctx.warn(file.path, 'Go build info in the pre-1.18 layout is not read');
  }
  const finding: FileFinding = { packages };
  if (elf && depNames.length && sectionTable?.complete) {
    const s = findSection(elf, sectionTable.bytes(), depNames);
    if (s && s.size > 0 && s.size <= MAX_DEP_SECTION && s.offset + s.size <= file.size) {
      finding.reread = {
        offset: s.offset,
        length: s.size,
        parse: (bytes) => {
          try { return cargoAuditablePackages(bytes, file.path); } catch (err) {
            ctx.warn(file.path, `unreadable cargo-auditable section: ${(err as Error).message}`);
            return [];
          }
        },
      };
    }
  }
  return packages.length || finding.reread ? finding : undefined;
}

export const binaryAnalyzer: FileAnalyzer = {
  name: 'binary',
  match: (file) => ((file.mode & 0o111) !== 0 && file.size >= MIN_BINARY ? 'stream' : undefined),
  scan: scanExecutable,
};
