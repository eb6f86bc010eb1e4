import { Readable } from 'node:stream';
import type { Clock } from '../core/clock.ts';
import { digestAlgorithm, digestOf, isDigest, type Digest } from '../core/digest.ts';
import { RegistryError } from '../core/errors.ts';
import { MediaType, isIndexMediaType } from '../core/media-types.ts';
import { isTag, parseTag } from '../core/reference.ts';
import type {
  ImageCursor,
  ImageIdRow,
  ImageSummary,
  ManifestRecord,
  MetadataStore,
  RepositoryRecord,
  TagStatusFilter,
} from '../metadata/types.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { DOWNLOAD_PATH_PREFIX, type DownloadLinks } from './download-links.ts';
import { parseManifest, type ParsedManifest } from './manifest-parse.ts';

/**
 * Image-level rules shared by the /v2/ API and the ECR API (one service, two front ends): manifest puts
 * (PutImage ≡ manifest PUT), image ids, listings, deletes, layer availability, ECR layer uploads over the
 * same upload sessions as /v2/ chunked uploads, and signed layer downloads. Where the two APIs answer the
 * same rule differently (re-putting an existing tag, a tag delete) the caller says which API it serves.
 */

/** ECR's minimum size of every layer part but the last (LayerPartTooSmallException). */
export const MIN_LAYER_PART_BYTES = 5 * 1024 * 1024;
/** The part size InitiateLayerUpload advertises. */
export const LAYER_PART_SIZE = 10 * 1024 * 1024;

/**
 * Whether a tag may not be moved to another digest in the repository (ECR tag immutability, exclusion
 * filters included). Reads through `tx` so the check and the tag write are one transaction.
 */
export type TagImmutabilityCheck = (tx: MetadataStore, repositoryId: number, tag: string) => Promise<boolean>;

export interface PutImageInput {
  /** The exact manifest bytes. */
  body: Buffer;
  /** Content-Type (/v2/) or imageManifestMediaType (ECR); the body's mediaType otherwise. */
  mediaType?: string;
  tag?: string;
  /** The digest the client says the bytes have (/v2/ digest reference, ECR imageDigest). */
  digest?: string;
  /**
   * 'ecr': the repository must exist; the same digest and tag again is IMAGE_ALREADY_EXISTS.
   * 'oci': repositories may be created on push; the same digest and tag again succeeds (docker re-push).
   */
  api: 'ecr' | 'oci';
}

export interface PutImageResult {
  digest: Digest;
  mediaType: string;
  subject: Digest | null;
  created: boolean;
  imageSize: number;
}

/** How an image id failed to resolve (ECR ImageFailure codes). */
export type ImageFailureCode =
  | 'InvalidImageDigest'
  | 'InvalidImageTag'
  | 'ImageTagDoesNotMatchDigest'
  | 'ImageNotFound'
  | 'MissingDigestAndTag'
  | 'ImageReferencedByManifestList';

export interface ImageId {
  digest?: string;
  tag?: string;
}

export interface ImageFailure {
  id: ImageId;
  code: ImageFailureCode;
  reason: string;
}

/** Options of {@link ImageService.deleteByDigest} for deletes decided earlier on a snapshot (lifecycle expiry). */
export interface DeleteImageOptions {
  /** Delete only while the image has exactly these tags (any order); otherwise CONFLICT and nothing changes. */
  expectTags?: readonly string[];
  /** Runs inside the deleting transaction after the delete (e.g. to record it); throwing rolls the delete back. */
  within?: (tx: MetadataStore, removed: { tags: string[] }) => Promise<void>;
}

export interface ImageWithTags extends ImageSummary {
  /** Lexical order; empty when untagged. */
  tags: string[];
}

export interface ImageManifestResult {
  id: ImageId;
  manifest: ManifestRecord;
}

export interface LayerAvailability {
  digest: string;
  /** present: the repository holds the blob; invalid: not a digest; missing: not in the repository. */
  status: 'present' | 'invalid' | 'missing';
  size?: number;
  mediaType?: string;
}

