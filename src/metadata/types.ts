import type { Digest } from '../core/digest.ts';
import type { GcStore } from '../gc/types.ts';
import type { JobStore } from '../jobs/types.ts';
import type { ScanStore } from '../scan/store.ts';

/**
 * Metadata store contracts. Implementations: SQLite (embedded) and, later, PostgreSQL. Every implementation
 * passes `metadata/metadata.contract.ts`. All names are validated by callers; stores trust them.
 * Lexical order means byte order (SQLite BINARY, PostgreSQL COLLATE "C").
 */

export interface RepositoryRecord {
  id: number;
  name: string;
  createdAt: Date;
}

export interface BlobRecord {
  digest: Digest;
  size: number;
  /** Media type recorded when known (from a manifest descriptor); informational. */
  mediaType: string | null;
  createdAt: Date;
}

/** A descriptor that a manifest points at: a blob (config/layer) or a child manifest (index entry). */
export interface ManifestReference {
  digest: Digest;
  kind: 'blob' | 'manifest';
  size: number;
  mediaType: string;
}

export interface ManifestRecord {
  repositoryId: number;
  digest: Digest;
  mediaType: string;
  /** artifactType, else config.mediaType for non-image artifacts (referrers API rule); null for images/indexes without one. */
  artifactType: string | null;
  subjectDigest: Digest | null;
  /** JSON text of the manifest's annotations, or null. */
  annotations: string | null;
  size: number;
  /** The exact bytes received. */
  body: Buffer;
  pushedAt: Date;
  lastPulledAt: Date | null;
}

export type NewManifest = Omit<ManifestRecord, 'lastPulledAt'> & {
  /** ECR imageSizeInBytes (blob sizes an image lists; the largest child for an index). */
  imageSize?: number | null;
};

export interface ReferrerRecord {
  digest: Digest;
  mediaType: string;
  artifactType: string | null;
  size: number;
  annotations: string | null;
}

