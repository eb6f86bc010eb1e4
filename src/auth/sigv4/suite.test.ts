// The published AWS SigV4 test-suite vectors, checked stage by stage (canonical request, string to sign,
// signature) and then end to end through verifySigV4.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { computeSignature, parseSigV4, verifySigV4, AuthError } from './index.ts';
import { SUITE_ACCESS_KEY, SUITE_SECRET, loadSuite, parseRawRequest, sha256Hex } from './suite-fixtures.ts';

const vectors = loadSuite();

describe('AWS SigV4 test suite', () => {
  it('loads every committed vector', () => {
    assert.equal(vectors.length, 31);
  });

  for (const v of vectors) {
    it(`${v.name}: canonical request, string to sign, signature`, async () => {
      const parsed = parseSigV4(v.request);
      const stages = await computeSignature({
        parsed,
        method: v.request.method,
        path: v.request.path,
        payloadHash: v.request.bodySha256Hex,
        secretAccessKey: SUITE_SECRET,
      });
      assert.equal(stages.canonicalRequest, v.creq, 'canonical request');
      assert.equal(stages.stringToSign, v.sts, 'string to sign');
      assert.equal(stages.signature, v.signature, 'signature');
    });

    it(`${v.name}: verifySigV4 accepts it`, async () => {
      const parsed = parseSigV4(v.request);
      const token = parsed.securityToken;
      const result = await verifySigV4(v.request, {
        now: parsed.signingDate,
        service: v.service,
        lookupSecret: async (id) => (id === SUITE_ACCESS_KEY ? { secretAccessKey: SUITE_SECRET, active: true, ...(token ? { sessionToken: token } : {}) } : undefined),
      });
      assert.equal(result.accessKeyId, SUITE_ACCESS_KEY);
      assert.equal(result.region, 'us-east-1');
      assert.equal(result.presigned, false);
    });
  }
});

describe('AWS presigned URL example (S3 GetObject)', () => {
  const dir = new URL('./fixtures/presigned/', import.meta.url).pathname;
  const { request } = parseRawRequest(readFileSync(`${dir}s3-get-object.req`, 'utf8'));
  const req = { ...request, bodySha256Hex: sha256Hex('') };
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const lookupSecret = async (id: string) => (id === 'AKIAIOSFODNN7EXAMPLE' ? { secretAccessKey: secret, active: true } : undefined);

  it('matches the published canonical request, string to sign and signature', async () => {
    const parsed = parseSigV4(req);
    assert.equal(parsed.kind, 'query');
    const stages = await computeSignature({ parsed, method: 'GET', path: req.path, payloadHash: 'UNSIGNED-PAYLOAD', secretAccessKey: secret });
    assert.equal(stages.canonicalRequest, readFileSync(`${dir}s3-get-object.creq`, 'utf8'));
    assert.equal(stages.stringToSign, readFileSync(`${dir}s3-get-object.sts`, 'utf8'));
    assert.equal(stages.signature, 'aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404');
  });

  it('verifies within X-Amz-Expires and reports the expiry', async () => {
    const result = await verifySigV4(req, { now: new Date('2013-05-24T23:59:59Z'), service: 's3', lookupSecret });
    assert.equal(result.presigned, true);
    assert.deepEqual(result.expiresAt, new Date('2013-05-25T00:00:00Z'));
  });

  it('rejects it once X-Amz-Expires has passed', async () => {
    await assert.rejects(
      verifySigV4(req, { now: new Date('2013-05-25T00:00:01Z'), service: 's3', lookupSecret }),
      (e: unknown) => e instanceof AuthError && e.code === 'AccessDeniedException' && e.message === 'Request has expired',
    );
  });
});
