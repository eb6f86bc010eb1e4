// One policy engine for both APIs, through the running server: a subset of the policy table run through /v2/
// and the ECR API, least privilege (a minimal push policy), repository scoping (dev/* vs prod/app), anonymous
// pulls allowed by a repository policy, the 401 challenge vs 403 DENIED split, and `cargohold iam explain`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CreateRepositoryCommand, DescribeRepositoriesCommand, GetAuthorizationTokenCommand, SetRepositoryPolicyCommand, TagResourceCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { ACCOUNT, createUser, ecrClient, openIdentity, policy, repoArn, tokenAuthorization, type Key } from '../helpers/auth.ts';
import { makeImage, OciClient, type Image } from '../helpers/oci-client.ts';
import { basicAuth, startCargohold, type RunningServer } from '../helpers/server.ts';

const run = promisify(execFile);
const CLI = new URL('../../bin/cargohold.js', import.meta.url).pathname;
const userArn = (name: string) => `arn:aws:iam::${ACCOUNT}:user/${name}`;

let s: RunningServer;
let admin: ECRClient;
let adminOci: OciClient;
const images = new Map<string, Image>();

/** Creates a repository (ECR API, as admin) holding one image tagged v1. */
async function repoWithImage(name: string): Promise<Image> {
  await admin.send(new CreateRepositoryCommand({ repositoryName: name }));
  const img = makeImage();
  await adminOci.pushImage(name, img, 'v1');
  images.set(name, img);
  return img;
}

/** What a caller can do on /v2/ in a repository, as HTTP statuses. */
async function v2(client: OciClient, repo: string, what: 'pull' | 'blob' | 'tags' | 'push' | 'delete'): Promise<{ status: number; code?: string; message?: string; challenge?: string | null }> {
  const img = images.get(repo)!;
  let res;
  if (what === 'pull') res = await client.getManifest(repo, 'v1');
  else if (what === 'blob') res = await client.getBlob(repo, img.layers[0]!.digest);
  else if (what === 'tags') res = await client.get(`/v2/${repo}/tags/list`);
  else if (what === 'delete') res = await client.delete(`/v2/${repo}/manifests/${img.digest}`);
  else res = await client.startUpload(repo);
  const body = res.status >= 400 ? (res.json() as { errors: Array<{ code: string; message: string }> }).errors[0] : undefined;
  return { status: res.status, code: body?.code, message: body?.message, challenge: res.header('www-authenticate') };
}

async function describeAs(client: ECRClient, repo: string): Promise<string> {
  try {
    await client.send(new DescribeRepositoriesCommand({ repositoryNames: [repo] }));
    return 'ok';
  } catch (e) {
    return (e as Error).name;
  }
}

before(async () => {
  // Cache TTL 0: policies written from this process (like `cargohold iam`) apply at once.
  s = await startCargohold({ env: { CARGOHOLD_LOG_LEVEL: 'warn', CARGOHOLD_AUTH_CACHE_TTL_SECONDS: '0' } });
  admin = ecrClient(s);
  adminOci = new OciClient(s.url, { authorization: s.authorization });
});
after(async () => { await s?.stop(); });