export interface UploadRecord {
  id: string;
  repositoryId: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface PageRequest {
  /** Return names strictly greater than this one (lexically). */
  last?: string;
  /** At most this many. */
  limit: number;
}

export interface RepositoryStore {
  /** Creates a repository; throws RegistryError REPOSITORY_EXISTS when it exists. */
  create(name: string, at: Date): Promise<RepositoryRecord>;
  /** Returns the repository, creating it when missing (race-safe). */
  getOrCreate(name: string, at: Date): Promise<RepositoryRecord>;
  get(name: string): Promise<RepositoryRecord | undefined>;
  getById(id: number): Promise<RepositoryRecord | undefined>;
  /** Names in lexical order, after `last`. */
  list(page: PageRequest): Promise<string[]>;
  /** Deletes the repository and all its rows (links, manifests, tags, uploads). Returns false when absent. */
  delete(id: number): Promise<boolean>;
  count(): Promise<number>;
}

export interface BlobMetadataStore {
  /** Records a stored blob (idempotent; keeps the first createdAt). */
  put(digest: Digest, size: number, mediaType: string | null, at: Date): Promise<void>;
  get(digest: Digest): Promise<BlobRecord | undefined>;
  /** Gives a repository access to a blob (idempotent). The blob row must exist. */
  link(repositoryId: number, digest: Digest, at: Date): Promise<void>;
  /** The blob if and only if the repository links it. */
  getLinked(repositoryId: number, digest: Digest): Promise<BlobRecord | undefined>;
  /** Removes a repository's link; returns false when there was none. */
  unlink(repositoryId: number, digest: Digest): Promise<boolean>;
  /** Of `digests`, those the repository does NOT link (order preserved, duplicates removed). */
  missingLinks(repositoryId: number, digests: Digest[]): Promise<Digest[]>;
  /** Deletes the global blob row (and any links). */
  delete(digest: Digest): Promise<boolean>;
}

export interface ManifestStore {
  /**
   * Stores a manifest and its references if the repository does not have it yet (idempotent by digest).
   * Returns created=false when it already existed (the existing row is kept).
   */
  put(manifest: NewManifest, references: ManifestReference[]): Promise<{ created: boolean }>;
  get(repositoryId: number, digest: Digest): Promise<ManifestRecord | undefined>;
  /** The manifest a tag points at, with the tag resolved in the same query. */
  getByTag(repositoryId: number, tag: string): Promise<ManifestRecord | undefined>;
  /** Of `digests`, those manifests the repository does NOT have. */
  missing(repositoryId: number, digests: Digest[]): Promise<Digest[]>;
  references(repositoryId: number, digest: Digest): Promise<ManifestReference[]>;
  /** Deletes the manifest, its references and every tag that points at it. Returns the removed tags, or undefined when absent. */
  delete(repositoryId: number, digest: Digest): Promise<{ tags: string[] } | undefined>;
  /** Manifests in the repository whose subject is `subject`, optionally of one artifactType, ordered by digest. */
  referrers(repositoryId: number, subject: Digest, artifactType?: string): Promise<ReferrerRecord[]>;
  /** Records a pull time (best effort; implementations may coalesce). */
  touchPulled(repositoryId: number, digest: Digest, at: Date): Promise<void>;
  /** Digests of all manifests in the repository (order by digest), paged. */
  list(repositoryId: number, page: PageRequest): Promise<Digest[]>;
}

export interface TagStore {
  /** Points a tag at a manifest (which must exist); returns the digest it pointed at before, if any. */
  set(repositoryId: number, tag: string, digest: Digest, at: Date): Promise<{ previous: Digest | null }>;
  get(repositoryId: number, tag: string): Promise<Digest | undefined>;
  /** Tag names in lexical order, after `last`. */
  list(repositoryId: number, page: PageRequest): Promise<string[]>;
  /** Tags pointing at a digest, lexical order. */
  forDigest(repositoryId: number, digest: Digest): Promise<string[]>;
  delete(repositoryId: number, tag: string): Promise<boolean>;
  count(repositoryId: number): Promise<number>;
}

export interface UploadStore {
  create(record: UploadRecord): Promise<void>;
  get(id: string): Promise<UploadRecord | undefined>;
  touch(id: string, at: Date): Promise<void>;
  delete(id: string): Promise<boolean>;
  /** Sessions not updated since `before` (for expiry of abandoned uploads). */
  listStale(before: Date, limit: number): Promise<UploadRecord[]>;
  /** Records that a part of `size` bytes was appended (also touches the session). */
  recordPart(id: string, size: number, at: Date): Promise<void>;
  /** Part sizes so far: count, the last part's size, the smallest part before the last; undefined when unknown. */
  parts(id: string): Promise<UploadParts | undefined>;
}

export interface UploadParts {
  count: number;
  lastSize: number | null;
  /** Smallest part before the most recent one (null with fewer than two parts). */
  smallestEarlier: number | null;
}

/** An image as the ECR listings show it (a manifest row without its body). */
export interface ImageSummary {
  digest: Digest;
  mediaType: string;
  artifactType: string | null;
  subjectDigest: Digest | null;
  /** Manifest size in bytes. */
  size: number;
  /** ECR imageSizeInBytes, null when unknown. */
  imageSize: number | null;
  pushedAt: Date;
  lastPulledAt: Date | null;
}

export type TagStatusFilter = 'TAGGED' | 'UNTAGGED' | 'ANY';

/** Position in the (pushedAt, digest) order of a repository's images. */
export interface ImageCursor {
  pushedAt: number;
  digest: string;
}

/** One (digest, tag) pair of ListImages; `tag` null for an untagged image. */
export interface ImageIdRow {
  digest: Digest;
  tag: string | null;
  pushedAt: Date;
}

/**
 * Image-level reads for the ECR listings and the image rules (deletes, layer access). Order is
 * (pushed_at, digest) — stable under pushes, keyset-paged.
 */
export interface ImageStore {
  /** Images after `after` in (pushedAt, digest) order, filtered by tag status. */
  list(repositoryId: number, page: { after?: ImageCursor; limit: number; tagStatus: TagStatusFilter }): Promise<ImageSummary[]>;
  /** The images with these digests (those that exist), in (pushedAt, digest) order. */
  get(repositoryId: number, digests: Digest[]): Promise<ImageSummary[]>;
  /** Tags of each digest (lexical order); digests without tags are absent. */
  tags(repositoryId: number, digests: Digest[]): Promise<Map<Digest, string[]>>;
  /** (digest, tag) pairs after `after` in (pushedAt, digest, tag) order; an untagged image is one row with tag null. */
  listIds(repositoryId: number, page: { after?: ImageCursor & { tag: string | null }; limit: number; tagStatus: TagStatusFilter }): Promise<ImageIdRow[]>;
  /** Digests of the manifests in the repository that list `digest` as a child manifest. */
  parents(repositoryId: number, digest: Digest): Promise<Digest[]>;
  /** A descriptor media type under which some manifest of the repository references the blob; undefined when none does. */
  blobReference(repositoryId: number, digest: Digest): Promise<{ mediaType: string } | undefined>;
  /** imageSize of these manifests (those that exist and have one). */
  imageSizes(repositoryId: number, digests: Digest[]): Promise<Map<Digest, number>>;
}

/** ECR tag mutability modes (§10 of the ECR reference). */
export type ImageTagMutability = 'MUTABLE' | 'IMMUTABLE' | 'MUTABLE_WITH_EXCLUSION' | 'IMMUTABLE_WITH_EXCLUSION';

/** ECR repository encryption types. */
export type EncryptionType = 'AES256' | 'KMS' | 'KMS_DSSE';

/** One tag mutability exclusion filter: `*` matches any run of characters, the whole tag must match. */
export interface TagMutabilityFilter {
  filterType: 'WILDCARD';
  filter: string;
}

/** A repository's ECR settings. Repositories without a stored row have the ECR defaults (see `EcrStore.getSettings`). */
export interface RepositorySettings {
  imageTagMutability: ImageTagMutability;
  /** Empty unless the mode is one of the `*_WITH_EXCLUSION` ones. */
  imageTagMutabilityExclusionFilters: TagMutabilityFilter[];
  scanOnPush: boolean;
  encryptionType: EncryptionType;
  /** Only for KMS / KMS_DSSE. */
  kmsKey: string | null;
}

/** A repository resource tag (ECR's `Tag {Key, Value}`). */
export interface ResourceTag {
  key: string;
  value: string;
}

/** What a repository creation template applies to. */
export type TemplateAppliedFor = 'REPLICATION' | 'PULL_THROUGH_CACHE' | 'CREATE_ON_PUSH';

/** A repository creation template; `prefix` is unique (`ROOT` is the template for every name). */
export interface CreationTemplateRecord {
  prefix: string;
  description: string | null;
  encryptionType: EncryptionType;
  kmsKey: string | null;
  resourceTags: ResourceTag[];
  imageTagMutability: ImageTagMutability;
  imageTagMutabilityExclusionFilters: TagMutabilityFilter[];
  repositoryPolicy: string | null;
  lifecyclePolicy: string | null;
  appliedFor: TemplateAppliedFor[];
  customRoleArn: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * ECR administration state. Per-repository rows (settings, policy, tags) are deleted with their repository.
 * Callers validate every value (names, enums, lengths, policy grammar); the store trusts them.
 */
export interface EcrStore {
  /** The repository's stored settings, or undefined when none were stored (the caller applies ECR's defaults). */
  getSettings(repositoryId: number): Promise<RepositorySettings | undefined>;
  /** Stores (replaces) the repository's settings. The repository must exist. */
  putSettings(repositoryId: number, settings: RepositorySettings, at: Date): Promise<void>;

