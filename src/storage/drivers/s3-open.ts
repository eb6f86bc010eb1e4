import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import type { Config } from '../../config/schema.ts';
import type { BlobStore } from '../blob-store.ts';
import { createS3BlobStore } from './s3.ts';
import { createS3Client, s3Status } from './s3-client.ts';

type S3Settings = NonNullable<Config['storage']['s3']>;

/**
 * Opens the S3 driver from the `storage.s3` config section: one client (static credentials when configured,
 * else the AWS default chain), then checks that the bucket answers (HeadBucket) so a wrong endpoint, bucket
 * or credential fails the start with a clear message instead of the first push. Creates the bucket when
 * `createBucket` is set and it is missing.
 */
export async function openS3BlobStore(settings: S3Settings): Promise<BlobStore> {
  const client = createS3Client({
    bucket: settings.bucket,
    region: settings.region,
    endpoint: settings.endpoint,
    forcePathStyle: settings.forcePathStyle,
    credentials: settings.accessKeyId && settings.secretAccessKey
      ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey, sessionToken: settings.sessionToken }
      : undefined,
    maxAttempts: settings.maxAttempts,
  });
  const where = `s3://${settings.bucket}${settings.endpoint ? ` at ${settings.endpoint}` : ` in ${settings.region}`}`;
  try {
    await client.send(new HeadBucketCommand({ Bucket: settings.bucket }));
  } catch (err) {
    const status = s3Status(err);
    if (status === 404 && settings.createBucket) {
      await client.send(new CreateBucketCommand({ Bucket: settings.bucket }));
    } else {
      client.destroy();
      const why = status === 404 ? 'does not exist (create it, or set storage.s3.createBucket: true)'
        : status === 403 ? 'refuses these credentials (403)'
        : `is unreachable: ${(err as Error).message}`;
      throw Object.assign(new Error(`blob storage ${where} ${why}`), { userError: true });
    }
  }
  const store = createS3BlobStore({ client, bucket: settings.bucket, prefix: settings.prefix, partSize: settings.partSizeMiB * 1024 * 1024, reads: { windowBytes: settings.reads.windowMiB * 1024 * 1024, parallel: settings.reads.parallelGets } });
  return {
    ...store,
    async close() {
      await store.close();
      client.destroy();
    },
  };
}
