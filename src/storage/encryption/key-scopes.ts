import { createHmac, hkdfSync } from 'node:crypto';
import type { Clock } from '../../core/clock.ts';
import { RegistryError } from '../../core/errors.ts';
import type { EncryptionScopeRecord, EncryptionStore } from '../../metadata/encryption-types.ts';
import { KeyProviderError, type KeyProvider } from './key-provider.ts';
import { setBounded } from '../../core/bounded-map.ts';

/** The scope of every repository with `encryptionType: AES256`: the registry's own key. */
export const REGISTRY_SCOPE = 'registry';

/** What a repository's encryption settings say about its key (ECR `encryptionConfiguration`). */
export interface RepositoryEncryption {
  encryptionType: string;
  kmsKey: string | null;
}

/** The scope a repository's blobs and manifests are encrypted in. */
export function scopeOf(e: RepositoryEncryption): string {
  return e.encryptionType === 'AES256' || !e.kmsKey ? REGISTRY_SCOPE : e.kmsKey;
}

/**
 * Key scopes: each scope has one random 256-bit data key, stored only wrapped by the scope's key-encryption
 * key (KEK) in the KeyProvider. Blobs derive a per-part key from it (format.ts), so re-wrapping the scope's
 * data key (rotation) never touches a blob, and dropping the wrapped key (crypto-shredding) makes every
 * object of the scope unreadable.
 */
export interface KeyScopes {
  readonly provider: KeyProvider;
  /** Creates the registry scope (and its KEK) on first start. */
  ensureRegistryScope(): Promise<void>;
  /**
   * The scope's data key (unwrapped once, then cached). RegistryError INTERNAL when the scope is gone. `via`:
   * the metadata handle to read with (a transaction's, when called inside one: SQLite has one writer connection).
   */
  dataKey(scopeId: string, via?: EncryptionStore): Promise<Buffer>;
  /** MAC key for object records of a scope (derived from the data key). */
  macKey(scopeId: string): Promise<Buffer>;
  /**
   * Resolves a repository's requested encryption before it is created: AES256 stays on the registry key;
   * KMS with `kmsKey` checks that the key exists and makes a scope for it; KMS without one creates a key.
   * KMS_ERROR (ECR KmsException) when the key is unknown or unusable.
   */
  prepareRepository(name: string, requested: RepositoryEncryption): Promise<RepositoryEncryption & { created: boolean }>;
  /** Makes sure a scope exists for a key id (its data key generated under that KEK); `via` as for dataKey. */
  ensureScope(keyId: string, owned: boolean, via?: EncryptionStore): Promise<EncryptionScopeRecord>;
  /** Forgets a scope: drops its wrapped data key and, when cargohold created the KEK, destroys the KEK. */
  shred(scopeId: string): Promise<void>;
  /** Rotates every KEK cargohold uses and re-wraps each scope's data key under the new material. */
  rotateAll(): Promise<{ scopes: number }>;
}

export interface KeyScopesOptions {
  provider: KeyProvider;
  store: EncryptionStore;
  clock: Clock;
}

const MAC_INFO = Buffer.from('cargohold object record mac v1', 'latin1');

