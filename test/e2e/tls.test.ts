// HTTPS end to end: `cargohold tls self-signed` writes a CA and a server certificate; `cargohold serve --tls-cert
// --tls-key` serves both APIs over TLS on one port (HSTS, https:// realm and proxyEndpoint); the AWS CLI works with
// `--ca-bundle` and refuses without it; docker pushes and pulls with the CA in /etc/docker/certs.d/HOST:PORT/ca.crt
// and refuses without it.
//
// docker treats every registry on 127.0.0.0/8 as insecure (it then skips certificate checks and never reads
// certs.d), so the docker case serves on the IPv6 loopback ::1 under a test host name mapped to ::1 in /etc/hosts
// for the test's duration: docker then verifies the certificate like for any remote registry. Traffic stays on
// the loopback interface.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent as HttpsAgent, get as httpsGet } from 'node:https';
import { promisify } from 'node:util';
import { Agent, fetch } from 'undici';
import { AWS_CLI } from '../helpers/aws-cli.ts';
import { assertAvailable, hasDocker, runCommand, skipUnless, startDockerd, type RunningDockerd } from '../helpers/dockerd.ts';
import { hasBusybox, importBusyboxImage } from '../helpers/images.ts';
import { startCargohold, type RunningServer } from '../helpers/server.ts';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const BASE = 'cargohold-test/busybox:1';

/** Runs `cargohold tls self-signed` (the real CLI) and returns the paths it wrote. */
async function selfSigned(host: string, out: string): Promise<{ ca: string; cert: string; key: string; stdout: string }> {
  const r = await runCommand(process.execPath, [join(ROOT, 'bin/cargohold.js'), 'tls', 'self-signed', '--host', host, '--out', out], { timeoutMs: 60_000 });
  return { ca: join(out, 'ca.crt'), cert: join(out, 'server.crt'), key: join(out, 'server.key'), stdout: r.stdout };
}

function awsEnv(s: RunningServer): NodeJS.ProcessEnv {
  const c = s.credentials!;
  return {
    PATH: process.env.PATH, HOME: process.env.HOME, AWS_ACCESS_KEY_ID: c.accessKeyId, AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
    AWS_DEFAULT_REGION: c.region, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_PAGER: '', AWS_MAX_ATTEMPTS: '1',
  };
}

describe('HTTPS with a self-signed CA', { timeout: 180_000 }, () => {
  let work: string;
  let files: Awaited<ReturnType<typeof selfSigned>>;
  let s: RunningServer;
  let trusted: Agent;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'cargohold-tls-'));
    files = await selfSigned('registry.cargohold.test', join(work, 'tls'));
    s = await startCargohold({ tls: { cert: files.cert, key: files.key } });
    trusted = new Agent({ connect: { ca: await readFile(files.ca, 'utf8') } });
  }, { timeout: 90_000 });

  after(async () => {
    await trusted?.close();
    await s?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the CLI writes the CA, the certificate and private keys (0600) and says how to use them', async () => {
    assert.match(files.stdout, /--tls-cert .*server\.crt --tls-key .*server\.key/);
    assert.match(files.stdout, /\/etc\/docker\/certs\.d\/registry\.cargohold\.test:5000\/ca\.crt/);
    const { statSync } = await import('node:fs');
    assert.equal(statSync(files.key).mode & 0o777, 0o600);
    assert.equal(statSync(join(work, 'tls', 'ca.key')).mode & 0o777, 0o600);
    // Refuses to overwrite without --force.
    const again = await runCommand(process.execPath, [join(ROOT, 'bin/cargohold.js'), 'tls', 'self-signed', '--host', 'x.test', '--out', join(work, 'tls')], { allowFailure: true });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already exist.*--force/);
  });

  it('/v2/ answers over TLS with Strict-Transport-Security and an https:// Basic realm', async () => {
    assert.match(s.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const anon = await fetch(`${s.url}/v2/`, { dispatcher: trusted });
    assert.equal(anon.status, 401);
    assert.equal(anon.headers.get('strict-transport-security'), 'max-age=31536000');
    assert.equal(anon.headers.get('www-authenticate'), `Basic realm="${s.url}/",service="ecr.amazonaws.com"`);
    await anon.arrayBuffer();
    const authed = await fetch(`${s.url}/v2/`, { dispatcher: trusted, headers: { authorization: s.authorization! } });
    assert.equal(authed.status, 200);
    assert.equal(authed.headers.get('strict-transport-security'), 'max-age=31536000');
    await authed.arrayBuffer();
    assert.ok(s.logs.some((l) => l.msg === 'listening' && l.tls === true));
    assert.ok(!s.logs.some((l) => typeof l.msg === 'string' && l.msg.includes('plain HTTP')));
  });

  it('refuses plain HTTP on the TLS port and clients that do not trust the CA', async () => {
    await assert.rejects(fetch(s.url.replace('https:', 'http:') + '/v2/'));
    await assert.rejects(fetch(`${s.url}/v2/`));
  });

  it('keeps TLS connections alive: later requests reuse the first connection (no new handshake)', async () => {
    const agent = new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: await readFile(files.ca, 'utf8') });
    try {
      const reused: boolean[] = [];
      for (let i = 0; i < 10; i++) {
        reused.push(await new Promise<boolean>((resolve, reject) => {
          const req = httpsGet(`${s.url}/v2/`, { agent, headers: { authorization: s.authorization! } }, (res) => {
            assert.equal(res.statusCode, 200);
            res.resume();
            res.on('end', () => resolve(req.reusedSocket));
          });
          req.on('error', reject);
        }));
      }
      assert.deepEqual(reused, [false, ...Array(9).fill(true)]);
    } finally {
      agent.destroy();
    }
  });

  it('the AWS CLI works over HTTPS with --ca-bundle (proxyEndpoint is https://) and refuses without it', async () => {
    const env = awsEnv(s);
    const base = ['--endpoint-url', s.url, '--output', 'json', '--ca-bundle', files.ca, 'ecr'];
    const created = JSON.parse((await run(AWS_CLI, [...base, 'create-repository', '--repository-name', 'tls/app'], { env })).stdout);
    assert.equal(created.repository.repositoryName, 'tls/app');
    const token = JSON.parse((await run(AWS_CLI, [...base, 'get-authorization-token'], { env })).stdout);
    assert.equal(token.authorizationData[0].proxyEndpoint, s.url);
    const described = JSON.parse((await run(AWS_CLI, [...base, 'describe-repositories'], { env })).stdout);
    assert.deepEqual(described.repositories.map((r: { repositoryName: string }) => r.repositoryName), ['tls/app']);
    // Without the CA bundle the CLI does not trust the server.
    const refused = await run(AWS_CLI, ['--endpoint-url', s.url, 'ecr', 'describe-repositories'], { env }).then(() => undefined, (e: { stderr: string }) => e);
    assert.ok(refused, 'the AWS CLI should refuse an untrusted certificate');
    assert.match(refused.stderr, /SSL|CERTIFICATE_VERIFY_FAILED|certificate verify failed/i);
  });
});

