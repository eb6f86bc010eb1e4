import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Digest } from '../../core/digest.ts';
import type { ImageCursor } from '../types.ts';
import { at, dg, manifest, pushImage, type StoreRef } from './fixtures.ts';

/** ImageStore (migration 0004) and UploadStore part tracking. */
export function imageCases(s: StoreRef): void {
  describe('images', () => {
    it('list pages in (pushedAt, digest) order with tag status filters; imageSize round-trips', async () => {
      const r = await s().repositories.create('r', at(0));
      const digests: Digest[] = [];
      for (let i = 0; i < 5; i++) digests.push(await pushImage(s(), r.id, `img${i}`, [`l${i}`], { pushedAt: at(i % 2 ? 10 : 20), imageSize: 1000 + i }));
      await s().tags.set(r.id, 'a', digests[1]!, at(30));
      await s().tags.set(r.id, 'b', digests[1]!, at(30));
      await s().tags.set(r.id, 'c', digests[2]!, at(30));
      const expected = [...digests].sort((x, y) => {
        const tx = digests.indexOf(x) % 2 ? 10 : 20;
        const ty = digests.indexOf(y) % 2 ? 10 : 20;
        return tx - ty || (x < y ? -1 : 1);
      });
      const seen: Digest[] = [];
      let after: ImageCursor | undefined;
      for (;;) {
        const page = await s().images.list(r.id, { after, limit: 2, tagStatus: 'ANY' });
        if (page.length === 0) break;
        seen.push(...page.map((p) => p.digest));
        const last = page[page.length - 1]!;
        after = { pushedAt: last.pushedAt.getTime(), digest: last.digest };
      }
      assert.deepEqual(seen, expected);
      const tagged = await s().images.list(r.id, { limit: 10, tagStatus: 'TAGGED' });
      assert.deepEqual(new Set(tagged.map((t) => t.digest)), new Set([digests[1], digests[2]]));
      const untagged = await s().images.list(r.id, { limit: 10, tagStatus: 'UNTAGGED' });
      assert.equal(untagged.length, 3);
      const one = (await s().images.get(r.id, [digests[3]!, dg('absent')]))[0]!;
      assert.deepEqual({ ...one, digest: one.digest }, {
        digest: digests[3], mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: null, subjectDigest: null,
        size: manifest(r.id, 'img3').size, imageSize: 1003, pushedAt: at(10), lastPulledAt: null,
      });
      assert.deepEqual((await s().images.imageSizes(r.id, [digests[0]!, dg('absent')])), new Map([[digests[0], 1000]]));
      assert.deepEqual(await s().images.tags(r.id, digests), new Map([[digests[1], ['a', 'b']], [digests[2], ['c']]]));
    });

    it('listIds gives one row per (digest, tag), untagged once, pageable from any pair', async () => {
      const r = await s().repositories.create('r', at(0));
      const a = await pushImage(s(), r.id, 'a', [], { pushedAt: at(1) });
      const b = await pushImage(s(), r.id, 'b', [], { pushedAt: at(2) });
      for (const t of ['x', 'y', 'z']) await s().tags.set(r.id, t, a, at(3));
      const all = await s().images.listIds(r.id, { limit: 10, tagStatus: 'ANY' });
      assert.deepEqual(all.map((i) => [i.digest, i.tag]), [[a, 'x'], [a, 'y'], [a, 'z'], [b, null]]);
      const rest = await s().images.listIds(r.id, { after: { pushedAt: at(1).getTime(), digest: a, tag: 'y' }, limit: 10, tagStatus: 'ANY' });
      assert.deepEqual(rest.map((i) => i.tag), ['z', null]);
      assert.deepEqual((await s().images.listIds(r.id, { limit: 10, tagStatus: 'UNTAGGED' })).map((i) => i.digest), [b]);
      assert.equal((await s().images.listIds(r.id, { limit: 10, tagStatus: 'TAGGED' })).length, 3);
    });

    it('parents and blobReference read the references of the repository only', async () => {
      const r = await s().repositories.create('r', at(0));
      const other = await s().repositories.create('o', at(0));
      const child = await pushImage(s(), r.id, 'child', ['layer']);
      await pushImage(s(), other.id, 'elsewhere', ['layer']);
      const idx = manifest(r.id, 'index', { mediaType: 'application/vnd.oci.image.index.v1+json' });
      await s().manifests.put(idx, [{ digest: child, kind: 'manifest', size: 10, mediaType: 'application/vnd.oci.image.manifest.v1+json' }]);
      assert.deepEqual(await s().images.parents(r.id, child), [idx.digest]);
      assert.deepEqual(await s().images.parents(other.id, child), []);
      assert.deepEqual(await s().images.blobReference(r.id, dg('blob:layer')), { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' });
      assert.equal(await s().images.blobReference(r.id, child), undefined);
      assert.equal(await s().images.blobReference(r.id, dg('none')), undefined);
    });
  });

  describe('upload parts', () => {
    it('records part sizes: count, last, smallest earlier', async () => {
      const r = await s().repositories.create('r', at(0));
      await s().uploads.create({ id: 'p', repositoryId: r.id, createdAt: at(1), updatedAt: at(1) });
      assert.deepEqual(await s().uploads.parts('p'), { count: 0, lastSize: null, smallestEarlier: null });
      await s().uploads.recordPart('p', 700, at(2));
      assert.deepEqual(await s().uploads.parts('p'), { count: 1, lastSize: 700, smallestEarlier: null });
      await s().uploads.recordPart('p', 300, at(3));
      await s().uploads.recordPart('p', 900, at(4));
      assert.deepEqual(await s().uploads.parts('p'), { count: 3, lastSize: 900, smallestEarlier: 300 });
      assert.deepEqual((await s().uploads.get('p'))?.updatedAt, at(4));
      assert.equal(await s().uploads.parts('nope'), undefined);
    });
  });
}
