import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.ts';
import type { BlobStore } from './blob-store.ts';
import { createFsBlobStore } from './drivers/fs.ts';

/**
 * Opens the blob store the config names, for the server and for CLI commands that touch storage
 * (`cargohold gc`), so the choice of driver lives in one place. Embedded default: `<dataDir>/blobs`.
 */
export async function openBlobStore(config: Readonly<Config>): Promise<BlobStore> {
  return createFsBlobStore({ root: join(resolve(config.dataDir), 'blobs') });
}
