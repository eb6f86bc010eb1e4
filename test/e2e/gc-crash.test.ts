/**
 * Crash safety: the server (`bin/cargohold.js serve`, a child process) is killed with SIGKILL at seeded random
 * points while clients push (monolithic and chunked, large enough to be cut mid-body) and delete, and while
 * its GC jobs run every second. After each restart every image whose push was acknowledged (and not deleted)
 * pulls byte for byte, and an image whose push was cut either pulls whole or not at all. At the end
 * `cargohold gc` (reconcile + collect) leaves storage holding exactly what manifests reference: no untracked
 * blobs, upload sessions or temporary files.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { assertPulls, gcTestDataDir, holdings, imageOver, runCli, seeded, type TestImage } from '../helpers/gc.ts';
import { MT, OciClient, sleep } from '../helpers/oci-client.ts';
import { startCargohold, type RunningServer } from '../helpers/server.ts';

const ROUNDS = 5;
const SEED = 4242;

describe('GC crash safety', () => {
  let server: RunningServer | undefined;
  let dataDir: string | undefined;
  after(async () => {
    if (server && server.process.exitCode === null && server.process.signalCode === null) server.process.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('loses nothing referenced across SIGKILLs during pushes and GC, and reconcile removes the leftovers', { timeout: 150_000 }, async () => {
    const random = seeded(SEED);
    const d = await gcTestDataDir({ gc: { intervalSeconds: 1, gracePeriodSeconds: 2, reconcileIntervalSeconds: 1 } });
    dataDir = d.dataDir;
    const start = async () => startCargohold({ dataDir, args: ['--config', d.configFile] });
    const pool = Array.from({ length: 4 }, () => randomBytes(64 * 1024));
    const live = new Map<string, TestImage>();
    const uncertain = new Map<string, TestImage>();
    const key = (i: TestImage) => `${i.repo}@${i.digest}`;
    /** Everything acknowledged before the last kill is whole; what was cut is whole or absent. */
    const checkAfterRestart = async (client: OciClient) => {
      for (const image of live.values()) await assertPulls(client, image);
      for (const [k, image] of uncertain) {
        const m = await client.getManifest(image.repo, image.digest);
        if (m.status === 200) {
          await assertPulls(client, image);
          live.set(k, image);
        } else {
          assert.equal(m.status, 404, `${k}: ${m.status}`);
        }
      }
      uncertain.clear();
    };

    for (let round = 0; round < ROUNDS; round++) {
      server = await start();
      const client = new OciClient(server.url, { authorization: server.authorization });
      await checkAfterRestart(client);

      // Load, then SIGKILL at a random point of it (GC runs every second meanwhile).
      const killAt = Date.now() + 300 + Math.floor(random() * 2000);
      let killed = false;
      const worker = async (w: number) => {
        for (let n = 0; n < 1000 && !killed; n++) {
          const repo = `crash/r${Math.floor(random() * 2)}`;
          const own = [...live.values()].filter((i) => i.repo === repo);
          if (random() < 0.35 && own.length > 1) {
            const victim = own[Math.floor(random() * own.length)];
            live.delete(key(victim));
            uncertain.set(key(victim), victim);
            const res = await client.delete(`/v2/${repo}/manifests/${victim.digest}`).catch(() => undefined);
            if (res && [202, 404].includes(res.status)) uncertain.delete(key(victim));
            continue;
          }
          const image = imageOver(repo, pool.filter(() => random() < 0.5));
          // A large layer, sometimes chunked, so kills land mid-body too.
          const big = randomBytes(256 * 1024 + Math.floor(random() * 768 * 1024));
          const chunked = random() < 0.5;
          uncertain.set(key(image), image);
          try {
            for (const [digest, data] of image.blobs) {
              if ((await client.headBlob(repo, digest)).status === 200) continue;
              await client.pushBlob(repo, data);
            }
            if (chunked) await client.pushBlobChunked(repo, big, 256 * 1024);
            else await client.pushBlob(repo, big);
            const res = await client.putManifest(repo, `w${w}`, image.bytes, MT.ociManifest);
            if (res.status === 201) {
              uncertain.delete(key(image));
              live.set(key(image), image);
            } else {
              assert.fail(`push ${repo} answered ${res.status} ${res.text()}`);
            }
          } catch (e) {
            if (!killed) throw e;
          }
        }
      };
      const killer = (async () => {
        while (Date.now() < killAt) await sleep(20);
        killed = true;
        server!.process.kill('SIGKILL');
        await new Promise((r) => (server!.process.exitCode !== null || server!.process.signalCode !== null ? r(undefined) : server!.process.once('exit', r)));
      })();
      await Promise.all([worker(0), worker(1), killer]);
    }

    // Last start: nothing referenced is missing.
    server = await start();
    const client = new OciClient(server.url, { authorization: server.authorization });
    await checkAfterRestart(client);
    await server.stop({ keepData: true });
    server = undefined;

    // Reconcile and collect with `cargohold gc` on the data directory (a pass cut by the last kill may hold its
    // job lease for a while; the CLI does not wait for it). Each pass after one more grace period.
    const dryRun = async () => {
      const dry = await runCli(['gc', '--dry-run', '--json', '--data-dir', dataDir!, '--config', d.configFile]);
      assert.equal(dry.code, 0, dry.stderr);
      const lines = dry.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
      lines.pop(); // the summary
      return lines;
    };
    let state = await holdings(dataDir);
    const converged = (s: typeof state) =>
      s.temporary === 0 && s.uploads === s.uploadRows && s.stored.size === s.referenced.size && [...s.referenced].every((x) => s.stored.has(x) && s.rows.has(x)) && s.rows.size === s.referenced.size;
    let pending = await dryRun();
    for (let i = 0; i < 8 && !(converged(state) && pending.length === 0); i++) {
      await sleep(2100);
      const run = await runCli(['gc', '--data-dir', dataDir!, '--config', d.configFile]);
      assert.equal(run.code, 0, run.stderr);
      state = await holdings(dataDir);
      await sleep(2100);
      pending = await dryRun();
    }
    assert.deepEqual(pending, [], 'after the grace period a dry run finds nothing left to remove');
    assert.equal(state.temporary, 0, 'temporary files left by killed puts are swept');
    assert.equal(state.uploads, state.uploadRows, 'upload sessions known to only one side are removed');
    assert.deepEqual([...state.stored].sort(), [...state.referenced].sort(), 'storage holds exactly what manifests reference');
    assert.deepEqual([...state.rows].sort(), [...state.referenced].sort(), 'metadata blob rows match');
    const history = await runCli(['gc', '--history', '--json', '--data-dir', dataDir!, '--config', d.configFile]);
    assert.equal(history.code, 0, history.stderr);
    assert.ok(history.stdout.trim().split('\n').every((l) => (JSON.parse(l) as { reason: string }).reason.length > 0), 'every removal says why');

    server = await start();
    const restarted = new OciClient(server.url, { authorization: server.authorization });
    for (const image of live.values()) await assertPulls(restarted, image);
    await server.stop({ keepData: true });
    server = undefined;
  });
});
