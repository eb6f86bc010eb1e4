import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import pino from 'pino';
import { freshDatabase, skipUnlessPostgres, stopTestPostgres, testPostgres, truncateAll } from '../../../test/helpers/postgres.ts';
import { systemClock } from '../../core/clock.ts';
import { isRegistryError } from '../../core/errors.ts';
import { createJobRunner } from '../../jobs/runner.ts';
import { at, dg, pushImage } from '../contract/fixtures.ts';
import { runMetadataContract } from '../metadata.contract.ts';
import { knownSchemaVersion, migrate, migrations, schemaStatus, SchemaTooNewError } from '../migrations/index.ts';
import { createPostgresKysely, createPostgresMetadata, migratePostgres, postgresSchemaStatus, SchemaBehindError } from './postgres.ts';

const skip = skipUnlessPostgres();

describe('PostgreSQL metadata', { skip }, () => {
  after(() => stopTestPostgres());

  /** A migrated store over a fresh database, dropped afterwards. */
  async function fresh(poolSize?: number) {
    const db = await freshDatabase(await testPostgres());
    const store = await createPostgresMetadata({ url: db.url, migrations: 'apply', poolSize });
    return { store, url: db.url, cleanup: async () => { await store.close(); await db.drop(); } };
  }

  // One migrated database for the whole contract suite, emptied before each case.
  let contractDb: Promise<string> | undefined;
  runMetadataContract('postgres', async () => {
    contractDb ??= (async () => {
      const { url } = await freshDatabase(await testPostgres());
      await migratePostgres(url);
      return url;
    })();
    const url = await contractDb;
    await truncateAll(url);
    const store = await createPostgresMetadata({ url });
    return { store, cleanup: () => store.close() };
  });

  describe('migrations', () => {
    it('an empty database is behind; serve-style open refuses it, migrate applies every version once', async () => {
      const db = await freshDatabase(await testPostgres());
      try {
        assert.deepEqual(await postgresSchemaStatus(db.url), { state: 'behind', version: 0, known: knownSchemaVersion, pending: migrations.map((m) => m.version), unknown: [] });
        await assert.rejects(createPostgresMetadata({ url: db.url }), SchemaBehindError);
        // Two nodes migrating at once: each version is applied exactly once, both end current.
        const [a, b] = await Promise.all([migratePostgres(db.url), migratePostgres(db.url)]);
        assert.deepEqual([...a, ...b].sort((x, y) => x - y), migrations.map((m) => m.version));
        assert.equal((await postgresSchemaStatus(db.url)).state, 'current');
        const store = await createPostgresMetadata({ url: db.url });
        await store.close();
      } finally {
        await db.drop();
      }
    });

    it('a database migrated by a newer build is refused whatever the migration setting', async () => {
      const db = await freshDatabase(await testPostgres());
      const k = createPostgresKysely({ url: db.url });
      try {
        await migrate(k);
        await k.insertInto('migrations').values({ version: knownSchemaVersion + 1, name: 'from-the-future', applied_at: 0 }).execute();
        assert.equal((await schemaStatus(k)).state, 'ahead');
        await assert.rejects(createPostgresMetadata({ url: db.url }), SchemaTooNewError);
        await assert.rejects(createPostgresMetadata({ url: db.url, migrations: 'apply' }), SchemaTooNewError);
        await assert.rejects(migratePostgres(db.url), SchemaTooNewError);
      } finally {
        await k.destroy();
        await db.drop();
      }
    });

    it('names and digests sort in byte order whatever the database collation', async () => {
      const { store, url, cleanup } = await fresh();
      const k = createPostgresKysely({ url });
      try {
        const collation = await sql<{ c: string }>`select datcollate as c from pg_database where datname = current_database()`.execute(k);
        assert.ok(collation.rows[0].c.length > 0);
        for (const n of ['b', 'B', 'a-c', 'a_c', 'a/c']) await store.repositories.create(n, at(0));
        assert.deepEqual(await store.repositories.list({ limit: 10 }), ['B', 'a-c', 'a/c', 'a_c', 'b']);
      } finally {
        await k.destroy();
        await cleanup();
      }
    });
  });

  describe('concurrency (several connections, as several nodes)', () => {
    it('racing creates of one repository name: exactly one wins, the others see REPOSITORY_EXISTS', async () => {
      const { store, cleanup } = await fresh(8);
      try {
        const results = await Promise.allSettled(Array.from({ length: 8 }, () => store.repositories.create('race', at(1))));
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        for (const r of results) if (r.status === 'rejected') assert.ok(isRegistryError(r.reason) && r.reason.kind === 'REPOSITORY_EXISTS');
        const ids = new Set((await Promise.all(Array.from({ length: 8 }, () => store.repositories.getOrCreate('race', at(2))))).map((x) => x.id));
        assert.equal(ids.size, 1);
        assert.equal(await store.repositories.count(), 1);
      } finally {
        await cleanup();
      }
    });

    it('racing moves of one tag: every previous value is reported once (a chain), one final winner', async () => {
      const { store, cleanup } = await fresh(10);
      try {
        const r = await store.repositories.create('r', at(0));
        const digests: string[] = [];
        for (let i = 0; i < 10; i++) digests.push(await pushImage(store, r.id, `m${i}`, [`l${i}`]));
        // Several rounds, each on a tag that does not exist yet (the first moves race on a missing row).
        for (let round = 0; round < 5; round++) {
          const tag = `latest-${round}`;
          const results = await Promise.all(digests.map((d, i) => store.tags.set(r.id, tag, d, at(10 + i))));
          // Moves of one tag are serialised: the previous values form a chain starting at null.
          const previous = results.map((x) => x.previous);
          assert.equal(previous.filter((p) => p === null).length, 1, `round ${round}: exactly one move saw no previous value`);
          const nonNull = previous.filter((p): p is string => p !== null);
          assert.equal(new Set(nonNull).size, nonNull.length, 'no previous value reported twice');
          const final = await store.tags.get(r.id, tag);
          assert.ok(final && digests.includes(final));
          assert.ok(!nonNull.includes(final), 'the winner was never overwritten');
        }
        assert.equal(await store.tags.count(r.id), 5);
      } finally {
        await cleanup();
      }
    });

    it('job runners on two nodes drain one queue: every job runs exactly once', async () => {
      const { store: nodeA, url, cleanup } = await fresh(6);
      const nodeB = await createPostgresMetadata({ url, poolSize: 6 });
      try {
        const log = pino({ level: 'silent' });
        const ran = new Map<number, string[]>();
        const runners = [nodeA, nodeB].map((meta, i) => {
          const runner = createJobRunner({ meta, clock: systemClock, log, owner: `node-${i}`, pollIntervalMs: 50 });
          runner.register('test.once', async (job) => {
            ran.set(job.id, [...(ran.get(job.id) ?? []), runner.owner]);
            await new Promise((r) => setTimeout(r, 2));
          }, { concurrency: 4 });
          return runner;
        });
        for (let i = 0; i < 120; i++) await nodeA.jobs.enqueue('test.once', `item-${i}`, { i });
        const counts = await Promise.all(runners.map((r) => r.drain()));
        assert.equal(counts[0] + counts[1], 120);
        assert.equal(ran.size, 120);
        for (const [id, owners] of ran) assert.equal(owners.length, 1, `job ${id} ran ${owners.length} times (${owners.join(', ')})`);
        assert.equal((await nodeB.jobs.list({ state: 'done', limit: 500 })).length, 120);
        await Promise.all(runners.map((r) => r.stop()));
      } finally {
        await nodeB.close();
        await cleanup();
      }
    });

    it('lifecycle: of concurrent preview starts one wins; of concurrent policy deletes one sees the policy', async () => {
      const { store, cleanup } = await fresh(8);
      try {
        const r = await store.repositories.create('r', at(0));
        const starts = await Promise.all(Array.from({ length: 6 }, () => store.lifecycle.startPreview(r.id, '{"rules":[]}', at(10), at(5))));
        assert.equal(starts.filter(Boolean).length, 1);
        await store.lifecycle.putPolicy(r.id, '{"rules":[]}', at(11));
        const deletes = await Promise.all(Array.from({ length: 6 }, () => store.lifecycle.deletePolicy(r.id)));
        assert.equal(deletes.filter((d) => d !== undefined).length, 1);
      } finally {
        await cleanup();
      }
    });

    it('transactions on different connections commit independently; a failed one leaves nothing', async () => {
      const { store, cleanup } = await fresh(4);
      try {
        const r = await store.repositories.create('r', at(0));
        await assert.rejects(store.transaction(async (tx) => {
          await tx.blobs.put(dg('blob:x'), 3, null, at(1));
          await tx.blobs.link(r.id, dg('blob:x'), at(1));
          throw new Error('abort');
        }), /abort/);
        assert.equal(await store.blobs.get(dg('blob:x')), undefined);
        await Promise.all([1, 2, 3].map((i) => store.transaction(async (tx) => {
          await tx.blobs.put(dg(`blob:${i}`), i, null, at(i));
          await tx.blobs.link(r.id, dg(`blob:${i}`), at(i));
        })));
        for (const i of [1, 2, 3]) assert.ok(await store.blobs.getLinked(r.id, dg(`blob:${i}`)));
      } finally {
        await cleanup();
      }
    });
  });
});
