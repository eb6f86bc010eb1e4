import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LifecyclePreviewResult } from '../types.ts';
import { at, dg, manifest, pushImage, type StoreRef } from './fixtures.ts';

const TEXT = '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}';

function result(label: string, pushed: number, tags: string[] = []): LifecyclePreviewResult {
  return { digest: dg(label), tags, pushedAt: at(pushed), rulePriority: 1, reason: `because ${label}` };
}

export function lifecycleCases(s: StoreRef): void {
  describe('lifecycle', () => {
    it('policy: put, replace keeps lastEvaluatedAt, delete returns it once, cascades with the repository', async () => {
      const r = await s().repositories.create('lc/app', at(1));
      assert.equal(await s().lifecycle.getPolicy(r.id), undefined);
      await s().lifecycle.putPolicy(r.id, 'first', at(1));
      await s().lifecycle.markEvaluated(r.id, at(5));
      await s().lifecycle.putPolicy(r.id, TEXT, at(7));
      assert.deepEqual(await s().lifecycle.getPolicy(r.id), { repositoryId: r.id, policyText: TEXT, updatedAt: at(7), lastEvaluatedAt: at(5) });
      assert.deepEqual(await s().lifecycle.listPolicies({ limit: 10 }), [{ repositoryId: r.id, repositoryName: 'lc/app' }]);
      assert.equal((await s().lifecycle.deletePolicy(r.id))?.policyText, TEXT);
      assert.equal(await s().lifecycle.deletePolicy(r.id), undefined);
      await s().lifecycle.markEvaluated(r.id, at(9)); // no policy: nothing to mark, no error
      await s().lifecycle.putPolicy(r.id, TEXT, at(10));
      assert.equal((await s().lifecycle.getPolicy(r.id))?.lastEvaluatedAt, null);
      await s().repositories.delete(r.id);
      assert.deepEqual(await s().lifecycle.listPolicies({ limit: 10 }), []);
    });

    it('listPolicies pages by repository id', async () => {
      const ids: number[] = [];
      for (const n of ['a1', 'b2', 'c3', 'd4']) {
        const r = await s().repositories.create(n, at(1));
        ids.push(r.id);
        if (n !== 'b2') await s().lifecycle.putPolicy(r.id, TEXT, at(1));
      }
      const first = await s().lifecycle.listPolicies({ limit: 2 });
      assert.deepEqual(first.map((x) => x.repositoryName), ['a1', 'c3']);
      const rest = await s().lifecycle.listPolicies({ afterId: first[1]!.repositoryId, limit: 2 });
      assert.deepEqual(rest.map((x) => x.repositoryName), ['d4']);
    });

    it('preview: one in progress at a time (unless stale), results paged and filtered, replaced by the next start', async () => {
      const r = await s().repositories.create('lc/preview', at(1));
      assert.equal(await s().lifecycle.getPreview(r.id), undefined);
      assert.equal(await s().lifecycle.startPreview(r.id, TEXT, at(10), at(0)), true);
      assert.equal(await s().lifecycle.startPreview(r.id, TEXT, at(11), at(0)), false);
      assert.equal((await s().lifecycle.getPreview(r.id))?.status, 'IN_PROGRESS');
      // A completion for another start is refused.
      assert.equal(await s().lifecycle.completePreview(r.id, at(11), [], at(12)), false);
      const results = [result('x', 3, ['b', 'a']), result('y', 1), result('z', 2, ['t']), result('w', 2)];
      assert.equal(await s().lifecycle.completePreview(r.id, at(10), results, at(12)), true);
      const p = await s().lifecycle.getPreview(r.id);
      assert.deepEqual(p, { repositoryId: r.id, policyText: TEXT, status: 'COMPLETE', expiringCount: 4, error: null, startedAt: at(10), finishedAt: at(12) });
      const all = await s().lifecycle.previewResults(r.id, { limit: 10, tagStatus: 'ANY' });
      const order = [dg('y'), ...[dg('w'), dg('z')].sort(), dg('x')];
      assert.deepEqual(all.map((x) => x.digest), order);
      assert.deepEqual(all[3]!.tags, ['b', 'a']);
      const page1 = await s().lifecycle.previewResults(r.id, { limit: 2, tagStatus: 'ANY' });
      const last = page1[1]!;
      const page2 = await s().lifecycle.previewResults(r.id, { limit: 2, tagStatus: 'ANY', after: { pushedAt: last.pushedAt.getTime(), digest: last.digest } });
      assert.deepEqual([...page1, ...page2].map((x) => x.digest), order);
      assert.deepEqual((await s().lifecycle.previewResults(r.id, { limit: 10, tagStatus: 'TAGGED' })).map((x) => x.digest).sort(), [dg('x'), dg('z')].sort());
      assert.equal((await s().lifecycle.previewResults(r.id, { limit: 10, tagStatus: 'UNTAGGED' })).length, 2);
      assert.deepEqual((await s().lifecycle.previewResultsFor(r.id, [dg('x'), dg('nope'), dg('y')])).map((x) => x.digest), [dg('y'), dg('x')]);
      // A new start clears the old results; a stale IN_PROGRESS one can be replaced.
      assert.equal(await s().lifecycle.startPreview(r.id, TEXT, at(20), at(0)), true);
      assert.deepEqual(await s().lifecycle.previewResults(r.id, { limit: 10, tagStatus: 'ANY' }), []);
      assert.equal(await s().lifecycle.startPreview(r.id, TEXT, at(30), at(25)), true);
      assert.equal(await s().lifecycle.failPreview(r.id, at(20), 'old', at(31)), false);
      assert.equal(await s().lifecycle.failPreview(r.id, at(30), 'boom', at(31)), true);
      assert.deepEqual({ ...(await s().lifecycle.getPreview(r.id)), policyText: '' }, { repositoryId: r.id, policyText: '', status: 'FAILED', expiringCount: 0, error: 'boom', startedAt: at(30), finishedAt: at(31) });
      await s().repositories.delete(r.id);
      assert.equal(await s().lifecycle.getPreview(r.id), undefined);
    });

    it('events: appended in order, paged by id, filtered by repository, kept after the repository is gone', async () => {
      const r = await s().repositories.create('lc/ev', at(1));
      const ids = await s().lifecycle.appendEvents([
        { repositoryName: 'lc/ev', digest: dg(1), tags: ['v1', 'latest'], rulePriority: 2, reason: 'old', at: at(5) },
        { repositoryName: 'other', digest: dg(2), tags: [], rulePriority: 1, reason: 'untagged', at: at(6) },
        { repositoryName: 'lc/ev', digest: dg(3), tags: [], rulePriority: 1, reason: 'untagged', at: at(7) },
      ]);
      assert.equal(ids.length, 3);
      assert.ok(ids[0]! < ids[1]! && ids[1]! < ids[2]!);
      await s().repositories.delete(r.id);
      const all = await s().lifecycle.events({ limit: 10 });
      assert.deepEqual(all[0], { id: ids[0], repositoryName: 'lc/ev', digest: dg(1), tags: ['v1', 'latest'], rulePriority: 2, reason: 'old', at: at(5) });
      assert.deepEqual((await s().lifecycle.events({ limit: 10, afterId: ids[0] })).map((e) => e.id), ids.slice(1));
      assert.deepEqual((await s().lifecycle.events({ limit: 1, afterId: ids[0] })).map((e) => e.id), [ids[1]]);
      assert.deepEqual((await s().lifecycle.events({ limit: 10, repositoryName: 'lc/ev' })).map((e) => e.digest), [dg(1), dg(3)]);
      assert.deepEqual(await s().lifecycle.appendEvents([]), []);
    });

    it('images: every manifest with its tags, subject and children', async () => {
      const r = await s().repositories.create('lc/img', at(1));
      const a = await pushImage(s(), r.id, 'a', ['l1'], { pushedAt: at(2) });
      const b = await pushImage(s(), r.id, 'b', ['l2'], { pushedAt: at(3) });
      const index = manifest(r.id, 'index', { mediaType: 'application/vnd.oci.image.index.v1+json', pushedAt: at(4) });
      await s().manifests.put(index, [
        { digest: b, kind: 'manifest', size: 10, mediaType: 'application/vnd.oci.image.manifest.v1+json' },
        { digest: a, kind: 'manifest', size: 10, mediaType: 'application/vnd.oci.image.manifest.v1+json' },
      ]);
      const sig = await pushImage(s(), r.id, 'sig', [], { pushedAt: at(5), subjectDigest: index.digest, artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json' });
      await s().tags.set(r.id, 'v1', index.digest, at(4));
      await s().tags.set(r.id, 'latest', index.digest, at(4));
      await s().manifests.touchPulled(r.id, a, at(9));
      const other = await s().repositories.create('lc/other', at(1));
      await pushImage(s(), other.id, 'elsewhere', [], { pushedAt: at(2) });
      await s().manifests.put(manifest(other.id, 'x'), []);
      const rows = await s().lifecycle.images(r.id);
      assert.deepEqual(rows.map((x) => x.digest), [a, b, index.digest, sig]);
      const idx = rows[2]!;
      assert.deepEqual(idx.tags, ['latest', 'v1']);
      assert.deepEqual(idx.children, [b, a]);
      assert.equal(idx.mediaType, 'application/vnd.oci.image.index.v1+json');
      assert.equal(rows[3]!.subjectDigest, index.digest);
      assert.deepEqual(rows[0]!.tags, []);
      assert.equal(rows[0]!.pushedAt.getTime(), at(2).getTime());
    });
  });
}
