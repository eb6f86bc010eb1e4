// Walks an image's layers in order as tar streams and keeps, per path, only what analyzers extracted from the
// files they asked for. Whiteouts (`.wh.<name>`) and opaque directories (`.wh..wh..opq`) hide what lower
// layers put there; a later entry at the same path (of any type) replaces the earlier one.
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { RangeCapture, type AnalyzeContext, type FileAnalyzer, type FileFinding, type LayerFile } from './analyzer.ts';
import { layerError, openTarStream } from './layer-stream.ts';

/** One layer of an image, in order from the base: its stored blob (opened on demand) and media type. */
export interface LayerSource {
  mediaType: string;
  /** Opens the stored (compressed) blob; may be called twice when a file needs a second, targeted read. */
  open(): Promise<Readable> | Readable;
}

/** What survives at one path of the merged filesystem. */
export interface Slot {
  layer: number;
  finding?: FileFinding;
  /** Symlink target (absolute), kept for the paths symlinks are followed for (os-release). */
  symlink?: string;
}

export interface WalkOptions {
  analyzers: readonly FileAnalyzer[];
  maxFileBytes: number;
  /** Symlinks to record (paths whose target a reader resolves: /etc/os-release → ../usr/lib/os-release). */
  followSymlinks: ReadonlySet<string>;
  warn(layer: number, path: string, message: string): void;
  signal?: AbortSignal;
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** `./usr//lib/` → `/usr/lib`; the root is ''. */
export function normalizeEntryPath(name: string): string {
  const p = posix.normalize(`/${name}`);
  return p === '/' ? '' : p.replace(/\/+$/, '');
}

/** Reads a whole entry into memory (its size is known and bounded by the caller). */
async function readAll(body: Readable, size: number): Promise<Buffer> {
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for await (const chunk of body) {
    const c = chunk as Buffer;
    c.copy(out, at, 0, Math.min(c.length, size - at));
    at += c.length;
  }
  return at === size ? out : out.subarray(0, Math.min(at, size));
}

/** Iterates a layer's tar entries; every entry is consumed or drained before the next one. */
async function eachEntry(layer: LayerSource, index: number, signal: AbortSignal | undefined, onEntry: (header: tarStream.Header, body: Readable) => Promise<void>): Promise<void> {
  const extract = tarStream.extract();
  let blob: Readable | undefined;
  let tar: Readable | undefined;
  try {
    blob = await layer.open();
    tar = await openTarStream(blob, layer.mediaType);
    tar.on('error', (err) => extract.destroy(err));
    tar.pipe(extract);
    for await (const entry of extract) {
      signal?.throwIfAborted();
      const body = entry as unknown as Readable & { header: tarStream.Header };
      await onEntry(body.header, body);
      if (!body.readableEnded) { body.resume(); }
    }
  } catch (err) {
    throw layerError(err, index);
  } finally {
    // On success these have ended already; on an error or abort this releases the blob (a file descriptor).
    extract.destroy();
    tar?.destroy();
    blob?.destroy();
  }
}

/** The merged view of captured files across layers. */
export class MergedFiles {
  readonly slots = new Map<string, Slot>();
  /** Every ancestor directory of a slot ('' is the root): a cheap guard before a subtree removal scan. */
  private readonly dirs = new Set<string>();

  set(path: string, slot: Slot): void {
    this.slots.set(path, slot);
    for (let d = posix.dirname(path); ; d = posix.dirname(d)) {
      const key = d === '/' ? '' : d;
      if (this.dirs.has(key)) break;
      this.dirs.add(key);
      if (key === '') break;
    }
  }

  /** Removes the slot at `path` if it came from a layer below `layer` (or any layer when `layer` is Infinity). */
  removeAt(path: string, layer: number): void {
    const s = this.slots.get(path);
    if (s && s.layer < layer) this.slots.delete(path);
  }

