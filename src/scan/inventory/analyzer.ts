import type { InstalledPackage, OsRelease } from '../types.ts';
import type { Readable } from 'node:stream';

/**
 * A package as an analyzer reports it; the purl is added once the image's distribution is known.
 * `installedAt` (lockfile entries only) names the `package.json` that would describe the same package when
 * it is installed: the installed file wins, so a package is not reported twice.
 */
export type FoundPackage = Omit<InstalledPackage, 'purl'> & { installedAt?: string };

/** What one file of the image contributes to the inventory. */
export interface FileFinding {
  packages?: FoundPackage[];
  /** Set by the os-release analyzer. */
  os?: OsRelease;
  /**
   * Files an OS package manager installed (dpkg `info/*.list`, apk `R:` lines, rpm file lists): language
   * packages declared by these files are left to the distribution's advisories and not reported again.
   */
  ownedFiles?: string[];
  /**
   * Byte ranges of the same file the analyzer could only locate after reading past them (an ELF section
   * named in the trailing section table, strings behind pointers): the walker reads the layer once more and
   * adds the packages `parse` makes of those bytes (one Buffer per range, in order).
   */
  reread?: Reread;
}

/** See `FileFinding.reread`. */
export interface Reread {
  ranges: { offset: number; length: number }[];
  parse(parts: Buffer[]): FoundPackage[];
}

/** Several rereads of one file as one. */
export function combineRereads(list: Reread[]): Reread | undefined {
  if (list.length <= 1) return list[0];
  return {
    ranges: list.flatMap((r) => r.ranges),
    parse(parts) {
      let at = 0;
      return list.flatMap((r) => { const mine = parts.slice(at, at + r.ranges.length); at += r.ranges.length; return r.parse(mine); });
    },
  };
}

/** A regular file in a layer, as the tar header describes it. */
export interface LayerFile {
  /** Absolute path in the image (`/var/lib/dpkg/status`). */
  path: string;
  size: number;
  mode: number;
}

/**
 * One kind of installed-package metadata. The layer walker offers every regular file to `match`:
 * `'buffer'` hands the whole file (at most `maxFileBytes`) to `analyze` — a larger one goes to `scan` when
 * the analyzer has it, else is skipped with a warning; `'stream'` hands the raw entry to `scan`, which must
 * consume it with bounded memory (executables of any size, archives above the limit).
 */
export interface FileAnalyzer {
  readonly name: string;
  match(file: LayerFile): 'buffer' | 'stream' | undefined;
  analyze?(file: LayerFile, data: Buffer, ctx: AnalyzeContext): FileFinding | undefined | Promise<FileFinding | undefined>;
  scan?(file: LayerFile, body: Readable, ctx: AnalyzeContext): Promise<FileFinding | undefined>;
}

/** Passed to analyzers: limits and a sink for non-fatal problems (a malformed file is skipped, not fatal). */
export interface AnalyzeContext {
  maxFileBytes: number;
  warn(path: string, message: string): void;
}

/** Splits text into blank-line separated stanzas of lines (dpkg status, apk installed). */
export function stanzas(text: string): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  for (const line of text.split('\n')) {
    const l = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (l.trim() === '') {
      if (cur.length) out.push(cur);
      cur = [];
    } else cur.push(l);
  }
  if (cur.length) out.push(cur);
  return out;
}

/** `a/b/c` → `c`. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Collects the bytes of [start, end) of a stream as its chunks go by (`at` = the chunk's offset). */
export class RangeCapture {
  private parts: Buffer[] = [];
  private got = 0;
  constructor(readonly start: number, readonly end: number) {}
  feed(chunk: Buffer, at: number): void {
    const from = Math.max(this.start, at);
    const to = Math.min(this.end, at + chunk.length);
    if (to > from) { this.parts.push(Buffer.from(chunk.subarray(from - at, to - at))); this.got += to - from; }
  }
  get complete(): boolean { return this.got === this.end - this.start; }
  /** Bytes captured so far. */
  get size(): number { return this.got; }
  bytes(): Buffer { return Buffer.concat(this.parts); }
}
