import { resolve } from 'node:path';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { openMetadata } from '../metadata/open.ts';
import type { MetadataStore } from '../metadata/types.ts';

/** The options every data-directory command takes. */
export interface DataOptions {
  config?: string;
  dataDir?: string;
}

/** What a CLI command works on: the effective config and the metadata database it names. */
export interface OpenedData {
  config: Readonly<Config>;
  dataDir: string;
  meta: MetadataStore;
}

/**
 * Loads the config (file → env → --data-dir) and opens its metadata database for one command, closing it
 * afterwards. Safe while the server runs (SQLite WAL; PostgreSQL). Commands should use this instead of
 * opening a dialect themselves.
 */
export async function withData<T>(opts: DataOptions, fn: (data: OpenedData) => Promise<T>): Promise<T> {
  const config = loadConfig({ file: opts.config, env: process.env, overrides: { dataDir: opts.dataDir } });
  const meta = await openMetadata(config);
  try {
    return await fn({ config, dataDir: resolve(config.dataDir), meta });
  } finally {
    await meta.close();
  }
}