describe('least privilege: a minimal push policy', () => {
  let pusher: Key;
  before(async () => {
    await repoWithImage('team-a/app');
    await repoWithImage('team-b/app');
    const { identity, close } = await openIdentity(s);
    try {
      pusher = await createUser(identity, 'pusher', policy(
        { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
        { Effect: 'Allow', Action: ['ecr:BatchCheckLayerAvailability', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage'], Resource: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/team-a/*` },
      ));
    } finally {
      await close();
    }
  });

  it('logs in with a registry token and pushes a new image to team-a/app', async () => {
    const oci = new OciClient(s.url, { authorization: await tokenAuthorization(s, pusher) });
    assert.equal((await oci.get('/v2/')).status, 200);
    const img = makeImage({ layers: 2 });
    await oci.pushImage('team-a/app', img, 'pushed-by-pusher');
    assert.equal((await adminOci.getManifest('team-a/app', 'pushed-by-pusher')).header('docker-content-digest'), img.digest);
    // Chunked uploads (PATCH) and HEAD checks are covered by the same actions.
    assert.equal((await oci.headBlob('team-a/app', img.layers[0]!.digest)).status, 200);
  });

  it('cannot delete in team-a/app, nor pull it back, nor touch team-b/app', async () => {
    const oci = new OciClient(s.url, { authorization: await tokenAuthorization(s, pusher) });
    const del = await v2(oci, 'team-a/app', 'delete');
    assert.equal(del.status, 403);
    assert.equal(del.code, 'DENIED');
    assert.equal(del.message, `User: ${userArn('pusher')} is not authorized to perform: ecr:BatchDeleteImage on resource: ${repoArn('team-a/app')} because no identity-based policy allows the ecr:BatchDeleteImage action`);
    assert.equal((await v2(oci, 'team-a/app', 'pull')).status, 403);
    const pullB = await v2(oci, 'team-b/app', 'pull');
    assert.equal(pullB.status, 403);
    assert.match(pullB.message!, /not authorized to perform: ecr:BatchGetImage on resource: .*repository\/team-b\/app because no identity-based policy allows/);
    assert.equal((await v2(oci, 'team-b/app', 'push')).status, 403);
    assert.equal((await v2(oci, 'team-b/app', 'blob')).status, 403);
    assert.equal((await adminOci.getManifest('team-a/app', 'v1')).status, 200, 'nothing was deleted');
  });

  it('the ECR API applies the same policy (DescribeRepositories is not granted)', async () => {
    const ecr = ecrClient(s, pusher);
    await ecr.send(new GetAuthorizationTokenCommand({}));
    await assert.rejects(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['team-a/app'] })), (e: Error) => {
      assert.equal(e.name, 'AccessDeniedException');
      assert.equal(e.message, `User: ${userArn('pusher')} is not authorized to perform: ecr:DescribeRepositories on resource: ${repoArn('team-a/app')} because no identity-based policy allows the ecr:DescribeRepositories action`);
      return true;
    });
  });

  it('a cross-repository mount without pull rights on the source falls back to a plain upload (202)', async () => {
    const oci = new OciClient(s.url, { authorization: basicAuth(pusher.accessKeyId, pusher.secretAccessKey) });
    const layer = images.get('team-b/app')!.layers[0]!;
    const res = await oci.startUpload('team-a/app', { query: { mount: layer.digest, from: 'team-b/app' } });
    assert.equal(res.status, 202, res.text());
    const mountedByAdmin = await adminOci.startUpload('team-a/app', { query: { mount: layer.digest, from: 'team-b/app' } });
    assert.equal(mountedByAdmin.status, 201, 'the administrator may read team-b/app, so the mount happens');
  });
});

