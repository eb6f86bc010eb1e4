// docker against an authenticating cargohold: the generated administrator credentials file, `aws ecr
// get-login-password | docker login`, push and pull; "no basic auth credentials" without login; "denied: … not
// authorized …" for a missing permission; and docker logging in by itself through docker-credential-cargohold.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createUser, openIdentity, policy, type Key } from '../helpers/auth.ts';
import { assertAvailable, hasDocker, skipUnless, startDockerd, type RunningDockerd } from '../helpers/dockerd.ts';
import { hasBusybox, importBusyboxImage } from '../helpers/images.ts';
import { startCargohold, type RunningServer } from '../helpers/server.ts';

const run = promisify(execFile);
const AWS = '/usr/bin/aws';
const ROOT = new URL('../../', import.meta.url).pathname;
const BASE = 'cargohold-test/busybox:1';

describe('docker login and push/pull with authentication', { skip: skipUnless(hasDocker()) || skipUnless(hasBusybox()), timeout: 600_000 }, () => {
  let s: RunningServer;
  let dockerd: RunningDockerd;
  let work: string;
  let adminFile: string;
  let dev: Key;
  const done = new Set<string>();

  before(async () => {
    assertAvailable(hasDocker());
    assertAvailable(hasBusybox());
    work = join(tmpdir(), `cargohold-auth-docker-${randomBytes(4).toString('hex')}`);
    await mkdir(work, { recursive: true });
    // No CARGOHOLD_ADMIN_* keys: the server generates the administrator's key and writes admin-credentials.
    s = await startCargohold({ env: { CARGOHOLD_ADMIN_ACCESS_KEY_ID: '', CARGOHOLD_ADMIN_SECRET_ACCESS_KEY: '', CARGOHOLD_LOG_LEVEL: 'warn' } });
    adminFile = join(s.dataDir, 'admin-credentials');
    const { identity, close } = await openIdentity(s);
    try {
      dev = await createUser(identity, 'docker-dev', policy(
        { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
        { Effect: 'Allow', Action: 'ecr:*', Resource: 'arn:aws:ecr:us-east-1:123456789012:repository/dev/*' },
      ));
    } finally {
      await close();
    }
    dockerd = await startDockerd();
    await importBusyboxImage(dockerd, BASE);
  }, { timeout: 180_000 });

  after(async () => {
    await dockerd?.stop();
    await s?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  }, { timeout: 60_000 });

  const loginPassword = async (env: Record<string, string>) =>
    (await run(AWS, ['ecr', 'get-login-password', '--endpoint-url', s.url, '--region', 'us-east-1'], { env: { ...process.env, AWS_CONFIG_FILE: '/dev/null', AWS_PAGER: '', ...env } })).stdout.trim();

  it('writes DATA_DIR/admin-credentials (0600, profile default with the region)', async () => {
    const text = await readFile(adminFile, 'utf8');
    assert.match(text, /^\[default\]\naws_access_key_id=AKIA[A-Z2-7]{16}\naws_secret_access_key=\S{40}\nregion=us-east-1\n$/);
    assert.equal((await stat(adminFile)).mode & 0o777, 0o600);
  });

  it('a push without login fails with "no basic auth credentials"', { timeout: 120_000 }, async () => {
    await dockerd.docker(['tag', BASE, `${s.host}/auth/app:v1`]);
    const res = await dockerd.docker(['push', `${s.host}/auth/app:v1`], { allowFailure: true, timeoutMs: 110_000 });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /no basic auth credentials/, `${res.stdout}\n${res.stderr}`);
  });

  it('aws ecr get-login-password | docker login, then push and pull back', { timeout: 240_000 }, async () => {
    const password = await loginPassword({ AWS_SHARED_CREDENTIALS_FILE: adminFile });
    assert.ok(password.length > 50 && !password.includes(':'));
    const login = await dockerd.docker(['login', '--username', 'AWS', '--password-stdin', s.host], { input: password });
    assert.match(login.stdout, /Login Succeeded/);
    const push = await dockerd.docker(['push', `${s.host}/auth/app:v1`], { timeoutMs: 110_000 });
    const m = /v1: digest: (sha256:[0-9a-f]{64})/.exec(push.stdout);
    assert.ok(m, push.stdout);
    await dockerd.docker(['rmi', `${s.host}/auth/app:v1`]);
    const pull = await dockerd.docker(['pull', `${s.host}/auth/app:v1`], { timeoutMs: 110_000 });
    assert.match(pull.stdout, new RegExp(`Digest: ${m[1]}`));
    await dockerd.docker(['logout', s.host]);
    done.add('push');
  });

  it('a logged-in user without the permission sees "denied: … is not authorized to perform: ecr:…"', { timeout: 180_000 }, async () => {
    const password = await loginPassword({ AWS_ACCESS_KEY_ID: dev.accessKeyId, AWS_SECRET_ACCESS_KEY: dev.secretAccessKey, AWS_SHARED_CREDENTIALS_FILE: '/dev/null' });
    await dockerd.docker(['login', '--username', 'AWS', '--password-stdin', s.host], { input: password });
    try {
      await dockerd.docker(['tag', BASE, `${s.host}/prod/app:v1`]);
      const res = await dockerd.docker(['push', `${s.host}/prod/app:v1`], { allowFailure: true, timeoutMs: 110_000 });
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, /denied: User: arn:aws:iam::123456789012:user\/docker-dev is not authorized to perform: ecr:\w+ on resource: arn:aws:ecr:us-east-1:123456789012:repository\/prod\/app because no identity-based policy allows/, `${res.stdout}\n${res.stderr}`);
      // Within dev/* the same login works.
      await dockerd.docker(['tag', BASE, `${s.host}/dev/app:v1`]);
      const ok = await dockerd.docker(['push', `${s.host}/dev/app:v1`], { timeoutMs: 110_000 });
      assert.match(ok.stdout, /v1: digest: sha256:/);
    } finally {
      await dockerd.docker(['logout', s.host]);
    }
  });

  it('docker-credential-cargohold logs docker in by itself from an AWS profile', { timeout: 240_000 }, async () => {
    if (!done.has('push')) throw new Error('not run: the login/push step did not succeed');
    const bin = join(work, 'bin');
    await mkdir(bin, { recursive: true });
    await symlink(join(ROOT, 'bin/docker-credential-cargohold.js'), join(bin, 'docker-credential-cargohold'));
    const config = join(work, 'docker-config');
    await mkdir(config, { recursive: true });
    await writeFile(join(config, 'config.json'), JSON.stringify({ credHelpers: { [s.host]: 'cargohold' } }));
    // The helper protocol by hand: server URL on stdin, JSON credentials out.
    const helperEnv = { ...process.env, AWS_SHARED_CREDENTIALS_FILE: adminFile, AWS_CONFIG_FILE: '/dev/null', AWS_PROFILE: 'default' };
    const got = await new Promise<string>((resolve, reject) => {
      const child = execFile(join(bin, 'docker-credential-cargohold'), ['get'], { env: helperEnv }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
      child.stdin!.end(s.host);
    });
    const creds = JSON.parse(got) as { ServerURL: string; Username: string; Secret: string };
    assert.equal(creds.Username, 'AWS');
    assert.equal(creds.ServerURL, s.host);
    const check = await fetch(`${s.url}/v2/`, { headers: { authorization: `Basic ${Buffer.from(`AWS:${creds.Secret}`).toString('base64')}` } });
    assert.equal(check.status, 200);

    const env = { DOCKER_CONFIG: config, PATH: `${bin}:${process.env.PATH}`, AWS_SHARED_CREDENTIALS_FILE: adminFile, AWS_CONFIG_FILE: '/dev/null' };
    await dockerd.docker(['rmi', `${s.host}/auth/app:v1`], { allowFailure: true });
    const pull = await dockerd.docker(['pull', `${s.host}/auth/app:v1`], { env, timeoutMs: 110_000 });
    assert.match(pull.stdout, /Digest: sha256:/, pull.stdout);
    await dockerd.docker(['tag', BASE, `${s.host}/auth/app:helper`], { env });
    const push = await dockerd.docker(['push', `${s.host}/auth/app:helper`], { env, timeoutMs: 110_000 });
    assert.match(push.stdout, /helper: digest: sha256:/, push.stdout);
    // Without credentials for the helper, docker gets none and the registry challenges.
    const denied = await dockerd.docker(['pull', `${s.host}/auth/app:v1`], { env: { ...env, AWS_SHARED_CREDENTIALS_FILE: '/dev/null', HOME: work }, allowFailure: true, timeoutMs: 110_000 });
    assert.notEqual(denied.code, 0);
  });
});
