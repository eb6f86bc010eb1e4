import type BetterSqlite3 from 'better-sqlite3';
import type { HotReads } from '../kysely-metadata.ts';
import type { BlobRecord, ManifestRecord, RepositoryRecord } from '../types.ts';

const MANIFEST_COLUMNS = 'm.repository_id, m.digest, m.media_type, m.artifact_type, m.subject_digest, m.annotations, m.size, m.body, m.pushed_at, m.last_pulled_at';

/**
 * The per-request reads as better-sqlite3 prepared statements in raw (array) mode: no query compilation,
 * no promise chain through the driver, no row objects. Same SQL and results as the portable stores; the
 * contract suite runs through these paths.
 */
export function createSqliteHotReads(conn: BetterSqlite3.Database, available: () => boolean): HotReads {
  const repository = conn.prepare('select id, name, created_at from repositories where name = ?').raw();
  const manifest = conn.prepare(`select ${MANIFEST_COLUMNS} from manifests m where m.repository_id = ? and m.digest = ?`).raw();
  const manifestByTag = conn
    .prepare(
      `select ${MANIFEST_COLUMNS} from tags t join manifests m on m.repository_id = t.repository_id and m.digest = t.manifest_digest ` +
        'where t.repository_id = ? and t.name = ?',
    )
    .raw();
  const linkedBlob = conn
    .prepare(
      'select b.digest, b.size, b.media_type, b.created_at from repository_blobs rb join blobs b on b.digest = rb.digest ' +
        'where rb.repository_id = ? and rb.digest = ?',
    )
    .raw();

  return {
    available,
    repository(name) {
      const r = repository.get(name) as unknown[] | undefined;
      return r && toRepository(r);
    },
    manifest(repositoryId, digest) {
      const r = manifest.get(repositoryId, digest) as unknown[] | undefined;
      return r && toManifest(r);
    },
    manifestByTag(repositoryId, tag) {
      const r = manifestByTag.get(repositoryId, tag) as unknown[] | undefined;
      return r && toManifest(r);
    },
    linkedBlob(repositoryId, digest) {
      const r = linkedBlob.get(repositoryId, digest) as unknown[] | undefined;
      return r && toBlob(r);
    },
  };
}

function toRepository(r: unknown[]): RepositoryRecord {
  return { id: r[0] as number, name: r[1] as string, createdAt: new Date(r[2] as number) };
}

function toManifest(r: unknown[]): ManifestRecord {
  return {
    repositoryId: r[0] as number,
    digest: r[1] as string,
    mediaType: r[2] as string,
    artifactType: r[3] as string | null,
    subjectDigest: r[4] as string | null,
    annotations: r[5] as string | null,
    size: r[6] as number,
    body: r[7] as Buffer,
    pushedAt: new Date(r[8] as number),
    lastPulledAt: r[9] === null ? null : new Date(r[9] as number),
  };
}

function toBlob(r: unknown[]): BlobRecord {
  return { digest: r[0] as string, size: r[1] as number, mediaType: r[2] as string | null, createdAt: new Date(r[3] as number) };
}
