/**
 * Where key-encryption keys (KEKs) live. A KEK never leaves its provider: cargohold hands it data keys to wrap
 * and wrapped data keys to unwrap. Every implementation passes `key-provider.contract.ts`.
 *
 * Contract:
 * - `create` makes a new symmetric KEK and returns its id (an ARN-shaped string: the id a repository's
 *   `encryptionConfiguration.kmsKey` reports).
 * - `wrap(keyId, dataKey, context)` returns an opaque blob that only `unwrap` with the same key id and the
 *   same context turns back into `dataKey`; a different context, key or a changed byte fails.
 * - `rotate(keyId)` makes later `wrap` calls use new key material; blobs wrapped before still unwrap, so
 *   callers re-wrap at their own pace (`cargohold keys rotate` re-wraps every data key at once).
 * - `destroy(keyId)` makes every blob wrapped under the key impossible to unwrap (crypto-shredding). For a
 *   remote KMS this may be a scheduled deletion; the key is disabled at once.
 * - `exists(keyId)` tells whether the key can be used now.
 * - Failures are `KeyProviderError`s with a message fit for a client (never key material).
 */
export interface KeyProvider {
  /** `local` (keyring file) or `kms` (AWS KMS). */
  readonly kind: 'local' | 'kms';
  create(description: string): Promise<string>;
  /** A fresh random 256-bit data key and its wrapped form (KMS GenerateDataKey). */
  generateDataKey(keyId: string, context: Record<string, string>): Promise<{ plaintext: Buffer; wrapped: Buffer }>;
  wrap(keyId: string, dataKey: Buffer, context: Record<string, string>): Promise<Buffer>;
  unwrap(keyId: string, wrapped: Buffer, context: Record<string, string>): Promise<Buffer>;
  rotate(keyId: string): Promise<void>;
  destroy(keyId: string): Promise<void>;
  exists(keyId: string): Promise<boolean>;
}

/** A provider failure: unknown or disabled key, access denied, unwrap failed. */
export class KeyProviderError extends Error {
  constructor(message: string, readonly code: 'KEY_UNKNOWN' | 'KEY_UNUSABLE' | 'UNWRAP_FAILED' | 'PROVIDER_FAILED', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeyProviderError';
  }
}