describe('docker push and pull over HTTPS with the CA in certs.d', { skip: skipUnless(hasDocker()) || skipUnless(hasBusybox()), timeout: 600_000 }, () => {
  const name = `cargohold-tls-${randomBytes(4).toString('hex')}.test`;
  const hostsLine = `::1 ${name}\n`;
  let work: string;
  let s: RunningServer;
  let dockerd: RunningDockerd;
  let certsDir: string | undefined;
  let ca: string;
  /** Exactly what was appended to /etc/hosts (removed again afterwards). */
  let hostsAdded = '';
  let certsRootCreated = false;

  before(async () => {
    assertAvailable(hasDocker());
    assertAvailable(hasBusybox());
    work = await mkdtemp(join(tmpdir(), 'cargohold-tls-docker-'));
    const files = await selfSigned(name, join(work, 'tls'));
    const hosts = await readFile('/etc/hosts', 'utf8');
    hostsAdded = `${hosts.endsWith('\n') || hosts === '' ? '' : '\n'}${hostsLine}`;
    await writeFile('/etc/hosts', hosts + hostsAdded);
    s = await startCargohold({ tls: { cert: files.cert, key: files.key }, listen: '[::1]:0', env: { CARGOHOLD_LOG_LEVEL: 'warn' } });
    certsDir = `/etc/docker/certs.d/${name}:${s.port}`;
    certsRootCreated = !existsSync('/etc/docker/certs.d');
    dockerd = await startDockerd();
    await importBusyboxImage(dockerd, BASE);
    ca = files.ca;
  }, { timeout: 180_000 });

  after(async () => {
    await dockerd?.stop();
    await s?.stop();
    if (certsDir) await rm(certsDir, { recursive: true, force: true });
    if (certsRootCreated) await rm('/etc/docker/certs.d', { recursive: true, force: true });
    if (hostsAdded) {
      const hosts = await readFile('/etc/hosts', 'utf8');
      const at = hosts.lastIndexOf(hostsAdded);
      if (at !== -1) await writeFile('/etc/hosts', hosts.slice(0, at) + hosts.slice(at + hostsAdded.length));
    }
    if (work) await rm(work, { recursive: true, force: true });
  }, { timeout: 60_000 });

  it('without the CA docker refuses the certificate; with it, login, push and pull work', { timeout: 300_000 }, async () => {
    const registry = `${name}:${s.port}`;
    const c = s.credentials!;
    const refused = await dockerd.docker(['login', '--username', c.accessKeyId, '--password-stdin', registry], { input: c.secretAccessKey, allowFailure: true, timeoutMs: 60_000 });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /x509|certificate/i, refused.stderr);

    await mkdir(certsDir!, { recursive: true });
    await writeFile(join(certsDir!, 'ca.crt'), await readFile(ca));
    const login = await dockerd.docker(['login', '--username', c.accessKeyId, '--password-stdin', registry], { input: c.secretAccessKey, timeoutMs: 60_000 });
    assert.match(login.stdout, /Login Succeeded/);

    const ref = `${registry}/tls/app:v1`;
    await dockerd.docker(['tag', BASE, ref]);
    const push = await dockerd.docker(['push', ref], { timeoutMs: 120_000 });
    const pushed = /v1: digest: (sha256:[0-9a-f]{64})/.exec(push.stdout);
    assert.ok(pushed, push.stdout);
    await dockerd.docker(['rmi', ref]);
    const pull = await dockerd.docker(['pull', ref], { timeoutMs: 120_000 });
    assert.match(pull.stdout, new RegExp(`Digest: ${pushed[1]}`));
    const inspect = await dockerd.docker(['image', 'inspect', '--format', '{{index .RepoDigests 0}}', ref]);
    assert.equal(inspect.stdout.trim(), `${registry}/tls/app@${pushed[1]}`);
  });
});
