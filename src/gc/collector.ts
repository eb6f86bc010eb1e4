import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import type { Digest } from '../core/digest.ts';
import type { MetadataStore } from '../metadata/types.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { createKeyedMutex, type KeyedMutex } from '../storage/keyed-mutex.ts';
import type { BlobUse, DeletionKind, GcDeletion, ReviewCursor, ReviewQueue, ReviewRow } from './types.ts';

/**
 * Online garbage collection (docs/gc.md). One pass:
 * 1. schedules unscheduled review rows at now + grace period;
 * 2. (reconcile) queues what metadata does not track: storage objects unknown to metadata, blob rows and
 *    links nothing references that have no review row; removes stale upload sessions and temporary files;
 * 3. reviews due manifests, then due links, then due blobs — each row re-checked inside the transaction
 *    that deletes it (rows locked on PostgreSQL); a blob's bytes are deleted after its row, under the
 *    per-digest lock pushes hold until their link is committed.
 * A dry run takes the same path and decisions without writing anything.
 */
export interface GarbageCollectorOptions {
  meta: MetadataStore;
  blobs: BlobStore;
  clock: Clock;
  log: Logger;
  /** How long a queued item waits, at least, before it is reviewed (protects in-flight pushes). */
  gracePeriodMs: number;
  /** Review rows per transaction (default 200). */
  batchSize?: number;
  /** First retry delay of a failed review, doubled per failure up to a day (default 60 s). */
  retryDelayMs?: number;
  /** Removal records are kept this long (default 30 days). */
  keepDeletionsMs?: number;
  /** The per-digest lock pushes hold (share the registry's: `RegistryOptions.blobLocks`); default: a private one. */
  blobLocks?: KeyedMutex;
}

export interface GcRunOptions {
  /** Decide and report, change nothing. */
  dryRun?: boolean;
  /** Also run the reconcile pass (storage vs metadata, stale uploads and temporary files). */
  reconcile?: boolean;
  /** Keep every removal in the report (the CLI lists them); otherwise only the counts. */
  list?: boolean;
  /** Stops between batches (job shutdown, lease loss). */
  signal?: AbortSignal;
}

export interface GcReport {
  dryRun: boolean;
  startedAt: Date;
  finishedAt: Date;
  /** Unscheduled review rows stamped with now + grace. */
  scheduled: number;
  /** Rows queued by reconcile (untracked storage objects, orphan rows). */
  queued: number;
  /** Reviews that found the item still referenced (row dropped). */
  kept: number;
  /** Reviews that failed and will be retried. */
  failed: number;
  removed: Record<DeletionKind, { count: number; bytes: number }>;
  /** Every removal (only with `list`). */
  deletions: GcDeletion[];
}

export interface GarbageCollector {
  run(options?: GcRunOptions): Promise<GcReport>;
}

const REASONS = {
  childOfDeletedIndex: 'untagged child manifest of a deleted index; no other index of the repository lists it',
  referrerOfDeletedSubject: (subject: string) => `untagged referrer whose subject ${subject} was deleted`,
  linkOfDeletedManifest: 'layer link of a deleted manifest; no manifest of the repository lists the blob',
  linkNeverReferenced: 'blob pushed or mounted into the repository but no manifest referenced it within the grace period',
  blobUnreferenced: 'no repository links the blob and no manifest lists it',
  blobUntracked: 'stored blob unknown to metadata (left by an interrupted push or a crash), older than the grace period',
  uploadUntracked: 'upload session in storage with no session in metadata, older than the grace period',
  uploadRowOrphan: 'upload session in metadata whose bytes are gone from storage, untouched for the grace period',
  temporary: 'temporary storage object older than the grace period',
};

const DAY_MS = 24 * 3600 * 1000;
/** Storage calls of one blob batch in flight at once. */
const STORAGE_CONCURRENCY = 16;

/** Judges a batch of due rows inside the batch's transaction (records what it removes). */
type BatchJudge = (tx: MetadataStore, rows: ReviewRow[]) => Promise<void>;

