import { randomBytes, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Clock } from '../core/clock.ts';
import { parseDigest, type Digest } from '../core/digest.ts';
import { RegistryError } from '../core/errors.ts';
import { isRepositoryName, parseRepositoryName, parseTag } from '../core/reference.ts';
import type { BlobReader, ByteRange, BlobStore } from '../storage/blob-store.ts';
import { createKeyedMutex, type KeyedMutex } from '../storage/keyed-mutex.ts';
import type { ManifestRecord, MetadataStore, ReferrerRecord, RepositoryRecord } from '../metadata/types.ts';
import { createDownloadLinks, type DownloadLinks } from './download-links.ts';
import type { RepositoryEncryptionService } from './encryption.ts';
import { createImageService, type ImagePutHook, type ImageService } from './images.ts';
import { createRepositoryService, isTagImmutable, type RepositoryService } from './repositories.ts';

export interface RegistryOptions {
  blobs: BlobStore;
  meta: MetadataStore;
  clock: Clock;
  /** Create repositories on first push (Distribution behaviour). */
  createRepositoryOnPush: boolean;
  maxManifestBytes: number;
  /** Largest page a listing returns. */
  maxPageSize: number;
  /** Registry (account) id used in ECR-worded messages; default 123456789012. */
  accountId?: string;
  /** Region (for the AWS-managed KMS key ARN); default us-east-1. */
  region?: string;
  /** Signs layer download links (GetDownloadUrlForLayer); default: a per-process random key. */
  downloads?: DownloadLinks;
  /** Encryption at rest: the key-scoped BlobStore of each repository and its key lifecycle (registry/encryption.ts). */
  encryption?: RepositoryEncryptionService;
  /** Runs in every manifest put's transaction (scan on push enqueues its job here). */
  onImagePut?: ImagePutHook;
  /** GC grace period: a HEAD on a blob postpones its link's review when it is due within this time. Undefined: GC off. */
  gcGracePeriodMs?: number;
  /**
   * Per-digest lock shared with the garbage collector (docs/gc.md): a push holds it from pinning a blob until
   * its row and link are committed; the collector holds it from its last check until the bytes are gone.
   */
  blobLocks?: KeyedMutex;
}

export interface BlobInfo {
  digest: Digest;
  size: number;
}

export interface UploadStatus {
  id: string;
  /** Bytes received so far. */
  size: number;
}

/** A chunk's declared position, from Content-Range / Content-Length. */
export interface ChunkRange {
  start?: number;
  end?: number;
  length?: number;
}

export interface PutManifestResult {
  digest: Digest;
  subject: Digest | null;
  created: boolean;
}

export interface Page<T> {
  items: T[];
  /** The `last` value for the next page, when more remain. */
  next?: string;
}

/** The domain services both front ends (OCI /v2/ and the ECR API) share. */
export interface Registry {
  /** Repository administration (settings, policies, tags, templates) shared by the ECR API and /v2/. */
  readonly repositories: RepositoryService;
  /** Image rules (puts, ids, listings, deletes, layers, downloads) shared by the ECR API and /v2/. */
  readonly images: ImageService;
  getRepository(name: string): Promise<RepositoryRecord>;
  /**
   * The repository a push goes to. A missing one is created from the CREATE_ON_PUSH creation template that
   * applies to the name, else (createRepositoryOnPush) with defaults, else NAME_UNKNOWN worded like ECR.
   */
  repositoryForPush(name: string): Promise<RepositoryRecord>;

  startUpload(name: string): Promise<UploadStatus>;
  uploadStatus(name: string, id: string): Promise<UploadStatus>;
  appendUpload(name: string, id: string, body: Readable, range: ChunkRange): Promise<UploadStatus>;
  completeUpload(name: string, id: string, digest: string | null, body?: Readable, range?: ChunkRange): Promise<BlobInfo>;
  cancelUpload(name: string, id: string): Promise<void>;
  /** Single-request push: the whole blob in one body. */
  putBlob(name: string, digest: string, body: Readable, length?: number): Promise<BlobInfo>;
  /** Links a blob from another repository; undefined when the source repository or blob is not there. */
  mountBlob(name: string, digest: Digest, from: string): Promise<BlobInfo | undefined>;