export function createKeyScopes(options: KeyScopesOptions): KeyScopes {
  const { provider, store, clock } = options;
  const keys = new Map<string, Buffer>();
  const macs = new Map<string, Buffer>();
  const context = (scopeId: string) => ({ 'cargohold:scope': scopeId });

  function kmsError(message: string, cause?: unknown): RegistryError {
    const e = new RegistryError('KMS_ERROR', message);
    if (cause) (e as Error).cause = cause;
    return e;
  }

  async function ensureScope(keyId: string, owned: boolean, id = keyId, via: EncryptionStore = store): Promise<EncryptionScopeRecord> {
    const existing = await via.getScope(id);
    if (existing) return existing;
    const { plaintext, wrapped } = await provider.generateDataKey(keyId, context(id));
    const record = { id, keyId, provider: provider.kind, wrappedKey: wrapped, owned, createdAt: clock.now() };
    const { created } = await via.putScope(record);
    if (created) {
      keys.set(id, plaintext);
      return { ...record, rotatedAt: null };
    }
    const winner = await via.getScope(id); // a concurrent start created it first
    if (!winner) throw new Error(`key scope ${id} vanished while being created`);
    return winner;
  }

  async function dataKey(scopeId: string, via: EncryptionStore = store): Promise<Buffer> {
    const cached = keys.get(scopeId);
    if (cached) return cached;
    const scope = await via.getScope(scopeId);
    if (!scope) throw new RegistryError('INTERNAL', 'the key of this data no longer exists', { scope: scopeId });
    let key: Buffer;
    try {
      key = await provider.unwrap(scope.keyId, scope.wrappedKey, context(scopeId));
    } catch (e) {
      throw new RegistryError('INTERNAL', 'the data key of this scope cannot be unwrapped', { scope: scopeId, reason: e instanceof KeyProviderError ? e.code : 'error' });
    }
    return setBounded(keys, scopeId, key, 10_000);
  }

  return {
    provider,

    async ensureRegistryScope() {
      if (await store.getScope(REGISTRY_SCOPE)) {
        await dataKey(REGISTRY_SCOPE); // unwrapped at start: a KMS or keyring problem shows now, not on the first push
        return;
      }
      const keyId = await provider.create('cargohold registry key (AES256 repositories)');
      const scope = await ensureScope(keyId, true, REGISTRY_SCOPE);
      // Lost a race with another node: our new KEK is unused.
      if (scope.keyId !== keyId) await provider.destroy(keyId).catch(() => undefined);
    },

    dataKey,

    async macKey(scopeId) {
      const cached = macs.get(scopeId);
      if (cached) return cached;
      const key = Buffer.from(hkdfSync('sha256', await dataKey(scopeId), Buffer.alloc(0), MAC_INFO, 32));
      macs.set(scopeId, key);
      return key;
    },

    async prepareRepository(name, requested) {
      if (requested.encryptionType === 'AES256') return { encryptionType: 'AES256', kmsKey: null, created: false };
      try {
        if (requested.kmsKey) {
          if (!(await provider.exists(requested.kmsKey))) throw kmsError(`KMS key ${requested.kmsKey} does not exist or is not enabled`);
          await ensureScope(requested.kmsKey, false);
          return { encryptionType: requested.encryptionType, kmsKey: requested.kmsKey, created: false };
        }
        const keyId = await provider.create(`cargohold key of repository ${name}`);
        await ensureScope(keyId, true);
        return { encryptionType: requested.encryptionType, kmsKey: keyId, created: true };
      } catch (e) {
        if (e instanceof KeyProviderError) throw kmsError(e.message, e);
        throw e;
      }
    },

    ensureScope: (keyId, owned, via) => ensureScope(keyId, owned, keyId, via),

    async shred(scopeId) {
      if (scopeId === REGISTRY_SCOPE) throw new Error('the registry scope is never shredded');
      const scope = await store.getScope(scopeId);
      keys.delete(scopeId);
      macs.delete(scopeId);
      if (!scope) return;
      await store.deleteScope(scopeId);
      if (scope.owned) await provider.destroy(scope.keyId);
    },

    async rotateAll() {
      let last: string | undefined;
      let count = 0;
      const rotated = new Set<string>();
      for (let page = 0; page < 1_000_000; page++) {
        const scopes = await store.listScopes({ last, limit: 100 });
        if (!scopes.length) break;
        for (const s of scopes) {
          last = s.id;
          if (s.provider !== provider.kind) continue; // another provider's key: not ours to rotate here
          const key = await provider.unwrap(s.keyId, s.wrappedKey, context(s.id));
          if (!rotated.has(s.keyId)) {
            await provider.rotate(s.keyId);
            rotated.add(s.keyId);
          }
          await store.rewrapScope(s.id, await provider.wrap(s.keyId, key, context(s.id)), clock.now());
          count++;
        }
      }
      return { scopes: count };
    },
  };
}

/** MAC of an object record: binds the stored parts to the scope, the digest and the size. */
export function objectMac(macKey: Buffer, scopeId: string, digest: string, size: number, parts: string): Buffer {
  return createHmac('sha256', macKey).update(`${scopeId}\n${digest}\n${size}\n${parts}`).digest();
}
