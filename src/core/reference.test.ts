import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDigest, parseDigest } from './digest.ts';
import { isRegistryError } from './errors.ts';
import { isRepositoryName, isTag } from './reference.ts';

describe('repository names', () => {
  for (const ok of ['a', 'app', 'dev/team/app', 'a.b_c__d-e---f', 'x1/y2', 'a'.repeat(255)]) it(`accepts ${ok.slice(0, 40)}`, () => assert.ok(isRepositoryName(ok)));
  for (const bad of ['', 'App', '-a', 'a-', 'a//b', '/a', 'a/', 'a..b', 'a___b', 'a b', 'a'.repeat(256), 'a/.b', '..', 'a/../b']) it(`refuses ${JSON.stringify(bad.slice(0, 40))}`, () => assert.ok(!isRepositoryName(bad)));
});

describe('tags', () => {
  for (const ok of ['latest', 'v1.2.3', '_x', 'A-b.C_d', 'a'.repeat(128)]) it(`accepts ${ok.slice(0, 40)}`, () => assert.ok(isTag(ok)));
  for (const bad of ['', '.x', '-x', 'a/b', 'a:b', 'a'.repeat(129), 'ü']) it(`refuses ${JSON.stringify(bad.slice(0, 40))}`, () => assert.ok(!isTag(bad)));
});

describe('digests', () => {
  it('accepts sha256 and sha512', () => {
    assert.ok(isDigest(`sha256:${'0'.repeat(64)}`));
    assert.ok(isDigest(`sha512:${'f'.repeat(128)}`));
  });
  for (const bad of [`sha256:${'0'.repeat(63)}`, `sha256:${'A'.repeat(64)}`, `md5:${'0'.repeat(32)}`, 'sha256', `sha512:${'0'.repeat(64)}`, `sha256:${'g'.repeat(64)}`]) {
    it(`refuses ${bad.slice(0, 20)}…`, () => assert.throws(() => parseDigest(bad), (e) => isRegistryError(e) && e.kind === 'DIGEST_INVALID'));
  }
  it('says when an algorithm is unsupported', () => assert.throws(() => parseDigest(`md5:${'0'.repeat(32)}`), /unsupported digest algorithm/));
});
