import {
  CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, GenerateDataKeyCommand, KMSClient, ScheduleKeyDeletionCommand, type KMSClientConfig,
} from '@aws-sdk/client-kms';
import { KeyProviderError, type KeyProvider } from '../key-provider.ts';

export interface AwsKmsOptions {
  region: string;
  /** Another endpoint (a KMS-compatible test server, a VPC endpoint). */
  endpoint?: string;
  /** Static credentials; otherwise the AWS SDK's default chain (environment, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Days before a destroyed key is deleted (KMS allows 7–30); it is disabled at once. */
  deletionWindowDays?: number;
}

/**
 * The AWS KMS KeyProvider: KEKs are KMS keys (CreateKey), data keys come from GenerateDataKey and are
 * wrapped/unwrapped with Encrypt/Decrypt under an encryption context. `rotate` leaves the key material to
 * KMS (automatic or on-demand rotation is configured on the key in AWS; Decrypt keeps working for older
 * material) — re-wrapping with Encrypt moves every data key onto the current material. `destroy` schedules
 * the key's deletion (KMS's minimum window is 7 days; the key is unusable from the moment it is scheduled).
 */
export function createAwsKmsProvider(options: AwsKmsOptions): KeyProvider {
  const config: KMSClientConfig = { region: options.region, maxAttempts: 3 };
  if (options.endpoint) config.endpoint = options.endpoint;
  if (options.credentials) config.credentials = options.credentials;
  const kms = new KMSClient(config);

  async function call<T>(what: string, keyId: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const name = (e as { name?: string }).name ?? 'Error';
      if (name === 'NotFoundException') throw new KeyProviderError(`KMS key ${keyId} was not found`, 'KEY_UNKNOWN', { cause: e });
      if (name === 'DisabledException' || name === 'KMSInvalidStateException' || name === 'AccessDeniedException') {
        throw new KeyProviderError(`KMS key ${keyId} cannot be used (${name})`, 'KEY_UNUSABLE', { cause: e });
      }
      if (name === 'InvalidCiphertextException' || name === 'IncorrectKeyException') throw new KeyProviderError(`wrapped key does not decrypt under ${keyId}`, 'UNWRAP_FAILED', { cause: e });
      throw new KeyProviderError(`KMS ${what} failed (${name})`, 'PROVIDER_FAILED', { cause: e });
    }
  }

  return {
    kind: 'kms',

    async create(description) {
      const out = await call('CreateKey', '(new)', () => kms.send(new CreateKeyCommand({ Description: description, KeyUsage: 'ENCRYPT_DECRYPT', KeySpec: 'SYMMETRIC_DEFAULT', Tags: [{ TagKey: 'created-by', TagValue: 'cargohold' }] })));
      const arn = out.KeyMetadata?.Arn;
      if (!arn) throw new KeyProviderError('KMS CreateKey returned no key ARN', 'PROVIDER_FAILED');
      return arn;
    },

    async generateDataKey(keyId, context) {
      const out = await call('GenerateDataKey', keyId, () => kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context })));
      if (!out.Plaintext || !out.CiphertextBlob) throw new KeyProviderError('KMS GenerateDataKey returned no key', 'PROVIDER_FAILED');
      return { plaintext: Buffer.from(out.Plaintext), wrapped: Buffer.from(out.CiphertextBlob) };
    },

    async wrap(keyId, dataKey, context) {
      const out = await call('Encrypt', keyId, () => kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: dataKey, EncryptionContext: context })));
      if (!out.CiphertextBlob) throw new KeyProviderError('KMS Encrypt returned no ciphertext', 'PROVIDER_FAILED');
      return Buffer.from(out.CiphertextBlob);
    },

    async unwrap(keyId, wrapped, context) {
      const out = await call('Decrypt', keyId, () => kms.send(new DecryptCommand({ KeyId: keyId, CiphertextBlob: wrapped, EncryptionContext: context })));
      if (!out.Plaintext) throw new KeyProviderError('KMS Decrypt returned no plaintext', 'PROVIDER_FAILED');
      return Buffer.from(out.Plaintext);
    },

    async rotate(keyId) {
      // Key material rotation is KMS's (EnableKeyRotation / RotateKeyOnDemand on the key); check the key is usable.
      const out = await call('DescribeKey', keyId, () => kms.send(new DescribeKeyCommand({ KeyId: keyId })));
      if (out.KeyMetadata?.KeyState !== 'Enabled') throw new KeyProviderError(`KMS key ${keyId} is ${out.KeyMetadata?.KeyState ?? 'unknown'}`, 'KEY_UNUSABLE');
    },

    async destroy(keyId) {
      // By key id: ScheduleKeyDeletion works on the caller's own keys only, so the id names the same key as the ARN.
      const id = keyId.includes(':key/') ? keyId.slice(keyId.indexOf(':key/') + 5) : keyId;
      await call('ScheduleKeyDeletion', keyId, () => kms.send(new ScheduleKeyDeletionCommand({ KeyId: id, PendingWindowInDays: options.deletionWindowDays ?? 7 })));
    },

    async exists(keyId) {
      try {
        const out = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
        return out.KeyMetadata?.KeyState === 'Enabled';
      } catch (e) {
        const name = (e as { name?: string }).name;
        if (name === 'NotFoundException' || name === 'InvalidArnException') return false;
        throw new KeyProviderError(`KMS DescribeKey failed (${name ?? 'Error'})`, 'PROVIDER_FAILED', { cause: e });
      }
    },
  };
}
