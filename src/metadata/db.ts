import { PostgresAdapter, type Generated, type Kysely } from 'kysely';

/**
 * Kysely table types for the metadata schema (see migrations/). Times are integer epoch milliseconds.
 * Integer columns that may exceed 2^31 (sizes, times) are BIGINT on PostgreSQL, which node-postgres returns
 * as strings unless told otherwise; the stores therefore read every numeric column through `Number()`.
 */
export interface Database {
  migrations: MigrationsTable;
  repositories: RepositoriesTable;
  blobs: BlobsTable;
  repository_blobs: RepositoryBlobsTable;
  manifests: ManifestsTable;
  manifest_references: ManifestReferencesTable;
  tags: TagsTable;
  uploads: UploadsTable;
}

/** A numeric column as written (number) and as read (number on SQLite, possibly string on PostgreSQL). */
type Int = number;

export interface MigrationsTable {
  version: number;
  name: string;
  applied_at: Int;
}

export interface RepositoriesTable {
  id: Generated<number>;
  name: string;
  created_at: Int;
}

export interface BlobsTable {
  digest: string;
  size: Int;
  media_type: string | null;
  created_at: Int;
}

export interface RepositoryBlobsTable {
  repository_id: number;
  digest: string;
  created_at: Int;
}

export interface ManifestsTable {
  repository_id: number;
  digest: string;
  media_type: string;
  artifact_type: string | null;
  subject_digest: string | null;
  annotations: string | null;
  size: Int;
  body: Buffer;
  pushed_at: Int;
  last_pulled_at: Int | null;
}

export interface ManifestReferencesTable {
  repository_id: number;
  manifest_digest: string;
  /** Position of the descriptor in the manifest (a manifest may list the same blob twice). */
  position: number;
  child_digest: string;
  kind: 'blob' | 'manifest';
  size: Int;
  media_type: string;
}

export interface TagsTable {
  repository_id: number;
  name: string;
  manifest_digest: string;
  updated_at: Int;
}

export interface UploadsTable {
  id: string;
  repository_id: number;
  created_at: Int;
  updated_at: Int;
}

/** The SQL dialects the metadata layer supports. */
export type SqlDialectName = 'sqlite' | 'postgres';

/** A Kysely handle over the metadata schema: the root database or a transaction. */
export type MetadataDb = Kysely<Database>;

/** Which dialect a Kysely instance speaks (by its adapter); anything not PostgreSQL is treated as SQLite. */
export function dialectOf(db: Kysely<any>): SqlDialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}
