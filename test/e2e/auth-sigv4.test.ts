// SigV4 through the running server: the AWS CLI and SDK succeed with a valid key; wrong signature, unknown key,
// deactivated key, wrong region, expired date and a date outside the skew window fail with AWS's errors.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { DescribeRepositoriesCommand, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { signTestRequest } from '../../src/auth/sigv4/test-signer.ts';
import { createUser, ecrClient, openIdentity, policy, type Key } from '../helpers/auth.ts';
import { startCargohold, type RunningServer } from '../helpers/server.ts';

const run = promisify(execFile);
const AWS = '/usr/bin/aws';
const TARGET = 'AmazonEC2ContainerRegistry_V20150921.DescribeRepositories';

describe('SigV4 through the server', () => {
  let s: RunningServer;
  let user: Key;
  let inactive: Key;

  before(async () => {
    s = await startCargohold({ env: { CARGOHOLD_LOG_LEVEL: 'warn' } });
    const { identity, close } = await openIdentity(s);
    try {
      user = await createUser(identity, 'sigv4-user', policy({ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }));
      inactive = await createUser(identity, 'sigv4-inactive', policy({ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }));
      await identity.setAccessKeyStatus(inactive.accessKeyId, 'Inactive');
    } finally {
      await close();
    }
  });
  after(async () => { await s?.stop(); });

  /** Sends a request signed at `date` (default now) with `key` in `region` and returns status + parsed body. */
  async function signed(key: Key, options: { date?: Date; region?: string; tamper?: (h: Record<string, string>) => void } = {}): Promise<{ status: number; type: string; message: string }> {
    const body = '{}';
    const req = await signTestRequest(key, options.date ?? new Date(), { host: s.host, body, headers: { 'x-amz-target': TARGET } }, { region: options.region ?? 'us-east-1' });
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    delete headers.host;
    options.tamper?.(headers);
    const res = await fetch(`${s.url}/`, { method: 'POST', headers, body });
    const json = (await res.json()) as { __type?: string; message?: string };
    return { status: res.status, type: json.__type ?? '', message: json.message ?? '' };
  }

  it('accepts a correctly signed request (SDK and raw)', async () => {
    const out = await ecrClient(s, user).send(new DescribeRepositoriesCommand({}));
    assert.deepEqual(out.repositories, []);
    const r = await signed(user);
    assert.equal(r.status, 200, r.message);
  });

  it('wrong signature → InvalidSignatureException', async () => {
    const r = await signed({ ...user, secretAccessKey: `${user.secretAccessKey.slice(0, -1)}x` });
    assert.equal(r.type, 'InvalidSignatureException');
    assert.match(r.message, /^The request signature we calculated does not match the signature you provided/);
    const tampered = await signed(user, { tamper: (h) => { h['x-amz-target'] = 'AmazonEC2ContainerRegistry_V20150921.DeleteRepository'; } });
    assert.equal(tampered.type, 'InvalidSignatureException');
  });

  it('unknown key → UnrecognizedClientException (SDK error name and message)', async () => {
    await assert.rejects(ecrClient(s, { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x'.repeat(40) }).send(new GetAuthorizationTokenCommand({})), (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(e.name, 'UnrecognizedClientException');
      assert.equal(e.message, 'The security token included in the request is invalid.');
      assert.equal(e.$metadata?.httpStatusCode, 400);
      return true;
    });
  });

  it('deactivated key → UnrecognizedClientException', async () => {
    const r = await signed(inactive);
    assert.equal(r.type, 'UnrecognizedClientException');
    assert.equal(r.status, 400);
  });

  it('expired date (an hour ago) and a date outside the ±15 min skew → InvalidSignatureException', async () => {
    const old = await signed(user, { date: new Date(Date.now() - 3600_000) });
    assert.equal(old.type, 'InvalidSignatureException');
    assert.match(old.message, /^Signature expired: \d{8}T\d{6}Z is now earlier than/);
    const future = await signed(user, { date: new Date(Date.now() + 20 * 60_000) });
    assert.equal(future.type, 'InvalidSignatureException');
    assert.match(future.message, /^Signature not yet current: /);
    const within = await signed(user, { date: new Date(Date.now() - 10 * 60_000) });
    assert.equal(within.status, 200, 'inside the skew window is fine');
  });

  it('a credential scoped to another region → InvalidSignatureException naming it', async () => {
    const r = await signed(user, { region: 'eu-central-1' });
    assert.equal(r.type, 'InvalidSignatureException');
    assert.equal(r.message, "Credential should be scoped to a valid region, not 'eu-central-1'. ");
  });

  it('no credentials → MissingAuthenticationTokenException', async () => {
    const res = await fetch(`${s.url}/`, { method: 'POST', headers: { 'x-amz-target': TARGET, 'content-type': 'application/x-amz-json-1.1' }, body: '{}' });
    assert.equal(((await res.json()) as { __type: string }).__type, 'MissingAuthenticationTokenException');
  });

  it('the AWS CLI v2 reports the errors with its usual wording', async () => {
    const env = { ...process.env, AWS_ACCESS_KEY_ID: user.accessKeyId, AWS_SECRET_ACCESS_KEY: `${user.secretAccessKey}zz`, AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_CONFIG_FILE: '/dev/null', AWS_PAGER: '' };
    const err = await run(AWS, ['ecr', 'describe-repositories', '--endpoint-url', s.url, '--region', 'us-east-1'], { env }).then(() => undefined, (e: { stderr: string }) => e);
    assert.ok(err, 'must fail');
    assert.match(err.stderr, /An error occurred \(InvalidSignatureException\) when calling the DescribeRepositories operation: The request signature we calculated does not match/);
    const ok = await run(AWS, ['ecr', 'describe-repositories', '--endpoint-url', s.url, '--region', 'us-east-1'], { env: { ...env, AWS_SECRET_ACCESS_KEY: user.secretAccessKey } });
    assert.deepEqual(JSON.parse(ok.stdout), { repositories: [] });
  });
});
