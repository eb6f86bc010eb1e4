import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { at, byteSorted, dg, pageAll, pushImage } from '../contract/fixtures.ts';
import type { Database } from '../db.ts';
import { createKyselyMetadata } from '../kysely-metadata.ts';
import type { MetadataStore } from '../types.ts';
import { createSqliteMetadata } from './sqlite.ts';

/**
 * Scale: 100,000 tags in one repository and 100,000 repositories. Every listing must be an index range
 * scan (no table scan, no sort, no OFFSET); checked on the plans of the exact SQL the stores issue.
 */
describe('sqlite at scale', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cargohold-scale-'));
  const path = join(dir, 'metadata.db');
  const sqls: { sql: string; parameters: readonly unknown[] }[] = [];
  let store: MetadataStore;
  let traced: MetadataStore;
  let repoId: number;
  let digest: string;
  const tagNames: string[] = [];
  const repoNames: string[] = [];

  before(async () => {
    store = await createSqliteMetadata({ path });
    repoId = (await store.repositories.create('big/repo', at(0))).id;
    digest = await pushImage(store, repoId, 'm', ['l']);
    await store.uploads.create({ id: 'u', repositoryId: repoId, createdAt: at(0), updatedAt: at(0) });
    for (let i = 0; i < 100_000; i++) {
      tagNames.push(`${i % 5 ? 't' : 'T'}${(i * 7919) % 100_000}${['-', '.', '_', ''][i % 4]}${i}`);
      repoNames.push(`ns${i % 50}/repo-${i}${i % 3 ? '' : '/sub'}`);
    }
    const raw = new BetterSqlite3(path);
    raw.transaction(() => {
      const tag = raw.prepare('insert into tags (repository_id, name, manifest_digest, updated_at) values (?, ?, ?, 0)');
      const rep = raw.prepare('insert into repositories (name, created_at) values (?, 0)');
      for (const t of tagNames) tag.run(repoId, t, digest);
      for (const r of repoNames) rep.run(r);
    })();
    raw.close();
    repoNames.push('big/repo');
    // The same stores over a Kysely that records every statement, for EXPLAIN QUERY PLAN.
    const db = new Kysely<Database>({
      dialect: new SqliteDialect({ database: new BetterSqlite3(path) }),
      log: (e) => void (e.level === 'query' && sqls.push({ sql: e.query.sql, parameters: e.query.parameters })),
    });
    traced = createKyselyMetadata(db, { dialect: 'sqlite' });
  });

  after(async () => {
    await traced?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('walks 100,000 tags and 100,000 repositories in byte order', async () => {
    assert.equal(new Set(tagNames).size, tagNames.length);
    assert.deepEqual(await pageAll((last, limit) => store.tags.list(repoId, { last, limit }), 1000), byteSorted(tagNames));
    assert.deepEqual(await pageAll((last, limit) => store.repositories.list({ last, limit }), 1000), byteSorted(repoNames));
  });

  it('a page deep in the listing costs what the first page costs', async () => {
    const sorted = byteSorted(tagNames);
    const timePage = async (last?: string) => {
      let best = Infinity;
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        await store.tags.list(repoId, { last, limit: 100 });
        best = Math.min(best, performance.now() - t0);
      }
      return best;
    };
    const first = await timePage();
    const deep = await timePage(sorted[99_000]);
    // Generous: OFFSET or a scan would make the deep page orders of magnitude slower.
    assert.ok(deep < first * 5 + 5, `deep page ${deep.toFixed(2)} ms vs first ${first.toFixed(2)} ms`);
  });

  it('every listing, hot read and tag write is an index search, never a scan or a sort', async () => {
    const mid = byteSorted(tagNames)[50_000];
    sqls.length = 0;
    await traced.repositories.list({ last: 'ns25/', limit: 100 });
    await traced.repositories.get('big/repo');
    await traced.tags.list(repoId, { last: mid, limit: 100 });
    await traced.tags.get(repoId, mid);
    await traced.tags.forDigest(repoId, digest);
    await traced.manifests.list(repoId, { last: dg('x'), limit: 100 });
    await traced.manifests.get(repoId, digest);
    await traced.manifests.getByTag(repoId, mid);
    await traced.manifests.referrers(repoId, digest, 'x/y');
    await traced.manifests.references(repoId, digest);
    await traced.manifests.missing(repoId, [digest, dg('y')]);
    await traced.blobs.getLinked(repoId, dg('blob:l'));
    await traced.blobs.missingLinks(repoId, [dg('blob:l'), dg('z')]);
    await traced.uploads.listStale(at(1), 10);
    await traced.tags.set(repoId, mid, digest, at(2));
    await traced.tags.count(repoId);
    await traced.blobs.link(repoId, dg('blob:l'), at(2));
    await traced.tags.delete(repoId, 'no-such-tag');
    assert.ok(sqls.length >= 18);
    const raw = new BetterSqlite3(path, { readonly: true });
    try {
      for (const { sql, parameters } of sqls) {
        const plan = (raw.prepare(`explain query plan ${sql}`).all(...parameters) as { detail: string }[]).map((r) => r.detail);
        const bad = plan.filter((d) => /^SCAN (?!CONSTANT)/.test(d) || d.includes('TEMP B-TREE'));
        assert.deepEqual(bad, [], `${sql}\n${plan.join('\n')}`);
      }
    } finally {
      raw.close();
    }
  });
});
