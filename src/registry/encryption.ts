import { createHash, randomBytes } from 'node:crypto';
import { digestAlgorithm, type Digest } from '../core/digest.ts';
import { RegistryError } from '../core/errors.ts';
import type { ManifestRecord, MetadataStore, NewManifest, RepositoryRecord, RepositorySettings } from '../metadata/types.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { EncryptedBlobStore } from '../storage/encryption/encrypted-store.ts';
import { DEFAULT_SEGMENT_SHIFT, IntegrityError, MAGIC, derivePartKey, openBuffer, sealBuffer } from '../storage/encryption/format.ts';
import { REGISTRY_SCOPE, scopeOf, type KeyScopes, type RepositoryEncryption } from '../storage/encryption/key-scopes.ts';
import { setBounded } from '../core/bounded-map.ts';

/**
 * How a repository's `encryptionConfiguration` becomes keys (docs/encryption.md): the scope of its blobs and
 * manifests, its own key when it asks for KMS, and crypto-shredding when the last repository using a key
 * cargohold holds goes away.
 */
export interface RepositoryEncryptionService {
  /** The BlobStore a repository's blobs are written to and read from (its key scope). */
  blobsFor(repo: RepositoryRecord): Promise<BlobStore>;
  /** Before a repository is created: resolves (and, for KMS without a key, creates) its key. */
  prepare(name: string, requested: RepositoryEncryption): Promise<RepositoryEncryption>;
  /**
   * After a repository was deleted (or its creation failed): when no repository uses its key scope any more,
   * the scope's objects are deleted and its data key dropped; a key cargohold created is destroyed.
   */
  released(settings: RepositoryEncryption): Promise<void>;
  /** Wraps a MetadataStore so manifest bodies are sealed under their repository's scope at rest. */
  sealManifests(meta: MetadataStore): MetadataStore;
}

export interface RepositoryEncryptionOptions {
  /** The unwrapped metadata store (settings and scope rows). */
  meta: MetadataStore;
  blobs: EncryptedBlobStore;
  scopes: KeyScopes;
  /** When false, new manifests are stored in plaintext (sealed ones stay readable). */
  encryptWrites: boolean;
}

export function createRepositoryEncryption(options: RepositoryEncryptionOptions): RepositoryEncryptionService {
  const { meta, blobs, scopes } = options;
  /** Encryption settings never change after creation, and ids are never reused: cache scope by repository id. */
  const scopeById = new Map<number, string>();

  async function scopeOfRepository(repositoryId: number, from: MetadataStore = meta): Promise<string> {
    const cached = scopeById.get(repositoryId);
    if (cached) return cached;
    const settings = await from.ecr.getSettings(repositoryId);
    let scope = settings ? scopeOf(settings) : REGISTRY_SCOPE;
    if (scope !== REGISTRY_SCOPE && !(await from.encryption.getScope(scope))) {
      // A repository created before encryption at rest, whose KMS setting was only recorded: its key gets a
      // scope when the provider holds it; otherwise (e.g. ECR's alias/aws/ecr) the registry's key is used.
      if (await scopes.provider.exists(scope)) await scopes.ensureScope(scope, false, from.encryption);
      else scope = REGISTRY_SCOPE;
    }
    return setBounded(scopeById, repositoryId, scope, 100_000);
  }

  async function seal(scope: string, body: Buffer, from: MetadataStore): Promise<Buffer> {
    const key = derivePartKey(await scopes.dataKey(scope, from.encryption), { salt: randomBytes(32), segmentShift: DEFAULT_SEGMENT_SHIFT });
    return sealBuffer(key, body);
  }

  async function open(m: ManifestRecord, from: MetadataStore): Promise<ManifestRecord> {
    let body = m.body;
    if (body.length >= 4 && body.subarray(0, 4).equals(MAGIC)) {
      try {
        body = openBuffer(await scopes.dataKey(await scopeOfRepository(m.repositoryId, from), from.encryption), body);
      } catch (e) {
        if (e instanceof IntegrityError) throw new RegistryError('INTERNAL', 'stored manifest failed authentication', { digest: m.digest });
        throw e;
      }
    }
    // Sealed or from before encryption: the bytes must be the manifest the row names.
    const alg = digestAlgorithm(m.digest as Digest);
    if (`${alg}:${createHash(alg).update(body).digest('hex')}` !== m.digest) throw new RegistryError('INTERNAL', 'stored manifest does not match its digest', { digest: m.digest });
    return { ...m, body };
  }

  function wrap(store: MetadataStore): MetadataStore {
    const manifests = store.manifests;
    return {
      ...store,
      manifests: {
        ...manifests,
        async put(manifest: NewManifest, references) {
          if (!options.encryptWrites) return manifests.put(manifest, references);
          const sealed = await seal(await scopeOfRepository(manifest.repositoryId, store), manifest.body, store);
          return manifests.put({ ...manifest, body: sealed }, references);
        },
        async get(repositoryId, digest) {
          const m = await manifests.get(repositoryId, digest);
          return m && open(m, store);
        },
        async getByTag(repositoryId, tag) {
          const m = await manifests.getByTag(repositoryId, tag);
          return m && open(m, store);
        },
      },
      transaction: (fn) => store.transaction((tx) => fn(wrap(tx))),
    };
  }

  return {
    async blobsFor(repo) {
      return blobs.scoped(await scopeOfRepository(repo.id));
    },

    async prepare(name, requested) {
      const { encryptionType, kmsKey } = await scopes.prepareRepository(name, requested);
      return { encryptionType, kmsKey };
    },

    async released(settings) {
      const scope = scopeOf(settings);
      if (scope === REGISTRY_SCOPE) return;
      if ((await meta.encryption.repositoriesUsingKey(scope)) > 0) return;
      await blobs.dropScopeObjects(scope);
      await scopes.shred(scope);
    },

    sealManifests: wrap,
  };
}

/** The encryption part of repository settings, as the repository service hands it over. */
export function encryptionOf(s: Pick<RepositorySettings, 'encryptionType' | 'kmsKey'>): RepositoryEncryption {
  return { encryptionType: s.encryptionType, kmsKey: s.kmsKey };
}
