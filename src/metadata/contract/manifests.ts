import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ManifestReference, NewManifest } from '../types.ts';
import { at, byteSorted, dg, manifest, pageAll, pushImage, type StoreRef } from './fixtures.ts';

const ARTIFACT = 'application/vnd.oci.image.manifest.v1+json';

export function manifestCases(s: StoreRef): void {
  describe('manifests', () => {
    it('put stores every field and reports created; get round-trips exactly', async () => {
      const r = await s().repositories.create('r', at(0));
      const body = Buffer.from([0x7b, 0x00, 0xff, 0x10, 0x7d]);
      const m = manifest(r.id, 'full', {
        mediaType: 'application/vnd.oci.artifact.manifest.v1+json',
        artifactType: 'application/vnd.example.sbom',
        subjectDigest: dg('subject'),
        annotations: '{"org.opencontainers.image.created":"2026-01-01T00:00:00Z"}',
        size: body.length,
        body,
        pushedAt: at(7, 250),
      });
      assert.deepEqual(await s().manifests.put(m, []), { created: true });
      const got = await s().manifests.get(r.id, m.digest);
      assert.ok(got);
      assert.ok(Buffer.isBuffer(got.body));
      assert.deepEqual({ ...got, body: Buffer.from(got.body) }, { ...m, lastPulledAt: null });
    });

    it('put is idempotent by digest: created=false keeps the existing row and references', async () => {
      const r = await s().repositories.create('r', at(0));
      const first = manifest(r.id, 'same', { pushedAt: at(1) });
      const refs: ManifestReference[] = [{ digest: dg('a'), kind: 'blob', size: 1, mediaType: 'x/a' }];
      assert.deepEqual(await s().manifests.put(first, refs), { created: true });
      const again = { ...first, pushedAt: at(5), annotations: '{"changed":"yes"}' };
      assert.deepEqual(await s().manifests.put(again, [...refs, { digest: dg('b'), kind: 'blob', size: 2, mediaType: 'x/b' }]), { created: false });
      const got = await s().manifests.get(r.id, first.digest);
      assert.equal(got?.pushedAt.getTime(), at(1).getTime());
      assert.equal(got?.annotations, null);
      assert.deepEqual(await s().manifests.references(r.id, first.digest), refs);
    });

    it('manifests are per repository', async () => {
      const a = await s().repositories.create('a', at(0));
      const b = await s().repositories.create('b', at(0));
      const d = await pushImage(s(), a.id, 'm');
      assert.equal(await s().manifests.get(b.id, d), undefined);
      assert.deepEqual(await s().manifests.missing(b.id, [d]), [d]);
      assert.equal((await pushImage(s(), b.id, 'm')), d);
      assert.equal((await s().manifests.get(b.id, d))?.repositoryId, b.id);
    });

    it('references keep descriptor order, duplicates and kinds', async () => {
      const r = await s().repositories.create('r', at(0));
      const refs: ManifestReference[] = [
        { digest: dg('cfg'), kind: 'blob', size: 10, mediaType: 'application/vnd.oci.image.config.v1+json' },
        { digest: dg('empty-layer'), kind: 'blob', size: 32, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' },
        { digest: dg('layer'), kind: 'blob', size: 5 * 2 ** 32, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' },
        { digest: dg('empty-layer'), kind: 'blob', size: 32, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' },
      ];
      const img = manifest(r.id, 'img');
      await s().manifests.put(img, refs);
      assert.deepEqual(await s().manifests.references(r.id, img.digest), refs);
      const idxRefs: ManifestReference[] = [{ digest: img.digest, kind: 'manifest', size: img.size, mediaType: img.mediaType }];
      const idx = manifest(r.id, 'idx', { mediaType: 'application/vnd.oci.image.index.v1+json' });
      await s().manifests.put(idx, idxRefs);
      assert.deepEqual(await s().manifests.references(r.id, idx.digest), idxRefs);
      assert.deepEqual(await s().manifests.references(r.id, dg('unknown')), []);
    });

    it('references survive many descriptors', async () => {
      const r = await s().repositories.create('r', at(0));
      const refs: ManifestReference[] = Array.from({ length: 450 }, (_, i) => ({ digest: dg(`many:${i}`), kind: 'manifest', size: i, mediaType: 'x/y' }));
      const m = manifest(r.id, 'many');
      await s().manifests.put(m, refs);
      assert.deepEqual(await s().manifests.references(r.id, m.digest), refs);
    });

    it('getByTag resolves the tag; unknown tags give undefined', async () => {
      const r = await s().repositories.create('r', at(0));
      const d1 = await pushImage(s(), r.id, 'one');
      const d2 = await pushImage(s(), r.id, 'two');
      assert.equal(await s().manifests.getByTag(r.id, 'latest'), undefined);
      await s().tags.set(r.id, 'latest', d1, at(2));
      const got = await s().manifests.getByTag(r.id, 'latest');
      assert.deepEqual(got, await s().manifests.get(r.id, d1));
      await s().tags.set(r.id, 'latest', d2, at(3));
      assert.equal((await s().manifests.getByTag(r.id, 'latest'))?.digest, d2);
      const other = await s().repositories.create('other', at(0));
      assert.equal(await s().manifests.getByTag(other.id, 'latest'), undefined);
    });

    it('missing keeps input order, drops duplicates, handles long lists', async () => {
      const r = await s().repositories.create('r', at(0));
      const have = [await pushImage(s(), r.id, 'h1'), await pushImage(s(), r.id, 'h2')];
      assert.deepEqual(await s().manifests.missing(r.id, [dg('x'), have[0], dg('y'), dg('x'), have[1], dg('y')]), [dg('x'), dg('y')]);
      assert.deepEqual(await s().manifests.missing(r.id, []), []);
      const many = Array.from({ length: 1100 }, (_, i) => dg(`missing:${i}`));
      assert.deepEqual(await s().manifests.missing(r.id, [have[1], ...many, have[0], ...many]), many);
    });

    it('delete removes the manifest, its references and the tags pointing at it, returning those tags', async () => {
      const r = await s().repositories.create('r', at(0));
      const d1 = await pushImage(s(), r.id, 'one', ['l1']);
      const d2 = await pushImage(s(), r.id, 'two', ['l1']);
      for (const t of ['v1', 'latest', 'V1', 'stable']) await s().tags.set(r.id, t, d1, at(2));
      await s().tags.set(r.id, 'other', d2, at(2));
      assert.deepEqual(await s().manifests.delete(r.id, d1), { tags: ['V1', 'latest', 'stable', 'v1'] });
      assert.equal(await s().manifests.get(r.id, d1), undefined);
      assert.deepEqual(await s().manifests.references(r.id, d1), []);
      assert.deepEqual(await s().tags.forDigest(r.id, d1), []);
      assert.equal(await s().tags.get(r.id, 'latest'), undefined);
      assert.deepEqual(await s().tags.list(r.id, { limit: 10 }), ['other']);
      assert.equal((await s().manifests.references(r.id, d2)).length, 1);
      assert.ok(await s().blobs.getLinked(r.id, dg('blob:l1')), 'blob links are not the manifest\'s to remove');
      assert.equal(await s().manifests.delete(r.id, d1), undefined);
      assert.deepEqual(await s().manifests.delete(r.id, d2), { tags: ['other'] });
      const d3 = await pushImage(s(), r.id, 'three');
      assert.deepEqual(await s().manifests.delete(r.id, d3), { tags: [] });
    });

    it('a deleted manifest can be pushed again', async () => {
      const r = await s().repositories.create('r', at(0));
      const d = await pushImage(s(), r.id, 'again', ['x']);
      await s().manifests.delete(r.id, d);
      assert.deepEqual(await s().manifests.put(manifest(r.id, 'again'), []), { created: true });
      assert.deepEqual(await s().manifests.references(r.id, d), []);
    });

    it('referrers filter by subject and artifactType, ordered by digest, per repository', async () => {
      const r = await s().repositories.create('r', at(0));
      const other = await s().repositories.create('other', at(0));
      const subject = await pushImage(s(), r.id, 'subject');
      const kinds = ['application/vnd.example.sbom', 'application/vnd.example.sig', 'application/vnd.example.sbom', null];
      const made: NewManifest[] = [];
      for (const [i, artifactType] of kinds.entries()) {
        made.push(manifest(r.id, `ref${i}`, { subjectDigest: subject, artifactType, annotations: i === 0 ? '{"k":"v"}' : null }));
        await s().manifests.put(made[i], []);
      }
      await s().manifests.put(manifest(r.id, 'unrelated', { subjectDigest: dg('someone-else'), artifactType: kinds[0] }), []);
      await s().manifests.put(manifest(other.id, 'foreign', { subjectDigest: subject, artifactType: kinds[0] }), []);

      const expectAll = made
        .map((m) => ({ digest: m.digest, mediaType: ARTIFACT, artifactType: m.artifactType, size: m.size, annotations: m.annotations }))
        .sort((a, b) => (a.digest < b.digest ? -1 : 1));
      assert.deepEqual(await s().manifests.referrers(r.id, subject), expectAll);
      assert.deepEqual(
        await s().manifests.referrers(r.id, subject, 'application/vnd.example.sbom'),
        expectAll.filter((x) => x.artifactType === 'application/vnd.example.sbom'),
      );
      assert.deepEqual(await s().manifests.referrers(r.id, subject, 'application/none'), []);
      assert.deepEqual(await s().manifests.referrers(r.id, dg('nothing')), []);
      // Deleting a referrer removes it from the listing.
      await s().manifests.delete(r.id, made[1].digest);
      assert.deepEqual(await s().manifests.referrers(r.id, subject, 'application/vnd.example.sig'), []);
    });

    it('touchPulled accepts known and unknown manifests and never changes other fields', async () => {
      const r = await s().repositories.create('r', at(0));
      const d = await pushImage(s(), r.id, 'pulled');
      const before = await s().manifests.get(r.id, d);
      await s().manifests.touchPulled(r.id, d, at(100));
      await s().manifests.touchPulled(r.id, d, at(50));
      await s().manifests.touchPulled(r.id, dg('never-pushed'), at(100));
      const after = await s().manifests.get(r.id, d);
      assert.ok(after && before);
      // Best effort: either not yet written or the latest time.
      assert.ok(after.lastPulledAt === null || after.lastPulledAt.getTime() === at(100).getTime());
      assert.deepEqual({ ...after, lastPulledAt: null }, before);
    });

    it('list pages digests in order', async () => {
      const r = await s().repositories.create('r', at(0));
      const other = await s().repositories.create('other', at(0));
      const digests: string[] = [];
      for (let i = 0; i < 23; i++) digests.push(await pushImage(s(), r.id, `list${i}`));
      await pushImage(s(), other.id, 'not-mine');
      assert.deepEqual(await pageAll((last, limit) => s().manifests.list(r.id, { last, limit }), 5), byteSorted(digests));
      assert.deepEqual(await s().manifests.list(r.id, { limit: 0 }), []);
    });
  });
}
