import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { at, type StoreRef } from './fixtures.ts';

export function encryptionCases(s: StoreRef): void {
  describe('encryption', () => {
    const scope = { id: 'registry', keyId: 'arn:aws:kms:us-east-1:123456789012:key/k1', provider: 'local', wrappedKey: Buffer.from([1, 2, 3, 0, 255]), owned: false, createdAt: at(1) };
    const object = { scopeId: 'registry', digest: `sha256:${'a'.repeat(64)}`, size: 10, parts: '[]', mac: Buffer.from([9, 9]), createdAt: at(2) };

    it('scopes: insert once, read back bytes exactly, list in order, rewrap, delete', async () => {
      assert.deepEqual(await s().encryption.putScope(scope), { created: true });
      assert.deepEqual(await s().encryption.putScope({ ...scope, wrappedKey: Buffer.from([7]) }), { created: false });
      assert.deepEqual(await s().encryption.getScope('registry'), { ...scope, rotatedAt: null });
      await s().encryption.putScope({ ...scope, id: 'arn:z', owned: true });
      assert.deepEqual((await s().encryption.listScopes({ limit: 10 })).map((r) => r.id), ['arn:z', 'registry']);
      assert.deepEqual((await s().encryption.listScopes({ last: 'arn:z', limit: 10 })).map((r) => r.id), ['registry']);
      assert.equal(await s().encryption.rewrapScope('registry', Buffer.from([4, 4]), at(5)), true);
      const r = await s().encryption.getScope('registry');
      assert.deepEqual([r?.wrappedKey, r?.rotatedAt], [Buffer.from([4, 4]), at(5)]);
      assert.equal(await s().encryption.rewrapScope('nope', Buffer.from([1]), at(5)), false);
      assert.equal(await s().encryption.deleteScope('arn:z'), true);
      assert.equal(await s().encryption.getScope('arn:z'), undefined);
    });

    it('objects: one per (scope, digest), found across scopes, cascade from their scope', async () => {
      await s().encryption.putScope(scope);
      await s().encryption.putScope({ ...scope, id: 'arn:own' });
      assert.deepEqual(await s().encryption.putObject(object), { created: true });
      assert.deepEqual(await s().encryption.putObject({ ...object, size: 11 }), { created: false });
      await s().encryption.putObject({ ...object, scopeId: 'arn:own' });
      assert.deepEqual(await s().encryption.getObject('registry', object.digest), object);
      assert.deepEqual((await s().encryption.objectsFor(object.digest)).map((o) => o.scopeId), ['arn:own', 'registry']);
      assert.deepEqual((await s().encryption.listObjects('registry', { limit: 5 })).map((o) => o.digest), [object.digest]);
      assert.deepEqual(await s().encryption.listObjects('registry', { last: object.digest, limit: 5 }), []);
      await s().encryption.deleteScope('arn:own');
      assert.deepEqual((await s().encryption.objectsFor(object.digest)).map((o) => o.scopeId), ['registry']);
      assert.equal(await s().encryption.deleteObject('registry', object.digest), true);
      assert.equal(await s().encryption.getObject('registry', object.digest), undefined);
    });

    it('counts the repositories encrypted under a key', async () => {
      const settings = { imageTagMutability: 'MUTABLE' as const, imageTagMutabilityExclusionFilters: [], scanOnPush: false };
      const a = await s().repositories.create('a', at(0));
      const b = await s().repositories.create('b', at(0));
      const c = await s().repositories.create('c', at(0));
      await s().ecr.putSettings(a.id, { ...settings, encryptionType: 'KMS', kmsKey: 'arn:k1' }, at(1));
      await s().ecr.putSettings(b.id, { ...settings, encryptionType: 'KMS', kmsKey: 'arn:k1' }, at(1));
      await s().ecr.putSettings(c.id, { ...settings, encryptionType: 'AES256', kmsKey: null }, at(1));
      assert.equal(await s().encryption.repositoriesUsingKey('arn:k1'), 2);
      await s().repositories.delete(a.id);
      assert.equal(await s().encryption.repositoriesUsingKey('arn:k1'), 1);
      assert.equal(await s().encryption.repositoriesUsingKey('arn:other'), 0);
    });

    it('uploads: upsert, read, delete', async () => {
      await s().encryption.putScope(scope);
      const u = { id: 'up-1', scopeId: 'registry', size: 0, parts: '[]', updatedAt: at(3) };
      await s().encryption.putUpload(u);
      await s().encryption.putUpload({ ...u, size: 5, parts: '[1]', updatedAt: at(4) });
      assert.deepEqual(await s().encryption.getUpload('up-1'), { ...u, size: 5, parts: '[1]', updatedAt: at(4) });
      await s().encryption.putUpload({ ...u, id: 'up-0' });
      assert.deepEqual((await s().encryption.listUploads({ limit: 5 })).map((x) => x.id), ['up-0', 'up-1']);
      assert.deepEqual((await s().encryption.listUploads({ last: 'up-0', limit: 5 })).map((x) => x.id), ['up-1']);
      assert.equal(await s().encryption.deleteUpload('up-1'), true);
      assert.equal(await s().encryption.getUpload('up-1'), undefined);
    });
  });
}
