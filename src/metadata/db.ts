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
  ecr_repository_settings: EcrRepositorySettingsTable;
  ecr_repository_policies: EcrRepositoryPoliciesTable;
  ecr_repository_tags: EcrRepositoryTagsTable;
  ecr_registry_policy: EcrRegistryPolicyTable;
  ecr_account_settings: EcrAccountSettingsTable;
  ecr_creation_templates: EcrCreationTemplatesTable;
  iam_users: IamUsersTable;
  iam_access_keys: IamAccessKeysTable;
  iam_user_policies: IamUserPoliciesTable;
  encryption_scopes: EncryptionScopesTable;
  encrypted_objects: EncryptedObjectsTable;
  encrypted_uploads: EncryptedUploadsTable;
  jobs: JobsTable;
  lifecycle_policies: LifecyclePoliciesTable;
  lifecycle_previews: LifecyclePreviewsTable;
  lifecycle_preview_results: LifecyclePreviewResultsTable;
  lifecycle_events: LifecycleEventsTable;
  gc_blob_reviews: GcBlobReviewsTable;
  gc_link_reviews: GcRepositoryReviewsTable;
  gc_manifest_reviews: GcRepositoryReviewsTable;
  gc_deletions: GcDeletionsTable;
}

/** A numeric column as written (number) and as read (number on SQLite, possibly string on PostgreSQL). */
type Int = number;

/** Key scopes (migration 0009). */
export interface EncryptionScopesTable {
  id: string;
  key_id: string;
  provider: string;
  wrapped_key: Buffer;
  owned: number;
  created_at: Int;
  rotated_at: Int | null;
}

/** Encrypted blobs per scope (migration 0009); `parts` is JSON. */
export interface EncryptedObjectsTable {
  scope_id: string;
  digest: string;
  size: Int;
  parts: string;
  mac: Buffer;
  created_at: Int;
}

/** Encrypted upload sessions (migration 0009). */
export interface EncryptedUploadsTable {
  id: string;
  scope_id: string;
  size: Int;
  parts: string;
  updated_at: Int;
}

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
  /** ECR imageSizeInBytes, set at push (migration 0004). */
  image_size: Int | null;
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
  /** Parts appended so far and their sizes (migration 0004; ECR's minimum part size rule). */
  part_count: Generated<number>;
  last_part_size: Int | null;
  /** Smallest part before the most recent one, or null while there is at most one part. */
  smallest_earlier_part: Int | null;
}

/** Per-repository ECR settings (migration 0002); `tag_mutability_filters` is a JSON array. */
export interface EcrRepositorySettingsTable {
  repository_id: number;
  image_tag_mutability: string;
  tag_mutability_filters: string;
  /** 0 or 1. */
  scan_on_push: number;
  encryption_type: string;
  kms_key: string | null;
  updated_at: Int;
}

export interface EcrRepositoryPoliciesTable {
  repository_id: number;
  policy_text: string;
  updated_at: Int;
}

export interface EcrRepositoryTagsTable {
  repository_id: number;
  tag_key: string;
  tag_value: string;
}

/** At most one row (id = 1). */
export interface EcrRegistryPolicyTable {
  id: number;
  policy_text: string;
  updated_at: Int;
}

export interface EcrAccountSettingsTable {
  name: string;
  value: string;
  updated_at: Int;
}

/** Repository creation templates; `resource_tags`, `tag_mutability_filters`, `applied_for` are JSON arrays. */
export interface EcrCreationTemplatesTable {
  prefix: string;
  description: string | null;
  encryption_type: string;
  kms_key: string | null;
  resource_tags: string;
  image_tag_mutability: string;
  tag_mutability_filters: string;
  repository_policy: string | null;
  lifecycle_policy: string | null;
  applied_for: string;
  custom_role_arn: string | null;
  created_at: Int;
  updated_at: Int;
}

/** IAM-style users (migration 0003). */
export interface IamUsersTable {
  name: string;
  user_id: string;
  arn: string;
  created_at: Int;
}

export interface IamAccessKeysTable {
  access_key_id: string;
  user_name: string;
  /** Encrypted by the identity layer (AES-256-GCM); the store never sees the secret in clear. */
  secret_ciphertext: string;
  status: string;
  created_at: Int;
  last_used_at: Int | null;
}

export interface IamUserPoliciesTable {
  user_name: string;
  policy_name: string;
  document: string;
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

export interface JobsTable {
  id: Generated<number>;
  kind: string;
  key: string;
  /** `kind \0 key` while pending or running, NULL when finished (unique: one live job per kind and key). */
  active_key: string | null;
  payload: string;
  state: string;
  run_at: Int;
  attempts: number;
  lease_owner: string | null;
  lease_until: Int | null;
  last_error: string | null;
  created_at: Int;
  updated_at: Int;
  finished_at: Int | null;
}

/** Lifecycle (migration 0006). */
export interface LifecyclePoliciesTable {
  repository_id: number;
  policy_text: string;
  updated_at: Int;
  last_evaluated_at: Int | null;
}

export interface LifecyclePreviewsTable {
  repository_id: number;
  policy_text: string;
  status: string;
  expiring_count: number;
  error: string | null;
  started_at: Int;
  finished_at: Int | null;
}

export interface LifecyclePreviewResultsTable {
  repository_id: number;
  image_digest: string;
  /** JSON array of tags. */
  image_tags: string;
  /** 1 when the image had tags. */
  tagged: number;
  pushed_at: Int;
  rule_priority: number;
  reason: string;
}

export interface LifecycleEventsTable {
  id: Generated<number>;
  repository_name: string;
  image_digest: string;
  image_tags: string;
  rule_priority: number;
  reason: string;
  at: Int;
}

/** GC review queue of global blobs (migration 0007); `review_after` null = not scheduled yet. */
export interface GcBlobReviewsTable {
  digest: string;
  review_after: Int | null;
  event: string;
  review_count: Generated<number>;
}

/** GC review queues keyed by repository: links (`gc_link_reviews`) and manifests (`gc_manifest_reviews`). */
export interface GcRepositoryReviewsTable {
  repository_id: number;
  digest: string;
  review_after: Int | null;
  event: string;
  review_count: Generated<number>;
}

/** What GC removed and why (migration 0007). */
export interface GcDeletionsTable {
  id: Generated<number>;
  at: Int;
  kind: string;
  repository: string | null;
  digest: string;
  size: Int | null;
  reason: string;
}
