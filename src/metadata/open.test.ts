import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { validateConfig } from '../config/load.ts';
import { knownSchemaVersion, SchemaBehindError } from './migrations/index.ts';
import { metadataSchemaStatus, migrateMetadata, openMetadata } from './open.ts';

describe('openMetadata (SQLite)', () => {
  const root = mkdtempSync(join(tmpdir(), 'cargohold-open-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('with migrateOnStart: false refuses a database that is behind until `migrate` ran', async () => {
    const config = validateConfig({ dataDir: join(root, 'a'), database: { driver: 'sqlite', migrateOnStart: false } });
    assert.equal((await metadataSchemaStatus(config)).state, 'behind');
    await assert.rejects(openMetadata(config), SchemaBehindError);
    assert.equal((await migrateMetadata(config)).length > 0, true);
    assert.deepEqual(await migrateMetadata(config), []);
    assert.equal((await metadataSchemaStatus(config)).version, knownSchemaVersion);
    const meta = await openMetadata(config);
    await meta.close();
  });

  it('migrates on open by default (one process owns the file)', async () => {
    const config = validateConfig({ dataDir: join(root, 'b') });
    const meta = await openMetadata(config);
    await meta.close();
    assert.equal((await metadataSchemaStatus(config)).state, 'current');
  });

  it('the config refuses postgres without a url, and s3 without a bucket', () => {
    assert.throws(() => validateConfig({ database: { driver: 'postgres' } }), /database.url/);
    assert.throws(() => validateConfig({ storage: { driver: 's3' } }), /storage.s3/);
    assert.throws(() => validateConfig({ storage: { driver: 's3', s3: { bucket: 'my-bucket', accessKeyId: 'x' } } }), /both accessKeyId and secretAccessKey/);
    const ok = validateConfig({ database: { driver: 'postgres', url: 'postgres://u@h/db' }, storage: { driver: 's3', s3: { bucket: 'my-bucket' } } });
    assert.equal(ok.storage.s3?.partSizeMiB, 8);
    assert.equal(ok.storage.s3?.redirect.enabled, false);
    assert.deepEqual(ok.storage.s3?.reads, { windowMiB: 8, parallelGets: 3 });
    assert.equal(ok.database.migrateOnStart, undefined);
    assert.throws(() => validateConfig({ storage: { driver: 's3', s3: { bucket: 'my-bucket', reads: { parallelGets: 0 } } } }), /parallelGets/);
    assert.throws(() => validateConfig({ storage: { driver: 's3', s3: { bucket: 'my-bucket', reads: { windowMiB: 8, extra: 1 } } } }), /extra|Unrecognized/);
  });
});
