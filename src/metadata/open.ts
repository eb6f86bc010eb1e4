import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.ts';
import { createSqliteMetadata } from './dialects/sqlite.ts';
import type { MetadataStore } from './types.ts';

/**
 * Opens the metadata database the config names (migrated), for the server and for every CLI command, so the
 * choice of dialect lives in one place. Embedded default: `<dataDir>/metadata.sqlite`.
 */
export async function openMetadata(config: Readonly<Config>): Promise<MetadataStore> {
  return createSqliteMetadata({ path: join(resolve(config.dataDir), 'metadata.sqlite') });
}
