import type { Digest } from '../core/digest.ts';
import type { ManifestRecord, MetadataStore, RepositoryRecord } from './types.ts';

export interface ReadCacheOptions {
  /**
   * How long a cached read may be served, in ms. Writes made through this process invalidate at once; the
   * TTL bounds how long a write made elsewhere (another node, the CLI) can go unseen. 0 disables the cache.
   */
  ttlMs: number;
  /** Upper bound on cached manifest bytes (default 32 MiB). */
  maxBytes?: number;
  now?: () => number;
}

/**
 * Store methods known to only read. Every other method (including any added later) is treated as a write and
 * invalidates the cache: an unknown name errs on the side of correctness.
 */
const READ_METHODS = new Set([
  'blobReference', 'count', 'countUsers', 'forDigest', 'get', 'getAccessKey', 'getAccountSetting', 'getById', 'getByTag',
  'getLinked', 'getRegistryPolicy', 'getRepositoryPolicy', 'getSettings', 'getTags', 'getTemplate', 'getUser', 'getUserPolicy',
  'imageSizes', 'list', 'listAccessKeys', 'listIds', 'listStale', 'listTemplates', 'listUserPolicies', 'listUsers', 'missing',
  'missingLinks', 'parents', 'parts', 'references', 'referrers', 'tags',
  // meta.encryption
  'getScope', 'listScopes', 'getObject', 'objectsFor', 'listObjects', 'getUpload', 'listUploads', 'repositoriesUsingKey',
  // meta.gc reads
  'due', 'getReview', 'pending', 'blobUse', 'linkState', 'manifestState', 'holdReferences', 'knownBlobs', 'orphanBlobs',
  'unreferencedLinks', 'knownUploads', 'staleUploads', 'deletions', 'repositoryUsage', 'registryUsage',
  // meta.scan reads
  'affected', 'state', 'getInventory', 'getScan', 'getScans', 'rematchCandidates', 'getRegistryScanning', 'advisoryHeaders',
]);
/** Writes that never change a repository, manifest or tag row (what the cache holds). */
const NON_INVALIDATING = new Set(['touchPulled', 'touchAccessKey', 'touch', 'recordPart',
  // meta.gc writes touch only GC's own tables and repository_blobs (not cached); its manifest deletes go through meta.manifests.
  'protectBlob', 'queueBlobs', 'queueLinks', 'queueManifests', 'deferLinkReview', 'schedule', 'removeReview', 'removeReviews', 'retryReview', 'deleteLink',
  'deleteBlobRows',
  'record', 'pruneDeletions',
  // meta.scan writes touch only the scanner's tables.
  'putAdvisories', 'recordImport', 'putInventory', 'putScan', 'putRegistryScanning']);

interface Entry<T> {
  value: T;
  at: number;
  generation: number;
  bytes: number;
}

/**
 * Wraps a MetadataStore with a small in-process cache of the per-request reads of the pull path
 * (`repositories.get`, `manifests.get`, `manifests.getByTag`). Correctness rests on one generation
 * counter: every write through this store (root or transaction) bumps it before it runs and again after it
 * (and after a transaction commits), and a cached value is served only while the generation it was read
 * under is still current — so a read racing a write can never be cached as fresh. Reads inside a
 * transaction are never cached (they must see their own writes).
 */
export function createReadCache(inner: MetadataStore, options: ReadCacheOptions): MetadataStore & { invalidate(): void } {
  if (options.ttlMs <= 0) return Object.assign(Object.create(inner) as MetadataStore, { invalidate() {} });
  const now = options.now ?? Date.now;
  const maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
  let generation = 0;
  let bytes = 0;
  const cache = new Map<string, Entry<unknown>>();
  const bump = () => { generation++; };

  const evict = () => {
    for (const [k, e] of cache) {
      if (bytes <= maxBytes && cache.size <= 100_000) break;
      cache.delete(k);
      bytes -= e.bytes;
    }
  };

  async function cached<T>(key: string, size: (v: T) => number, load: () => Promise<T>): Promise<T> {
    const e = cache.get(key) as Entry<T> | undefined;
    const t = now();
    if (e && e.generation === generation && t - e.at < options.ttlMs) return e.value;
    const gen = generation;
    const value = await load();
    if (gen === generation) {
      if (e) { cache.delete(key); bytes -= e.bytes; }
      const b = size(value);
      cache.set(key, { value, at: t, generation: gen, bytes: b });
      bytes += b;
      if (bytes > maxBytes || cache.size > 100_000) evict();
    }
    return value;
  }

  const manifestSize = (m: ManifestRecord | undefined) => (m ? m.body.length + 256 : 64);

  /** Wraps every store so that writes bump the generation (before and after). */
  function wrapWrites(store: MetadataStore): MetadataStore {
    const wrapped = new Map<PropertyKey, unknown>();
    return new Proxy(store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop === 'transaction') {
          return <T>(fn: (tx: MetadataStore) => Promise<T>) => {
            bump();
            return (target.transaction(async (tx) => fn(wrapWrites(tx))) as Promise<T>).finally(bump);
          };
        }
        if (!value || typeof value !== 'object') return value;
        let sub = wrapped.get(prop);
        if (!sub) {
          sub = new Proxy(value as Record<string, unknown>, {
            get(t, p, r) {
              const fn = Reflect.get(t, p, r);
              if (typeof fn !== 'function' || typeof p !== 'string' || READ_METHODS.has(p) || NON_INVALIDATING.has(p)) return typeof fn === 'function' ? fn.bind(t) : fn;
              return (...args: unknown[]) => {
                bump();
                return (fn.apply(t, args) as Promise<unknown>).finally(bump);
              };
            },
          });
          wrapped.set(prop, sub);
        }
        return sub;
      },
    });
  }

  const root = wrapWrites(inner);
  const repositories = Object.assign(Object.create(root.repositories) as object, {
    get: (name: string) => cached<RepositoryRecord | undefined>(`r\0${name}`, () => 128, () => root.repositories.get(name)),
  });
  const manifests = Object.assign(Object.create(root.manifests) as object, {
    get: (repositoryId: number, digest: Digest) => cached(`d\0${repositoryId}\0${digest}`, manifestSize, () => root.manifests.get(repositoryId, digest)),
    getByTag: (repositoryId: number, tag: string) => cached(`t\0${repositoryId}\0${tag}`, manifestSize, () => root.manifests.getByTag(repositoryId, tag)),
  });
  return new Proxy(root, {
    get(target, prop, receiver) {
      if (prop === 'repositories') return repositories;
      if (prop === 'manifests') return manifests;
      if (prop === 'invalidate') return () => { bump(); cache.clear(); bytes = 0; };
      return Reflect.get(target, prop, receiver);
    },
  }) as MetadataStore & { invalidate(): void };
}
