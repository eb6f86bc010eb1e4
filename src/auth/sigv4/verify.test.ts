// verifySigV4 against requests signed by @smithy/signature-v4 (the JS SDK's signer): the happy paths and every
// failure AWS clients can meet, with AWS's exception names and wording.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  AuthError,
  INVALID_TOKEN_MESSAGE,
  SIGNATURE_MISMATCH_MESSAGE,
  createSigningKeyCache,
  deriveSigningKey,
  verifySigV4,
  type AuthErrorCode,
  type SigV4Request,
  type SigV4Secret,
} from './index.ts';
import { presignTestRequest, signTestRequest } from './test-signer.ts';

const T0 = new Date('2026-03-01T12:00:00Z');
const MIN = 60_000;
const ALICE = { accessKeyId: 'AKIAALICE0000000EXAMPLE', secretAccessKey: 'alice-secret/with+chars' };
const TEMP = { accessKeyId: 'ASIATEMP0000000EXAMPLE', secretAccessKey: 'temp-secret', sessionToken: 'FwoGZXIvYXdzEXAMPLE//token==' };
const OFF = { accessKeyId: 'AKIAOFF00000000EXAMPLE', secretAccessKey: 'off-secret' };

const secrets: Record<string, SigV4Secret> = {
  [ALICE.accessKeyId]: { secretAccessKey: ALICE.secretAccessKey, active: true },
  [TEMP.accessKeyId]: { secretAccessKey: TEMP.secretAccessKey, sessionToken: TEMP.sessionToken, active: true },
  [OFF.accessKeyId]: { secretAccessKey: OFF.secretAccessKey, active: false },
};
const lookupSecret = async (id: string) => secrets[id];

function verify(request: SigV4Request, now = T0, service = 'ecr') {
  return verifySigV4(request, { now, service, lookupSecret });
}

