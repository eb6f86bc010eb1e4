// The fs driver builds paths only from validated digests and upload ids: whatever a caller passes (even past the
// HTTP layer's own validation), nothing is read, written or deleted outside the store's root.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import type { Digest } from '../../core/digest.ts';
import { createFsBlobStore } from './fs.ts';

const UPLOAD_IDS = ['..', '../..', '../outside', '../../outside/victim', '%2e%2e%2foutside', 'a/b', '/etc/passwd', '.', '', 'x'.repeat(300), 'ok\0../outside', '..\\outside'];
const DIGESTS = ['sha256:../../outside/victim', `sha256:${'../'.repeat(10)}etc/passwd`, 'sha256:..', `sha256:${'a'.repeat(62)}/.`, `sha512:${'.'.repeat(128)}`, `../sha256:${'a'.repeat(64)}`, `sha256:${'A'.repeat(64)}`, 'sha256:', `sha256:${'a'.repeat(64)}/../../x`];

let sandbox: string;
let root: string;
const victim = () => join(sandbox, 'outside', 'victim');

before(async () => {
  sandbox = await mkdtemp(join(tmpdir(), 'cargohold-fs-paths-'));
  root = join(sandbox, 'store');
  await mkdir(join(sandbox, 'outside'));
  await writeFile(victim(), 'do not touch');
});
after(async () => { await rm(sandbox, { recursive: true, force: true }); });

async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
  return out.sort();
}

test('hostile upload ids and digests are refused and touch nothing outside the root', async () => {
  const store = await createFsBlobStore({ root });
  const outsideBefore = await tree(join(sandbox, 'outside'));
  const body = () => Readable.from([Buffer.from('MARKER-BYTES')]);
  for (const id of UPLOAD_IDS) {
    await assert.rejects(store.createUpload(id), `createUpload(${JSON.stringify(id)})`);
    await assert.rejects(store.appendUpload(id, 0, body()), `appendUpload(${JSON.stringify(id)})`);
    await assert.rejects(store.commitUpload(id, `sha256:${'0'.repeat(64)}` as Digest), `commitUpload(${JSON.stringify(id)})`);
    assert.equal(await store.uploadSize(id), undefined);
    await store.deleteUpload(id).catch(() => undefined);
  }
  for (const d of DIGESTS) {
    const digest = d as Digest;
    assert.equal(await store.stat(digest), undefined, `stat(${d})`);
    await assert.rejects(store.open(digest), `open(${d})`);
    await assert.rejects(store.putBlob(digest, body()), `putBlob(${d})`);
    await store.delete(digest).catch(() => undefined);
  }
  await store.close();
  assert.deepEqual(await tree(join(sandbox, 'outside')), outsideBefore);
  assert.equal(await readFile(victim(), 'utf8'), 'do not touch');
  // Nothing new beside the store, and the marker bytes were written nowhere.
  assert.deepEqual((await readdir(sandbox)).sort(), ['outside', 'store']);
  for (const f of await tree(sandbox)) assert.ok(!(await readFile(f, 'latin1')).includes('MARKER-BYTES'), f);
});
