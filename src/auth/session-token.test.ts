// Session tokens of temporary credentials: sealed (AES-256-GCM), bound to the account, expiring.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createSessionTokenCodec, generateTemporaryAccessKeyId, isTemporaryAccessKeyId, type SessionClaims } from './session-token.ts';

const key = randomBytes(32);
const codec = createSessionTokenCodec(key, { accountId: '123456789012' });
const claims: SessionClaims = { accessKeyId: 'ASIAABCDEFGHIJKLMNOP', secretAccessKey: 's'.repeat(40), username: 'dev', parentAccessKeyId: 'AKIAABCDEFGHIJKLMNOP', accountId: '123456789012', issuedAt: 1_000, expiresAt: 901_000 };

describe('session tokens', () => {
  it('round-trips the claims and hides them', () => {
    const token = codec.seal(claims);
    assert.match(token, /^CHS1[A-Za-z0-9_-]+$/);
    // Sealed, not just encoded: none of the claims' text appears in the decoded bytes (a check on the random
    // base64 text itself could match by chance).
    const opened = Buffer.from(token.slice(4), 'base64url').toString('latin1');
    assert.ok(!opened.includes(JSON.stringify(claims).slice(1, 20)) && !opened.includes('ssss'), 'sealed, not just encoded');
    assert.deepEqual(codec.open(token, 2_000), { ok: true, claims });
    assert.notEqual(codec.seal(claims), token, 'fresh IV each time');
  });

  it('expires at expiresAt', () => {
    const token = codec.seal(claims);
    assert.equal(codec.open(token, 900_999).ok, true);
    assert.deepEqual(codec.open(token, 901_000), { ok: false, reason: 'expired' });
  });

  it('rejects tampered, foreign-key, foreign-account and junk tokens as malformed/scope', () => {
    const token = codec.seal(claims);
    const i = 20;
    const flipped = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
    assert.deepEqual(codec.open(flipped, 2_000), { ok: false, reason: 'malformed' });
    assert.deepEqual(createSessionTokenCodec(randomBytes(32), { accountId: '123456789012' }).open(token, 2_000), { ok: false, reason: 'malformed' });
    assert.deepEqual(createSessionTokenCodec(key, { accountId: '999999999999' }).open(token, 2_000), { ok: false, reason: 'scope' });
    for (const junk of ['', 'CHS1', 'CHS1!!!!', 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ', `CHS1${'A'.repeat(5000)}`, token.slice(0, -3)]) {
      assert.equal(codec.open(junk, 2_000).ok, false, junk.slice(0, 20));
    }
  });

  it('generates ASIA key ids like AWS', () => {
    const id = generateTemporaryAccessKeyId();
    assert.match(id, /^ASIA[A-Z2-7]{16}$/);
    assert.ok(isTemporaryAccessKeyId(id));
    assert.ok(!isTemporaryAccessKeyId('AKIAABCDEFGHIJKLMNOP'));
  });
});
