/**
 * GC with encryption at rest on (the default): the collector and `cargohold gc` see blobs by digest through
 * the encrypting layer, remove what a deleted image alone used, and never take the layer's own objects for
 * garbage — live images still pull byte for byte after server passes and after `cargohold gc` with reconcile.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { assertPulls, gcTestDataDir, imageOver, pushTestImage, runCli } from '../helpers/gc.ts';
import { OciClient, sha256, sleep } from '../helpers/oci-client.ts';
import { startCargohold, type RunningServer } from '../helpers/server.ts';

describe('GC with encryption at rest', () => {
  let server: RunningServer | undefined;
  let dataDir: string | undefined;
  after(async () => {
    await server?.stop({ keepData: true });
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('collects a deleted image\'s blobs and keeps every live one readable, in the server and from the CLI', { timeout: 90_000 }, async () => {
    const d = await gcTestDataDir({ encryption: { enabled: true }, gc: { intervalSeconds: 1, gracePeriodSeconds: 1, reconcileIntervalSeconds: 1 } });
    dataDir = d.dataDir;
    server = await startCargohold({ dataDir, args: ['--config', d.configFile] });
    const client = new OciClient(server.url, { authorization: server.authorization });
    const shared = randomBytes(8192);
    const keep = [imageOver('enc/app', [shared]), imageOver('enc/other', [shared])];
    const gone = imageOver('enc/app', [shared]);
    for (const [i, image] of [...keep, gone].entries()) assert.equal((await pushTestImage(client, image, `t${i}`)).status, 201);
    assert.equal((await client.delete(`/v2/enc/app/manifests/${gone.digest}`)).status, 202);

    const uniqueOfGone = [...gone.blobs.keys()].filter((x) => x !== sha256(shared));
    const history = async () => {
      const r = await runCli(['gc', '--history', '--json', '--data-dir', dataDir!, '--config', d.configFile]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim() ? r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; digest: string }) : [];
    };
    let removed = await history();
    for (let i = 0; i < 40 && !uniqueOfGone.every((x) => removed.some((h) => h.kind === 'blob' && h.digest === x)); i++) {
      await sleep(500);
      removed = await history();
    }
    assert.deepEqual(removed.filter((h) => h.kind === 'blob').map((h) => h.digest).sort(), uniqueOfGone.sort(), 'exactly the deleted image\'s own blobs');
    for (const image of keep) await assertPulls(client, image);

    await server.stop({ keepData: true });
    server = undefined;
    await sleep(1100);
    for (let i = 0; i < 2; i++) {
      const run = await runCli(['gc', '--data-dir', dataDir, '--config', d.configFile]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /gc removed: nothing/, 'the CLI finds nothing more to remove (encrypted objects are not garbage)');
    }
    server = await startCargohold({ dataDir, args: ['--config', d.configFile] });
    const again = new OciClient(server.url, { authorization: server.authorization });
    for (const image of keep) await assertPulls(again, image);
  });
});
