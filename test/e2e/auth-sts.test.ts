// Temporary credentials through the running server: `aws sts get-session-token` (AWS CLI v2) issues ASIA keys
// with a session token that the ECR API accepts as the parent user (CLI and SDK, and registry tokens for /v2/);
// forged and expired tokens, a deactivated parent key and GetSessionToken called with session credentials fail
// with AWS's errors; DurationSeconds outside 900–129600 is STS's ValidationError.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { DescribeRepositoriesCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { loadOrCreateKey } from '../../src/auth/keys.ts';
import { createSessionTokenCodec } from '../../src/auth/session-token.ts';
import { signTestRequest, type TestCredentials } from '../../src/auth/sigv4/test-signer.ts';
import { createUser, openIdentity, policy, type Key } from '../helpers/auth.ts';
import { basicAuth, startCargohold, type RunningServer } from '../helpers/server.ts';

const run = promisify(execFile);
const AWS = '/usr/bin/aws';

interface SessionCredentials { AccessKeyId: string; SecretAccessKey: string; SessionToken: string; Expiration: string }

describe('STS GetSessionToken and temporary credentials through the server', () => {
  let s: RunningServer;
  let user: Key;
  let parent: Key;

  before(async () => {
    // Cache TTL 0: a deactivated parent key takes effect at once.
    s = await startCargohold({ env: { CARGOHOLD_LOG_LEVEL: 'warn', CARGOHOLD_AUTH_CACHE_TTL_SECONDS: '0' } });
    const { identity, close } = await openIdentity(s);
    try {
      user = await createUser(identity, 'sts-user', policy({ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }));
      parent = await createUser(identity, 'sts-parent', policy({ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }));
    } finally {
      await close();
    }
  });
  after(async () => { await s?.stop(); });

  /** The AWS CLI v2 with exactly these credentials (no profile, no shared files). */
  function cliEnv(creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey, AWS_CONFIG_FILE: '/dev/null', AWS_PAGER: '' };
    delete env.AWS_SHARED_CREDENTIALS_FILE;
    delete env.AWS_PROFILE;
    delete env.AWS_SESSION_TOKEN;
    delete env.AWS_SECURITY_TOKEN;
    env.AWS_SHARED_CREDENTIALS_FILE = '/dev/null';
    if (creds.sessionToken !== undefined) env.AWS_SESSION_TOKEN = creds.sessionToken;
    return env;
  }
  async function aws(creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, ...args: string[]): Promise<{ ok: true; out: unknown } | { ok: false; stderr: string }> {
    try {
      const { stdout } = await run(AWS, [...args, '--endpoint-url', s.url, '--region', 'us-east-1', '--output', 'json'], { env: cliEnv(creds) });
      return { ok: true, out: stdout.trim() ? JSON.parse(stdout) : {} };
    } catch (e) {
      return { ok: false, stderr: (e as { stderr: string }).stderr };
    }
  }
  async function getSessionToken(key: Key, ...extra: string[]): Promise<TestCredentials & { expiration: Date }> {
    const r = await aws(key, 'sts', 'get-session-token', ...extra);
    assert.ok(r.ok, r.ok ? '' : r.stderr);
    const c = (r.out as { Credentials: SessionCredentials }).Credentials;
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: new Date(c.Expiration) };
  }
  /** A raw GetSessionToken (signed like the SDK, service sts) → status and XML. */
  async function rawGetSessionToken(creds: TestCredentials, body: string): Promise<{ status: number; text: string }> {
    // The test signer adds an ECR X-Amz-Target by default; an undefined value drops it (not signed, not sent).
    const signed = await signTestRequest(creds, new Date(), { host: s.host, body,
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'x-amz-target': undefined as unknown as string } }, { service: 'sts', region: 'us-east-1' });
    const headers = Object.fromEntries(Object.entries(signed.headers).filter(([k, v]) => k !== 'host' && k !== 'x-amz-target' && v !== undefined).map(([k, v]) => [k, String(v)]));
    const res = await fetch(`${s.url}/`, { method: 'POST', headers, body });
    return { status: res.status, text: await res.text() };
  }

  it('aws sts get-session-token issues ASIA credentials the ECR API accepts (CLI: describe/create-repository)', async () => {
    const t = await getSessionToken(user, '--duration-seconds', '900');
    assert.match(t.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
    assert.ok(t.sessionToken!.length > 100);
    const ttl = t.expiration.getTime() - Date.now();
    assert.ok(ttl > 880_000 && ttl <= 901_000, `expires in ~15 min (${ttl} ms)`);
    const created = await aws(t, 'ecr', 'create-repository', '--repository-name', 'sts/app');
    assert.ok(created.ok, created.ok ? '' : created.stderr);
    assert.equal((created.out as { repository: { repositoryName: string } }).repository.repositoryName, 'sts/app');
    const listed = await aws(t, 'ecr', 'describe-repositories');
    assert.ok(listed.ok, listed.ok ? '' : listed.stderr);
    assert.deepEqual((listed.out as { repositories: Array<{ repositoryName: string }> }).repositories.map((r) => r.repositoryName), ['sts/app']);
    // The default duration is 12 hours.
    const d = await getSessionToken(user);
    const hours = (d.expiration.getTime() - Date.now()) / 3600_000;
    assert.ok(hours > 11.9 && hours <= 12, `${hours} h`);
  });

  it('the JS SDK with a session token, and its registry token works on /v2/ as the parent user', async () => {
    const t = await getSessionToken(user);
    const ecr = new ECRClient({ endpoint: s.url, region: 'us-east-1', credentials: { accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey, sessionToken: t.sessionToken }, maxAttempts: 1 });
    assert.ok(Array.isArray((await ecr.send(new DescribeRepositoriesCommand({}))).repositories));
    const out = await ecr.send(new GetAuthorizationTokenCommand({}));
    const decoded = Buffer.from(out.authorizationData![0]!.authorizationToken!, 'base64').toString();
    assert.ok(decoded.startsWith('AWS:'));
    const res = await fetch(`${s.url}/v2/sts/app/tags/list`, { headers: { Authorization: basicAuth('AWS', decoded.slice(4)) } });
    assert.notEqual(res.status, 401, await res.text());
    assert.notEqual(res.status, 403);
    const base = await fetch(`${s.url}/v2/`, { headers: { Authorization: basicAuth('AWS', decoded.slice(4)) } });
    assert.equal(base.status, 200);
  });

  it('a wrong or forged session token → UnrecognizedClientException', async () => {
    const t = await getSessionToken(user);
    const i = 40;
    const forged = t.sessionToken!.slice(0, i) + (t.sessionToken![i] === 'A' ? 'B' : 'A') + t.sessionToken!.slice(i + 1);
    for (const sessionToken of [forged, 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDbogus']) {
      const r = await aws({ ...t, sessionToken }, 'ecr', 'describe-repositories');
      assert.ok(!r.ok);
      assert.match(r.stderr, /An error occurred \(UnrecognizedClientException\) when calling the DescribeRepositories operation: The security token included in the request is invalid\./);
    }
    // Without the token the ASIA key is unknown.
    const none = await aws({ accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey }, 'ecr', 'describe-repositories');
    assert.ok(!none.ok && /UnrecognizedClientException/.test(none.stderr));
  });

  it('an expired session token → ExpiredTokenException', async () => {
    // Sealed with the server's own DATA_DIR/keys/session.key, expired a minute ago.
    const codec = createSessionTokenCodec(loadOrCreateKey(s.dataDir, 'session'), { accountId: '123456789012' });
    const now = Date.now();
    const creds = { accessKeyId: 'ASIAEXPIREDTEST22222', secretAccessKey: 'ExpiredTemporarySecret000000000000000000' };
    const sessionToken = codec.seal({ ...creds, username: 'sts-user', parentAccessKeyId: user.accessKeyId, accountId: '123456789012', issuedAt: now - 960_000, expiresAt: now - 60_000 });
    const r = await aws({ ...creds, sessionToken }, 'ecr', 'describe-repositories');
    assert.ok(!r.ok);
    assert.match(r.stderr, /An error occurred \(ExpiredTokenException\) when calling the DescribeRepositories operation: The security token included in the request is expired/);
    // The same token unexpired works (the test forges nothing the server would not issue).
    const fresh = codec.seal({ ...creds, username: 'sts-user', parentAccessKeyId: user.accessKeyId, accountId: '123456789012', issuedAt: now, expiresAt: now + 600_000 });
    assert.ok((await aws({ ...creds, sessionToken: fresh }, 'ecr', 'describe-repositories')).ok);
  });

  it('deactivating the parent key makes its temporary credentials fail', async () => {
    const t = await getSessionToken(parent);
    assert.ok((await aws(t, 'ecr', 'describe-repositories')).ok);
    const { identity, close } = await openIdentity(s);
    try {
      await identity.setAccessKeyStatus(parent.accessKeyId, 'Inactive');
    } finally {
      await close();
    }
    const r = await aws(t, 'ecr', 'describe-repositories');
    assert.ok(!r.ok);
    assert.match(r.stderr, /UnrecognizedClientException.*The security token included in the request is invalid\./);
  });

  it('GetSessionToken signed with temporary credentials → AccessDenied', async () => {
    const t = await getSessionToken(user);
    const r = await aws(t, 'sts', 'get-session-token');
    assert.ok(!r.ok);
    assert.match(r.stderr, /An error occurred \(AccessDenied\) when calling the GetSessionToken operation: Cannot call GetSessionToken with session credentials/);
  });

  it('raw Query requests: DurationSeconds outside 900–129600 → ValidationError XML; bad keys → InvalidClientTokenId', async () => {
    const ok = await rawGetSessionToken(user, 'Action=GetSessionToken&Version=2011-06-15&DurationSeconds=129600');
    assert.equal(ok.status, 200, ok.text);
    assert.match(ok.text, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<GetSessionTokenResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><GetSessionTokenResult><Credentials><AccessKeyId>ASIA[A-Z2-7]{16}<\/AccessKeyId><SecretAccessKey>[^<]{40}<\/SecretAccessKey><SessionToken>CHS1[A-Za-z0-9_-]+<\/SessionToken><Expiration>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z<\/Expiration><\/Credentials><\/GetSessionTokenResult><ResponseMetadata><RequestId>[^<]+<\/RequestId><\/ResponseMetadata><\/GetSessionTokenResponse>/);
    for (const d of ['899', '129601']) {
      const r = await rawGetSessionToken(user, `Action=GetSessionToken&Version=2011-06-15&DurationSeconds=${d}`);
      assert.equal(r.status, 400);
      assert.match(r.text, /<ErrorResponse[^>]*><Error><Type>Sender<\/Type><Code>ValidationError<\/Code><Message>1 validation error detected: Value '\d+' at 'durationSeconds' failed to satisfy constraint: Member must have value (greater|less) than or equal to (900|129600)<\/Message><\/Error><RequestId>[^<]+<\/RequestId><\/ErrorResponse>/);
    }
    const unknown = await rawGetSessionToken({ accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x'.repeat(40) }, 'Action=GetSessionToken&Version=2011-06-15');
    assert.equal(unknown.status, 403);
    assert.match(unknown.text, /<Code>InvalidClientTokenId<\/Code>/);
    // ECR's JSON API still answers ECR requests on the same port.
    const sig = await signTestRequest(user, new Date(), { host: s.host, body: '{}' }, { region: 'us-east-1' });
    const res = await fetch(`${s.url}/`, { method: 'POST', headers: Object.fromEntries(Object.entries(sig.headers).filter(([k]) => k !== 'host').map(([k, v]) => [k, String(v)])), body: '{}' });
    assert.equal(res.status, 200);
  });
});