describe('a user allowed only repository/dev/*', () => {
  let dev: Key;
  before(async () => {
    await repoWithImage('dev/app');
    await repoWithImage('prod/app');
    const { identity, close } = await openIdentity(s);
    try {
      dev = await createUser(identity, 'dev-only', policy(
        { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
        { Effect: 'Allow', Action: 'ecr:*', Resource: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/dev/*` },
      ));
    } finally {
      await close();
    }
  });

  it('does everything in dev/app and nothing in prod/app, on both APIs', async () => {
    const oci = new OciClient(s.url, { authorization: await tokenAuthorization(s, dev) });
    for (const what of ['pull', 'blob', 'tags', 'push'] as const) assert.ok((await v2(oci, 'dev/app', what)).status < 300, `dev/app ${what}`);
    for (const what of ['pull', 'blob', 'tags', 'push', 'delete'] as const) {
      const r = await v2(oci, 'prod/app', what);
      assert.equal(r.status, 403, `prod/app ${what}`);
      assert.equal(r.code, 'DENIED');
    }
    assert.equal(await describeAs(ecrClient(s, dev), 'dev/app'), 'ok');
    assert.equal(await describeAs(ecrClient(s, dev), 'prod/app'), 'AccessDeniedException');
    await assert.rejects(ecrClient(s, dev).send(new SetRepositoryPolicyCommand({ repositoryName: 'prod/app', policyText: JSON.stringify(policy({ Effect: 'Allow', Principal: '*', Action: 'ecr:*' })) })), { name: 'AccessDeniedException' });
  });

  it('the catalog lists only the repositories the caller may describe', async () => {
    const oci = new OciClient(s.url, { authorization: basicAuth(dev.accessKeyId, dev.secretAccessKey) });
    const res = await oci.get('/v2/_catalog');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json().repositories, ['dev/app']);
    const all = (await adminOci.get('/v2/_catalog')).json().repositories as string[];
    assert.ok(all.includes('prod/app') && all.includes('dev/app'));
  });
});

describe('policy table through /v2/ and the ECR API', () => {
  type Check = ['v2', 'pull' | 'blob' | 'tags' | 'push' | 'delete', number] | ['ecr', 'DescribeRepositories', string];
  interface Row { name: string; identity?: object; repository?: object; anonymous?: boolean; tags?: Record<string, string>; checks: Check[] }
  const R = (name: string) => `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/${name}`;
  const rows: Row[] = [
    { name: 'no policy at all: implicit deny', checks: [['v2', 'pull', 403], ['v2', 'push', 403], ['ecr', 'DescribeRepositories', 'AccessDeniedException']] },
    { name: 'identity ecr:* on the repository', identity: policy({ Effect: 'Allow', Action: 'ecr:*', Resource: R('table/r2') }), checks: [['v2', 'pull', 200], ['v2', 'push', 202], ['v2', 'tags', 200], ['ecr', 'DescribeRepositories', 'ok']] },
    { name: 'explicit identity deny beats the allow', identity: policy({ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }, { Effect: 'Deny', Action: 'ecr:BatchGetImage', Resource: '*' }), checks: [['v2', 'pull', 403], ['v2', 'tags', 200], ['ecr', 'DescribeRepositories', 'ok']] },
    { name: 'repository policy alone allows a named user (same account)', repository: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'USER' }, Action: ['ecr:BatchGetImage', 'ecr:DescribeRepositories'] }] }, checks: [['v2', 'pull', 200], ['v2', 'tags', 403], ['ecr', 'DescribeRepositories', 'ok']] },
    { name: 'repository deny beats an identity allow', identity: policy({ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }), repository: { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: ['ecr:BatchDeleteImage', 'ecr:PutImage'] }] }, checks: [['v2', 'delete', 403], ['v2', 'pull', 200], ['ecr', 'DescribeRepositories', 'ok']] },
    { name: 'NotAction deny keeps a user read-only', identity: policy({ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }, { Effect: 'Deny', NotAction: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:DescribeRepositories'], Resource: '*' }), checks: [['v2', 'pull', 200], ['v2', 'blob', 200], ['v2', 'push', 403], ['v2', 'tags', 403], ['ecr', 'DescribeRepositories', 'ok']] },
    { name: 'ecr:ResourceTag condition', identity: policy({ Effect: 'Allow', Action: ['ecr:ListImages', 'ecr:DescribeRepositories'], Resource: '*', Condition: { StringEquals: { 'ecr:ResourceTag/team': 'blue' } } }), tags: { team: 'blue' }, checks: [['v2', 'tags', 200], ['v2', 'pull', 403], ['ecr', 'DescribeRepositories', 'ok']] },
    { name: 'ecr:ResourceTag condition, other tag value', identity: policy({ Effect: 'Allow', Action: ['ecr:ListImages', 'ecr:DescribeRepositories'], Resource: '*', Condition: { StringEquals: { 'ecr:ResourceTag/team': 'blue' } } }), tags: { team: 'red' }, checks: [['v2', 'tags', 403], ['ecr', 'DescribeRepositories', 'AccessDeniedException']] },
    { name: 'anonymous pull through Principal "*"', anonymous: true, repository: { Version: '2012-10-17', Statement: [{ Sid: 'Public', Effect: 'Allow', Principal: '*', Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] }] }, checks: [['v2', 'pull', 200], ['v2', 'blob', 200], ['v2', 'tags', 401], ['v2', 'push', 401]] },
    { name: 'anonymous without a repository policy gets the Basic challenge', anonymous: true, checks: [['v2', 'pull', 401], ['v2', 'push', 401], ['v2', 'delete', 401]] },
  ];

  rows.forEach((row, i) => {
    it(row.name, async () => {
      const repo = `table/r${i + 1}`;
      await repoWithImage(repo);
      const userName = `table-user-${i + 1}`;
      const { identity, close } = await openIdentity(s);
      let key: Key;
      try {
        key = await createUser(identity, userName, row.identity);
      } finally {
        await close();
      }
      if (row.repository) {
        const text = JSON.stringify(row.repository).replaceAll('"USER"', JSON.stringify(userArn(userName)));
        await admin.send(new SetRepositoryPolicyCommand({ repositoryName: repo, policyText: text }));
      }
      if (row.tags) await admin.send(new TagResourceCommand({ resourceArn: repoArn(repo), tags: Object.entries(row.tags).map(([Key, Value]) => ({ Key, Value })) }));
      const oci = new OciClient(s.url, row.anonymous ? {} : { authorization: basicAuth(key.accessKeyId, key.secretAccessKey) });
      for (const check of row.checks) {
        if (check[0] === 'v2') {
          const r = await v2(oci, repo, check[1]);
          assert.equal(r.status, check[2], `${check[1]} on ${repo}: ${r.status} ${r.code ?? ''} ${r.message ?? ''}`);
          if (r.status === 401) assert.equal(r.challenge, `Basic realm="${s.url}/",service="ecr.amazonaws.com"`);
          if (r.status === 403) assert.match(r.message!, new RegExp(`^User: ${userArn(userName)} is not authorized to perform: ecr:\\w+ on resource: ${repoArn(repo)}`));
        } else {
          assert.equal(await describeAs(ecrClient(s, key), repo), check[2], `${check[1]} on ${repo}`);
        }
      }
    });
  });
});

describe('cargohold iam', () => {
  const cli = (...args: string[]) => run(process.execPath, [CLI, 'iam', ...args, '--data-dir', s.dataDir]);

  it('manages a user, its key and policy; explain names the deciding statement', { timeout: 120_000 }, async () => {
    await cli('user', 'create', 'cli-user');
    const created = JSON.parse((await cli('access-key', 'create', '--user', 'cli-user')).stdout) as { AccessKey: { AccessKeyId: string; SecretAccessKey: string } };
    const key = { accessKeyId: created.AccessKey.AccessKeyId, secretAccessKey: created.AccessKey.SecretAccessKey };
    await cli('policy', 'put', '--user', 'cli-user', '--name', 'pull-dev', '--document', JSON.stringify(policy({ Sid: 'PullDev', Effect: 'Allow', Action: ['ecr:BatchGetImage'], Resource: R('dev/*') })));
    assert.match((await cli('policy', 'list', '--user', 'cli-user')).stdout, /^pull-dev\t/m);
    assert.match((await cli('access-key', 'list', '--user', 'cli-user')).stdout, new RegExp(`^${key.accessKeyId}\\tActive\\t`, 'm'));
    const oci = new OciClient(s.url, { authorization: basicAuth(key.accessKeyId, key.secretAccessKey) });
    assert.equal((await v2(oci, 'dev/app', 'pull')).status, 200);

    const allowed = await cli('explain', '--principal', 'cli-user', '--action', 'ecr:BatchGetImage', '--resource', R('dev/app'));
    assert.match(allowed.stdout, /^ALLOWED by identity policy "pull-dev", statement "PullDev"/);
    const denied = await cli('explain', '--principal', userArn('cli-user'), '--action', 'ecr:PutImage', '--resource', R('dev/app')).then(() => undefined, (e: { code: number; stdout: string }) => e);
    assert.equal(denied?.code, 3, 'exit status 3 for a denial');
    assert.match(denied!.stdout, /^DENIED implicitly: no identity-based policy statement allows the request/);
    assert.match(denied!.stdout, /ECR would answer: User: arn:aws:iam::123456789012:user\/cli-user is not authorized to perform: ecr:PutImage/);

    await cli('access-key', 'deactivate', key.accessKeyId);
    assert.equal((await v2(oci, 'dev/app', 'pull')).status, 401, 'a deactivated key no longer authenticates');
    await cli('access-key', 'activate', key.accessKeyId);
    assert.equal((await v2(oci, 'dev/app', 'pull')).status, 200);
    await cli('user', 'delete', 'cli-user');
    assert.equal((await v2(oci, 'dev/app', 'pull')).status, 401);
  });

  function R(name: string) { return `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/${name}`; }
});
