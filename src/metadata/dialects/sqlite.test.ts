import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { at, dg, pushImage } from '../contract/fixtures.ts';
import { runMetadataContract } from '../metadata.contract.ts';
import { knownSchemaVersion, migrate, migrations, schemaStatus, SchemaTooNewError, type Migration } from '../migrations/index.ts';
import { createSqliteMetadata, sqliteSchemaStatus } from './sqlite.ts';

const root = mkdtempSync(join(tmpdir(), 'cargohold-sqlite-'));
after(() => rmSync(root, { recursive: true, force: true }));
let seq = 0;
const tempPath = () => join(root, `db-${++seq}`, 'metadata.db');

runMetadataContract('sqlite :memory:', async () => {
  const store = await createSqliteMetadata({ path: ':memory:' });
  return { store, cleanup: () => store.close() };
});

runMetadataContract('sqlite file', async () => {
  const path = tempPath();
  const store = await createSqliteMetadata({ path });
  return { store, cleanup: () => store.close() };
});

runMetadataContract('sqlite portable queries only (no fast reads)', async () => {
  const store = await createSqliteMetadata({ path: ':memory:', fastReads: false });
  return { store, cleanup: () => store.close() };
});

/** A bare Kysely over a file, for poking at the schema directly. */
function rawKysely(path: string): Kysely<any> {
  return new Kysely<any>({ dialect: new SqliteDialect({ database: new BetterSqlite3(path) }) });
}

describe('sqlite migrations', () => {
  it('a fresh database is behind, then current after migrate', async () => {
    const db = rawKysely(tempPath().replace('/metadata.db', '.db'));
    try {
      assert.deepEqual(await schemaStatus(db), { state: 'behind', version: 0, known: knownSchemaVersion, pending: migrations.map((m) => m.version), unknown: [] });
      assert.deepEqual(await migrate(db), migrations.map((m) => m.version));
      assert.deepEqual(await schemaStatus(db), { state: 'current', version: knownSchemaVersion, known: knownSchemaVersion, pending: [], unknown: [] });
      assert.deepEqual(await migrate(db), []);
      const tables = (await db.introspection.getTables()).map((t) => t.name).sort();
      for (const t of ['blobs', 'manifest_references', 'manifests', 'migrations', 'repositories', 'repository_blobs', 'tags', 'uploads']) assert.ok(tables.includes(t), t);
    } finally {
      await db.destroy();
    }
  });

  it('sqliteSchemaStatus reads without migrating', async () => {
    const path = tempPath();
    assert.deepEqual(await sqliteSchemaStatus(path), { state: 'behind', version: 0, known: knownSchemaVersion, pending: migrations.map((m) => m.version), unknown: [] });
    await (await createSqliteMetadata({ path })).close();
    assert.equal((await sqliteSchemaStatus(path)).state, 'current');
  });

  it('re-opening is a no-op and keeps the data', async () => {
    const path = tempPath();
    const first = await createSqliteMetadata({ path });
    const r = await first.repositories.create('persist', at(1));
    const d = await pushImage(first, r.id, 'm', ['l']);
    await first.tags.set(r.id, 'latest', d, at(2));
    await first.close();
    const second = await createSqliteMetadata({ path });
    try {
      assert.equal((await second.manifests.getByTag(r.id, 'latest'))?.digest, d);
      assert.deepEqual(await second.repositories.get('persist'), r);
    } finally {
      await second.close();
    }
    const db = rawKysely(path);
    try {
      assert.equal((await schemaStatus(db)).state, 'current');
      assert.equal((await db.selectFrom('migrations').selectAll().execute()).length, migrations.length);
    } finally {
      await db.destroy();
    }
  });

  it('applies only pending migrations, in order', async () => {
    const db = rawKysely(tempPath().replace('/metadata.db', '.db'));
    const ran: number[] = [];
    const extra = (version: number): Migration => ({
      version,
      name: `extra-${version}`,
      async up(k) {
        ran.push(version);
        await k.schema.createTable(`extra_${version}`).addColumn('x', 'integer').execute();
      },
    });
    try {
      await migrate(db);
      assert.deepEqual(await migrate(db, [...migrations, extra(knownSchemaVersion + 1), extra(knownSchemaVersion + 2)]), [knownSchemaVersion + 1, knownSchemaVersion + 2]);
      assert.deepEqual(ran, [knownSchemaVersion + 1, knownSchemaVersion + 2]);
      // To this build (which knows fewer), the database is now ahead.
      const status = await schemaStatus(db);
      assert.equal(status.state, 'ahead');
      assert.deepEqual(status.unknown, [knownSchemaVersion + 1, knownSchemaVersion + 2]);
    } finally {
      await db.destroy();
    }
  });

  it('a failing migration leaves no trace and is retried next time', async () => {
    const db = rawKysely(tempPath().replace('/metadata.db', '.db'));
    const broken: Migration = {
      version: knownSchemaVersion + 1,
      name: 'broken',
      async up(k) {
        await k.schema.createTable('half_done').addColumn('x', 'integer').execute();
        throw new Error('migration failed');
      },
    };
    try {
      await assert.rejects(migrate(db, [...migrations, broken]), /migration failed/);
      const status = await schemaStatus(db);
      assert.equal(status.state, 'current', 'the initial migration committed; the broken one did not');
      assert.ok(!(await db.introspection.getTables()).some((t) => t.name === 'half_done'));
    } finally {
      await db.destroy();
    }
  });

  it('a schema newer than this build is reported and refused', async () => {
    const path = tempPath();
    await (await createSqliteMetadata({ path })).close();
    const db = rawKysely(path);
    try {
      await db.insertInto('migrations').values({ version: knownSchemaVersion + 1, name: 'from-the-future', applied_at: 0 }).execute();
      const status = await schemaStatus(db);
      assert.deepEqual(status, { state: 'ahead', version: knownSchemaVersion + 1, known: knownSchemaVersion, pending: [], unknown: [knownSchemaVersion + 1] });
      await assert.rejects(migrate(db), (e) => e instanceof SchemaTooNewError && e.status.state === 'ahead');
    } finally {
      await db.destroy();
    }
    assert.equal((await sqliteSchemaStatus(path)).state, 'ahead');
    await assert.rejects(createSqliteMetadata({ path }), SchemaTooNewError);
  });
});

