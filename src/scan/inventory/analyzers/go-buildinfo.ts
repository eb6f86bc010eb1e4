// Go build information, as Go's debug/buildinfo lays it out (Go ≥ 1.18): a 32-byte header starting with
// "\xff Go buildinf:" (pointer size, flags), then two varint-length strings — the Go version and the module
// information (`path`, `mod`, `dep`, `=>` and `build` lines between 16-byte sentinels).
import type { FoundPackage } from '../analyzer.ts';

export const GO_BUILDINFO_MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const FLAGS_VERSION_INLINE = 0x2;

/** Reads an unsigned LEB128 varint; undefined when it runs past the buffer or is too long. */
function uvarint(buf: Buffer, at: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0, shift = 0; i < 5 && at + i < buf.length; i++, shift += 7) {
    const b = buf[at + i];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return { value, next: at + i + 1 };
  }
  return undefined;
}

export interface GoBuildInfo {
  goVersion: string;
  /** The module information text (sentinels removed). */
  modules: string;
}

/**
 * Decodes a Go ≥ 1.18 build-info header that starts at `buf[0]` (the magic). Returns undefined for the
 * pre-1.18 pointer layout (`flags & 2` unset), whose strings live elsewhere in the binary (see binary.ts).
 */
export function decodeGoBuildInfo(buf: Buffer): GoBuildInfo | undefined {
  if (buf.length < 33 || !buf.subarray(0, 14).equals(GO_BUILDINFO_MAGIC)) return undefined;
  if ((buf[15] & FLAGS_VERSION_INLINE) === 0) return undefined;
  const v = uvarint(buf, 32);
  if (!v || v.next + v.value > buf.length) return undefined;
  const goVersion = buf.toString('utf8', v.next, v.next + v.value);
  const m = uvarint(buf, v.next + v.value);
  if (!m || m.next + m.value > buf.length) return undefined;
  return { goVersion, modules: stripModinfoSentinels(buf.subarray(m.next, m.next + m.value)) };
}

/** The module information text without the 16-byte sentinels the linker wraps it in. */
export function stripModinfoSentinels(raw: Buffer): string {
  const inner = raw.length >= 33 && raw[raw.length - 17] === 0x0a ? raw.subarray(16, raw.length - 16) : raw;
  return inner.toString('utf8');
}

/** Encodes a Go ≥ 1.18 build-info header exactly as the linker writes it (used by tests). */
export function encodeGoBuildInfo(goVersion: string, modules: string, ptrSize = 8): Buffer {
  const varint = (n: number) => {
    const out: number[] = [];
    while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128); }
    out.push(n);
    return Buffer.from(out);
  };
  const header = Buffer.alloc(32);
  GO_BUILDINFO_MAGIC.copy(header);
  header[14] = ptrSize;
  header[15] = FLAGS_VERSION_INLINE; // little-endian, version inline
  const sentinelStart = Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex');
  const sentinelEnd = Buffer.from('f932433186182072008242104116d8f2', 'hex');
  const mod = modules ? Buffer.concat([sentinelStart, Buffer.from(modules, 'utf8'), sentinelEnd]) : Buffer.alloc(0);
  const ver = Buffer.from(goVersion, 'utf8');
  return Buffer.concat([header, varint(ver.length), ver, varint(mod.length), mod]);
}

/** `go1.21.0` → `v1.21.0`; `go1.22` → `v1.22.0`; `go1.21.0 X:boringcrypto` → `v1.21.0`; devel builds → undefined. */
export function goStdlibVersion(goVersion: string): string | undefined {
  const m = /^go(\d+)\.(\d+)(?:\.(\d+))?((?:rc|beta)\d+)?(?:\s|$)/.exec(goVersion);
  if (!m) return undefined;
  return `v${m[1]}.${m[2]}.${m[3] ?? '0'}${m[4] ? `-${m[4]}` : ''}`;
}

/**
 * Modules of a Go binary: the main module (unless `(devel)`), each dependency (a `=>` line replaces the
 * dependency before it; local replacements without a version are dropped) and `stdlib` at the Go version.
 */
export function goModules(info: GoBuildInfo, path: string): FoundPackage[] {
  const out: FoundPackage[] = [];
  const add = (name: string | undefined, version: string | undefined) => {
    if (name && version && version !== '(devel)') out.push({ ecosystem: 'go', name, version, path });
  };
  let pending: { name: string; version: string } | undefined;
  const flush = () => { if (pending) add(pending.name, pending.version); pending = undefined; };
  for (const line of info.modules.split('\n')) {
    const f = line.split('\t');
    if (f[0] === 'mod') { flush(); add(f[1], f[2]); }
    else if (f[0] === 'dep') { flush(); pending = { name: f[1], version: f[2] }; }
    else if (f[0] === '=>') { pending = f[2] ? { name: f[1], version: f[2] } : undefined; flush(); }
  }
  flush();
  const std = goStdlibVersion(info.goVersion);
  if (std) out.push({ ecosystem: 'go', name: 'stdlib', version: std, path });
  return out;
}

/** Build info text in the `go version -m` layout (`go\tgo1.21.0`, `path\t…`, `dep\t…`) split into its parts. */
export function parseGoVersionM(text: string): GoBuildInfo {
  const lines = text.split('\n').map((l) => l.replace(/^\t/, ''));
  const go = lines.find((l) => l.startsWith('go\t'));
  return { goVersion: go ? go.slice(3).trim() : '', modules: lines.filter((l) => l && !l.startsWith('go\t')).join('\n') + '\n' };
}
