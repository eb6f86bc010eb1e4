import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { at, dg, manifest, pushImage, type StoreRef } from './fixtures.ts';

/** meta.gc (src/gc/types.ts): queue rules, the stores' own queue writes, eligibility reads, usage. */
export function gcCases(s: StoreRef): void {
  describe('gc', () => {
    it('queue upserts: unscheduled stays unscheduled, otherwise the later time wins', async () => {
      const gc = s().gc;
      await gc.queueBlobs([dg('a')], 'test', at(10));
      await gc.queueBlobs([dg('a')], 'test', at(5));
      assert.equal((await gc.getReview('blob', 0, dg('a')))?.reviewAfter?.getTime(), at(10).getTime());
      await gc.queueBlobs([dg('a')], 'later', at(20));
      assert.equal((await gc.getReview('blob', 0, dg('a')))?.reviewAfter?.getTime(), at(20).getTime());
      await gc.protectBlob(dg('a'));
      assert.equal((await gc.getReview('blob', 0, dg('a')))?.reviewAfter, null);
      await gc.queueBlobs([dg('a')], 'test', at(30));
      const row = await gc.getReview('blob', 0, dg('a'));
      assert.equal(row?.reviewAfter, null, 'a pin is not undone by a later event');
      assert.equal(row?.event, 'test');
    });

    it('schedule stamps unscheduled rows; due pages in (reviewAfter, repository, digest) order', async () => {
      const gc = s().gc;
      const r = await s().repositories.create('r', at(0));
      await gc.queueLinks(r.id, [dg(3), dg(1), dg(2)], 'test');
      await gc.queueLinks(r.id, [dg(4)], 'test', at(50));
      assert.deepEqual((await gc.due('link', at(100), { limit: 10 })).map((x) => x.digest), [dg(4)], 'unscheduled rows are never due');
      assert.equal(await gc.schedule(at(7)), 3);
      const first = await gc.due('link', at(100), { limit: 2 });
      const expectedOrder = [dg(1), dg(2), dg(3)].sort();
      assert.deepEqual(first.map((x) => x.digest), expectedOrder.slice(0, 2));
      const last = first[1];
      const rest = await gc.due('link', at(100), { limit: 10, after: { reviewAfter: last.reviewAfter!.getTime(), repositoryId: last.repositoryId, digest: last.digest } });
      assert.deepEqual(rest.map((x) => x.digest), [expectedOrder[2], dg(4)]);
      assert.deepEqual((await gc.due('link', at(8), { limit: 10 })).length, 3);
      await gc.retryReview('link', r.id, dg(1), at(60));
      const retried = await gc.getReview('link', r.id, dg(1));
      assert.equal(retried?.reviewCount, 1);
      assert.equal(retried?.reviewAfter?.getTime(), at(60).getTime());
      await gc.removeReview('link', r.id, dg(1));
      assert.equal(await gc.getReview('link', r.id, dg(1)), undefined);
      await gc.removeReviews('link', [{ repositoryId: r.id, digest: dg(2) }, { repositoryId: r.id, digest: dg(3) }]);
      assert.equal(await gc.getReview('link', r.id, dg(2)), undefined);
      await gc.queueLinks(r.id, [dg(1), dg(2), dg(3)], 'test', at(9));
      const p = await gc.pending(at(55));
      assert.deepEqual(p.link, { due: 4, waiting: 0 });
    });

    it('a link queues its own review and pins its blob; unlink queues the blob', async () => {
      const r = await s().repositories.create('r', at(0));
      await s().blobs.put(dg('b'), 10, null, at(0));
      await s().blobs.link(r.id, dg('b'), at(1));
      assert.equal((await s().gc.getReview('link', r.id, dg('b')))?.event, 'link_create');
      assert.equal((await s().gc.getReview('blob', 0, dg('b')))?.reviewAfter, null);
      await s().gc.schedule(at(2));
      assert.ok(await s().blobs.unlink(r.id, dg('b')));
      const row = await s().gc.getReview('blob', 0, dg('b'));
      assert.equal(row?.event, 'link_delete');
      assert.equal(row?.reviewAfter, null);
    });

    it('a manifest delete queues its links, children and referrers in its transaction', async () => {
      const st = s();
      const r = await st.repositories.create('r', at(0));
      const child = await pushImage(st, r.id, 'child', ['l1']);
      const idx = manifest(r.id, 'idx');
      await st.manifests.put(idx, [{ digest: child, kind: 'manifest', size: 10, mediaType: 'application/vnd.oci.image.manifest.v1+json' }]);
      const img = await pushImage(st, r.id, 'img', ['l2', 'l3']);
      await st.manifests.put(manifest(r.id, 'sig', { subjectDigest: img }), []);
      await st.manifests.delete(r.id, idx.digest);
      assert.equal((await st.gc.getReview('manifest', r.id, child))?.event, 'index_delete');
      await st.manifests.delete(r.id, img);
      assert.equal((await st.gc.getReview('link', r.id, dg('blob:l2')))?.event, 'manifest_delete');
      assert.equal((await st.gc.getReview('link', r.id, dg('blob:l3')))?.event, 'manifest_delete');
      assert.equal((await st.gc.getReview('manifest', r.id, dg('manifest:sig')))?.event, 'subject_delete');
      // Deleting what is absent queues nothing (a referrer pushed before its subject is not orphaned by it).
      await st.manifests.put(manifest(r.id, 'early', { subjectDigest: dg('never-pushed') }), []);
      assert.equal(await st.manifests.delete(r.id, dg('never-pushed')), undefined);
      assert.equal(await st.gc.getReview('manifest', r.id, dg('manifest:early')), undefined);
    });

    it('a repository delete queues every blob it linked or listed', async () => {
      const st = s();
      const r = await st.repositories.create('r', at(0));
      await pushImage(st, r.id, 'a', ['x', 'y']);
      await st.repositories.delete(r.id);
      for (const l of ['x', 'y']) assert.equal((await st.gc.getReview('blob', 0, dg(`blob:${l}`)))?.event, 'repository_delete');
    });

    it('eligibility reads: blob use, link state, manifest state, held references', async () => {
      const st = s();
      const r = await st.repositories.create('r', at(0));
      const other = await st.repositories.create('o', at(0));
      const img = await pushImage(st, r.id, 'a', ['x']);
      await st.blobs.link(other.id, dg('blob:x'), at(1));
      const use = await st.gc.blobUse([dg('blob:x'), dg('absent')]);
      assert.deepEqual(use.get(dg('blob:x')), { links: 2, references: 1, size: 101 });
      assert.deepEqual(use.get(dg('absent')), { links: 0, references: 0, size: null });
      assert.deepEqual(await st.gc.linkState(r.id, dg('blob:x')), { linked: true, referenced: true, size: 101 });
      assert.deepEqual(await st.gc.linkState(other.id, dg('blob:x')), { linked: true, referenced: false, size: 101 });
      assert.ok(await st.gc.deleteLink(other.id, dg('blob:x')));
      assert.deepEqual(await st.gc.linkState(other.id, dg('blob:x')), { linked: false, referenced: false, size: null });
      const ms = await st.gc.manifestState(r.id, img);
      assert.deepEqual({ ...ms, size: 0 }, { size: 0, tags: 0, parents: 0, subject: null, subjectPresent: false });
      await st.tags.set(r.id, 'v1', img, at(2));
      assert.equal((await st.gc.manifestState(r.id, img))?.tags, 1);
      assert.deepEqual(await st.gc.holdReferences(r.id, [dg('blob:x'), dg('blob:nope')], [img, dg('m:nope')]), { missingBlobs: [dg('blob:nope')], missingManifests: [dg('m:nope')] });
      // The locking forms (FOR UPDATE [SKIP LOCKED] / FOR SHARE on PostgreSQL) inside a transaction.
      await st.gc.schedule(at(3));
      await st.transaction(async (tx) => {
        assert.ok((await tx.gc.due('blob', at(4), { limit: 10, lock: true })).some((x) => x.digest === dg('blob:x')));
        assert.ok((await tx.gc.due('link', at(4), { limit: 10, lock: true })).length > 0);
        assert.equal((await tx.gc.getReview('blob', 0, dg('blob:x'), true))?.reviewAfter?.getTime(), at(3).getTime());
        assert.equal((await tx.gc.linkState(r.id, dg('blob:x'), true)).linked, true);
        assert.equal((await tx.gc.manifestState(r.id, img, true))?.tags, 1);
        assert.deepEqual(await tx.gc.holdReferences(r.id, [dg('blob:x')], [img]), { missingBlobs: [], missingManifests: [] });
      });
    });

    it('finds blob rows and links nothing references or queues; knows blob and upload rows', async () => {
      const st = s();
      const r = await st.repositories.create('r', at(0));
      await pushImage(st, r.id, 'a', ['x']);
      await st.blobs.put(dg('lonely'), 5, null, at(0));
      assert.deepEqual(await st.gc.orphanBlobs({ limit: 10 }), [dg('lonely')]);
      await st.gc.queueBlobs([dg('lonely')], 'test');
      assert.deepEqual(await st.gc.orphanBlobs({ limit: 10 }), []);
      assert.deepEqual(await st.gc.unreferencedLinks({ limit: 10 }), [], 'every link got a review row when it was made');
      assert.deepEqual([...(await st.gc.knownBlobs([dg('lonely'), dg('absent')]))], [dg('lonely')]);
      await st.uploads.create({ id: 'u1', repositoryId: r.id, createdAt: at(1), updatedAt: at(1) });
      assert.deepEqual([...(await st.gc.knownUploads(['u1', 'u2']))], ['u1']);
      assert.deepEqual(await st.gc.staleUploads(at(2), { limit: 10 }), [{ id: 'u1', updatedAt: at(1).getTime() }]);
      assert.deepEqual(await st.gc.staleUploads(at(1), { limit: 10 }), []);
    });

    it('records removals, newest first, and prunes old records', async () => {
      const gc = s().gc;
      await gc.record({ kind: 'blob', repository: null, digest: dg(1), size: 5, reason: 'r1', at: at(1) });
      await gc.record({ kind: 'link', repository: 'x', digest: dg(2), size: null, reason: 'r2', at: at(2) });
      assert.deepEqual((await gc.deletions()).map((d) => d.reason), ['r2', 'r1']);
      await gc.record([{ kind: 'upload', repository: null, digest: 'u1', size: null, reason: 'r0', at: at(0) }]);
      assert.equal(await gc.pruneDeletions(at(2)), 2);
      assert.deepEqual(await gc.deletions(), [{ kind: 'link', repository: 'x', digest: dg(2), size: null, reason: 'r2', at: at(2) }]);
    });

    it('usage: per repository every linked blob, registry-wide each blob once', async () => {
      const st = s();
      const a = await st.repositories.create('a', at(0));
      const b = await st.repositories.create('b', at(0));
      await pushImage(st, a.id, 'one', ['shared']);
      await pushImage(st, b.id, 'two', ['shared', 'own']);
      const rows = await st.gc.repositoryUsage({ limit: 10 });
      assert.deepEqual(rows.map((r) => [r.repository, r.blobs, r.blobBytes, r.manifests]), [['a', 1, 106, 1], ['b', 2, 209, 1]]);
      assert.deepEqual((await st.gc.repositoryUsage({ last: 'a', limit: 10 })).map((r) => r.repository), ['b']);
      const reg = await st.gc.registryUsage();
      assert.deepEqual({ ...reg, manifestBytes: 0 }, { repositories: 2, blobs: 2, blobBytes: 209, manifests: 2, manifestBytes: 0 });
      assert.equal(reg.manifestBytes, rows[0].manifestBytes + rows[1].manifestBytes);
    });
  });
}
