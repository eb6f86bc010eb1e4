// Executables read as streams, never buffered whole: Go build information (found by its magic, as Go's
// debug/buildinfo does for any format) and cargo-auditable's `.dep-v0` section in ELF binaries. What can only
// be located after its bytes went by — a cargo-auditable section (the ELF section table comes last), the
// strings of Go 1.13–1.17 build info (behind pointers) — is fetched by a second, targeted read of the layer
// (`FileFinding.reread`).
import type { Readable } from 'node:stream';
import { inflateSync } from 'node:zlib';
import { combineRereads, RangeCapture, type AnalyzeContext, type FileAnalyzer, type FileFinding, type FoundPackage, type LayerFile, type Reread } from '../analyzer.ts';
import { decodeGoBuildInfo, goModules, GO_BUILDINFO_MAGIC, stripModinfoSentinels } from './go-buildinfo.ts';

const GO_INFO_CAPTURE = 64 * 1024;
const DEP_NAME = Buffer.from('.dep-v0\0', 'latin1');
const MAX_SECTION_TABLE = 1024 * 1024;
const MAX_DEP_SECTION = 8 * 1024 * 1024;
const MIN_BINARY = 1024;
/** The start of the file kept for its headers (ELF header and program headers). */
const HEAD_BYTES = 4096;

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

interface ElfLayout { le: boolean; is64: boolean; shoff: number; shentsize: number; shnum: number; shstrndx: number; phoff: number; phentsize: number; phnum: number }

