import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IamUserRecord } from '../types.ts';
import { at, byteSorted, pageAll, rejectsWithKind, type StoreRef } from './fixtures.ts';

const user = (name: string, n = 1): IamUserRecord => ({ name, userId: `AIDA${Buffer.from(name).toString('hex').toUpperCase()}`, arn: `arn:aws:iam::123456789012:user/${name}`, createdAt: at(n) });
const key = (id: string, userName: string, n = 1) => ({ accessKeyId: id, userName, secretCiphertext: `v1.cipher-of-${id}`, status: 'Active' as const, createdAt: at(n), lastUsedAt: null });

export function iamCases(s: StoreRef): void {
  describe('iam', () => {
    it('createUser returns the record; getUser finds it; a second create is CONFLICT', async () => {
      const u = await s().iam.createUser(user('alice', 3));
      assert.deepEqual(u, user('alice', 3));
      assert.deepEqual(await s().iam.getUser('alice'), u);
      assert.equal(await s().iam.getUser('bob'), undefined);
      await rejectsWithKind(s().iam.createUser(user('alice', 4)), 'CONFLICT');
      await rejectsWithKind(s().iam.createUser({ ...user('other'), userId: u.userId }), 'CONFLICT');
      assert.equal(await s().iam.countUsers(), 1);
    });

    it('listUsers pages in byte order', async () => {
      const names = ['zed', 'a-b', 'a.b', 'a_b', 'ab', 'admin', 'b', 'Alice'];
      for (const n of names) await s().iam.createUser(user(n));
      const all = await pageAll(async (last, limit) => (await s().iam.listUsers({ last, limit })).map((u) => u.name), 3);
      assert.deepEqual(all, byteSorted(names));
      assert.deepEqual(await s().iam.listUsers({ limit: 0 }), []);
    });

    it('access keys: create, get, list (oldest first), status, touch, delete', async () => {
      await s().iam.createUser(user('alice'));
      await s().iam.createAccessKey(key('AKIAKEYTWO000000000B', 'alice', 2));
      await s().iam.createAccessKey(key('AKIAKEYONE000000000A', 'alice', 1));
      await rejectsWithKind(s().iam.createAccessKey(key('AKIAKEYONE000000000A', 'alice', 5)), 'CONFLICT');
      await rejectsWithKind(s().iam.createAccessKey(key('AKIAKEYNOUSER000000C', 'nobody')), 'NOT_FOUND');
      assert.deepEqual(await s().iam.getAccessKey('AKIAKEYONE000000000A'), key('AKIAKEYONE000000000A', 'alice', 1));
      assert.deepEqual((await s().iam.listAccessKeys('alice')).map((k) => k.accessKeyId), ['AKIAKEYONE000000000A', 'AKIAKEYTWO000000000B']);
      assert.equal(await s().iam.setAccessKeyStatus('AKIAKEYONE000000000A', 'Inactive'), true);
      assert.equal(await s().iam.setAccessKeyStatus('AKIAMISSING00000000X', 'Inactive'), false);
      assert.equal((await s().iam.getAccessKey('AKIAKEYONE000000000A'))?.status, 'Inactive');
      await s().iam.touchAccessKey('AKIAKEYONE000000000A', at(9));
      await s().iam.touchAccessKey('AKIAKEYONE000000000A', at(7));
      assert.equal((await s().iam.getAccessKey('AKIAKEYONE000000000A'))?.lastUsedAt?.getTime(), at(9).getTime(), 'last use never moves backwards');
      assert.equal(await s().iam.deleteAccessKey('AKIAKEYONE000000000A'), true);
      assert.equal(await s().iam.deleteAccessKey('AKIAKEYONE000000000A'), false);
      assert.equal(await s().iam.getAccessKey('AKIAKEYONE000000000A'), undefined);
    });

    it('inline policies: put replaces, list by name, delete; missing user is NOT_FOUND', async () => {
      await s().iam.createUser(user('alice'));
      await s().iam.putUserPolicy({ userName: 'alice', policyName: 'push', document: '{"v":1}', updatedAt: at(1) });
      await s().iam.putUserPolicy({ userName: 'alice', policyName: 'pull', document: '{"v":2}', updatedAt: at(2) });
      await s().iam.putUserPolicy({ userName: 'alice', policyName: 'push', document: '{"v":3}', updatedAt: at(3) });
      await rejectsWithKind(s().iam.putUserPolicy({ userName: 'bob', policyName: 'x', document: '{}', updatedAt: at(1) }), 'NOT_FOUND');
      assert.deepEqual((await s().iam.listUserPolicies('alice')).map((p) => [p.policyName, p.document]), [['pull', '{"v":2}'], ['push', '{"v":3}']]);
      assert.equal((await s().iam.getUserPolicy('alice', 'push'))?.updatedAt.getTime(), at(3).getTime());
      assert.equal(await s().iam.getUserPolicy('alice', 'nope'), undefined);
      assert.equal(await s().iam.deleteUserPolicy('alice', 'push'), true);
      assert.equal(await s().iam.deleteUserPolicy('alice', 'push'), false);
      assert.deepEqual((await s().iam.listUserPolicies('alice')).map((p) => p.policyName), ['pull']);
    });

    it('deleting a user deletes its keys and policies and nobody else\'s', async () => {
      await s().iam.createUser(user('alice'));
      await s().iam.createUser(user('bob'));
      await s().iam.createAccessKey(key('AKIAALICE0000000000A', 'alice'));
      await s().iam.createAccessKey(key('AKIABOB00000000000AB', 'bob'));
      await s().iam.putUserPolicy({ userName: 'alice', policyName: 'p', document: '{}', updatedAt: at(1) });
      await s().iam.putUserPolicy({ userName: 'bob', policyName: 'p', document: '{}', updatedAt: at(1) });
      assert.equal(await s().iam.deleteUser('alice'), true);
      assert.equal(await s().iam.deleteUser('alice'), false);
      assert.equal(await s().iam.getAccessKey('AKIAALICE0000000000A'), undefined);
      assert.deepEqual(await s().iam.listUserPolicies('alice'), []);
      assert.ok(await s().iam.getAccessKey('AKIABOB00000000000AB'));
      assert.equal((await s().iam.listUserPolicies('bob')).length, 1);
      // Re-creating the name starts empty.
      await s().iam.createUser(user('alice', 5));
      assert.deepEqual(await s().iam.listAccessKeys('alice'), []);
    });

    it('writes inside a transaction roll back with it', async () => {
      await assert.rejects(s().transaction(async (tx) => {
        await tx.iam.createUser(user('ghost'));
        await tx.iam.createAccessKey(key('AKIAGHOST0000000000G', 'ghost'));
        throw new Error('abort');
      }), /abort/);
      assert.equal(await s().iam.getUser('ghost'), undefined);
      assert.equal(await s().iam.getAccessKey('AKIAGHOST0000000000G'), undefined);
    });
  });
}
