// Garbage collection on two nodes at once over one PostgreSQL database and one S3 bucket: every unreferenced
// blob is removed exactly once (no item reviewed or deleted twice), and storage ends with what is referenced.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { systemClock } from '../../src/core/clock.ts';
import { digestOf } from '../../src/core/digest.ts';
import { createGarbageCollector } from '../../src/gc/collector.ts';
import { createPostgresMetadata } from '../../src/metadata/dialects/postgres.ts';
import { bodyOf, collectAll } from '../../src/storage/contract-helpers.ts';
import { createS3BlobStore } from '../../src/storage/drivers/s3.ts';
import { freshDatabase, skipUnlessPostgres, stopTestPostgres, testPostgres } from '../helpers/postgres.ts';
import { freshBucket, skipUnlessS3, stopTestS3, testS3 } from '../helpers/s3.ts';

const skip = skipUnlessPostgres() || skipUnlessS3();

describe('scale-out: GC on two nodes', { skip, timeout: 5 * 60_000 }, () => {
  after(async () => {
    await stopTestPostgres();
    await stopTestS3();
  });

  it('two collectors running at once remove each unreferenced blob once and keep the referenced ones', async () => {
    const db = await freshDatabase(await testPostgres());
    const { bucket, client } = await freshBucket(await testS3());
    const metas = [await createPostgresMetadata({ url: db.url, migrations: 'apply' }), await createPostgresMetadata({ url: db.url })];
    const stores = metas.map(() => createS3BlobStore({ client, bucket, prefix: 'gc' }));
    try {
      const [meta, blobs] = [metas[0], stores[0]];
      const at = new Date(Date.now() - 60_000);
      const doomed = await meta.repositories.create('doomed', at);
      const kept = await meta.repositories.create('kept', at);
      const contents = Array.from({ length: 40 }, (_, i) => randomBytes(64 + i));
      for (const [i, c] of contents.entries()) {
        const d = digestOf(c);
        await blobs.putBlob(d, bodyOf(c, 1024));
        await meta.blobs.put(d, c.length, 'application/octet-stream', at);
        await meta.blobs.link(i < 30 ? doomed.id : kept.id, d, at);
      }
      // Only "kept" keeps blobs 30..39 alive, through a manifest that lists them.
      const keptDigests = contents.slice(30).map((c) => digestOf(c));
      const manifestBody = Buffer.from(JSON.stringify({ schemaVersion: 2, layers: keptDigests }));
      await meta.manifests.put({
        repositoryId: kept.id, digest: digestOf(manifestBody), mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: null,
        subjectDigest: null, annotations: null, size: manifestBody.length, body: manifestBody, pushedAt: at,
      }, keptDigests.map((d) => ({ digest: d, kind: 'blob' as const, size: 1, mediaType: 'application/octet-stream' })));
      await meta.tags.set(kept.id, 'v1', digestOf(manifestBody), at);
      await meta.repositories.delete(doomed.id);

      const log = pino({ level: 'silent' });
      const collectors = metas.map((m, i) => createGarbageCollector({ meta: m, blobs: stores[i], clock: systemClock, log, gracePeriodMs: 0, batchSize: 5 }));
      // Each pass schedules then reviews; two rounds on both nodes at once settle everything due.
      const reports = [];
      for (let round = 0; round < 2; round++) reports.push(...(await Promise.all(collectors.map((g) => g.run({ list: true })))));
      const removedBlobs = reports.flatMap((r) => r.deletions.filter((d) => d.kind === 'blob').map((d) => d.digest));
      const doomedDigests = contents.slice(0, 30).map((c) => digestOf(c));
      assert.equal(new Set(removedBlobs).size, removedBlobs.length, 'no blob removed twice');
      assert.deepEqual([...removedBlobs].sort(), [...doomedDigests].sort());
      assert.deepEqual((await collectAll(stores[1].list())).map((b) => b.digest).sort(), [...keptDigests].sort());
      for (const d of keptDigests) assert.ok(await metas[1].blobs.getLinked(kept.id, d));
    } finally {
      for (const m of metas) await m.close();
      client.destroy();
      await db.drop();
    }
  });
});