  /** Removes everything under `dir` that came from layers below `layer`. */
  removeUnder(dir: string, layer: number): void {
    if (!this.dirs.has(dir)) return;
    const prefix = `${dir}/`;
    for (const [p, s] of this.slots) if (p.startsWith(prefix) && s.layer < layer) this.slots.delete(p);
  }
}

/** Walks every layer in order into a MergedFiles. */
export async function walkLayers(layers: readonly LayerSource[], options: WalkOptions): Promise<MergedFiles> {
  const merged = new MergedFiles();
  for (let index = 0; index < layers.length; index++) {
    const ctx: AnalyzeContext = { maxFileBytes: options.maxFileBytes, warn: (path, message) => options.warn(index, path, message) };
    await eachEntry(layers[index], index, options.signal, async (header, body) => {
      const path = normalizeEntryPath(header.name);
      const base = posix.basename(path);
      const dir = posix.dirname(path) === '/' ? '' : posix.dirname(path);
      if (base === OPAQUE) { merged.removeUnder(dir, index); return; }
      if (base.startsWith(WHITEOUT)) {
        const target = `${dir}/${base.slice(WHITEOUT.length)}`;
        merged.removeAt(target, index);
        merged.removeUnder(target, index);
        return;
      }
      if (path === '') return;
      merged.removeAt(path, Infinity);
      if (header.type !== 'directory') merged.removeUnder(path, index);
      if (header.type === 'symlink') {
        if (options.followSymlinks.has(path) && header.linkname) merged.set(path, { layer: index, symlink: posix.resolve(dir || '/', header.linkname) });
        return;
      }
      if (header.type === 'link') {
        const target = merged.slots.get(normalizeEntryPath(header.linkname ?? ''));
        if (target?.finding) merged.set(path, { layer: index, finding: retarget(target.finding, path) });
        return;
      }
      if (header.type !== 'file' && header.type !== 'contiguous-file') return;
      const file: LayerFile = { path, size: header.size ?? 0, mode: header.mode ?? 0 };
      const finding = await analyzeFile(file, body, options.analyzers, ctx);
      if (finding) merged.set(path, { layer: index, finding });
    });
    await rereadLayer(layers[index], index, merged, options.signal);
  }
  return merged;
}

async function analyzeFile(file: LayerFile, body: Readable, analyzers: readonly FileAnalyzer[], ctx: AnalyzeContext): Promise<FileFinding | undefined> {
  for (const a of analyzers) {
    const how = a.match(file);
    if (!how) continue;
    try {
      if (a.scan && (how === 'stream' || file.size > ctx.maxFileBytes)) return await a.scan(file, body, ctx);
      if (how === 'buffer' && a.analyze) {
        if (file.size > ctx.maxFileBytes) { ctx.warn(file.path, `skipped: ${file.size} bytes exceeds the ${ctx.maxFileBytes}-byte limit`); return undefined; }
        return await a.analyze(file, await readAll(body, file.size), ctx);
      }
    } catch (err) {
      if (!body.readableEnded && body.destroyed) throw err; // the layer stream itself failed
      ctx.warn(file.path, `${a.name}: ${(err as Error).message}`);
      return undefined;
    }
  }
  return undefined;
}

/** A finding copied to a hard link's path. */
function retarget(finding: FileFinding, path: string): FileFinding {
  return { ...finding, ...(finding.packages ? { packages: finding.packages.map((p) => ({ ...p, path })) } : {}) };
}

/** Second, targeted read of a layer for findings that asked for bytes they had already streamed past. */
async function rereadLayer(layer: LayerSource, index: number, merged: MergedFiles, signal: AbortSignal | undefined): Promise<void> {
  const wanted = new Map<string, FileFinding>();
  for (const [p, s] of merged.slots) if (s.layer === index && s.finding?.reread) wanted.set(p, s.finding);
  if (!wanted.size) return;
  const captured = new Map<string, Buffer[]>(); // a path written twice in one layer: the last one counts
  await eachEntry(layer, index, signal, async (header, body) => {
    const p = normalizeEntryPath(header.name);
    const reread = wanted.get(p)?.reread;
    if (!reread) return;
    const captures = reread.ranges.map((r) => new RangeCapture(r.offset, r.offset + r.length));
    let at = 0;
    for await (const chunk of body) { for (const c of captures) c.feed(chunk as Buffer, at); at += (chunk as Buffer).length; }
    captured.set(p, captures.map((c) => c.bytes()));
  });
  for (const [p, finding] of wanted) {
    const parts = captured.get(p);
    if (parts && finding.reread) finding.packages = [...(finding.packages ?? []), ...finding.reread.parse(parts)];
    delete finding.reread;
  }
}