/** Runs `fn` over `items` with at most `limit` calls in flight. */
async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

export function createGarbageCollector(options: GarbageCollectorOptions): GarbageCollector {
  const { meta, blobs, clock, log } = options;
  const grace = options.gracePeriodMs;
  const batchSize = options.batchSize ?? 200;
  const retryDelay = options.retryDelayMs ?? 60_000;
  const keepDeletions = options.keepDeletionsMs ?? 30 * DAY_MS;
  const blobLock = options.blobLocks ?? createKeyedMutex();

  return {
    async run(opts = {}) {
      const dryRun = opts.dryRun ?? false;
      const startedAt = clock.now();
      const now = startedAt;
      const report: GcReport = {
        dryRun, startedAt, finishedAt: startedAt, scheduled: 0, queued: 0, kept: 0, failed: 0,
        removed: { manifest: { count: 0, bytes: 0 }, link: { count: 0, bytes: 0 }, blob: { count: 0, bytes: 0 }, upload: { count: 0, bytes: 0 }, temporary: { count: 0, bytes: 0 } },
        deletions: [],
      };
      /** Dry runs judge each item once even when two passes would meet it. */
      const seen = new Set<string>();
      const note = (d: Omit<GcDeletion, 'at'>): GcDeletion => {
        const full = { ...d, at: now };
        report.removed[d.kind].count++;
        report.removed[d.kind].bytes += d.size ?? 0;
        if (opts.list) report.deletions.push(full);
        return full;
      };
      /** Sizes of stored blobs without a metadata row, read from storage before their batch's transaction. */
      const untrackedSizes = new Map<Digest, number>();
      const names = new Map<number, string | null>();
      const repoName = async (tx: MetadataStore, id: number): Promise<string | null> => {
        if (!names.has(id)) names.set(id, (await tx.repositories.getById(id))?.name ?? null);
        return names.get(id)!;
      };

      if (!dryRun) report.scheduled = await meta.gc.schedule(new Date(now.getTime() + grace));
      if (opts.reconcile) await reconcile();

      await reviewQueue('manifest', perRow(async (tx, row) => {
        const st = await tx.gc.manifestState(row.repositoryId, row.digest, !dryRun);
        if (!st) return undefined;
        const orphanEvent = row.event === 'index_delete' || row.event === 'subject_delete';
        if (!orphanEvent || st.tags > 0 || st.parents > 0 || st.subjectPresent) return 'kept';
        const reason = st.subject ? REASONS.referrerOfDeletedSubject(st.subject) : REASONS.childOfDeletedIndex;
        const d = note({ kind: 'manifest', repository: await repoName(tx, row.repositoryId), digest: row.digest, size: st.size, reason });
        if (!dryRun) await tx.manifests.delete(row.repositoryId, row.digest);
        return d;
      }));

      await reviewQueue('link', perRow(async (tx, row) => {
        const st = await tx.gc.linkState(row.repositoryId, row.digest, !dryRun);
        if (!st.linked) return undefined;
        if (st.referenced) return 'kept';
        const reason = row.event === 'manifest_delete' ? REASONS.linkOfDeletedManifest : REASONS.linkNeverReferenced;
        const d = note({ kind: 'link', repository: await repoName(tx, row.repositoryId), digest: row.digest, size: st.size, reason });
        if (!dryRun) {
          await tx.gc.deleteLink(row.repositoryId, row.digest);
          // The link was unreferenced for a grace period already: the blob is due at once (a push pinning it wins).
          await tx.gc.queueBlobs([row.digest], 'link_delete', now);
        }
        return d;
      }));

      await reviewBlobs();

      if (!dryRun) await meta.gc.pruneDeletions(new Date(now.getTime() - keepDeletions));
      report.finishedAt = clock.now();
      const removed = Object.fromEntries(Object.entries(report.removed).filter(([, v]) => v.count > 0));
      log.info({ dryRun, scheduled: report.scheduled, queued: report.queued, kept: report.kept, failed: report.failed, removed }, dryRun ? 'gc dry run' : 'gc pass');
      return report;

      /**
       * Blobs a batch at a time (the bulk of a large collection). Each batch runs under the per-digest locks a
       * push holds from pinning a blob until its link is committed: the check, the row deletion and the review
       * removal commit in one transaction (one query per table for the batch), then the bytes are deleted —
       * outside the transaction (a storage layer may use metadata itself) but still under the locks. A crash
       * in between leaves bytes without a row, which reconcile removes.
       */
      async function reviewBlobs(): Promise<void> {
        let after: ReviewCursor | undefined;
        for (;;) {
          if (opts.signal?.aborted) return;
          const rows = await meta.gc.due('blob', now, { after, limit: batchSize });
          if (rows.length === 0) return;
          if (dryRun) {
            await judgeBlobs(rows, meta, await loadUntrackedSizes(rows));
          } else {
            try {
              await withLocks(rows.map((r) => r.digest), () => collectBlobs(rows));
            } catch (e) {
              log.warn({ err: e, queue: 'blob' }, 'gc batch failed; reviewing its items one by one');
              for (const row of rows) {
                try {
                  await withLocks([row.digest], () => collectBlobs([row]));
                } catch (err) {
                  await failed('blob', row, err);
                }
              }
            }
          }
          const last = rows[rows.length - 1];
          after = { reviewAfter: last.reviewAfter!.getTime(), repositoryId: 0, digest: last.digest };
          if (rows.length < batchSize) return;
        }
      }

      /**
       * Which of `rows` are garbage (noted in the report), with whether each has a metadata row. `use` is read
       * through `tx` unless given (a dry run judges on what it just read; a collection re-checks in its transaction).
       */
      async function judgeBlobs(rows: ReviewRow[], tx: MetadataStore, known?: BlobUse): Promise<Array<{ digest: Digest; row: boolean; removal: GcDeletion }>> {
        const use = known ?? await tx.gc.blobUse(rows.map((r) => r.digest));
        const out: Array<{ digest: Digest; row: boolean; removal: GcDeletion }> = [];
        for (const row of rows) {
          const u = use.get(row.digest)!;
          if (u.links > 0 || u.references > 0) {
            report.kept++;
            continue;
          }
          if (dryRun && seen.has(`blob\0${row.digest}`)) continue;
          const size = u.size ?? untrackedSizes.get(row.digest);
          if (size === undefined) continue; // neither a row nor bytes: nothing to remove
          const removal = note({ kind: 'blob', repository: null, digest: row.digest, size, reason: u.size === null ? REASONS.blobUntracked : REASONS.blobUnreferenced });
          out.push({ digest: row.digest, row: u.size !== null, removal });
        }
        return out;
      }

      /**
       * Sizes of blobs without a metadata row come from storage (read before any transaction: no storage call
       * inside one). Returns the use it read.
       */
      async function loadUntrackedSizes(rows: ReviewRow[]): Promise<BlobUse> {
        const use = await meta.gc.blobUse(rows.map((r) => r.digest));
        await forEachLimit(rows.filter((r) => use.get(r.digest)!.size === null), STORAGE_CONCURRENCY, async (r) => {
          const st = await blobs.stat(r.digest);
          if (st) untrackedSizes.set(r.digest, st.size);
        });
        return use;
      }

      async function collectBlobs(rows: ReviewRow[]): Promise<void> {
        await loadUntrackedSizes(rows);
        const doomed = await meta.transaction(async (tx) => {
          // Several nodes (PostgreSQL): hold each review row for the transaction; a row another node already
          // handled (and removed) is skipped, so no blob is judged and removed twice.
          const held: ReviewRow[] = [];
          for (const r of rows) if (tx.dialect !== 'postgres' || (await tx.gc.getReview('blob', r.repositoryId, r.digest, true))) held.push(r);
          const list = await judgeBlobs(held, tx);
          await tx.gc.deleteBlobRows(list.filter((x) => x.row).map((x) => x.digest));
          await tx.gc.removeReviews('blob', held);
          await tx.gc.record(list.map((x) => x.removal));
          return list.map((x) => x.digest);
        });
        if (blobs.deleteMany) await blobs.deleteMany(doomed);
        else await forEachLimit(doomed, STORAGE_CONCURRENCY, (d) => blobs.delete(d));
      }

      /** Runs `fn` holding the blob locks of `digests` (taken in order, so two holders never wait on each other). */
      function withLocks<T>(digests: Digest[], fn: () => Promise<T>): Promise<T> {
        const keys = [...new Set(digests)].sort();
        const hold = (i: number): Promise<T> => (i === keys.length ? fn() : blobLock(keys[i], () => hold(i + 1)));
        return hold(0);
      }

      /** A batch judge from a per-row one: undefined (gone), 'kept', or the removal to record. */
      function perRow(judge: (tx: MetadataStore, row: ReviewRow) => Promise<GcDeletion | 'kept' | undefined>): BatchJudge {
        return async (tx, rows) => {
          const removals: GcDeletion[] = [];
          for (const row of rows) {
            const verdict = await judge(tx, row);
            if (verdict === 'kept') report.kept++;
            else if (verdict) removals.push(verdict);
          }
          if (!dryRun) await tx.gc.record(removals);
        };
      }

      /**
       * Reviews the due rows of one queue in batches, each batch one transaction that also removes the batch's
       * review rows; a batch that fails is retried item by item so one bad item only postpones itself.
       */
      async function reviewQueue(queue: ReviewQueue, judge: BatchJudge): Promise<void> {
        let after: ReviewCursor | undefined;
        const settle = async (tx: MetadataStore, rows: ReviewRow[]) => {
          await judge(tx, rows);
          if (!dryRun) await tx.gc.removeReviews(queue, rows);
        };
        for (;;) {
          if (opts.signal?.aborted) return;
          let rows: ReviewRow[];
          if (dryRun) {
            rows = await meta.gc.due(queue, now, { after, limit: batchSize });
            await settle(meta, rows);
          } else {
            try {
              rows = await meta.transaction(async (tx) => {
                const batch = await tx.gc.due(queue, now, { after, limit: batchSize, lock: true });
                if (batch.length) await settle(tx, batch);
                return batch;
              });
            } catch (e) {
              log.warn({ err: e, queue }, 'gc batch failed; reviewing its items one by one');
              rows = await meta.gc.due(queue, now, { after, limit: batchSize });
              for (const row of rows) await reviewOne(queue, row, settle);
            }
          }
          if (rows.length === 0) return;
          const last = rows[rows.length - 1];
          after = { reviewAfter: last.reviewAfter!.getTime(), repositoryId: last.repositoryId, digest: last.digest };
          if (rows.length < batchSize) return;
        }
      }

      async function reviewOne(queue: ReviewQueue, row: ReviewRow, settle: (tx: MetadataStore, rows: ReviewRow[]) => Promise<void>): Promise<void> {
        try {
          await meta.transaction(async (tx) => {
            const current = await tx.gc.getReview(queue, row.repositoryId, row.digest, true);
            if (!current || current.reviewAfter === null || current.reviewAfter.getTime() > now.getTime()) return;
            await settle(tx, [current]);
          });
        } catch (e) {
          await failed(queue, row, e);
        }
      }

      /** A failed review: counted, logged, retried later with exponential backoff. */
      async function failed(queue: ReviewQueue, row: ReviewRow, e: unknown): Promise<void> {
        report.failed++;
        const delay = Math.min(retryDelay * 2 ** Math.min(row.reviewCount, 20), DAY_MS);
        log.error({ err: e, queue, repositoryId: row.repositoryId, digest: row.digest }, 'gc review failed; will retry');
        await meta.gc.retryReview(queue, row.repositoryId, row.digest, new Date(now.getTime() + delay)).catch(() => undefined);
      }

      /** Queues what metadata does not track and removes storage leftovers (docs/gc.md, "Reconcile"). */
      async function reconcile(): Promise<void> {
        const cutoff = new Date(now.getTime() - grace);
        // 1. Stored blobs unknown to metadata and older than the grace period.
        let page: Array<{ digest: Digest; size: number }> = [];
        const flush = async () => {
          const known = await meta.gc.knownBlobs(page.map((b) => b.digest));
          const unknown = page.filter((b) => !known.has(b.digest));
          page = [];
          if (unknown.length === 0) return;
          if (dryRun) {
            for (const b of unknown) {
              const review = await meta.gc.getReview('blob', 0, b.digest);
              if (review && (review.reviewAfter === null || review.reviewAfter.getTime() > now.getTime())) continue; // pinned by a push
              seen.add(`blob\0${b.digest}`);
              note({ kind: 'blob', repository: null, digest: b.digest, size: b.size, reason: REASONS.blobUntracked });
            }
            return;
          }
          await meta.gc.queueBlobs(unknown.map((b) => b.digest), 'reconcile', now);
          report.queued += unknown.length;
        };
        for await (const b of blobs.list()) {
          if (opts.signal?.aborted) return;
          if (b.modifiedAt.getTime() > cutoff.getTime()) continue;
          page.push(b);
          if (page.length >= 500) await flush();
        }
        await flush();

        // 2. Blob rows and links nothing references and nothing queued (data from before GC existed, lost events).
        if (!dryRun) {
          let afterBlob: Digest | undefined;
          for (;;) {
            const orphans = await meta.gc.orphanBlobs({ after: afterBlob, limit: 500 });
            if (orphans.length === 0) break;
            await meta.gc.queueBlobs(orphans, 'reconcile', now);
            report.queued += orphans.length;
            afterBlob = orphans[orphans.length - 1];
          }
          let afterLink: { repositoryId: number; digest: Digest } | undefined;
          for (;;) {
            const links = await meta.gc.unreferencedLinks({ after: afterLink, limit: 500 });
            if (links.length === 0) break;
            for (const l of links) await meta.gc.queueLinks(l.repositoryId, [l.digest], 'reconcile');
            report.queued += links.length;
            afterLink = links[links.length - 1];
          }
        }

        // 3. Upload sessions in storage that metadata does not know.
        let uploads: Array<{ uploadId: string; size: number }> = [];
        const flushUploads = async () => {
          const known = await meta.gc.knownUploads(uploads.map((u) => u.uploadId));
          for (const u of uploads) {
            if (known.has(u.uploadId)) continue;
            const d = note({ kind: 'upload', repository: null, digest: u.uploadId, size: u.size, reason: REASONS.uploadUntracked });
            if (!dryRun) {
              await blobs.deleteUpload(u.uploadId);
              await meta.gc.record(d);
            }
          }
          uploads = [];
        };
        for await (const u of blobs.listUploads()) {
          if (u.modifiedAt.getTime() > cutoff.getTime()) continue;
          uploads.push(u);
          if (uploads.length >= 500) await flushUploads();
        }
        await flushUploads();

        // 4. Upload session rows whose bytes are gone (a crash between the storage and the metadata write).
        let afterUpload: { updatedAt: number; id: string } | undefined;
        for (;;) {
          const rows = await meta.gc.staleUploads(cutoff, { after: afterUpload, limit: 500 });
          for (const u of rows) {
            if ((await blobs.uploadSize(u.id)) !== undefined) continue;
            const d = note({ kind: 'upload', repository: null, digest: u.id, size: null, reason: REASONS.uploadRowOrphan });
            if (!dryRun) {
              await meta.uploads.delete(u.id);
              await meta.gc.record(d);
            }
          }
          if (rows.length < 500) break;
          afterUpload = rows[rows.length - 1];
        }

        // 5. Temporary objects of the storage driver.
        for (const t of await blobs.sweepTemporary(cutoff, { dryRun })) {
          const d = note({ kind: 'temporary', repository: null, digest: t.name, size: t.size, reason: REASONS.temporary });
          if (!dryRun) await meta.gc.record(d);
        }
      }
    },
  };
}
