import type { Selectable } from 'kysely';
import type { BlobsTable, ManifestsTable, MetadataDb, RepositoriesTable } from '../db.ts';
import type { BlobRecord, ManifestRecord, RepositoryRecord } from '../types.ts';

/** Row → record mappers shared by the portable stores and the SQLite fast paths. */

export const manifestColumns = [
  'repository_id',
  'digest',
  'media_type',
  'artifact_type',
  'subject_digest',
  'annotations',
  'size',
  'body',
  'pushed_at',
  'last_pulled_at',
] as const;

export function toRepository(r: Pick<Selectable<RepositoriesTable>, 'id' | 'name' | 'created_at'>): RepositoryRecord {
  return { id: Number(r.id), name: r.name, createdAt: new Date(Number(r.created_at)) };
}

export function toBlob(r: Selectable<BlobsTable>): BlobRecord {
  return { digest: r.digest, size: Number(r.size), mediaType: r.media_type, createdAt: new Date(Number(r.created_at)) };
}

export function toManifest(r: Pick<Selectable<ManifestsTable>, (typeof manifestColumns)[number]>): ManifestRecord {
  return {
    repositoryId: Number(r.repository_id),
    digest: r.digest,
    mediaType: r.media_type,
    artifactType: r.artifact_type,
    subjectDigest: r.subject_digest,
    annotations: r.annotations,
    size: Number(r.size),
    body: r.body,
    pushedAt: new Date(Number(r.pushed_at)),
    lastPulledAt: r.last_pulled_at === null ? null : new Date(Number(r.last_pulled_at)),
  };
}

/** Distinct values in first-seen order. */
export function distinct<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

/** Splits `values` into slices of at most `size` (keeps IN-lists and multi-row inserts under parameter limits). */
export function chunks<T>(values: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}

/** Largest IN-list per statement; far below SQLite's 32766 and PostgreSQL's 65535 bind parameters. */
export const IN_LIST_CHUNK = 500;

/**
 * Of `digests`, those with no row in `table` for the repository (order kept, duplicates removed), asked in
 * IN-lists of bounded size.
 */
export async function missingDigests(db: MetadataDb, table: 'repository_blobs' | 'manifests', repositoryId: number, digests: readonly string[]): Promise<string[]> {
  const wanted = distinct(digests);
  const found = new Set<string>();
  for (const part of chunks(wanted, IN_LIST_CHUNK)) {
    const rows = await db.selectFrom(table).select('digest').where('repository_id', '=', repositoryId).where('digest', 'in', part).execute();
    for (const r of rows) found.add(r.digest);
  }
  return wanted.filter((d) => !found.has(d));
}
