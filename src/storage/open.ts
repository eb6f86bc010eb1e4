import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.ts';
import type { BlobStore } from './blob-store.ts';
import { createFsBlobStore } from './drivers/fs.ts';
import { openS3BlobStore } from './drivers/s3-open.ts';

/**
 * Opens the blob store the config names, for the server and for CLI commands that touch storage
 * (`cargohold gc`), so the choice of driver lives in one place. Embedded default: `<dataDir>/blobs`;
 * `storage.driver: s3` opens the bucket of `storage.s3` (checked at open).
 */
export async function openBlobStore(config: Readonly<Config>): Promise<BlobStore> {
  if (config.storage.driver === 's3' && config.storage.s3) return openS3BlobStore(config.storage.s3);
  return createFsBlobStore({ root: join(resolve(config.dataDir), 'blobs') });
}
