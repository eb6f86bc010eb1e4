import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

/** Where and how to reach an S3-compatible bucket (the `storage.s3` config section, minus driver tuning). */
export interface S3ConnectionOptions {
  bucket: string;
  region: string;
  /** Custom endpoint (RGW, MinIO, …); omit for AWS. */
  endpoint?: string;
  /** Path-style addressing (`endpoint/bucket/key`), which most self-hosted servers need. */
  forcePathStyle: boolean;
  /** Static credentials; when absent the SDK's default chain applies (env, shared files, instance/role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Attempts per request, first try included; throttling and 5xx are retried with backoff and jitter. */
  maxAttempts: number;
}

/**
 * One S3 client for the driver. Retries use the SDK's `standard` strategy (exponential backoff with jitter,
 * throttling errors and 5xx included). Checksums are computed only when an operation requires them: the
 * SDK's default (aws-chunked bodies with trailing checksums) is refused by several S3-compatible servers,
 * and the driver verifies content by digest itself.
 */
export function createS3Client(options: S3ConnectionOptions): S3Client {
  const config: S3ClientConfig = {
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    maxAttempts: options.maxAttempts,
    retryMode: 'standard',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  if (options.endpoint) config.endpoint = options.endpoint;
  if (options.credentials) config.credentials = options.credentials;
  return new S3Client(config);
}

/** Status code of an SDK error (undefined for non-HTTP failures). */
export function s3Status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** Error name of an SDK error (`NoSuchKey`, `PreconditionFailed`, …). */
export function s3ErrorName(err: unknown): string | undefined {
  return (err as { name?: string } | undefined)?.name;
}

/** True for "the object is not there" (GET/HEAD 404, NoSuchKey, NotFound). */
export function isMissing(err: unknown): boolean {
  const name = s3ErrorName(err);
  return s3Status(err) === 404 || name === 'NoSuchKey' || name === 'NotFound';
}