export interface ImageService {
  /** Stores a manifest (and its tag) with every ECR rule; the /v2/ PUT and PutImage both land here. */
  put(name: string, input: PutImageInput): Promise<PutImageResult>;
  /** BatchGetImage: one result or failure per distinct id; records a pull for each image returned. */
  batchGet(name: string, ids: ImageId[], accepted?: string[]): Promise<{ images: ImageManifestResult[]; failures: ImageFailure[] }>;
  /** DescribeImages with ids: the distinct images they name, and the ids that failed. */
  describeIds(name: string, ids: ImageId[]): Promise<{ images: ImageWithTags[]; failures: ImageFailure[] }>;
  /** DescribeImages paging: images after `after` in push order. */
  describePage(name: string, page: { after?: ImageCursor; limit: number; tagStatus: TagStatusFilter }): Promise<{ images: ImageWithTags[]; next?: ImageCursor }>;
  /** ListImages paging: (digest, tag) pairs in push order. */
  listIds(name: string, page: { after?: ImageCursor & { tag: string | null }; limit: number; tagStatus: TagStatusFilter }): Promise<{ ids: ImageIdRow[]; next?: ImageCursor & { tag: string | null } }>;
  /** BatchDeleteImage: removed (digest, tag) pairs and per-id failures. */
  batchDelete(name: string, ids: ImageId[]): Promise<{ removed: Array<{ digest: Digest; tag?: string }>; failures: ImageFailure[] }>;
  /** Deletes an image and its tags (the /v2/ DELETE by digest); IMAGE_REFERENCED_BY_INDEX when an index lists it. */
  deleteByDigest(repo: RepositoryRecord, digest: Digest, options?: DeleteImageOptions): Promise<{ tags: string[] }>;
  /** BatchCheckLayerAvailability. */
  layerAvailability(name: string, digests: string[]): Promise<LayerAvailability[]>;
  /** UploadLayerPart: appends bytes [first, last] to a /v2/ upload session. Returns the last byte received. */
  uploadLayerPart(name: string, uploadId: string, first: number, last: number, data: Buffer): Promise<{ lastByteReceived: number }>;
  /** CompleteLayerUpload: ECR's checks (empty, part sizes, already present), then the shared completeUpload. */
  completeLayerUpload(name: string, uploadId: string, digest: string): Promise<{ digest: Digest; size: number }>;
  /** GetDownloadUrlForLayer: a signed path for a blob some image of the repository references. */
  layerDownloadPath(name: string, digest: string): Promise<string>;
  /** Checks a signed download link; returns the blob (size) to stream. */
  openDownload(name: string, digest: string, expires: string | null, signature: string | null): Promise<{ digest: Digest; size: number }>;
}

/** The parts of the registry the image service builds on (the same functions /v2/ uses). */
export interface ImageServiceCore {
  getRepository(name: string): Promise<RepositoryRecord>;
  repositoryForPush(name: string): Promise<RepositoryRecord>;
  appendUpload(name: string, id: string, body: Readable, range: { start?: number; end?: number; length?: number }): Promise<{ id: string; size: number }>;
  completeUpload(name: string, id: string, digest: string | null): Promise<{ digest: Digest; size: number }>;
}

/** A push's consequence, run inside its transaction (see {@link ImageServiceOptions.onImagePut}). */
export type ImagePutHook = (tx: MetadataStore, put: { repository: RepositoryRecord; digest: Digest; mediaType: string; subject: Digest | null; artifactType: string | null; created: boolean }) => Promise<void>;

export interface ImageServiceOptions {
  blobs: BlobStore;
  meta: MetadataStore;
  clock: Clock;
  maxManifestBytes: number;
  core: ImageServiceCore;
  downloads: DownloadLinks;
  /** Default: every tag is mutable. */
  tagImmutable?: TagImmutabilityCheck;
  /** Called in a manifest put's transaction after the row is written: work the push causes (a scan) commits with it. */
  onImagePut?: ImagePutHook;
}

/** ECR failure reasons (worded like ECR). */
export const FAILURE_REASONS: Record<ImageFailureCode, string> = {
  MissingDigestAndTag: 'Invalid request parameters: both tag and digest cannot be null',
  InvalidImageDigest: "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'",
  InvalidImageTag: "Invalid request parameters: image tag should satisfy the regex '[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}'",
  ImageTagDoesNotMatchDigest: 'Invalid request parameters: given tag does not map to the given digest',
  ImageNotFound: 'Requested image not found',
  ImageReferencedByManifestList: 'Requested image referenced by manifest list',
};

