import type { Digest } from '../core/digest.ts';
import type { MetadataDb, SqlDialectName } from './db.ts';
import { PullCoalescer, type PendingPull } from './pull-coalescer.ts';
import { createBlobStore } from './stores/blobs.ts';
import { createEcrStore } from './stores/ecr.ts';
import { createEncryptionStore } from './stores/encryption.ts';
import { createGcStore } from './stores/gc.ts';
import type { StoreContext } from './stores/context.ts';
import { createIamStore } from './stores/iam.ts';
import { createImageStore } from './stores/images.ts';
import { createJobStore } from './stores/jobs.ts';
import { createLifecycleStore } from './stores/lifecycle.ts';
import { createManifestStore } from './stores/manifests.ts';
import { createRepositoryStore } from './stores/repositories.ts';
import { createScanStore } from './stores/scan.ts';
import { createTagStore } from './stores/tags.ts';
import { createUploadStore } from './stores/uploads.ts';
import type { BlobRecord, ManifestRecord, MetadataStore, RepositoryRecord } from './types.ts';

type MaybePromise<T> = T | Promise<T>;

/**
 * Optional dialect fast paths for the per-request reads. They are used only on the root handle (never
 * inside a transaction, which must see its own writes) and only while `available()` says they give the
 * same answer as the portable query would (committed data).
 */
export interface HotReads {
  available(): boolean;
  repository(name: string): MaybePromise<RepositoryRecord | undefined>;
  manifest(repositoryId: number, digest: Digest): MaybePromise<ManifestRecord | undefined>;
  manifestByTag(repositoryId: number, tag: string): MaybePromise<ManifestRecord | undefined>;
  linkedBlob(repositoryId: number, digest: Digest): MaybePromise<BlobRecord | undefined>;
}

/** Options for {@link createKyselyMetadata}. */
export interface KyselyMetadataOptions {
  dialect: SqlDialectName;
  hotReads?: HotReads;
  /** Period of the coalesced last-pulled writes (default 1000 ms). */
  pullFlushIntervalMs?: number;
  /** Receives background failures (coalesced pull-time writes). */
  onError?: (err: unknown) => void;
  /** Called on close after the last flush and before the Kysely instance is destroyed (release extra connections). */
  onClose?: () => MaybePromise<void>;
}

/**
 * Builds a MetadataStore over a migrated Kysely database. Every dialect shares this: the stores are
 * Kysely-only, so SQLite and PostgreSQL run the same SQL; a dialect may add `hotReads`.
 */
export function createKyselyMetadata(db: MetadataDb, options: KyselyMetadataOptions): MetadataStore {
  const pulls = new PullCoalescer({
    write: (batch) => writePulls(db, batch),
    intervalMs: options.pullFlushIntervalMs,
    onError: options.onError,
  });
  const root = bind({ db, dialect: options.dialect, pulls }, options.hotReads);
  let closing: Promise<void> | undefined;
  return {
    ...root,
    close() {
      closing ??= (async () => {
        try {
          await pulls.close();
          await options.onClose?.();
        } finally {
          await db.destroy();
        }
      })();
      return closing;
    },
  };
}

/** The store shape bound to one handle (root or transaction). */
function bind(ctx: StoreContext, hot?: HotReads): MetadataStore {
  const repositories = createRepositoryStore(ctx);
  const blobs = createBlobStore(ctx);
  const manifests = createManifestStore(ctx);
  const store: MetadataStore = {
    dialect: ctx.dialect,
    repositories: hot ? { ...repositories, get: (n) => (hot.available() ? settle(() => hot.repository(n)) : repositories.get(n)) } : repositories,
    blobs: hot ? { ...blobs, getLinked: (r, d) => (hot.available() ? settle(() => hot.linkedBlob(r, d)) : blobs.getLinked(r, d)) } : blobs,
    manifests: hot
      ? {
          ...manifests,
          get: (r, d) => (hot.available() ? settle(() => hot.manifest(r, d)) : manifests.get(r, d)),
          getByTag: (r, t) => (hot.available() ? settle(() => hot.manifestByTag(r, t)) : manifests.getByTag(r, t)),
        }
      : manifests,
    tags: createTagStore(ctx),
    uploads: createUploadStore(ctx),
    images: createImageStore(ctx),
    iam: createIamStore(ctx),
    ecr: createEcrStore(ctx),
    encryption: createEncryptionStore(ctx),
    jobs: createJobStore(ctx),
    gc: createGcStore(ctx),
    lifecycle: createLifecycleStore(ctx),
    scan: createScanStore(ctx),
    transaction<T>(fn: (tx: MetadataStore) => Promise<T>): Promise<T> {
      // A transaction-bound store joins: nested calls run inside the outer transaction.
      if (ctx.db.isTransaction) return fn(store);
      return ctx.db.transaction().execute((trx) => fn(bind({ ...ctx, db: trx })));
    },
    close() {
      return Promise.reject(new Error('close() is not available on a transaction-bound MetadataStore'));
    },
  };
  return store;
}

/** Runs a fast path, turning a synchronous throw into a rejection. */
function settle<T>(fn: () => MaybePromise<T>): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}

/** One transaction per flush; a pull never moves lastPulledAt backwards. */
async function writePulls(db: MetadataDb, batch: PendingPull[]): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (const p of batch) {
      await trx
        .updateTable('manifests')
        .set({ last_pulled_at: p.at })
        .where('repository_id', '=', p.repositoryId)
        .where('digest', '=', p.digest)
        .where((eb) => eb.or([eb('last_pulled_at', 'is', null), eb('last_pulled_at', '<', p.at)]))
        .execute();
    }
  });
}
