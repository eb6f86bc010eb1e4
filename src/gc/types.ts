import type { Digest } from '../core/digest.ts';

/**
 * Contracts of online garbage collection (docs/gc.md). The metadata side is `meta.gc` (migration 0007,
 * `metadata/stores/gc.ts`); the collector (`gc/collector.ts`) drives it.
 */

/** The three review queues: a global blob, a repository's link to a blob, a repository's manifest. */
export type ReviewQueue = 'blob' | 'link' | 'manifest';

/** One review row. `repositoryId` is 0 for the blob queue (blobs are global). */
export interface ReviewRow {
  queue: ReviewQueue;
  repositoryId: number;
  digest: Digest;
  /** When the row may be reviewed; null while unscheduled (GC stamps now + grace on its next pass). */
  reviewAfter: Date | null;
  /** The latest event that queued it (manifest_delete, link_create, blob_push, …). */
  event: string;
  /** Failed reviews so far (backoff). */
  reviewCount: number;
}

/** Position in the (reviewAfter, repositoryId, digest) order of due rows. */
export interface ReviewCursor {
  reviewAfter: number;
  repositoryId: number;
  digest: string;
}

/** What GC removed (or, in a dry run, would remove). */
export type DeletionKind = 'manifest' | 'link' | 'blob' | 'upload' | 'temporary';

/** One removal and why: recorded in `gc_deletions`, printed by `cargohold gc`. */
export interface GcDeletion {
  kind: DeletionKind;
  /** Repository name (manifests, links); null for blobs and storage leftovers. */
  repository: string | null;
  /** Digest, upload id or temporary object name. */
  digest: string;
  size: number | null;
  reason: string;
  at: Date;
}

/** The state of a manifest as GC judges it (read under lock on PostgreSQL). */
export interface ManifestState {
  size: number;
  tags: number;
  /** Manifests of the repository that list it as a child. */
  parents: number;
  subject: Digest | null;
  /** Whether the subject manifest exists in the repository (false when there is no subject). */
  subjectPresent: boolean;
}

/** Stored bytes of one repository (blobs it links, each once, plus its manifests). */
export interface RepositoryUsage {
  repository: string;
  blobs: number;
  blobBytes: number;
  manifests: number;
  manifestBytes: number;
}

/** Registry-wide stored bytes: every blob once (deduplicated) plus every manifest row. */
export interface RegistryUsage {
  repositories: number;
  blobs: number;
  blobBytes: number;
  manifests: number;
  manifestBytes: number;
}

/**
 * Metadata of online GC (`meta.gc`). Queue writes are upserts with one rule: an unscheduled row (null)
 * stays unscheduled, otherwise the later `reviewAfter` wins — so a review is never brought forward by a
 * later event. Calls on a transaction-bound store commit with the transaction.
 */
export interface GcStore {
  /**
   * Pins a blob before its bytes are written to storage by a push: its review becomes unscheduled, so GC
   * cannot delete it until a grace period after its next pass. Must be committed before the storage write.
   */
  protectBlob(digest: Digest, event?: string): Promise<void>;
  /** Queues blob reviews (`due` undefined: unscheduled). */
  queueBlobs(digests: Digest[], event: string, due?: Date): Promise<void>;
  /** Queues reviews of a repository's links. */
  queueLinks(repositoryId: number, digests: Digest[], event: string, due?: Date): Promise<void>;
  /** Queues reviews of a repository's manifests. */
  queueManifests(repositoryId: number, digests: Digest[], event: string, due?: Date): Promise<void>;
  /**
   * Postpones a link review that is due before `until` to unscheduled (a HEAD during a push says the link is
   * about to be referenced). A read when there is nothing to postpone.
   */
  deferLinkReview(repositoryId: number, digest: Digest, until: Date): Promise<void>;
  /** Stamps every unscheduled row of every queue with `due`; returns how many. */
  schedule(due: Date): Promise<number>;
  /**
   * Rows of `queue` due at `now` after `after`, in (reviewAfter, repositoryId, digest) order. With `lock`
   * (inside a transaction) PostgreSQL locks them FOR UPDATE SKIP LOCKED; SQLite has one writer.
   */
  due(queue: ReviewQueue, now: Date, page: { after?: ReviewCursor; limit: number; lock?: boolean }): Promise<ReviewRow[]>;
  /** Re-reads one row (locked FOR UPDATE on PostgreSQL when `lock`). */
  getReview(queue: ReviewQueue, repositoryId: number, digest: Digest, lock?: boolean): Promise<ReviewRow | undefined>;
  removeReview(queue: ReviewQueue, repositoryId: number, digest: Digest): Promise<void>;
  /** Removes many rows of one queue. */
  removeReviews(queue: ReviewQueue, rows: Array<{ repositoryId: number; digest: Digest }>): Promise<void>;
  /** A failed review: count it and try again at `at`. */
  retryReview(queue: ReviewQueue, repositoryId: number, digest: Digest, at: Date): Promise<void>;
  /** Due and waiting (scheduled later or unscheduled) rows per queue. */
  pending(now: Date): Promise<Record<ReviewQueue, { due: number; waiting: number }>>;