function failure(id: ImageId, code: ImageFailureCode, reason = FAILURE_REASONS[code]): ImageFailure {
  return { id, code, reason };
}

/** Manifest media types a client may name; a list naming some of them but not `mediaType` excludes it. */
const KNOWN_MANIFEST_TYPES = new Set<string>([
  MediaType.dockerManifest, MediaType.dockerManifestList, MediaType.ociManifest, MediaType.ociIndex,
  MediaType.dockerManifestV1, MediaType.dockerManifestV1Signed,
]);

/**
 * Whether a manifest of `mediaType` may be returned to a client accepting `accepted` (an Accept header's
 * types, or BatchGetImage's acceptedMediaTypes). No list, a wildcard, or a list naming no manifest type
 * at all accepts everything.
 */
export function manifestAcceptable(accepted: readonly string[] | undefined, mediaType: string): boolean {
  if (!accepted || accepted.length === 0) return true;
  const types = accepted.map((t) => t.split(';')[0].trim().toLowerCase()).filter(Boolean);
  if (types.includes(mediaType) || types.includes('*/*') || types.includes('application/*')) return true;
  return !types.some((t) => KNOWN_MANIFEST_TYPES.has(t));
}

/** ECR's imageSizeInBytes: the blobs an image lists; for an index, its largest child. */
async function imageSizeOf(meta: MetadataStore, repoId: number, parsed: ParsedManifest): Promise<number> {
  if (isIndexMediaType(parsed.mediaType)) {
    const children = parsed.references.filter((r) => r.kind === 'manifest');
    if (children.length === 0) return 0;
    const sizes = await meta.images.imageSizes(repoId, children.map((c) => c.digest));
    return Math.max(...children.map((c) => sizes.get(c.digest) ?? c.size));
  }
  return [...parsed.references, ...parsed.foreign].filter((r) => r.kind === 'blob').reduce((sum, r) => sum + r.size, 0);
}

