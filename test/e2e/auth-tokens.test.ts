// Registry tokens through the running server: they survive a restart (token.key on disk), forged or foreign
// ones get the 401 challenge, and `auth.enabled: false` opens /v2/ while the ECR API keeps verifying SigV4.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DescribeRepositoriesCommand, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { ecrClient, registryPassword } from '../helpers/auth.ts';
import { basicAuth, startCargohold, TEST_ADMIN, type RunningServer } from '../helpers/server.ts';

describe('registry tokens', () => {
  let dir: string | undefined;
  let s: RunningServer | undefined;
  after(async () => {
    await s?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('GetAuthorizationToken gives a 12-hour token for proxyEndpoint that still works after a restart', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cargohold-tokens-'));
    s = await startCargohold({ dataDir: dir, env: { CARGOHOLD_LOG_LEVEL: 'warn' } });
    const out = await ecrClient(s).send(new GetAuthorizationTokenCommand({}));
    const data = out.authorizationData![0]!;
    assert.equal(data.proxyEndpoint, s.url);
    const hours = (data.expiresAt!.getTime() - Date.now()) / 3600_000;
    assert.ok(hours > 11.9 && hours <= 12, `expires in ${hours} h`);
    const password = Buffer.from(data.authorizationToken!, 'base64').toString().slice(4);
    const get = (srv: RunningServer, auth: string) => fetch(`${srv.url}/v2/`, { headers: { authorization: auth } }).then((r) => r.status);
    assert.equal(await get(s, basicAuth('AWS', password)), 200);
    await s.stop({ keepData: true });
    s = await startCargohold({ dataDir: dir, env: { CARGOHOLD_LOG_LEVEL: 'warn' } });
    assert.equal(await get(s, basicAuth('AWS', password)), 200, 'token.key survives the restart');
    const [body, sig] = password.split('.');
    const claims = JSON.parse(Buffer.from(body!, 'base64url').toString());
    const forged = `${Buffer.from(JSON.stringify({ ...claims, u: 'someone-else' })).toString('base64url')}.${sig}`;
    const res = await fetch(`${s.url}/v2/`, { headers: { authorization: basicAuth('AWS', forged) } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), `Basic realm="${s.url}/",service="ecr.amazonaws.com"`);
    assert.equal(await get(s, basicAuth('AWS', `${password.slice(0, -2)}AA`)), 401);
    assert.equal(await get(s, basicAuth('admin', 'nope')), 401);
    assert.equal(await get(s, 'Bearer something'), 401);
  });

  it('a token from another region of the same data directory is refused', async () => {
    assert.ok(dir && s);
    await s.stop({ keepData: true });
    s = await startCargohold({ dataDir: dir, env: { CARGOHOLD_LOG_LEVEL: 'warn', CARGOHOLD_REGION: 'eu-west-1' } });
    const password = await registryPassword(s, TEST_ADMIN);
    await s.stop({ keepData: true });
    s = await startCargohold({ dataDir: dir, env: { CARGOHOLD_LOG_LEVEL: 'warn' } });
    const res = await fetch(`${s.url}/v2/`, { headers: { authorization: basicAuth('AWS', password) } });
    assert.equal(res.status, 401);
  });
});

describe('auth.enabled: false', () => {
  let s: RunningServer | undefined;
  after(async () => { await s?.stop(); });

  it('opens /v2/ to anyone; the ECR API still verifies SigV4', async () => {
    s = await startCargohold({ env: { CARGOHOLD_LOG_LEVEL: 'warn', CARGOHOLD_AUTH_ENABLED: 'false' } });
    assert.equal((await fetch(`${s.url}/v2/`)).status, 200);
    assert.equal((await fetch(`${s.url}/v2/_catalog`)).status, 200);
    await ecrClient(s).send(new DescribeRepositoriesCommand({}));
    await assert.rejects(ecrClient(s, { accessKeyId: TEST_ADMIN.accessKeyId, secretAccessKey: 'wrong'.repeat(8) }).send(new DescribeRepositoriesCommand({})), { name: 'InvalidSignatureException' });
  });
});
