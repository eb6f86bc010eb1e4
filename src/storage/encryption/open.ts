import { join } from 'node:path';
import type { Clock } from '../../core/clock.ts';
import type { Config } from '../../config/schema.ts';
import type { MetadataStore } from '../../metadata/types.ts';
import { createRepositoryEncryption, type RepositoryEncryptionService } from '../../registry/encryption.ts';
import type { BlobStore } from '../blob-store.ts';
import { createEncryptedBlobStore } from './encrypted-store.ts';
import type { KeyProvider } from './key-provider.ts';
import { createKeyScopes, type KeyScopes } from './key-scopes.ts';
import { createAwsKmsProvider } from './providers/aws-kms.ts';
import { createLocalKeyring } from './providers/local-keyring.ts';

/** The configured KeyProvider: the keyring file in DATA_DIR/keys/, or AWS KMS. */
export function createKeyProvider(config: Readonly<Config>, dataDir: string): KeyProvider {
  const e = config.encryption;
  if (e.keyProvider === 'kms') {
    return createAwsKmsProvider({ region: e.kms.region ?? config.identity.region, endpoint: e.kms.endpoint, deletionWindowDays: e.kms.deletionWindowDays });
  }
  return createLocalKeyring({ path: join(dataDir, 'keys', 'keyring.json'), region: config.identity.region, accountId: config.identity.accountId });
}

/** Storage and metadata as the rest of the server sees them, with encryption at rest applied (or not). */
export interface EncryptionAtRest {
  blobs: BlobStore;
  meta: MetadataStore;
  /** Undefined when encryption is off and nothing was ever encrypted. */
  service?: RepositoryEncryptionService;
  scopes?: KeyScopes;
}

/**
 * Applies encryption at rest over a storage driver and a metadata store (composition root helper): on first
 * start creates the keyring (local provider) and the registry's key scope. With `encryption.enabled: false`
 * on a data directory that already holds encrypted data, the layer stays in place so that data stays
 * readable, and only new writes are plaintext.
 */
export async function openEncryptionAtRest(options: { config: Readonly<Config>; dataDir: string; inner: BlobStore; meta: MetadataStore; clock: Clock }): Promise<EncryptionAtRest> {
  const { config, dataDir, inner, meta, clock } = options;
  const enabled = config.encryption.enabled;
  if (!enabled && (await meta.encryption.listScopes({ limit: 1 })).length === 0) return { blobs: inner, meta };
  const scopes = createKeyScopes({ provider: createKeyProvider(config, dataDir), store: meta.encryption, clock });
  if (enabled) await scopes.ensureRegistryScope();
  const blobs = createEncryptedBlobStore({ inner, store: meta.encryption, scopes, clock, encryptWrites: enabled });
  const service = createRepositoryEncryption({ meta, blobs, scopes, encryptWrites: enabled });
  return { blobs, meta: service.sealManifests(meta), service, scopes };
}
