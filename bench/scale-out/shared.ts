import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { stringify } from 'yaml';
import { migratePostgres } from '../../src/metadata/dialects/postgres.ts';
import { freshDatabase, testPostgres } from '../../test/helpers/postgres.ts';
import { freshBucket, testS3, type TestS3 } from '../../test/helpers/s3.ts';
import type { PatternData } from '../lib/data.ts';
import { rawGet } from '../lib/raw-get.ts';

/** What the scale-out benches share: a fresh migrated PostgreSQL database and a fresh bucket on the test S3. */
export interface SharedBackends {
  db: { url: string; drop(): Promise<void> };
  s3: TestS3;
  bucket: string;
  /** A client for the bucket; the caller destroys it. */
  client: S3Client;
}

export async function sharedBackends(): Promise<SharedBackends> {
  const db = await freshDatabase(await testPostgres());
  await migratePostgres(db.url);
  const s3 = await testS3();
  const { bucket, client } = await freshBucket(s3);
  return { db, s3, bucket, client };
}

/** Writes a node config (PostgreSQL + S3) to `path`; `s3` overrides or adds storage.s3 settings. */
export async function writeNodeConfig(path: string, b: SharedBackends, s3: Record<string, unknown> = {}): Promise<string> {
  await writeFile(path, stringify({
    database: { driver: 'postgres', url: b.db.url },
    storage: { driver: 's3', s3: { bucket: b.bucket, endpoint: b.s3.endpoint, region: b.s3.region, forcePathStyle: true, accessKeyId: b.s3.accessKeyId, secretAccessKey: b.s3.secretAccessKey, ...s3 } },
  }));
  return path;
}

/** One full GET of `blob`'s bytes over a raw socket, hashed and checked as it arrives; MB/s (10^6 bytes). */
export async function timedPull(url: URL, headers: Record<string, string>, blob: PatternData): Promise<number> {
  const hash = createHash('sha256');
  const t0 = performance.now();
  const r = await rawGet(url, headers, (c) => hash.update(c));
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 200 || r.bodyBytes !== blob.size || `sha256:${hash.digest('hex')}` !== blob.digest()) throw new Error(`GET ${url.pathname}: status ${r.status}, ${r.bodyBytes} bytes`);
  return blob.size / seconds / 1e6;
}