  /** The repository policy text exactly as set, or undefined when there is none. */
  getRepositoryPolicy(repositoryId: number): Promise<string | undefined>;
  /** Sets (replaces) the repository policy. The repository must exist. */
  setRepositoryPolicy(repositoryId: number, policyText: string, at: Date): Promise<void>;
  /** Removes the repository policy; returns the text it had, or undefined when there was none. */
  deleteRepositoryPolicy(repositoryId: number): Promise<string | undefined>;

  /** The repository's resource tags, ordered by key (byte order). Empty when none. */
  getTags(repositoryId: number): Promise<ResourceTag[]>;
  /**
   * Merges `tags` into the repository's tags (a key already present takes the new value; keys not mentioned
   * stay). Atomic: when the merged set would hold more than `maxTags` tags nothing changes and `applied` is
   * false. `count` is the number of tags the repository has afterwards (or would have had).
   */
  putTags(repositoryId: number, tags: ResourceTag[], maxTags: number): Promise<{ applied: boolean; count: number }>;
  /** Removes the tags with these keys (absent keys are ignored); returns how many were removed. */
  removeTags(repositoryId: number, keys: string[]): Promise<number>;

  /** The registry policy text exactly as set, or undefined when there is none. */
  getRegistryPolicy(): Promise<string | undefined>;
  /** Sets (replaces) the registry policy. */
  setRegistryPolicy(policyText: string, at: Date): Promise<void>;
  /** Removes the registry policy; returns the text it had, or undefined when there was none. */
  deleteRegistryPolicy(): Promise<string | undefined>;

  /** An account setting's stored value, or undefined when never set (the caller applies the default). */
  getAccountSetting(name: string): Promise<string | undefined>;
  /** Sets (replaces) an account setting. */
  putAccountSetting(name: string, value: string, at: Date): Promise<void>;

