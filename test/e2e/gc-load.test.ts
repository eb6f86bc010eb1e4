/**
 * GC under load: concurrent pushes of images sharing layers, with deletions and tag moves, while the server's
 * GC jobs run every second with a 5 s grace period, for 30 s. Afterwards every image that should exist pulls
 * byte for byte, and once the grace period has passed storage holds nothing unreferenced.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { assertPulls, gcTestDataDir, holdings, imageOver, pushTestImage, seeded, type TestImage } from '../helpers/gc.ts';
import { OciClient, sleep } from '../helpers/oci-client.ts';
import { startCargohold, type RunningServer } from '../helpers/server.ts';

const LOAD_MS = 30_000;
const WORKERS = 4;
const REPOS = ['load/a', 'load/b', 'load/c'];

describe('GC under load', () => {
  let server: RunningServer;
  let dataDir: string;
  before(async () => {
    const d = await gcTestDataDir();
    dataDir = d.dataDir;
    server = await startCargohold({ dataDir, args: ['--config', d.configFile] });
  });
  after(async () => {
    await server?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps every live image whole and reclaims everything else', { timeout: 150_000 }, async () => {
    const client = new OciClient(server.url, { authorization: server.authorization });
    const random = seeded(20261127);
    const pool = Array.from({ length: 6 }, () => randomBytes(4096));
    /** Images that must exist (by digest), and the tag each repository's slot points at. */
    const live = new Map<string, TestImage>();
    const deleted = new Set<string>();
    const key = (i: TestImage) => `${i.repo}@${i.digest}`;
    let pushes = 0;
    let deletions = 0;
    const deadline = Date.now() + LOAD_MS;

    const worker = async (w: number) => {
      let n = 0;
      while (Date.now() < deadline && n < 10_000) {
        n++;
        const repo = REPOS[Math.floor(random() * REPOS.length)];
        const roll = random();
        const own = [...live.values()].filter((i) => i.repo === repo);
        if (roll < 0.3 && own.length > 2) {
          // Delete an image (by digest: the manifest and its tags go; GC reclaims what it alone used).
          const victim = own[Math.floor(random() * own.length)];
          live.delete(key(victim));
          deleted.add(key(victim));
          const res = await client.delete(`/v2/${repo}/manifests/${victim.digest}`);
          assert.ok([202, 404].includes(res.status), `delete ${res.status} ${res.text()}`);
          deletions++;
          continue;
        }
        const shared = pool.filter(() => random() < 0.4);
        const image = imageOver(repo, shared);
        // A few tags per repository: pushing to a used tag moves it (the old image stays, untagged).
        const tag = `w${w}-t${Math.floor(random() * 3)}`;
        const res = await pushTestImage(client, image, tag);
        assert.equal(res.status, 201, `push ${repo}:${tag} answered ${res.status} ${res.text}`);
        live.set(key(image), image);
        pushes++;
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    assert.ok(pushes > 20 && deletions > 5, `load too small: ${pushes} pushes, ${deletions} deletions`);

    // Every image that should exist pulls byte for byte, while GC keeps running.
    for (const image of live.values()) await assertPulls(client, image);
    for (const k of deleted) {
      const [repo, digest] = k.split('@');
      assert.equal((await client.getManifest(repo, digest)).status, 404, `${k} was deleted`);
    }

    // After the grace period (and the passes it takes: manifest → link → blob), nothing unreferenced remains.
    const expected = new Set<string>();
    for (const image of live.values()) for (const d of image.blobs.keys()) expected.add(d);
    let state = await holdings(dataDir);
    for (let i = 0; i < 60; i++) {
      if (state.stored.size === expected.size && state.rows.size === expected.size) break;
      await sleep(500);
      state = await holdings(dataDir);
    }
    assert.deepEqual([...state.stored].sort(), [...expected].sort(), 'storage holds exactly the referenced blobs');
    assert.deepEqual([...state.rows].sort(), [...expected].sort(), 'metadata holds exactly the referenced blobs');
    assert.deepEqual([...state.referenced].sort(), [...expected].sort());
    for (const image of live.values()) await assertPulls(client, image);
  });
});
