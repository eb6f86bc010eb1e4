/** Contracts of `meta.encryption` (migration 0009; see docs/encryption.md). */

/** A key scope: the data key that encrypts the objects of the repositories sharing one key-encryption key. */
export interface EncryptionScopeRecord {
  /** `registry` (AES256 repositories) or the key id of a repository's own key. */
  id: string;
  /** The key-encryption key in the provider (ARN-shaped). */
  keyId: string;
  /** Provider kind that holds `keyId` (local, kms). */
  provider: string;
  /** The scope's data key, wrapped by `keyId` (opaque to the store). */
  wrappedKey: Buffer;
  /** Whether cargohold created the key (then deleting its last repository destroys it). */
  owned: boolean;
  createdAt: Date;
  rotatedAt: Date | null;
}

/** One blob as stored in a scope: its parts (JSON, see storage/encryption) and a MAC binding them to the digest. */
export interface EncryptedObjectRecord {
  scopeId: string;
  digest: string;
  size: number;
  parts: string;
  mac: Buffer;
  createdAt: Date;
}

/** An encrypted upload session: the parts written so far (JSON) and their plaintext size. */
export interface EncryptedUploadRecord {
  id: string;
  scopeId: string;
  size: number;
  parts: string;
  updatedAt: Date;
}

/** `meta.encryption`: key scopes, encrypted objects and upload state. Deleting a scope cascades to its objects and uploads. */
export interface EncryptionStore {
  getScope(id: string): Promise<EncryptionScopeRecord | undefined>;
  /** Inserts a scope unless one with the id exists (then created=false: a concurrent start won). */
  putScope(record: Omit<EncryptionScopeRecord, 'rotatedAt'>): Promise<{ created: boolean }>;
  listScopes(page: { last?: string; limit: number }): Promise<EncryptionScopeRecord[]>;
  /** Replaces a scope's wrapped data key (rotation); false when the scope is gone. */
  rewrapScope(id: string, wrappedKey: Buffer, at: Date): Promise<boolean>;
  deleteScope(id: string): Promise<boolean>;
  getObject(scopeId: string, digest: string): Promise<EncryptedObjectRecord | undefined>;
  /** Inserts unless the scope already holds the digest (created=false: keep the existing one). */
  putObject(record: EncryptedObjectRecord): Promise<{ created: boolean }>;
  deleteObject(scopeId: string, digest: string): Promise<boolean>;
  /** Every scope's copy of a digest (bounded). */
  objectsFor(digest: string): Promise<EncryptedObjectRecord[]>;
  /** A scope's objects in digest order after `last`. */
  listObjects(scopeId: string, page: { last?: string; limit: number }): Promise<EncryptedObjectRecord[]>;
  getUpload(id: string): Promise<EncryptedUploadRecord | undefined>;
  /** Creates or replaces an upload's state. */
  putUpload(record: EncryptedUploadRecord): Promise<void>;
  deleteUpload(id: string): Promise<boolean>;
  /** How many repositories are encrypted under `keyId` (their KMS key), from their ECR settings. */
  repositoriesUsingKey(keyId: string): Promise<number>;
  /** Upload states in id order after `last`. */
  listUploads(page: { last?: string; limit: number }): Promise<EncryptedUploadRecord[]>;
}