  /** Creates a template; returns false (and changes nothing) when one with the same prefix exists. */
  createTemplate(template: CreationTemplateRecord): Promise<boolean>;
  getTemplate(prefix: string): Promise<CreationTemplateRecord | undefined>;
  /** Replaces every field of an existing template except `prefix` and `createdAt`; false when absent. */
  updateTemplate(template: CreationTemplateRecord): Promise<boolean>;
  /** Deletes a template; returns what it was, or undefined when absent. */
  deleteTemplate(prefix: string): Promise<CreationTemplateRecord | undefined>;
  /** Templates ordered by prefix (byte order) after `last`, optionally only those whose prefix is in `prefixes`. */
  listTemplates(page: PageRequest & { prefixes?: string[] }): Promise<CreationTemplateRecord[]>;
}

import type { EncryptionStore } from './encryption-types.ts';

/** The metadata layer: one handle with typed stores; `transaction` gives the same shape bound to one transaction. */
export interface MetadataStore {
  readonly dialect: 'sqlite' | 'postgres';
  readonly repositories: RepositoryStore;
  readonly blobs: BlobMetadataStore;
  readonly manifests: ManifestStore;
  readonly tags: TagStore;
  readonly uploads: UploadStore;
  /** Image-level listings and rules for the ECR API (migration 0004). */
  readonly images: ImageStore;
  /** IAM-style identities: users, access keys, inline user policies (migration 0003). */
  readonly iam: IamStore;
  /** ECR administration: repository settings, policies and tags; registry policy; account settings; creation templates. */
  readonly ecr: EcrStore;
  /** Encryption at rest: key scopes, encrypted objects and uploads (migration 0009; contract in encryption-types.ts). */
  readonly encryption: EncryptionStore;
  /** Durable background jobs (migration 0005; contract in src/jobs/types.ts). */
  readonly jobs: JobStore;
  /** Online GC review queues, removal records and stored-bytes usage (migration 0007; contract in src/gc/types.ts). */
  readonly gc: GcStore;
  /** Lifecycle policies, previews and the expiry history (migration 0006). */
  readonly lifecycle: LifecycleStore;
  /** Vulnerability advisories, inventories, scan results and scanning configuration (migration 0008; contract in src/scan/store.ts). */
  readonly scan: ScanStore;
  /** Runs `fn` in one transaction; rolls back when it throws. Nested calls join the outer transaction. */
  transaction<T>(fn: (tx: MetadataStore) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface IamUserRecord {
  name: string;
  /** Stable unique id (`AIDA…`), like IAM's UserId. */
  userId: string;
  /** `arn:aws:iam::<account>:user/<name>` */
  arn: string;
  createdAt: Date;
}

export type AccessKeyStatus = 'Active' | 'Inactive';

export interface AccessKeyRecord {
  accessKeyId: string;
  userName: string;
  /** The secret as the identity layer encrypted it; stores never see it in clear. */
  secretCiphertext: string;
  status: AccessKeyStatus;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export interface UserPolicyRecord {
  userName: string;
  policyName: string;
  /** Policy JSON as given. */
  document: string;
  updatedAt: Date;
}

/** Users, access keys and inline user policies. Keys and policies are deleted with their user. */
export interface IamStore {
  /** Creates a user; throws RegistryError CONFLICT when the name or userId exists. */
  createUser(user: IamUserRecord): Promise<IamUserRecord>;
  getUser(name: string): Promise<IamUserRecord | undefined>;
  /** Users by name in lexical order, after `last`. */
  listUsers(page: PageRequest): Promise<IamUserRecord[]>;
  /** Deletes the user with its keys and policies; false when absent. */
  deleteUser(name: string): Promise<boolean>;
  countUsers(): Promise<number>;

  /** Adds a key to an existing user; throws NOT_FOUND when the user is absent, CONFLICT when the id exists. */
  createAccessKey(key: AccessKeyRecord): Promise<void>;
  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined>;
  /** A user's keys, oldest first. */
  listAccessKeys(userName: string): Promise<AccessKeyRecord[]>;
  /** false when the key is absent. */
  setAccessKeyStatus(accessKeyId: string, status: AccessKeyStatus): Promise<boolean>;
  /** Records a use (best effort; never moves backwards). */
  touchAccessKey(accessKeyId: string, at: Date): Promise<void>;
  deleteAccessKey(accessKeyId: string): Promise<boolean>;

  /** Creates or replaces an inline policy; throws NOT_FOUND when the user is absent. */
  putUserPolicy(policy: UserPolicyRecord): Promise<void>;
  getUserPolicy(userName: string, policyName: string): Promise<UserPolicyRecord | undefined>;
  /** A user's inline policies by name. */
  listUserPolicies(userName: string): Promise<UserPolicyRecord[]>;
  deleteUserPolicy(userName: string, policyName: string): Promise<boolean>;
}

/** A repository's lifecycle policy (text exactly as put). */
export interface LifecyclePolicyRecord {
  repositoryId: number;
  policyText: string;
  updatedAt: Date;
  /** When the policy was last evaluated by an expiry run (ECR lastEvaluatedAt); null until then. */
  lastEvaluatedAt: Date | null;
}

/** ECR LifecyclePolicyPreviewStatus. */
export type LifecyclePreviewStatus = 'IN_PROGRESS' | 'COMPLETE' | 'EXPIRED' | 'FAILED';

/** A repository's latest lifecycle preview. */
export interface LifecyclePreviewRecord {
  repositoryId: number;
  policyText: string;
  status: LifecyclePreviewStatus;
  expiringCount: number;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

/** One image a preview would expire. */
export interface LifecyclePreviewResult {
  digest: Digest;
  /** Lexical order; empty when untagged. */
  tags: string[];
  pushedAt: Date;
  rulePriority: number;
  reason: string;
}

/** One expiry in the history (append-only; `id` increases). */
export interface LifecycleEventRecord {
  id: number;
  repositoryName: string;
  digest: Digest;
  tags: string[];
  rulePriority: number;
  reason: string;
  at: Date;
}

/** What lifecycle evaluation reads about each manifest of a repository. */
export interface LifecycleImageRow {
  digest: Digest;
  mediaType: string;
  subjectDigest: Digest | null;
  pushedAt: Date;
  lastPulledAt: Date | null;
  /** Lexical order. */
  tags: string[];
  /** Child manifests it lists (indexes), in descriptor order. */
  children: Digest[];
}

/**
 * Lifecycle state (migration 0006). Policies and previews cascade with their repository; the event history
 * keeps the repository name and outlives it. Callers validate policy texts; the store trusts them.
 */
export interface LifecycleStore {
  getPolicy(repositoryId: number): Promise<LifecyclePolicyRecord | undefined>;
  /** Sets (replaces) the policy; lastEvaluatedAt is kept across replacements. The repository must exist. */
  putPolicy(repositoryId: number, policyText: string, at: Date): Promise<void>;
  /** Removes the policy; returns what it was, or undefined when there was none. */
  deletePolicy(repositoryId: number): Promise<LifecyclePolicyRecord | undefined>;
  /** Records an evaluation time (no-op when the policy was deleted meanwhile). */
  markEvaluated(repositoryId: number, at: Date): Promise<void>;
  /** Repositories that have a policy, ordered by repository id, after `afterId`. */
  listPolicies(page: { afterId?: number; limit: number }): Promise<Array<{ repositoryId: number; repositoryName: string }>>;

  getPreview(repositoryId: number): Promise<LifecyclePreviewRecord | undefined>;
  /**
   * Starts a preview (IN_PROGRESS, no results), replacing the previous one and its results, unless one is
   * IN_PROGRESS and was started after `staleBefore`: then nothing changes and the result is false.
   */
  startPreview(repositoryId: number, policyText: string, at: Date, staleBefore: Date): Promise<boolean>;
  /**
   * Stores the results and marks the preview COMPLETE, only if the preview started at `startedAt` is still
   * the current one and IN_PROGRESS (false otherwise: it was replaced).
   */
  completePreview(repositoryId: number, startedAt: Date, results: LifecyclePreviewResult[], at: Date): Promise<boolean>;
  /** Marks the current preview started at `startedAt` FAILED with a message (false when replaced). */
  failPreview(repositoryId: number, startedAt: Date, error: string, at: Date): Promise<boolean>;
  /** Results in (pushedAt, digest) order after `after`, filtered by tag status. */
  previewResults(repositoryId: number, page: { after?: ImageCursor; limit: number; tagStatus: TagStatusFilter }): Promise<LifecyclePreviewResult[]>;
  /** The results for these digests (those that are results), in (pushedAt, digest) order. */
  previewResultsFor(repositoryId: number, digests: Digest[]): Promise<LifecyclePreviewResult[]>;

  /** Appends expiries to the history; returns their ids in order. */
  appendEvents(events: Array<Omit<LifecycleEventRecord, 'id'>>): Promise<number[]>;
  /** History in id order after `afterId`, optionally of one repository. */
  events(page: { afterId?: number; limit: number; repositoryName?: string }): Promise<LifecycleEventRecord[]>;

  /** Every manifest of the repository with its tags and child manifests (one consistent read). */
  images(repositoryId: number): Promise<LifecycleImageRow[]>;
}
