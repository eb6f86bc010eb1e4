/**
 * GC under load: concurrent pushes of images sharing layers, with deletions and tag moves, while the server's
 * GC jobs run every second with a 5 s grace period and lifecycle expiry (untagged images beyond the newest two
 * in one repository) every second, for 30 s. Afterwards every image that should exist pulls byte for byte, an
 * image lifecycle expired is wholly gone, and once the grace period has passed storage holds nothing unreferenced.
 */
import assert from 'node:assert/strict';
import { PutLifecyclePolicyCommand } from '@aws-sdk/client-ecr';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { assertPulls, gcTestDataDir, holdings, imageOver, pushTestImage, seeded, type TestImage } from '../helpers/gc.ts';
import { ecrClient } from '../helpers/auth.ts';
import { OciClient, sleep } from '../helpers/oci-client.ts';
import { startCargohold, type RunningServer } from '../helpers/server.ts';

const LOAD_MS = 30_000;
const WORKERS = 4;
const LIFECYCLE_REPO = 'load/c';
const REPOS = ['load/a', 'load/b', LIFECYCLE_REPO];

describe('GC under load', () => {
  let server: RunningServer;
  let dataDir: string;
  before(async () => {
    const d = await gcTestDataDir({ lifecycle: { intervalSeconds: 1 } });
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
    /** The tag each image was pushed with: lifecycle may expire an image only once that tag moved away. */
    const pushedTag = new Map<string, string>();
    // Lifecycle expiry in the loop: untagged images of load/c beyond the newest two go (through the image service).
    const first = imageOver(LIFECYCLE_REPO, [pool[0]]);
    assert.equal((await pushTestImage(client, first, 'seed')).status, 201);
    live.set(key(first), first);
    pushedTag.set(key(first), 'seed');
    await ecrClient(server).send(new PutLifecyclePolicyCommand({
      repositoryName: LIFECYCLE_REPO,
      lifecyclePolicyText: JSON.stringify({ rules: [{ rulePriority: 1, selection: { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 2 }, action: { type: 'expire' } }] }),
    }));
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
        pushedTag.set(key(image), tag);
        pushes++;
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    assert.ok(pushes > 20 && deletions > 5, `load too small: ${pushes} pushes, ${deletions} deletions`);

    // Lifecycle settles (one more evaluation), then: every image that should exist pulls byte for byte, while GC
    // keeps running; in load/c an image whose tag moved away may have been expired (its blobs must then leave
    // storage like those of a deleted image: the final check below).
    await sleep(2500);
    let expired = 0;
    for (const [k, image] of live) {
      if (image.repo === LIFECYCLE_REPO && (await client.getManifest(image.repo, image.digest)).status === 404) {
        const tagNow = await client.getManifest(image.repo, pushedTag.get(k)!);
        assert.ok(tagNow.status !== 200 || tagNow.header('docker-content-digest') !== image.digest, `${k} expired while still tagged`);
        live.delete(k);
        expired++;
        continue;
      }
      await assertPulls(client, image);
    }
    assert.ok(expired > 0, 'lifecycle expired some untagged images during the load');
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
