/**
 * Package inventory of a container image: what is installed, read from the image's layers as streams
 * (gzip, zstd or plain tar), with whiteouts and opaque directories applied in layer order, never unpacking
 * the filesystem. See docs/scanning.md ("Inventory") for the files each ecosystem is read from.
 */
import type { Readable } from 'node:stream';
import type { Inventory, InstalledPackage, OsRelease } from '../types.ts';
import type { FileAnalyzer, FoundPackage } from './analyzer.ts';
import { apkAnalyzer } from './analyzers/apk.ts';
import { binaryAnalyzer } from './analyzers/binary.ts';
import { cargoLockAnalyzer } from './analyzers/cargo.ts';
import { dpkgAnalyzer } from './analyzers/dpkg.ts';
import { javaAnalyzer } from './analyzers/java.ts';
import { npmAnalyzer } from './analyzers/npm.ts';
import { OS_RELEASE_PATHS, osReleaseAnalyzer } from './analyzers/os-release.ts';
import { pythonAnalyzer } from './analyzers/python.ts';
import { rpmAnalyzer } from './analyzers/rpm.ts';
import { rubyAnalyzer } from './analyzers/ruby.ts';
import { purlFor } from './purl.ts';
import { walkLayers, type LayerSource, type MergedFiles } from './walk.ts';

export { InventoryError, isTarLayerMediaType } from './layer-stream.ts';
export type { LayerSource } from './walk.ts';

/** Every analyzer, in the order a file is offered to them (the streaming executable scan last). */
export const DEFAULT_ANALYZERS: readonly FileAnalyzer[] = [
  osReleaseAnalyzer, dpkgAnalyzer, apkAnalyzer, rpmAnalyzer, npmAnalyzer, pythonAnalyzer, javaAnalyzer, rubyAnalyzer, cargoLockAnalyzer, binaryAnalyzer,
];

/** Default per-file limit for files read into memory (package databases, metadata files, archives). */
export const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;

/** A file the inventory could not read (too large, malformed); the rest of the image is still inventoried. */
export interface InventoryWarning {
  /** Index of the layer (0 = base). */
  layer: number;
  path: string;
  message: string;
}

export interface ReadInventoryOptions {
  /** Largest file read into memory (default 64 MiB); larger ones are skipped with a warning, Java archives streamed. Executables of any size are streamed. */
  maxFileBytes?: number;
  /** Called for each file skipped or unreadable. */
  onWarning?(warning: InventoryWarning): void;
  /** Aborts between tar entries (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Analyzers to run; defaults to all (`DEFAULT_ANALYZERS`). */
  analyzers?: readonly FileAnalyzer[];
}

/**
 * Reads the package inventory of one image (one platform).
 *
 * Contract:
 * - `layers` are the image's layers in manifest order (base first). Each `open()` returns the stored blob
 *   as it is in the registry (gzip, zstd or uncompressed tar; detected from the bytes); it is called once per
 *   layer, and once more for a layer holding a cargo-auditable binary.
 * - Memory stays bounded: files are never written to disk; only files an analyzer wants are held in memory,
 *   one at a time and at most `maxFileBytes` each; executables, and Java archives above that size, are
 *   scanned as streams. A zstd layer is decoded with one window of memory (at most 128 MiB).
 * - Whiteouts and opaque directories of each layer hide what lower layers put there; a later entry at a path
 *   replaces an earlier one (a file replaced by a non-matching file reports nothing).
 * - `os` comes from /etc/os-release (symlinks followed), else /usr/lib/os-release; absent for images
 *   without one (distroless static, scratch).
 * - Packages are sorted by path, then name and version; each has its purl. Distro packages: dpkg stanzas
 *   whose state is `installed` (or with no Status, as in status.d), with `sourceName`/`sourceVersion` always
 *   set (the binary's own when no `Source:`); apk with `sourceName` = origin; rpm with `sourceName` from the
 *   source RPM and `version` = `[epoch:]version-release`. Language packages: npm (installed package.json;
 *   package-lock.json entries not installed in the image), PyPI (names normalised per PEP 503), Go (module
 *   versions as recorded, with `v`; `stdlib` at the Go version as `v1.21.0`), Maven (`group:artifact`),
 *   gems, crates.
 * - Language packages declared by a file an OS package installed (dpkg `info/*.list`, apk `R:`, rpm file
 *   lists) are not reported: the distribution's advisories cover them (as Trivy and Grype do).
 * - Rejects with `InventoryError` (`reason: 'unsupported'`) for a layer that is not a tar layer or a zstd
 *   layer whose window exceeds 128 MiB, and
 *   (`'corrupt'`) for bytes that do not decompress or are not a tar; errors of `open()` pass through.
 *   A malformed package file is a warning, not an error.
 */
export async function readInventory(layers: readonly LayerSource[], options: ReadInventoryOptions = {}): Promise<Inventory> {
  const merged = await walkLayers(layers, {
    analyzers: options.analyzers ?? DEFAULT_ANALYZERS,
    maxFileBytes: options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    followSymlinks: new Set(OS_RELEASE_PATHS),
    warn: (layer, path, message) => options.onWarning?.({ layer, path, message }),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return assemble(merged);
}

/** A stored image manifest's layers, as the registry keeps them. */
export interface ImageLayers {
  layers: readonly { mediaType: string; digest: string }[];
}

/** The part of a BlobStore the inventory needs. */
export interface BlobOpener {
  open(digest: string): Promise<Readable>;
}

/**
 * The inventory of an image manifest whose layer blobs are in `blobs` (the registry's BlobStore). Same
 * contract as `readInventory`; a missing blob rejects with the store's BLOB_UNKNOWN error.
 */
export function readImageInventory(blobs: BlobOpener, manifest: ImageLayers, options: ReadInventoryOptions = {}): Promise<Inventory> {
  return readInventory(manifest.layers.map((l) => ({ mediaType: l.mediaType, open: () => blobs.open(l.digest) })), options);
}

const OS_ECOSYSTEMS = new Set(['deb', 'apk', 'rpm']);

function resolveOs(merged: MergedFiles): OsRelease | undefined {
  for (const start of OS_RELEASE_PATHS) {
    let path: string = start;
    for (let hops = 0; hops < 8; hops++) {
      const slot = merged.slots.get(path);
      if (!slot) break;
      if (slot.finding?.os) return slot.finding.os;
      if (!slot.symlink) break;
      path = slot.symlink;
    }
  }
  return undefined;
}

function assemble(merged: MergedFiles): Inventory {
  const os = resolveOs(merged);
  const found: FoundPackage[] = [];
  const paths = [...merged.slots.keys()].sort();
  for (const p of paths) found.push(...(merged.slots.get(p)?.finding?.packages ?? []));
  const owned = new Set<string>();
  for (const slot of merged.slots.values()) for (const f of slot.finding?.ownedFiles ?? []) owned.add(f);
  const packages: InstalledPackage[] = [];
  for (const pkg of found) {
    if (pkg.installedAt && merged.slots.get(pkg.installedAt)?.finding?.packages?.length) continue; // installed copy reported
    if (!OS_ECOSYSTEMS.has(pkg.ecosystem) && owned.has(pkg.path.split('!/')[0])) continue; // the distro's package
    const { installedAt: _installedAt, ...rest } = pkg;
    packages.push({ ...rest, purl: purlFor(pkg, os) });
  }
  packages.sort((a, b) => cmp(a.path, b.path) || cmp(a.name, b.name) || cmp(a.version, b.version));
  return os ? { os, packages } : { packages };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