function elfLayout(h: Buffer): ElfLayout | undefined {
  if (h.length < 64 || h.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = h[4] === 2;
  const le = h[5] === 1;
  const u16 = (o: number) => (le ? h.readUInt16LE(o) : h.readUInt16BE(o));
  const word = (o: number) => (is64 ? Number(le ? h.readBigUInt64LE(o) : h.readBigUInt64BE(o)) : le ? h.readUInt32LE(o) : h.readUInt32BE(o));
  const [phoffAt, shoffAt, sizes] = is64 ? [0x20, 0x28, 0x36] : [0x1c, 0x20, 0x2a];
  return {
    le, is64, phoff: word(phoffAt), shoff: word(shoffAt),
    phentsize: u16(sizes), phnum: u16(sizes + 2), shentsize: u16(sizes + 4), shnum: u16(sizes + 6), shstrndx: u16(sizes + 8),
  };
}

interface Segment { offset: number; vaddr: number; filesz: number }

/** PT_LOAD segments from the program header table (when it lies within the captured head of the file). */
function loadSegments(elf: ElfLayout, head: Buffer): Segment[] {
  const out: Segment[] = [];
  for (let i = 0; i < elf.phnum; i++) {
    const o = elf.phoff + i * elf.phentsize;
    if (o + (elf.is64 ? 56 : 32) > head.length) break;
    const u32 = (x: number) => (elf.le ? head.readUInt32LE(o + x) : head.readUInt32BE(o + x));
    const u64 = (x: number) => Number(elf.le ? head.readBigUInt64LE(o + x) : head.readBigUInt64BE(o + x));
    if (u32(0) !== 1) continue; // PT_LOAD
    out.push(elf.is64 ? { offset: u64(8), vaddr: u64(16), filesz: u64(32) } : { offset: u32(4), vaddr: u32(8), filesz: u32(16) });
  }
  return out;
}

function fileOffset(segments: Segment[], vaddr: number, length: number): number | undefined {
  const s = segments.find((g) => vaddr >= g.vaddr && vaddr + length <= g.vaddr + g.filesz);
  return s ? s.offset + (vaddr - s.vaddr) : undefined;
}

/**
 * Go 1.13–1.17 build info: the header holds two pointers to Go string headers {data, len} (the version and
 * the module information). The string headers follow the build-info header in the data segment and are
 * captured on the first read; the strings themselves live in read-only data earlier in the file and are
 * fetched by a reread.
 */
class LegacyGoInfo {
  private headers: RangeCapture[] = [];
  failed = false;
  constructor(private readonly ptrSize: number, private readonly bigEndian: boolean, private readonly segments: Segment[]) {}

  /** Sets up the captures of both string headers from the build-info header; false when they cannot be read. */
  start(header: Buffer, currentChunkStart: number): boolean {
    const ptr = (o: number) => this.word(header, o);
    for (const vaddr of [ptr(16), ptr(16 + this.ptrSize)]) {
      const at = fileOffset(this.segments, vaddr, 2 * this.ptrSize);
      if (at === undefined || at < currentChunkStart) return false;
      this.headers.push(new RangeCapture(at, at + 2 * this.ptrSize));
    }
    return true;
  }

  feed(chunk: Buffer, at: number): void { for (const h of this.headers) h.feed(chunk, at); }

  /** The reread of the two strings, once both headers were captured. */
  reread(path: string): Reread | undefined {
    if (this.headers.length !== 2 || !this.headers.every((h) => h.complete)) return undefined;
    const ranges = [];
    for (const [i, h] of this.headers.entries()) {
      const b = h.bytes();
      const length = this.word(b, this.ptrSize);
      const offset = fileOffset(this.segments, this.word(b, 0), length);
      if (offset === undefined || length > (i === 0 ? 256 : 4 * 1024 * 1024)) return undefined;
      ranges.push({ offset, length });
    }
    return { ranges, parse: ([version, modules]) => goModules({ goVersion: version.toString('utf8'), modules: stripModinfoSentinels(modules) }, path) };
  }

  private word(b: Buffer, o: number): number {
    if (this.ptrSize === 8) return Number(this.bigEndian ? b.readBigUInt64BE(o) : b.readBigUInt64LE(o));
    return this.bigEndian ? b.readUInt32BE(o) : b.readUInt32LE(o);
  }
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
  let goLayout: 'unknown' | 'inline' | 'legacy' | 'unreadable' = 'unknown';
  let legacy: LegacyGoInfo | undefined;
  let sectionTable: RangeCapture | undefined;
  const depNames: number[] = [];
  for await (const raw of body) {
    const chunk = raw as Buffer;
    if (format === 'other') { at += chunk.length; continue; } // drain
    if (format === 'unknown') {
      if (head.length < HEAD_BYTES) head = Buffer.concat([head, chunk.subarray(0, HEAD_BYTES - head.length)]);
      if (head.length >= HEAD_BYTES || at + chunk.length >= file.size) {
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
    if (goInfo) {
      goInfo.feed(chunk, at);
      if (goLayout === 'unknown' && goInfo.size >= 32) {
        const h = goInfo.bytes();
        if (h[15] & 2) goLayout = 'inline';
        else if ((h[14] === 4 || h[14] === 8) && elf) {
          legacy = new LegacyGoInfo(h[14], (h[15] & 1) === 1, loadSegments(elf, head));
          goLayout = legacy.start(h, at) ? 'legacy' : 'unreadable';
        } else goLayout = 'unreadable';
      }
      if (goLayout === 'legacy') legacy?.feed(chunk, at);
    }
    if (elf) {
      if (depNames.length < 16) depNames.push(...depSearch.feed(chunk, at, 16 - depNames.length));
      sectionTable?.feed(chunk, at);
    }
    at += chunk.length;
  }
  if (format !== 'binary') return undefined;
  const packages: FoundPackage[] = [];
  const rereads: Reread[] = [];
  if (goInfo && goLayout === 'inline') {
    const info = decodeGoBuildInfo(goInfo.bytes());
    if (info) packages.push(...goModules(info, file.path));
    else ctx.warn(file.path, 'unreadable Go build info');
  } else if (goInfo) {
    const r = goLayout === 'legacy' ? legacy?.reread(file.path) : undefined;
    if (r) rereads.push(r);
    else ctx.warn(file.path, 'Go build info in the pre-1.18 layout could not be located');
  }
  if (elf && depNames.length && sectionTable?.complete) {
    const s = findSection(elf, sectionTable.bytes(), depNames);
    if (s && s.size > 0 && s.size <= MAX_DEP_SECTION && s.offset + s.size <= file.size) {
      rereads.push({
        ranges: [{ offset: s.offset, length: s.size }],
        parse: ([bytes]) => {
          try { return cargoAuditablePackages(bytes, file.path); } catch (err) {
            ctx.warn(file.path, `unreadable cargo-auditable section: ${(err as Error).message}`);
            return [];
          }
        },
      });
    }
  }
  const reread = combineRereads(rereads);
  if (!packages.length && !reread) return undefined;
  return reread ? { packages, reread } : { packages };
}

export const binaryAnalyzer: FileAnalyzer = {
  name: 'binary',
  match: (file) => ((file.mode & 0o111) !== 0 && file.size >= MIN_BINARY ? 'stream' : undefined),
  scan: scanExecutable,
};