async function rejectsWith(promise: Promise<unknown>, code: AuthErrorCode, message: string | RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof AuthError, `expected AuthError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.name, code);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

function withHeader(req: SigV4Request, name: string, value: string | undefined): SigV4Request {
  const headers = { ...req.headers };
  if (value === undefined) delete headers[name];
  else headers[name] = value;
  return { ...req, headers };
}

function replaceInAuth(req: SigV4Request, from: string | RegExp, to: string): SigV4Request {
  return withHeader(req, 'authorization', String(req.headers['authorization']).replace(from, to));
}

describe('verifySigV4: accepted requests', () => {
  it('accepts a JS-SDK-style ECR call (x-amz-content-sha256 signed) and returns key and region', async () => {
    const req = await signTestRequest(ALICE, T0, {}, { region: 'eu-west-1' });
    assert.ok(String(req.headers['authorization']).includes('x-amz-content-sha256'));
    const result = await verify(req);
    assert.equal(result.accessKeyId, ALICE.accessKeyId);
    assert.equal(result.region, 'eu-west-1');
    assert.equal(result.presigned, false);
    assert.ok(result.signedHeaders.includes('host') && result.signedHeaders.includes('x-amz-date'));
  });

  it('accepts a botocore-style call (no x-amz-content-sha256, body hash computed by the server)', async () => {
    const req = await signTestRequest(ALICE, T0, { body: '{"repositoryNames":["app"]}' }, { applyChecksum: false });
    assert.equal(req.headers['x-amz-content-sha256'], undefined);
    assert.equal((await verify(req)).accessKeyId, ALICE.accessKeyId);
  });

  it('accepts requests signed up to 15 minutes away from the server clock, in both directions', async () => {
    const req = await signTestRequest(ALICE, T0);
    await verify(req, new Date(T0.getTime() + 15 * MIN));
    await verify(req, new Date(T0.getTime() - 15 * MIN));
  });

  it('accepts a session credential carrying its exact security token', async () => {
    const req = await signTestRequest(TEMP, T0);
    assert.equal(req.headers['x-amz-security-token'], TEMP.sessionToken);
    assert.equal((await verify(req)).accessKeyId, TEMP.accessKeyId);
  });

  it('accepts repeated headers given as arrays (Node headersDistinct) and path/query needing encoding', async () => {
    const req = await signTestRequest(ALICE, T0, {
      method: 'GET',
      path: '/v2/team%20a/app/blobs/sha256%3Aabc',
      query: { n: '10', last: 'a b+c' },
      body: '',
    });
    assert.equal(req.query, 'n=10&last=a%20b%2Bc');
    await verify(req);
  });

  it('reuses derived signing keys from the cache', async () => {
    const keyCache = createSigningKeyCache(8);
    const a = await signTestRequest(ALICE, T0);
    const b = await signTestRequest(ALICE, new Date(T0.getTime() + 1000), { body: '{"x":1}' });
    await verifySigV4(a, { now: T0, service: 'ecr', lookupSecret, keyCache });
    await verifySigV4(b, { now: T0, service: 'ecr', lookupSecret, keyCache });
    assert.equal(keyCache.size, 1);
  });
});

describe('signing keys', () => {
  it('derives the key of AWS\'s published example (20120215/us-east-1/iam)', () => {
    const key = deriveSigningKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20120215', 'us-east-1', 'iam');
    assert.equal(key.toString('hex'), 'f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d');
  });

  it('caches per (secret, date, region, service) and evicts the least recently used', () => {
    const cache = createSigningKeyCache(2);
    const a = cache.get('s1', '20260301', 'us-east-1', 'ecr');
    assert.equal(cache.get('s1', '20260301', 'us-east-1', 'ecr'), a, 'same Buffer on a hit');
    assert.deepEqual(a, deriveSigningKey('s1', '20260301', 'us-east-1', 'ecr'));
    cache.get('s1', '20260301', 'eu-west-1', 'ecr');
    cache.get('s1', '20260301', 'us-east-1', 'ecr'); // touch: now most recent
    cache.get('s2', '20260301', 'us-east-1', 'ecr'); // evicts the eu-west-1 entry
    assert.equal(cache.size, 2);
    assert.equal(cache.get('s1', '20260301', 'us-east-1', 'ecr'), a);
  });
});

describe('verifySigV4: rejected requests', () => {
  it('no Authorization header and no presigned query → MissingAuthenticationTokenException', async () => {
    const req = withHeader(await signTestRequest(ALICE, T0), 'authorization', undefined);
    await rejectsWith(verify(req), 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  });

  it('Authorization without Signature/SignedHeaders → IncompleteSignatureException listing what is missing', async () => {
    const req = withHeader(await signTestRequest(ALICE, T0), 'authorization', `AWS4-HMAC-SHA256 Credential=${ALICE.accessKeyId}/20260301/us-east-1/ecr/aws4_request`);
    await rejectsWith(
      verify(req),
      'IncompleteSignatureException',
      /^Authorization header requires 'Signature' parameter\. Authorization header requires 'SignedHeaders' parameter\. Authorization=AWS4-HMAC-SHA256 /,
    );
  });

  it('a key=value pair without "=" → IncompleteSignatureException (AWS wording)', async () => {
    const req = replaceInAuth(await signTestRequest(ALICE, T0), 'Credential=', 'Credential ');
    await rejectsWith(verify(req), 'IncompleteSignatureException', /not a valid key=value pair \(missing equal-sign\) in Authorization header/);
  });

  it('no X-Amz-Date or Date header → IncompleteSignatureException', async () => {
    const req = withHeader(await signTestRequest(ALICE, T0), 'x-amz-date', undefined);
    await rejectsWith(verify(req), 'IncompleteSignatureException', /requires existence of either a 'X-Amz-Date' or a 'Date' header/);
  });

  it('wrong signature → InvalidSignatureException with the exact AWS message', async () => {
    const req = replaceInAuth(await signTestRequest(ALICE, T0), /Signature=[0-9a-f]{64}/, `Signature=${'0'.repeat(64)}`);
    await rejectsWith(verify(req), 'InvalidSignatureException', SIGNATURE_MISMATCH_MESSAGE);
  });

  it('signed with the wrong secret → InvalidSignatureException', async () => {
    const req = await signTestRequest({ ...ALICE, secretAccessKey: 'not-the-secret' }, T0);
    await rejectsWith(verify(req), 'InvalidSignatureException', SIGNATURE_MISMATCH_MESSAGE);
  });

  it('a signed header altered in transit → InvalidSignatureException', async () => {
    const req = withHeader(await signTestRequest(ALICE, T0), 'x-amz-target', 'AmazonEC2ContainerRegistry_V20150921.DeleteRepository');
    await rejectsWith(verify(req), 'InvalidSignatureException', SIGNATURE_MISMATCH_MESSAGE);
  });

  it('unknown access key → UnrecognizedClientException "The security token included in the request is invalid."', async () => {
    const req = await signTestRequest({ accessKeyId: 'AKIANOBODY000EXAMPLE', secretAccessKey: 'x' }, T0);
    await rejectsWith(verify(req), 'UnrecognizedClientException', INVALID_TOKEN_MESSAGE);
    assert.equal(INVALID_TOKEN_MESSAGE, 'The security token included in the request is invalid.');
  });

  it('deactivated access key → UnrecognizedClientException even with a correct signature', async () => {
    await rejectsWith(verify(await signTestRequest(OFF, T0)), 'UnrecognizedClientException', INVALID_TOKEN_MESSAGE);
  });

  it('signed more than 15 minutes ago → "Signature expired: … is now earlier than …"', async () => {
    const req = await signTestRequest(ALICE, T0);
    await rejectsWith(
      verify(req, new Date(T0.getTime() + 16 * MIN)),
      'InvalidSignatureException',
      'Signature expired: 20260301T120000Z is now earlier than 20260301T120100Z (20260301T121600Z - 15 min.)',
    );
  });

  it('signed more than 15 minutes in the future → "Signature not yet current: … is still later than …"', async () => {
    const req = await signTestRequest(ALICE, T0);
    await rejectsWith(
      verify(req, new Date(T0.getTime() - 16 * MIN)),
      'InvalidSignatureException',
      'Signature not yet current: 20260301T120000Z is still later than 20260301T115900Z (20260301T114400Z + 15 min.)',
    );
  });

  it('body tampered, x-amz-content-sha256 still the old hash → rejected before the signature', async () => {
    const req = await signTestRequest(ALICE, T0, { body: '{"repositoryName":"app"}' });
    const tampered = { ...req, bodySha256Hex: createHash('sha256').update('{"repositoryName":"evil"}').digest('hex') };
    await rejectsWith(verify(tampered), 'InvalidSignatureException', "The provided 'x-amz-content-sha256' header does not match what was computed.");
  });

  it('body tampered without x-amz-content-sha256 (botocore) → signature mismatch', async () => {
    const req = await signTestRequest(ALICE, T0, { body: '{"a":1}' }, { applyChecksum: false });
    const tampered = { ...req, bodySha256Hex: createHash('sha256').update('{"a":2}').digest('hex') };
    await rejectsWith(verify(tampered), 'InvalidSignatureException', SIGNATURE_MISMATCH_MESSAGE);
  });

  it('host not among the signed headers → IncompleteSignatureException', async () => {
    const req = await signTestRequest(ALICE, T0);
    const withoutHost = replaceInAuth(req, /(SignedHeaders=[^,]*?)host;/, '$1');
    assert.doesNotMatch(String(withoutHost.headers['authorization']), /[=;]host;/);
    await rejectsWith(verify(withoutHost), 'IncompleteSignatureException', "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  });

  it('x-amz-date present but not signed → IncompleteSignatureException', async () => {
    const req = await signTestRequest(ALICE, T0);
    const auth = String(req.headers['authorization']);
    const bad = withHeader(req, 'authorization', auth.replace(/;x-amz-date/, ''));
    await rejectsWith(verify(bad), 'IncompleteSignatureException', "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
  });

  it('a signed header missing from the request → InvalidSignatureException', async () => {
    const req = withHeader(await signTestRequest(ALICE, T0), 'x-amz-target', undefined);
    await rejectsWith(verify(req), 'InvalidSignatureException', SIGNATURE_MISMATCH_MESSAGE);
  });

  it('session token differs from the credential\'s → UnrecognizedClientException', async () => {
    const req = withHeader(await signTestRequest(TEMP, T0), 'x-amz-security-token', 'FwoGZXIvYXdzEXAMPLE//other==');
    await rejectsWith(verify(req), 'UnrecognizedClientException', INVALID_TOKEN_MESSAGE);
  });

  it('session credential used without its token → UnrecognizedClientException', async () => {
    const req = await signTestRequest({ accessKeyId: TEMP.accessKeyId, secretAccessKey: TEMP.secretAccessKey }, T0);
    await rejectsWith(verify(req), 'UnrecognizedClientException', INVALID_TOKEN_MESSAGE);
  });

  it('a security token sent with a long-term key → UnrecognizedClientException', async () => {
    const req = await signTestRequest({ ...ALICE, sessionToken: 'made-up' }, T0);
    await rejectsWith(verify(req), 'UnrecognizedClientException', INVALID_TOKEN_MESSAGE);
  });

  it('credential scoped to another service → InvalidSignatureException naming the right one', async () => {
    const req = await signTestRequest(ALICE, T0, {}, { service: 's3' });
    await rejectsWith(verify(req), 'InvalidSignatureException', "Credential should be scoped to correct service: 'ecr'. ");
  });

  it('credential-scope date differs from the X-Amz-Date day → InvalidSignatureException', async () => {
    const req = replaceInAuth(await signTestRequest(ALICE, T0), '/20260301/', '/20260228/');
    await rejectsWith(
      verify(req),
      'InvalidSignatureException',
      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20260228' != '20260301', from '20260301T120000Z'.",
    );
  });

  it('malformed credential and terminator → IncompleteSignatureException', async () => {
    const req = await signTestRequest(ALICE, T0);
    await rejectsWith(verify(replaceInAuth(req, '/us-east-1/ecr/', '/us-east-1/')), 'IncompleteSignatureException', /exactly 5 slash-delimited elements/);
    await rejectsWith(verify(replaceInAuth(req, 'aws4_request', 'aws5_request')), 'IncompleteSignatureException', /valid terminator: 'aws4_request', not 'aws5_request'/);
  });

  it('an unsupported algorithm → IncompleteSignatureException', async () => {
    const req = replaceInAuth(await signTestRequest(ALICE, T0), 'AWS4-HMAC-SHA256', 'AWS4-ECDSA-P256-SHA256');
    await rejectsWith(verify(req), 'IncompleteSignatureException', "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'");
  });
});

describe('verifySigV4: presigned URLs', () => {
  const download = { method: 'GET', path: '/v2/app/blobs/sha256:0123', body: '' };

  it('accepts a presigned GET within its lifetime and reports when it expires', async () => {
    const req = await presignTestRequest(ALICE, T0, 600, download);
    assert.equal(req.headers['authorization'], undefined);
    assert.match(req.query, /X-Amz-Expires=600/);
    const result = await verify(req, new Date(T0.getTime() + 599_000));
    assert.equal(result.presigned, true);
    assert.deepEqual(result.expiresAt, new Date(T0.getTime() + 600_000));
  });

  it('rejects it after X-Amz-Expires → AccessDeniedException "Request has expired"', async () => {
    const req = await presignTestRequest(ALICE, T0, 600, download);
    await rejectsWith(verify(req, new Date(T0.getTime() + 601_000)), 'AccessDeniedException', 'Request has expired');
  });

  it('rejects a URL dated more than 15 minutes in the future', async () => {
    const req = await presignTestRequest(ALICE, new Date(T0.getTime() + 20 * MIN), 600, download);
    await rejectsWith(verify(req), 'InvalidSignatureException', /^Signature not yet current:/);
  });

  it('rejects X-Amz-Expires above one week, and non-numeric values', async () => {
    const req = await presignTestRequest(ALICE, T0, 600, download);
    await rejectsWith(verify({ ...req, query: req.query.replace('X-Amz-Expires=600', 'X-Amz-Expires=604801') }), 'IncompleteSignatureException', /less than a week/);
    await rejectsWith(verify({ ...req, query: req.query.replace('X-Amz-Expires=600', 'X-Amz-Expires=ten') }), 'IncompleteSignatureException', 'X-Amz-Expires should be a number');
  });

  it('rejects a lengthened lifetime or a changed path (signature mismatch)', async () => {
    const req = await presignTestRequest(ALICE, T0, 600, download);
    await rejectsWith(verify({ ...req, query: req.query.replace('X-Amz-Expires=600', 'X-Amz-Expires=6000') }), 'InvalidSignatureException', SIGNATURE_MISMATCH_MESSAGE);
    await rejectsWith(verify({ ...req, path: '/v2/other/blobs/sha256:0123' }), 'InvalidSignatureException', SIGNATURE_MISMATCH_MESSAGE);
  });

  it('lists missing query parameters → IncompleteSignatureException', async () => {
    const req = await presignTestRequest(ALICE, T0, 600, download);
    const stripped = req.query.split('&').filter((p) => !p.startsWith('X-Amz-Date=')).join('&');
    await rejectsWith(verify({ ...req, query: stripped }), 'IncompleteSignatureException', "AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters.");
  });

  it('carries the session token in the query string for temporary credentials', async () => {
    const req = await presignTestRequest(TEMP, T0, 60, download);
    assert.match(req.query, /X-Amz-Security-Token=/);
    await verify(req);
    const wrong = { ...req, query: req.query.replace(/X-Amz-Security-Token=[^&]*/, 'X-Amz-Security-Token=nope') };
    await rejectsWith(verify(wrong), 'UnrecognizedClientException', INVALID_TOKEN_MESSAGE);
  });

  it('refuses header and query auth together', async () => {
    const req = await presignTestRequest(ALICE, T0, 600, download);
    const both = withHeader(req, 'authorization', 'AWS4-HMAC-SHA256 Credential=x/20260301/us-east-1/ecr/aws4_request, SignedHeaders=host, Signature=00');
    await rejectsWith(verify(both), 'IncompleteSignatureException', /^Only one auth mechanism allowed/);
  });
});
