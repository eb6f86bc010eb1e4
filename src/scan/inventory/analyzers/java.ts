// Java: archives (`*.jar`, `*.war`, `*.ear`, `*.par`), read in memory up to the file limit and as streams above it. Every `META-INF/maven/**/pom.properties`
// names a Maven artifact; nested archives (Spring Boot `BOOT-INF/lib/`, `WEB-INF/lib/`) are read to a bounded
// depth; an archive without pom.properties falls back to its MANIFEST.MF plus its file name.
import type { Readable } from 'node:stream';
import { Unzip, UnzipInflate, unzipSync, type UnzipFileInfo } from 'fflate';
import { baseName, type AnalyzeContext, type FileAnalyzer, type FoundPackage } from '../analyzer.ts';

const ARCHIVE = /\.(?:jar|war|ear|par)$/i;
const POM_PROPERTIES = /^META-INF\/maven\/.+\/pom\.properties$/;
const MAX_DEPTH = 3;
const FILE_NAME = /^(.+?)-(\d[^-]*(?:-(?:SNAPSHOT|RELEASE|Final|GA|jre|android))?)\.(?:jar|war|ear|par)$/i;

/** `key=value` lines of a Java properties file (comments and blank lines skipped). */
function properties(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    const i = line.search(/[=:]/);
    if (i > 0) m.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return m;
}

/** MANIFEST.MF main attributes (continuation lines start with one space). */
function manifest(text: string): Map<string, string> {
  const m = new Map<string, string>();
  let last: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') break; // end of the main section
    if (line.startsWith(' ') && last) { m.set(last, m.get(last) + line.slice(1)); continue; }
    const i = line.indexOf(':');
    if (i > 0) { last = line.slice(0, i).trim(); m.set(last, line.slice(i + 1).trim()); }
  }
  return m;
}

/** A Maven coordinate for an archive without pom.properties, when its manifest names the group. */
function fromManifest(mf: Map<string, string>, archiveName: string): { group: string; artifact: string; version: string } | undefined {
  const fn = FILE_NAME.exec(archiveName);
  const artifact = fn?.[1] ?? mf.get('Implementation-Title');
  const version = mf.get('Implementation-Version') ?? mf.get('Bundle-Version') ?? fn?.[2];
  if (!artifact || !version) return undefined;
  let group = mf.get('Implementation-Vendor-Id');
  const bsn = mf.get('Bundle-SymbolicName')?.split(';')[0].trim();
  if (!group && bsn?.endsWith(`.${artifact}`)) group = bsn.slice(0, -artifact.length - 1);
  return group ? { group, artifact, version } : undefined;
}

/** Whether an archive member is read: Maven metadata, the manifest, and nested archives (to a bounded depth). */
function wanted(name: string, depth: number, size: number | undefined, maxFileBytes: number): boolean {
  return POM_PROPERTIES.test(name) || name === 'META-INF/MANIFEST.MF' || (ARCHIVE.test(name) && depth < MAX_DEPTH && (size === undefined || size <= maxFileBytes));
}

/** Maven artifacts in one archive and the archives nested in it. */
export function readJavaArchive(data: Uint8Array, path: string, ctx: Pick<AnalyzeContext, 'maxFileBytes' | 'warn'>, depth = 0): FoundPackage[] {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(data, { filter: (f: UnzipFileInfo) => wanted(f.name, depth, f.originalSize, ctx.maxFileBytes) });
  } catch (err) {
    ctx.warn(path, `unreadable archive: ${(err as Error).message}`);
    return [];
  }
  return packagesOf(files, path, ctx, depth);
}

/**
 * The same for an archive larger than `maxFileBytes`, read as a stream by its local file headers: only the
 * members `readJavaArchive` reads are kept (each at most `maxFileBytes`).
 */
export async function streamJavaArchive(body: Readable, path: string, ctx: Pick<AnalyzeContext, 'maxFileBytes' | 'warn'>): Promise<FoundPackage[]> {
  const files: Record<string, Uint8Array> = {};
  let failure: Error | undefined;
  const unzip = new Unzip((file) => {
    if (!wanted(file.name, 0, file.originalSize, ctx.maxFileBytes)) return;
    const parts: Uint8Array[] = [];
    let size = 0;
    file.ondata = (err, chunk, final) => {
      if (err) { failure ??= err; return; }
      size += chunk.length;
      if (size > ctx.maxFileBytes) { if (!failure) ctx.warn(`${path}!/${file.name}`, `skipped: larger than ${ctx.maxFileBytes} bytes`); file.terminate(); return; }
      parts.push(chunk);
      if (final) files[file.name] = Buffer.concat(parts);
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  try {
    for await (const chunk of body) unzip.push(chunk as Buffer);
    unzip.push(new Uint8Array(0), true);
  } catch (err) {
    failure ??= err as Error;
  }
  if (failure) ctx.warn(path, `unreadable archive: ${failure.message}`);
  return packagesOf(files, path, ctx, 0);
}

function packagesOf(files: Record<string, Uint8Array>, path: string, ctx: Pick<AnalyzeContext, 'maxFileBytes' | 'warn'>, depth: number): FoundPackage[] {
  const out: FoundPackage[] = [];
  const seen = new Set<string>();
  const decoder = new TextDecoder();
  for (const [name, body] of Object.entries(files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!POM_PROPERTIES.test(name)) continue;
    const p = properties(decoder.decode(body));
    const g = p.get('groupId'), a = p.get('artifactId'), v = p.get('version');
    if (!g || !a || !v || seen.has(`${g}:${a}:${v}`)) continue;
    seen.add(`${g}:${a}:${v}`);
    out.push({ ecosystem: 'maven', name: `${g}:${a}`, version: v, path });
  }
  if (!out.length && files['META-INF/MANIFEST.MF']) {
    const c = fromManifest(manifest(decoder.decode(files['META-INF/MANIFEST.MF'])), baseName(path));
    if (c) out.push({ ecosystem: 'maven', name: `${c.group}:${c.artifact}`, version: c.version, path });
  }
  for (const [name, body] of Object.entries(files)) {
    if (ARCHIVE.test(name)) out.push(...readJavaArchive(body, `${path}!/${name}`, ctx, depth + 1));
  }
  return out;
}

export const javaAnalyzer: FileAnalyzer = {
  name: 'java',
  // Archives up to the in-memory limit are read whole (by the central directory); larger ones as streams.
  match: (file) => (ARCHIVE.test(file.path) ? 'buffer' : undefined),
  analyze: (file, data, ctx) => ({ packages: readJavaArchive(data, file.path, ctx) }),
  scan: async (file, body, ctx) => ({ packages: await streamJavaArchive(body, file.path, ctx) }),
};
