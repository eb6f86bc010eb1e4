import assert from 'node:assert/strict';
import { sha256Digest, type Digest } from '../../core/digest.ts';
import { isRegistryError, type ErrorKind } from '../../core/errors.ts';
import type { ManifestReference, MetadataStore, NewManifest } from '../types.ts';

/** Shared helpers for the metadata contract suite (interface-only, so every dialect runs it). */

/** The store under test for the current case (set by the suite's beforeEach). */
export type StoreRef = () => MetadataStore;

/** A deterministic digest per label. */
export function dg(label: string | number): Digest {
  return sha256Digest(`cargohold-contract:${label}`);
}

const BASE = Date.parse('2026-01-01T00:00:00.000Z');

/** A fixed instant `n` seconds (plus `ms`) after the test epoch. */
export function at(n: number, ms = 0): Date {
  return new Date(BASE + n * 1000 + ms);
}

/** A manifest record with sensible defaults; the body is unique per digest label. */
export function manifest(repositoryId: number, label: string, extra: Partial<NewManifest> = {}): NewManifest {
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, label }));
  return {
    repositoryId,
    digest: dg(`manifest:${label}`),
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: null,
    subjectDigest: null,
    annotations: null,
    size: body.length,
    body,
    pushedAt: at(1),
    ...extra,
  };
}

/** Stores blobs for `layers`, links them, and stores a manifest referencing them. Returns its digest. */
export async function pushImage(s: MetadataStore, repositoryId: number, label: string, layers: string[] = [], extra: Partial<NewManifest> = {}): Promise<Digest> {
  const refs: ManifestReference[] = [];
  for (const l of layers) {
    const digest = dg(`blob:${l}`);
    await s.blobs.put(digest, 100 + l.length, 'application/vnd.oci.image.layer.v1.tar+gzip', at(0));
    await s.blobs.link(repositoryId, digest, at(0));
    refs.push({ digest, kind: 'blob', size: 100 + l.length, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' });
  }
  const m = manifest(repositoryId, label, extra);
  await s.manifests.put(m, refs);
  return m.digest;
}

/** Asserts that `p` rejects with a RegistryError of `kind`. */
export async function rejectsWithKind(p: Promise<unknown>, kind: ErrorKind): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isRegistryError(e), `expected a RegistryError, got ${String(e)}`);
    assert.equal(e.kind, kind);
    return true;
  });
}

/** Reads a whole listing through a pager, checking each page respects the limit. */
export async function pageAll(page: (last: string | undefined, limit: number) => Promise<string[]>, limit: number): Promise<string[]> {
  const out: string[] = [];
  let last: string | undefined;
  for (;;) {
    const names = await page(last, limit);
    assert.ok(names.length <= limit, `page of ${names.length} exceeds limit ${limit}`);
    out.push(...names);
    if (names.length < limit) return out;
    last = names[names.length - 1];
  }
}

/** Byte-order sort (all contract names are ASCII, where UTF-16 and byte order agree). */
export function byteSorted(names: readonly string[]): string[] {
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