  /** A blob the repository links. `head`: a push is checking before it references the blob (postpones its link's GC review). */
  statBlob(name: string, digest: string, options?: { head?: boolean }): Promise<BlobInfo>;
  openBlob(name: string, digest: Digest, range?: ByteRange): Promise<Readable>;
  /** Positional reader for a blob the caller has already checked (statBlob), when the storage driver offers one. */
  openBlobReader(digest: Digest): Promise<BlobReader | undefined>;
  deleteBlob(name: string, digest: string): Promise<void>;

  getManifest(name: string, reference: string, options?: { recordPull?: boolean }): Promise<ManifestRecord>;
  putManifest(name: string, reference: string, contentType: string | undefined, body: Buffer): Promise<PutManifestResult>;
  deleteManifest(name: string, reference: string): Promise<void>;

  listTags(name: string, page: { last?: string; n?: number }): Promise<Page<string>>;
  catalog(page: { last?: string; n?: number }): Promise<Page<string>>;
  referrers(name: string, digest: string, artifactType?: string): Promise<ReferrerRecord[]>;
}

/** Tells a digest reference from a tag reference and validates it. */
export function parseReference(reference: string): { digest: Digest } | { tag: string } {
  if (reference.includes(':')) return { digest: parseDigest(reference) };
  return { tag: parseTag(reference) };
}