describe('sqlite pull times', () => {
  it('touchPulled is written by the periodic flush, latest time wins', async () => {
    const store = await createSqliteMetadata({ path: ':memory:', pullFlushIntervalMs: 20 });
    try {
      const r = await store.repositories.create('r', at(0));
      const d = await pushImage(store, r.id, 'm');
      for (const t of [5, 9, 7]) await store.manifests.touchPulled(r.id, d, at(t));
      await new Promise((res) => setTimeout(res, 80));
      assert.equal((await store.manifests.get(r.id, d))?.lastPulledAt?.getTime(), at(9).getTime());
      // An older time arriving later never moves it back.
      await store.manifests.touchPulled(r.id, d, at(3));
      await new Promise((res) => setTimeout(res, 80));
      assert.equal((await store.manifests.get(r.id, d))?.lastPulledAt?.getTime(), at(9).getTime());
    } finally {
      await store.close();
    }
  });

  it('close flushes pending pull times', async () => {
    const path = tempPath();
    const store = await createSqliteMetadata({ path, pullFlushIntervalMs: 60_000 });
    const r = await store.repositories.create('r', at(0));
    const d = await pushImage(store, r.id, 'm');
    await store.manifests.touchPulled(r.id, d, at(42));
    assert.equal((await store.manifests.get(r.id, d))?.lastPulledAt, null, 'not written per pull');
    await store.close();
    const again = await createSqliteMetadata({ path });
    try {
      assert.equal((await again.manifests.get(r.id, d))?.lastPulledAt?.getTime(), at(42).getTime());
    } finally {
      await again.close();
    }
  });
});

describe('sqlite connections', () => {
  it('root reads during an open write transaction see committed data only (file)', async () => {
    const store = await createSqliteMetadata({ path: tempPath() });
    try {
      const r = await store.repositories.create('r', at(0));
      const d = await pushImage(store, r.id, 'm', ['l']);
      await store.transaction(async (tx) => {
        await tx.tags.set(r.id, 'latest', d, at(1));
        await tx.repositories.create('pending', at(1));
        await tx.blobs.unlink(r.id, dg('blob:l'));
        assert.equal(await store.manifests.getByTag(r.id, 'latest'), undefined);
        assert.equal(await store.repositories.get('pending'), undefined);
        assert.ok(await store.blobs.getLinked(r.id, dg('blob:l')));
        assert.ok(await store.manifests.get(r.id, d));
      });
      assert.equal((await store.manifests.getByTag(r.id, 'latest'))?.digest, d);
      assert.ok(await store.repositories.get('pending'));
      assert.equal(await store.blobs.getLinked(r.id, dg('blob:l')), undefined);
    } finally {
      await store.close();
    }
  });

  it('close is idempotent and a transaction-bound store cannot close', async () => {
    const store = await createSqliteMetadata({ path: ':memory:' });
    await store.transaction(async (tx) => {
      await assert.rejects(tx.close());
    });
    await store.close();
    await store.close();
  });
});

describe('sqlite transactions beside another process', () => {
  it('a transaction takes the write lock when it begins, so a writer beside it waits instead of failing later', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sqlite-immediate-'));
    const path = join(dir, 'metadata.sqlite');
    const meta = await createSqliteMetadata({ path });
    // Another process's connection (a CLI command beside the server); no busy wait, so a held lock shows at once.
    const other = new BetterSqlite3(path);
    other.pragma('busy_timeout = 0');
    try {
      await meta.transaction(async (tx) => {
        await tx.repositories.get('nothing/here'); // reads only, so far
        assert.throws(() => other.exec("INSERT INTO repositories (name, created_at) VALUES ('x/y', 0)"), { code: 'SQLITE_BUSY' });
        await tx.repositories.create('from/tx', new Date(0));
      });
      // With the transaction over, the other connection writes freely, and the transaction's write is there.
      assert.equal((await meta.repositories.get('from/tx'))?.name, 'from/tx');
    } finally {
      other.close();
      await meta.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