  /** For each digest: how many links and manifest references (any repository) the blob has, and its size when the row exists. */
  blobUse(digests: Digest[]): Promise<BlobUse>;
  /** Deletes blob rows (their links go with them); GC only, after the bytes. */
  deleteBlobRows(digests: Digest[]): Promise<void>;
  /** Whether the repository links the blob and whether one of its manifests references it (link locked on PostgreSQL). */
  linkState(repositoryId: number, digest: Digest, lock?: boolean): Promise<{ linked: boolean; referenced: boolean; size: number | null }>;
  /** Removes a link (GC); false when absent. */
  deleteLink(repositoryId: number, digest: Digest): Promise<boolean>;
  /** A manifest's tags, parents and subject (row locked on PostgreSQL); undefined when absent. */
  manifestState(repositoryId: number, digest: Digest, lock?: boolean): Promise<ManifestState | undefined>;
  /**
   * For a manifest put, inside its transaction: of the blobs and child manifests it lists, those the
   * repository does not have (rows held FOR SHARE on PostgreSQL so GC cannot remove them before commit).
   */
  holdReferences(repositoryId: number, blobs: Digest[], manifests: Digest[]): Promise<{ missingBlobs: Digest[]; missingManifests: Digest[] }>;

  /** Of `digests`, those with a blob row. */
  knownBlobs(digests: Digest[]): Promise<Set<Digest>>;
  /** Blob rows after `after` (digest order) with no link, no reference and no review row. */
  orphanBlobs(page: { after?: Digest; limit: number }): Promise<Digest[]>;
  /** Links after `after` that no manifest of their repository references and that have no review row. */
  unreferencedLinks(page: { after?: { repositoryId: number; digest: Digest }; limit: number }): Promise<Array<{ repositoryId: number; digest: Digest }>>;
  /** Of `ids`, those with an upload session row. */
  knownUploads(ids: string[]): Promise<Set<string>>;
  /** Upload session rows not updated since `before`, in (updatedAt, id) order after `after`. */
  staleUploads(before: Date, page: { after?: { updatedAt: number; id: string }; limit: number }): Promise<Array<{ id: string; updatedAt: number }>>;

  /** Records removals. */
  record(deletions: GcDeletion | GcDeletion[]): Promise<void>;
  /** Recent removals, newest first. */
  deletions(options?: { limit?: number }): Promise<GcDeletion[]>;
  /** Deletes removal records older than `before`; returns how many. */
  pruneDeletions(before: Date): Promise<number>;

  /** Per-repository stored bytes, repositories by name after `last`. */
  repositoryUsage(page: { last?: string; limit: number }): Promise<RepositoryUsage[]>;
  /** Registry-wide stored bytes (a blob shared by repositories counts once). */
  registryUsage(): Promise<RegistryUsage>;
}

/** How each blob of a batch is used: links, manifest references, and its recorded size (null: no row). */
export type BlobUse = Map<Digest, { links: number; references: number; size: number | null }>;