export function createRegistry(options: RegistryOptions): Registry {
  const { blobs, meta, clock } = options;
  const blobLock = options.blobLocks ?? createKeyedMutex();
  const accountId = options.accountId ?? '123456789012';
  const repositories = createRepositoryService({ meta, clock, accountId, region: options.region ?? 'us-east-1', keys: options.encryption });
  /** The BlobStore of a repository: its key scope's view when encrypting, else the one store. */
  const blobsOf = async (repo: RepositoryRecord): Promise<BlobStore> => (options.encryption ? options.encryption.blobsFor(repo) : blobs);

  async function getRepository(name: string): Promise<RepositoryRecord> {
    parseRepositoryName(name);
    const repo = await meta.repositories.get(name);
    if (!repo) throw new RegistryError('NAME_UNKNOWN', `The repository with name '${name}' does not exist in the registry with id '${accountId}'`, { name });
    return repo;
  }

  async function repositoryForPush(name: string): Promise<RepositoryRecord> {
    parseRepositoryName(name);
    const repo = await meta.repositories.get(name);
    if (repo) return repo;
    const created = await repositories.createFromTemplate(name);
    if (created) return created;
    if (!options.createRepositoryOnPush) throw new RegistryError('NAME_UNKNOWN', `The repository with name '${name}' does not exist in the registry with id '${accountId}'`, { name });
    return meta.repositories.getOrCreate(name, clock.now());
  }

  async function session(name: string, id: string): Promise<{ repo: RepositoryRecord; size: number }> {
    const repo = await getRepository(name);
    const rec = /^[A-Za-z0-9_-]{1,128}$/.test(id) ? await meta.uploads.get(id) : undefined;
    const size = rec && rec.repositoryId === repo.id ? await blobs.uploadSize(id) : undefined;
    if (!rec || rec.repositoryId !== repo.id || size === undefined) {
      throw new RegistryError('BLOB_UPLOAD_UNKNOWN', `blob upload ${id.slice(0, 130)} is unknown to repository ${name}`, { uuid: id.slice(0, 130) });
    }
    return { repo, size };
  }

  /** Records a blob whose bytes were just written and links it (call with the blob's lock held: docs/gc.md). */
  async function recordBlob(repoId: number, digest: Digest, size: number): Promise<void> {
    const now = clock.now();
    await meta.transaction(async (tx) => {
      await tx.blobs.put(digest, size, null, now);
      await tx.blobs.link(repoId, digest, now);
    });
  }

  function checkChunk(range: ChunkRange, size: number): void {
    if (range.start !== undefined && range.start !== size) {
      throw new RegistryError('RANGE_INVALID', `chunk starts at byte ${range.start} but the upload has ${size} bytes; resume from ${size}`, { size }, {
        headers: { Range: `0-${Math.max(size - 1, 0)}` },
      });
    }
    if (range.start !== undefined && range.end !== undefined && range.length !== undefined && range.end - range.start + 1 !== range.length) {
      throw new RegistryError('RANGE_INVALID', `Content-Range ${range.start}-${range.end} does not match Content-Length ${range.length}`, { size }, {
        headers: { Range: `0-${Math.max(size - 1, 0)}` },
      });
    }
  }

  async function append(id: string, size: number, body: Readable, range: ChunkRange): Promise<number> {
    checkChunk(range, size);
    let expected = range.length;
    if (expected === undefined && range.start !== undefined && range.end !== undefined) expected = range.end - range.start + 1;
    const newSize = await blobs.appendUpload(id, size, body, expected !== undefined ? { expectedLength: expected } : undefined);
    await meta.uploads.recordPart(id, newSize - size, clock.now());
    return newSize;
  }

  async function resolveManifest(repoId: number, name: string, reference: string): Promise<ManifestRecord> {
    const ref = parseReference(reference);
    const m = 'digest' in ref ? await meta.manifests.get(repoId, ref.digest) : await meta.manifests.getByTag(repoId, ref.tag);
    if (!m) throw new RegistryError('MANIFEST_UNKNOWN', `manifest unknown: ${name}:${reference} does not exist`, { name, reference });
    return m;
  }

  function pageSize(n: number | undefined): number {
    return n === undefined ? options.maxPageSize : Math.min(n, options.maxPageSize);
  }

  const images = createImageService({
    blobs,
    meta,
    clock,
    maxManifestBytes: options.maxManifestBytes,
    onImagePut: options.onImagePut,
    downloads: options.downloads ?? createDownloadLinks({ key: randomBytes(32), clock }),
    // Read in the put's transaction, so the check and the tag write agree.
    tagImmutable: async (tx, repositoryId, tag) => {
      const settings = await tx.ecr.getSettings(repositoryId);
      return settings ? isTagImmutable(settings, tag) : false;
    },
    core: {
      getRepository,
      repositoryForPush,
      appendUpload: (name, id, body, range) => registry.appendUpload(name, id, body, range),
      completeUpload: (name, id, digest) => registry.completeUpload(name, id, digest),
    },
  });

  const registry: Registry = {
    repositories,
    images,
    getRepository,
    repositoryForPush,

    async startUpload(name) {
      const repo = await repositoryForPush(name);
      const id = randomUUID();
      const now = clock.now();
      await (await blobsOf(repo)).createUpload(id);
      await meta.uploads.create({ id, repositoryId: repo.id, createdAt: now, updatedAt: now });
      return { id, size: 0 };
    },

    async uploadStatus(name, id) {
      const { size } = await session(name, id);
      return { id, size };
    },

    async appendUpload(name, id, body, range) {
      const { size } = await session(name, id);
      return { id, size: await append(id, size, body, range) };
    },

    async completeUpload(name, id, digestParam, body, range) {
      const digest = parseDigest(digestParam, 'digest query parameter');
      const { repo, size } = await session(name, id);
      if (body) await append(id, size, body, range ?? {});
      // GC (docs/gc.md): under the blob's lock, pinned before the bytes become the blob and recorded before
      // the lock is released, so a collector never deletes bytes this push relies on.
      return blobLock(digest, async () => {
        let stored: { size: number };
        try {
          await meta.gc.protectBlob(digest);
          stored = await blobs.commitUpload(id, digest);
        } finally {
          // The store drops the session whether or not the digest matched.
          await meta.uploads.delete(id);
        }
        await recordBlob(repo.id, digest, stored.size);
        return { digest, size: stored.size };
      });
    },

    async cancelUpload(name, id) {
      await session(name, id);
      await blobs.deleteUpload(id);
      await meta.uploads.delete(id);
    },

    async putBlob(name, digestParam, body, length) {
      const digest = parseDigest(digestParam, 'digest query parameter');
      const repo = await repositoryForPush(name);
      return blobLock(digest, async () => {
        await meta.gc.protectBlob(digest);
        const stored = await (await blobsOf(repo)).putBlob(digest, body, length !== undefined ? { expectedLength: length } : undefined);
        await recordBlob(repo.id, digest, stored.size);
        return { digest, size: stored.size };
      });
    },

    async mountBlob(name, digest, from) {
      const repo = await repositoryForPush(name);
      const source = isRepositoryName(from) ? await meta.repositories.get(from) : undefined;
      if (!source) return undefined;
      // Under the blob's lock (docs/gc.md): a collector either finished deleting it (not found: the client
      // uploads) or cannot start until the new link is committed. No storage call inside the transaction.
      return blobLock(digest, async () => {
        const blob = await meta.blobs.getLinked(source.id, digest);
        if (!blob) return undefined;
        if (!(await (await blobsOf(repo)).stat(digest))) return undefined; // the target's key scope must hold it
        await meta.transaction(async (tx) => {
          await tx.gc.protectBlob(digest, 'blob_mount');
          await tx.blobs.link(repo.id, digest, clock.now());
        });
        return { digest, size: blob.size };
      });
    },

    async statBlob(name, digestParam, opts) {
      const digest = parseDigest(digestParam);
      const repo = await getRepository(name);
      // A push HEADs a layer it will reference: keep the link's GC review (if one comes due soon) from
      // removing the link between this answer and the manifest PUT. Before the read, so the answer holds.
      if (opts?.head && options.gcGracePeriodMs !== undefined) await meta.gc.deferLinkReview(repo.id, digest, new Date(clock.now().getTime() + options.gcGracePeriodMs));
      const blob = await meta.blobs.getLinked(repo.id, digest);
      if (!blob) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} is unknown to repository ${name}`, { digest });
      return { digest, size: blob.size };
    },

    async openBlob(name, digest, range) {
      return (await blobsOf(await getRepository(name))).open(digest, range);
    },

    async openBlobReader(digest) {
      return blobs.openReader ? blobs.openReader(digest) : undefined;
    },

    async deleteBlob(name, digestParam) {
      const digest = parseDigest(digestParam);
      const repo = await getRepository(name);
      if (!(await meta.blobs.unlink(repo.id, digest))) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} is unknown to repository ${name}`, { digest });
    },

    async getManifest(name, reference, opts) {
      const repo = await getRepository(name);
      const m = await resolveManifest(repo.id, name, reference);
      if (opts?.recordPull) void meta.manifests.touchPulled(repo.id, m.digest, clock.now()).catch(() => undefined);
      return m;
    },

    async putManifest(name, reference, contentType, body) {
      const ref = parseReference(reference);
      const r = await images.put(name, { body, mediaType: contentType, api: 'oci', ...('digest' in ref ? { digest: ref.digest } : { tag: ref.tag }) });
      return { digest: r.digest, subject: r.subject, created: r.created };
    },

    async deleteManifest(name, reference) {
      const repo = await getRepository(name);
      const ref = parseReference(reference);
      if ('tag' in ref) {
        if (!(await meta.tags.delete(repo.id, ref.tag))) throw new RegistryError('MANIFEST_UNKNOWN', `tag ${ref.tag} is unknown to repository ${name}`, { tag: ref.tag });
        return;
      }
      await images.deleteByDigest(repo, ref.digest);
    },

    async listTags(name, page) {
      const repo = await getRepository(name);
      const limit = pageSize(page.n);
      if (limit === 0) return { items: [] };
      const items = await meta.tags.list(repo.id, { last: page.last, limit: limit + 1 });
      return items.length > limit ? { items: items.slice(0, limit), next: items[limit - 1] } : { items };
    },

    async catalog(page) {
      const limit = pageSize(page.n);
      if (limit === 0) return { items: [] };
      const items = await meta.repositories.list({ last: page.last, limit: limit + 1 });
      return items.length > limit ? { items: items.slice(0, limit), next: items[limit - 1] } : { items };
    },

    async referrers(name, digestParam, artifactType) {
      const digest = parseDigest(digestParam);
      parseRepositoryName(name);
      const repo = await meta.repositories.get(name);
      if (!repo) return [];
      return meta.manifests.referrers(repo.id, digest, artifactType);
    },
  };
  return registry;
}