export function createImageService(options: ImageServiceOptions): ImageService {
  const { blobs, meta, clock, core, downloads } = options;
  const tagImmutable = options.tagImmutable ?? (async () => false);

  /** Resolves one id to a manifest, or says why not (ECR's failure codes). */
  async function resolve(repo: RepositoryRecord, id: ImageId): Promise<ManifestRecord | ImageFailure> {
    if (id.digest === undefined && id.tag === undefined) return failure(id, 'MissingDigestAndTag');
    if (id.digest !== undefined && !isDigest(id.digest)) return failure(id, 'InvalidImageDigest');
    if (id.tag !== undefined && !isTag(id.tag)) return failure(id, 'InvalidImageTag');
    if (id.tag !== undefined) {
      const m = await meta.manifests.getByTag(repo.id, id.tag);
      if (!m) return failure(id, 'ImageNotFound');
      if (id.digest !== undefined && m.digest !== id.digest) return failure(id, 'ImageTagDoesNotMatchDigest');
      return m;
    }
    const m = await meta.manifests.get(repo.id, id.digest as Digest);
    return m ?? failure(id, 'ImageNotFound');
  }

  /** Distinct ids (same digest and tag) in first-seen order. */
  function distinctIds(ids: ImageId[]): ImageId[] {
    const seen = new Set<string>();
    return ids.filter((id) => {
      const k = `${id.digest ?? ''}\n${id.tag ?? ''}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }

  async function withTags(repoId: number, list: ImageSummary[]): Promise<ImageWithTags[]> {
    const tags = list.length ? await meta.images.tags(repoId, list.map((i) => i.digest)) : new Map<Digest, string[]>();
    return list.map((i) => ({ ...i, tags: tags.get(i.digest) ?? [] }));
  }

  async function deleteByDigest(repo: RepositoryRecord, digest: Digest, options: DeleteImageOptions = {}): Promise<{ tags: string[] }> {
    return meta.transaction(async (tx) => {
      const parents = await tx.images.parents(repo.id, digest);
      if (parents.length) {
        throw new RegistryError('IMAGE_REFERENCED_BY_INDEX', `manifest ${digest} is referenced by manifest list ${parents.slice(0, 5).join(', ')} in repository ${repo.name}; delete the manifest list first`, { digest, parents: parents.slice(0, 20) });
      }
      if (options.expectTags) {
        const current = await tx.tags.forDigest(repo.id, digest);
        const expected = new Set(options.expectTags);
        if (current.length !== expected.size || current.some((t) => !expected.has(t))) {
          throw new RegistryError('CONFLICT', `the tags of manifest ${digest} in repository ${repo.name} changed`, { digest, tags: current });
        }
      }
      const removed = await tx.manifests.delete(repo.id, digest);
      if (!removed) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${digest} is unknown to repository ${repo.name}`, { digest });
      if (options.within) await options.within(tx, removed);
      return removed;
    });
  }

  return {
    async put(name, input) {
      const { body } = input;
      if (input.tag !== undefined) parseTag(input.tag);
      if (body.length > options.maxManifestBytes) {
        throw new RegistryError('MANIFEST_TOO_LARGE', `manifest is ${body.length} bytes; the limit is ${options.maxManifestBytes}`, { size: body.length, limit: options.maxManifestBytes });
      }
      const parsed = parseManifest(body, input.mediaType);
      let digest: Digest;
      if (input.digest !== undefined) {
        digest = digestOf(body, isDigest(input.digest) ? digestAlgorithm(input.digest) : 'sha256');
        if (digest !== input.digest) {
          throw new RegistryError('MANIFEST_DIGEST_MISMATCH', `manifest bytes hash to ${digest}, not ${input.digest}`, { expected: input.digest, actual: digest });
        }
      } else {
        digest = digestOf(body, 'sha256');
      }
      const repo = input.api === 'ecr' ? await core.getRepository(name) : await core.repositoryForPush(name);
      const blobRefs = parsed.references.filter((r) => r.kind === 'blob').map((r) => r.digest);
      const childRefs = parsed.references.filter((r) => r.kind === 'manifest').map((r) => r.digest);
      const imageSize = await imageSizeOf(meta, repo.id, parsed);
      const now = clock.now();
      const tag = input.tag;
      const created = await meta.transaction(async (tx) => {
        // Checked inside the transaction (rows held FOR SHARE on PostgreSQL), so a link or child manifest that
        // garbage collection removes concurrently makes this put fail instead of referencing nothing (docs/gc.md).
        const held = await tx.gc.holdReferences(repo.id, blobRefs, childRefs);
        if (held.missingBlobs.length) {
          throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `manifest references blob ${held.missingBlobs[0]} which is not in repository ${name}`, { digest: held.missingBlobs[0], missing: held.missingBlobs.slice(0, 20) });
        }
        if (held.missingManifests.length) {
          throw new RegistryError('REFERENCED_IMAGES_NOT_FOUND', `index references manifest ${held.missingManifests[0]} which is not in repository ${name}`, { digest: held.missingManifests[0], missing: held.missingManifests.slice(0, 20) });
        }
        const res = await tx.manifests.put({
          repositoryId: repo.id,
          digest,
          mediaType: parsed.mediaType,
          artifactType: parsed.artifactType,
          subjectDigest: parsed.subject,
          annotations: parsed.annotations ? JSON.stringify(parsed.annotations) : null,
          size: body.length,
          body,
          pushedAt: now,
          imageSize,
        }, [...parsed.references, ...parsed.foreign]);
        await options.onImagePut?.(tx, { repository: repo, digest, mediaType: parsed.mediaType, subject: parsed.subject, artifactType: parsed.artifactType ?? null, created: res.created });
        if (tag === undefined) {
          if (input.api === 'ecr' && !res.created) {
            throw new RegistryError('IMAGE_ALREADY_EXISTS', `image ${digest} already exists in repository ${name}`, { digest, tag: null });
          }
          return res.created;
        }
        // Set first, judge after: `previous` comes from the same write (race-free); throwing rolls it back.
        const { previous } = await tx.tags.set(repo.id, tag, digest, now);
        if (previous === digest) {
          if (input.api === 'ecr') throw new RegistryError('IMAGE_ALREADY_EXISTS', `image ${digest} with tag ${tag} already exists in repository ${name}`, { digest, tag });
        } else if (previous !== null && (await tagImmutable(tx, repo.id, tag))) {
          throw new RegistryError('TAG_IMMUTABLE', `The image tag '${tag}' already exists in the '${name}' repository and cannot be overwritten because the tag is immutable.`, { tag, repository: name });
        }
        return res.created;
      });
      return { digest, mediaType: parsed.mediaType, subject: parsed.subject, created, imageSize };
    },

    async batchGet(name, ids, accepted) {
      const repo = await core.getRepository(name);
      const images: ImageManifestResult[] = [];
      const failures: ImageFailure[] = [];
      for (const id of distinctIds(ids)) {
        const r = await resolve(repo, id);
        if ('code' in r) failures.push(r);
        else if (!manifestAcceptable(accepted, r.mediaType)) failures.push(failure(id, 'ImageNotFound'));
        else {
          images.push({ id: { ...id, digest: r.digest }, manifest: r });
          void meta.manifests.touchPulled(repo.id, r.digest, clock.now()).catch(() => undefined);
        }
      }
      return { images, failures };
    },

    async describeIds(name, ids) {
      const repo = await core.getRepository(name);
      const failures: ImageFailure[] = [];
      const digests: Digest[] = [];
      for (const id of distinctIds(ids)) {
        const r = await resolve(repo, id);
        if ('code' in r) failures.push(r);
        else if (!digests.includes(r.digest)) digests.push(r.digest);
      }
      const found = digests.length ? await meta.images.get(repo.id, digests) : [];
      // Keep the order the ids named them in.
      const byDigest = new Map(found.map((i) => [i.digest, i]));
      const list = digests.map((d) => byDigest.get(d)).filter((i): i is ImageSummary => i !== undefined);
      return { images: await withTags(repo.id, list), failures };
    },

    async describePage(name, { after, limit, tagStatus }) {
      const repo = await core.getRepository(name);
      const rows = await meta.images.list(repo.id, { after, limit: limit + 1, tagStatus });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      const next = rows.length > limit && last ? { pushedAt: last.pushedAt.getTime(), digest: last.digest } : undefined;
      return { images: await withTags(repo.id, page), next };
    },

    async listIds(name, { after, limit, tagStatus }) {
      const repo = await core.getRepository(name);
      const rows = await meta.images.listIds(repo.id, { after, limit: limit + 1, tagStatus });
      const ids = rows.slice(0, limit);
      const last = ids[ids.length - 1];
      const next = rows.length > limit && last ? { pushedAt: last.pushedAt.getTime(), digest: last.digest, tag: last.tag } : undefined;
      return { ids, next };
    },

    async batchDelete(name, ids) {
      const repo = await core.getRepository(name);
      const removed: Array<{ digest: Digest; tag?: string }> = [];
      const failures: ImageFailure[] = [];
      for (const id of distinctIds(ids)) {
        const r = await resolve(repo, id);
        if ('code' in r) {
          failures.push(r);
          continue;
        }
        try {
          if (id.tag !== undefined) {
            // By tag: the tag goes; the image goes with its last tag unless a manifest list still lists it.
            await meta.transaction(async (tx) => {
              const current = await tx.tags.get(repo.id, id.tag!);
              if (current !== r.digest) throw new RegistryError('MANIFEST_UNKNOWN', `tag ${id.tag} is unknown to repository ${name}`, { tag: id.tag });
              await tx.tags.delete(repo.id, id.tag!);
              const left = await tx.tags.forDigest(repo.id, r.digest);
              if (left.length === 0 && (await tx.images.parents(repo.id, r.digest)).length === 0) await tx.manifests.delete(repo.id, r.digest);
            });
            removed.push({ digest: r.digest, tag: id.tag });
          } else {
            const { tags } = await deleteByDigest(repo, r.digest);
            if (tags.length === 0) removed.push({ digest: r.digest });
            else for (const tag of tags) removed.push({ digest: r.digest, tag });
          }
        } catch (e) {
          if (e instanceof RegistryError && e.kind === 'IMAGE_REFERENCED_BY_INDEX') {
            const parents = (e.detail as { parents: string[] }).parents;
            failures.push(failure(id, 'ImageReferencedByManifestList', `Requested image referenced by manifest list: [${parents.join(', ')}]`));
          } else if (e instanceof RegistryError && e.kind === 'MANIFEST_UNKNOWN') {
            // Deleted concurrently (or by an earlier id of this batch).
            failures.push(failure(id, 'ImageNotFound'));
          } else throw e;
        }
      }
      return { removed, failures };
    },

    deleteByDigest,

    async layerAvailability(name, digests) {
      const repo = await core.getRepository(name);
      const out: LayerAvailability[] = [];
      for (const digest of digests) {
        if (!isDigest(digest)) {
          out.push({ digest, status: 'invalid' });
          continue;
        }
        const blob = await meta.blobs.getLinked(repo.id, digest);
        if (!blob) {
          out.push({ digest, status: 'missing' });
          continue;
        }
        const mediaType = blob.mediaType ?? (await meta.images.blobReference(repo.id, digest))?.mediaType;
        out.push({ digest, status: 'present', size: blob.size, ...(mediaType ? { mediaType } : {}) });
      }
      return out;
    },

    async uploadLayerPart(name, uploadId, first, last, data) {
      const body = data.length ? Readable.from([data], { objectMode: false }) : Readable.from([]);
      const st = await core.appendUpload(name, uploadId, body, { start: first, end: last, length: data.length });
      return { lastByteReceived: st.size - 1 };
    },

    async completeLayerUpload(name, uploadId, digestParam) {
      const repo = await core.getRepository(name);
      const rec = /^[A-Za-z0-9_-]{1,128}$/.test(uploadId) ? await meta.uploads.get(uploadId) : undefined;
      const size = rec && rec.repositoryId === repo.id ? await blobs.uploadSize(uploadId) : undefined;
      if (!rec || rec.repositoryId !== repo.id || size === undefined) {
        throw new RegistryError('BLOB_UPLOAD_UNKNOWN', `blob upload ${uploadId.slice(0, 130)} is unknown to repository ${name}`, { uuid: uploadId.slice(0, 130) });
      }
      if (size === 0) throw new RegistryError('EMPTY_UPLOAD', `upload ${uploadId} has no parts`, { uploadId });
      const parts = await meta.uploads.parts(uploadId);
      if (parts?.smallestEarlier !== null && parts?.smallestEarlier !== undefined && parts.smallestEarlier < MIN_LAYER_PART_BYTES) {
        throw new RegistryError('LAYER_PART_TOO_SMALL', 'Layer parts must be at least 5 MiB in size.', { uploadId, smallestPart: parts.smallestEarlier });
      }
      if (isDigest(digestParam) && (await meta.blobs.getLinked(repo.id, digestParam))) {
        await blobs.deleteUpload(uploadId);
        await meta.uploads.delete(uploadId);
        throw new RegistryError('LAYER_ALREADY_EXISTS', `layer ${digestParam} already exists in repository ${name}`, { digest: digestParam });
      }
      return core.completeUpload(name, uploadId, digestParam);
    },

    async layerDownloadPath(name, digestParam) {
      const repo = await core.getRepository(name);
      const blob = isDigest(digestParam) ? await meta.blobs.getLinked(repo.id, digestParam) : undefined;
      if (!blob) throw new RegistryError('BLOB_UNKNOWN', `blob ${digestParam} is unknown to repository ${name}`, { digest: digestParam });
      if (!(await meta.images.blobReference(repo.id, blob.digest))) {
        throw new RegistryError('LAYER_INACCESSIBLE', `layer ${blob.digest} is not referenced by any image in repository ${name}`, { digest: blob.digest });
      }
      return downloads.sign(name, blob.digest);
    },

    async openDownload(name, digest, expires, signature) {
      const verdict = downloads.verify(name, digest, expires, signature);
      if (verdict === 'expired') throw new RegistryError('DENIED', 'Request has expired');
      if (verdict !== 'ok') throw new RegistryError('DENIED', 'The request signature does not match');
      const repo = await core.getRepository(name);
      const blob = isDigest(digest) ? await meta.blobs.getLinked(repo.id, digest) : undefined;
      if (!blob) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} is unknown to repository ${name}`, { digest });
      return { digest: blob.digest, size: blob.size };
    },
  };
}

/** Splits a download path `/_cargohold/download/<name>/<digest>` into its parts; undefined when it is not one. */
export function parseDownloadPath(path: string): { name: string; digest: string } | undefined {
  if (!path.startsWith(DOWNLOAD_PATH_PREFIX)) return undefined;
  const rest = path.slice(DOWNLOAD_PATH_PREFIX.length);
  const slash = rest.lastIndexOf('/');
  if (slash <= 0) return undefined;
  return { name: decodeURIComponent(rest.slice(0, slash)), digest: decodeURIComponent(rest.slice(slash + 1)) };
}

