// The STS route in process (fake access service): routing by form content type, GetSessionToken's XML, the
// DurationSeconds range, AccessDenied for temporary callers and STS's error document for SigV4 failures.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { Principal } from '../auth/access.ts';
import { AuthError } from '../auth/sigv4/index.ts';
import { manualClock } from '../core/clock.ts';
import type { RequestContext } from '../http/context.ts';
import { createStsRoutes, DEFAULT_DURATION_SECONDS, errorXml, parseDuration, StsError } from './router.ts';

const log = pino({ level: 'silent' });
const clock = manualClock(new Date('2026-03-01T10:00:00Z'));
const USER: Principal = { arn: 'arn:aws:iam::123456789012:user/dev', accountId: '123456789012', username: 'dev', accessKeyId: 'AKIAABCDEFGHIJKLMNOP', isAnonymous: false };

describe('STS route', () => {
  let server: Server;
  let url = '';
  let mode: 'long' | 'temporary' | 'forged' | 'expired' = 'long';
  const issued: Array<{ principal: Principal; seconds: number }> = [];

  before(async () => {
    const route = createStsRoutes({
      clock,
      log,
      access: {
        async authenticateSigV4(_req, _hash, options) {
          assert.equal(options?.service, 'sts');
          if (mode === 'forged') throw new AuthError('UnrecognizedClientException', 'The security token included in the request is invalid.');
          if (mode === 'expired') throw new AuthError('ExpiredTokenException', 'The security token included in the request is expired');
          return { principal: USER, region: 'us-east-1', temporary: mode === 'temporary' };
        },
        issueSessionCredentials(principal, seconds, now) {
          issued.push({ principal, seconds });
          return { accessKeyId: 'ASIAABCDEFGHIJKLMNOP', secretAccessKey: 'secret+/=', sessionToken: 'CHS1token', expiration: new Date(now.getTime() + seconds * 1000) };
        },
      },
    });
    server = createServer((req, res) => {
      const ctx = { id: 'req-1', log, route: '' } as RequestContext;
      const h = route(req, ctx);
      if (!h) {
        res.writeHead(404);
        res.end('not sts');
        return;
      }
      void h(req, res, ctx);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const post = async (body: string, headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }) => {
    const res = await fetch(url, { method: 'POST', headers, body });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };

  it('answers GetSessionToken in STS XML with the default duration', async () => {
    mode = 'long';
    const r = await post('Action=GetSessionToken&Version=2011-06-15');
    assert.equal(r.status, 200);
    assert.equal(r.type, 'text/xml');
    assert.match(r.text, /<GetSessionTokenResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><GetSessionTokenResult><Credentials><AccessKeyId>ASIAABCDEFGHIJKLMNOP<\/AccessKeyId><SecretAccessKey>secret\+\/=<\/SecretAccessKey><SessionToken>CHS1token<\/SessionToken><Expiration>2026-03-01T22:00:00\.000Z<\/Expiration><\/Credentials><\/GetSessionTokenResult><ResponseMetadata><RequestId>req-1<\/RequestId><\/ResponseMetadata><\/GetSessionTokenResponse>/);
    assert.deepEqual(issued.at(-1), { principal: USER, seconds: DEFAULT_DURATION_SECONDS });
    assert.equal((await post('Action=GetSessionToken&Version=2011-06-15&DurationSeconds=129600')).status, 200);
    assert.equal(issued.at(-1)!.seconds, 129_600);
  });

  it('DurationSeconds out of range → ValidationError (400, Sender)', async () => {
    mode = 'long';
    for (const d of ['899', '129601', 'abc']) {
      const r = await post(`Action=GetSessionToken&Version=2011-06-15&DurationSeconds=${d}`);
      assert.equal(r.status, 400, d);
      assert.match(r.text, /<ErrorResponse xmlns="[^"]+"><Error><Type>Sender<\/Type><Code>ValidationError<\/Code><Message>1 validation error detected: Value '[^']+' at 'durationSeconds' failed to satisfy constraint: Member must [^<]+<\/Message><\/Error><RequestId>req-1<\/RequestId><\/ErrorResponse>/);
    }
  });

  it('temporary callers → AccessDenied 403; SigV4 failures in STS names', async () => {
    mode = 'temporary';
    const denied = await post('Action=GetSessionToken&Version=2011-06-15');
    assert.equal(denied.status, 403);
    assert.match(denied.text, /<Code>AccessDenied<\/Code><Message>Cannot call GetSessionToken with session credentials<\/Message>/);
    mode = 'forged';
    const forged = await post('Action=GetSessionToken&Version=2011-06-15');
    assert.equal(forged.status, 403);
    assert.match(forged.text, /<Code>InvalidClientTokenId<\/Code><Message>The security token included in the request is invalid\.<\/Message>/);
    mode = 'expired';
    assert.match((await post('Action=GetSessionToken&Version=2011-06-15')).text, /<Code>ExpiredToken<\/Code>/);
  });

  it('other actions → InvalidAction; non-form and X-Amz-Target requests are not routed here', async () => {
    mode = 'long';
    const r = await post('Action=AssumeRole&Version=2011-06-15');
    assert.equal(r.status, 400);
    assert.match(r.text, /<Code>InvalidAction<\/Code><Message>Could not find operation AssumeRole for version 2011-06-15<\/Message>/);
    assert.equal((await post('{}', { 'content-type': 'application/x-amz-json-1.1' })).text, 'not sts');
    assert.equal((await post('Action=GetSessionToken', { 'content-type': 'application/x-www-form-urlencoded', 'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.ListImages' })).text, 'not sts');
  });

  it('parseDuration and errorXml', () => {
    assert.equal(parseDuration(null), 43_200);
    assert.equal(parseDuration('900'), 900);
    assert.throws(() => parseDuration('100'), (e: unknown) => e instanceof StsError && e.code === 'ValidationError' && /greater than or equal to 900/.test(e.message));
    assert.equal(errorXml('Sender', 'X', 'a<b', 'r'), '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>X</Code><Message>a&lt;b</Message></Error><RequestId>r</RequestId></ErrorResponse>');
  });
});
