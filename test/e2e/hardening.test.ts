// Hardened inputs through the running server: URL (414) and header (431) limits, bounded API bodies and JSON
// nesting, a stalled upload body cut by the idle timeout, storage paths that no name, digest or upload id can
// steer outside the data directory, rate limiting of failed authentication per address (429 in each protocol's
// format) and no secret or token in any log line (the server logs at trace level throughout).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signTestRequest } from '../../src/auth/sigv4/test-signer.ts';
import { makeImage, OciClient } from '../helpers/oci-client.ts';
import { ecrCall, fileTree, rawHttp, rawSocket } from '../helpers/raw-http.ts';
import { basicAuth, startCargohold, type RunningServer } from '../helpers/server.ts';

const MARKER = `TRAVERSAL-MARKER-${randomBytes(6).toString('hex')}`;

describe('hardened inputs', { timeout: 180_000 }, () => {
  let sandbox: string;
  let s: RunningServer;
  let oci: OciClient;
  /** Secrets and tokens used against the server; none may appear in its logs. */
  const secrets: string[] = [];

  before(async () => {
    sandbox = await mkdtemp(join(tmpdir(), 'cargohold-hardening-'));
    const config = join(sandbox, 'config.yaml');
    await writeFile(config, 'http:\n  bodyIdleTimeoutSeconds: 1\nauth:\n  failureLimit:\n    burst: 5\n    perMinute: 1\n');
    s = await startCargohold({ dataDir: join(sandbox, 'data'), args: ['--config', config], env: { CARGOHOLD_LOG_LEVEL: 'trace' } });
    oci = new OciClient(s.url, { authorization: s.authorization });
    secrets.push(s.credentials!.secretAccessKey, s.authorization!.slice('Basic '.length));
    const image = makeImage();
    await oci.pushImage('hard/app', image, 'v1');
  }, { timeout: 60_000 });

  /** Headers of a GetSessionToken call signed by the administrator (the test signer's X-Amz-Target left out). */
  async function stsHeaders(form: string): Promise<Record<string, string>> {
    const signed = await signTestRequest(s.credentials!, new Date(), { host: s.host, body: form, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-amz-target': undefined as unknown as string } }, { service: 'sts', region: s.credentials!.region });
    return Object.fromEntries(Object.entries(signed.headers).filter(([k, v]) => k !== 'host' && k !== 'x-amz-target' && v !== undefined).map(([k, v]) => [k, String(v)]));
  }

  after(async () => {
    await s?.stop();
    if (sandbox) await rm(sandbox, { recursive: true, force: true });
  });

  it('a request target longer than http.maxUrlBytes is 414 in the OCI format (ECR calls: ECR format)', async () => {
    const long = `/v2/${'a'.repeat(9000)}/tags/list`;
    const r = await rawHttp(s, { method: 'GET', path: long, headers: { authorization: s.authorization! } });
    assert.equal(r.status, 414);
    assert.equal(JSON.parse(r.body.toString()).errors[0].code, 'UNSUPPORTED');
    const e = await rawHttp(s, { method: 'POST', path: `/?${'x'.repeat(9000)}`, headers: { 'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.DescribeRepositories', 'content-type': 'application/x-amz-json-1.1' }, body: '{}' });
    assert.equal(e.status, 414);
    assert.equal(JSON.parse(e.body.toString()).__type, 'ValidationException');
  });

  it('headers larger than http.maxHeaderBytes are 431 and the connection is closed', async () => {
    const r = await rawSocket(s, `GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(40 * 1024)}\r\n\r\n`);
    assert.match(r.text, /^HTTP\/1\.1 431 /);
    assert.equal(r.closedByServer, true);
    // Many small headers count the same way (their total size).
    const many = await rawSocket(s, `GET /v2/ HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 5000 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`);
    assert.match(many.text, /^HTTP\/1\.1 431 /);
  });

  it('ECR bodies are bounded per operation (declared size refused before reading or authenticating)', async () => {
    const r = await rawSocket(s, `POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AmazonEC2ContainerRegistry_V20150921.DescribeRepositories\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: ${2 * 1024 * 1024}\r\n\r\n`, '{', { stopAfterResponse: true });
    assert.match(r.text, /^HTTP\/1\.1 400 /);
    assert.match(r.text, /"__type":"InvalidParameterException"/);
    const part = await rawSocket(s, `POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AmazonEC2ContainerRegistry_V20150921.UploadLayerPart\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: ${40 * 1024 * 1024}\r\n\r\n`, '{', { stopAfterResponse: true });
    assert.match(part.text, /^HTTP\/1\.1 400 /);
    assert.match(part.text, /Request body too large/);
  });

  it('deeply nested JSON is refused as malformed: ECR input (SerializationException), manifests (MANIFEST_INVALID)', async () => {
    const deep = `{"repositoryNames":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const r = await ecrCall(s, 'DescribeRepositories', deep);
    assert.equal(r.status, 400);
    assert.equal(r.json.__type, 'SerializationException');
    const manifest = `{"schemaVersion":2,"annotations":${'{"a":'.repeat(100)}1${'}'.repeat(100)}}`;
    const m = await oci.putManifest('hard/app', 'deep', manifest, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(m.status, 400);
    assert.equal(m.json<{ errors: Array<{ code: string }> }>().errors[0]!.code, 'MANIFEST_INVALID');
    // The same document inside PutImage.
    const put = await ecrCall(s, 'PutImage', { repositoryName: 'hard/app', imageManifest: manifest, imageTag: 'deep' });
    assert.equal(put.status, 400);
    assert.equal(put.json.__type, 'InvalidParameterException');
  });

  it('an upload body that stalls is cut after the body idle timeout; the server keeps serving', async () => {
    const location = await oci.openSession('hard/slow');
    const path = new URL(location, s.url).pathname + new URL(location, s.url).search;
    const head = `PATCH ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${s.authorization}\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n`;
    const r = await rawSocket(s, head, 'only a few bytes', { waitMs: 30_000 });
    assert.equal(r.closedByServer, true, 'the server should close a connection whose body stalls');
    // The log line travels through the server's stdout; wait for it (bounded).
    for (let i = 0; i < 50 && !s.logs.some((l) => l.msg === 'request body stalled; closing the connection'); i++) await new Promise((res) => setTimeout(res, 100));
    assert.ok(s.logs.some((l) => l.msg === 'request body stalled; closing the connection'));
    const ok = await rawHttp(s, { method: 'GET', path: '/v2/', headers: { authorization: s.authorization! } });
    assert.equal(ok.status, 200);
  });

  it('no repository name, digest or upload id reaches a path outside the data directory', async () => {
    const before = await fileTree(sandbox, (rel) => rel.includes('metadata.sqlite'));
    const auth = { authorization: s.authorization! };
    const traversals = ['..', '../..', '%2e%2e', '%2e%2e%2f%2e%2e', '..%2f..%2fkeys', '....//....//keys', '..\\..\\keys', 'hard/app/../../../keys', '%252e%252e%252f', '.', 'a/./b', '/etc/passwd'];
    const digests = ['sha256:../../../keys/token.key', `sha256:${'../'.repeat(8)}etc/passwd`, 'sha256:..%2f..%2fkeys', `sha512:${'.'.repeat(128)}`, 'sha256:%2e%2e', `../sha256:${'a'.repeat(64)}`];
    const statuses: number[] = [];
    const send = async (method: string, path: string, body?: string) => {
      const r = await rawHttp(s, { method, path, headers: { ...auth, 'content-type': 'application/octet-stream' }, body });
      statuses.push(r.status);
      assert.ok(r.status >= 400 && r.status < 500, `${method} ${path} → ${r.status} ${r.body.toString().slice(0, 200)}`);
    };
    for (const t of traversals) {
      await send('GET', `/v2/${t}/manifests/latest`);
      await send('PUT', `/v2/${t}/manifests/latest`, MARKER);
      await send('POST', `/v2/${t}/blobs/uploads/`, MARKER);
      await send('PATCH', `/v2/hard/app/blobs/uploads/${t}`, MARKER);
      await send('PUT', `/v2/hard/app/blobs/uploads/${t}?digest=sha256:${'0'.repeat(64)}`, MARKER);
      await send('GET', `/v2/hard/app/blobs/uploads/${t}`);
      await send('DELETE', `/v2/hard/app/blobs/uploads/${t}`);
      await send('GET', `/v2/hard/app/blobs/${t}`);
      await send('GET', `/v2/hard/app/manifests/${t}`);
    }
    for (const d of digests) {
      await send('GET', `/v2/hard/app/blobs/${d}`);
      await send('DELETE', `/v2/hard/app/blobs/${d}`);
      await send('POST', `/v2/hard/app/blobs/uploads/?digest=${d}`, MARKER);
      await send('POST', `/v2/hard/app/blobs/uploads/?mount=${d}&from=hard/app`);
      await send('GET', `/v2/hard/app/manifests/${d}`);
      await send('GET', `/v2/hard/app/referrers/${d}`);
    }
    const ecr: Array<[string, unknown]> = [];
    for (const t of traversals) {
      ecr.push(['InitiateLayerUpload', { repositoryName: t }], ['UploadLayerPart', { repositoryName: 'hard/app', uploadId: t, partFirstByte: 0, partLastByte: MARKER.length - 1, layerPartBlob: Buffer.from(MARKER).toString('base64') }]);
      ecr.push(['CompleteLayerUpload', { repositoryName: 'hard/app', uploadId: t, layerDigests: [`sha256:${'0'.repeat(64)}`] }]);
    }
    for (const d of digests) {
      ecr.push(['GetDownloadUrlForLayer', { repositoryName: 'hard/app', layerDigest: d }], ['BatchCheckLayerAvailability', { repositoryName: 'hard/app', layerDigests: [d] }]);
      ecr.push(['BatchGetImage', { repositoryName: 'hard/app', imageIds: [{ imageDigest: d }] }], ['BatchDeleteImage', { repositoryName: 'hard/app', imageIds: [{ imageDigest: d }] }]);
    }
    for (const [op, input] of ecr) {
      const r = await ecrCall(s, op, input);
      assert.ok(r.status < 500, `${op} ${JSON.stringify(input)} → ${r.status}`);
      // Batch operations answer 200 with per-item failures; nothing else may succeed.
      if (r.status === 200) assert.ok(/^Batch/.test(op) && (r.json.failures?.length ?? 0) > 0, `${op} ${JSON.stringify(input)} → ${JSON.stringify(r.json)}`);
    }
    const afterTree = await fileTree(sandbox, (rel) => rel.includes('metadata.sqlite'));
    assert.deepEqual([...afterTree.entries()].filter(([k, v]) => before.get(k) !== v), [], 'no file was created or changed');
    for (const [rel] of afterTree) assert.ok(rel.startsWith('data/') || rel === 'config.yaml', rel);
    // The marker bytes were never written anywhere (not even inside the data directory).
    const { spawnSync } = await import('node:child_process');
    const grep = spawnSync('grep', ['-rl', MARKER, sandbox], { encoding: 'utf8' });
    assert.equal(grep.status, 1, `marker found in: ${grep.stdout}`);
  });

  it('registry tokens and temporary credentials work (and are remembered for the log check)', async () => {
    const token = await ecrCall(s, 'GetAuthorizationToken', {});
    assert.equal(token.status, 200);
    const authorizationToken: string = token.json.authorizationData[0].authorizationToken;
    secrets.push(authorizationToken, Buffer.from(authorizationToken, 'base64').toString().slice('AWS:'.length));
    const pull = await rawHttp(s, { method: 'GET', path: '/v2/hard/app/tags/list', headers: { authorization: `Basic ${authorizationToken}` } });
    assert.equal(pull.status, 200);
    const form = 'Action=GetSessionToken&Version=2011-06-15&DurationSeconds=900';
    const sts = (await rawHttp(s, { method: 'POST', path: '/', headers: await stsHeaders(form), body: form })).body.toString();
    const field = (n: string) => new RegExp(`<${n}>([^<]+)</${n}>`).exec(sts)?.[1] ?? assert.fail(sts);
    const session = { accessKeyId: field('AccessKeyId'), secretAccessKey: field('SecretAccessKey'), sessionToken: field('SessionToken') };
    secrets.push(session.secretAccessKey, session.sessionToken);
    const listed = await ecrCall(s, 'DescribeRepositories', {}, session);
    assert.equal(listed.status, 200, JSON.stringify(listed.json));
  });

  it('failed authentications are rate-limited per address: 429 TOOMANYREQUESTS (/v2/), ThrottlingException (ECR), Throttling (STS)', async () => {
    const wrong = { accessKeyId: s.credentials!.accessKeyId, secretAccessKey: `${s.credentials!.secretAccessKey.slice(0, -4)}XXXX` };
    secrets.push(wrong.secretAccessKey);
    const bad = basicAuth(s.credentials!.accessKeyId, wrong.secretAccessKey);
    secrets.push(bad.slice('Basic '.length));
    // Anonymous requests are not failures (docker's first probe of every push).
    for (let i = 0; i < 10; i++) assert.equal((await rawHttp(s, { method: 'GET', path: '/v2/hard/app/tags/list' })).status, 401);
    // burst: 5 failures allowed (a mix of /v2/ Basic and SigV4).
    for (let i = 0; i < 3; i++) assert.equal((await rawHttp(s, { method: 'GET', path: '/v2/hard/app/tags/list', headers: { authorization: bad } })).status, 401);
    for (let i = 0; i < 2; i++) assert.equal((await ecrCall(s, 'DescribeRepositories', {}, wrong)).json.__type, 'InvalidSignatureException');
    const v2 = await rawHttp(s, { method: 'GET', path: '/v2/hard/app/tags/list', headers: { authorization: bad } });
    assert.equal(v2.status, 429);
    assert.equal(JSON.parse(v2.body.toString()).errors[0].code, 'TOOMANYREQUESTS');
    assert.ok(Number(v2.headers['retry-after']) >= 1);
    // Once throttled, even the right credentials wait (the check comes before any credential is tried).
    const good = await rawHttp(s, { method: 'GET', path: '/v2/hard/app/tags/list', headers: { authorization: s.authorization! } });
    assert.equal(good.status, 429);
    const api = await ecrCall(s, 'DescribeRepositories', {});
    assert.equal(api.status, 429);
    assert.equal(api.json.__type, 'ThrottlingException');
    const form = 'Action=GetSessionToken&Version=2011-06-15';
    const sts = await rawHttp(s, { method: 'POST', path: '/', headers: await stsHeaders(form), body: form });
    assert.equal(sts.status, 429);
    assert.match(sts.body.toString(), /<Code>Throttling<\/Code>/);
    // Anonymous requests still get the ordinary challenge.
    assert.equal((await rawHttp(s, { method: 'GET', path: '/v2/hard/app/tags/list' })).status, 401);
  });

  it('plain HTTP on loopback is quiet; on any other address the server warns at startup', async () => {
    const warning = (logs: Array<Record<string, unknown>>) => logs.some((l) => l.level === 40 && String(l.msg).startsWith('serving plain HTTP on a non-loopback address'));
    assert.equal(warning(s.logs), false);
    // Bound on every interface for a moment; nothing connects to it (no traffic leaves loopback).
    const wide = await startCargohold({ listen: '0.0.0.0:0', env: { CARGOHOLD_LOG_LEVEL: 'warn' } });
    try {
      for (let i = 0; i < 50 && !warning(wide.logs); i++) await new Promise((res) => setTimeout(res, 100));
      assert.equal(warning(wide.logs), true);
    } finally {
      await wide.stop();
    }
  });

  it('no log line holds a secret, token or credential used in this file', async () => {
    const logs = JSON.stringify(s.logs);
    assert.ok(s.logs.length > 50, 'the server logged requests');
    for (const secret of secrets) assert.ok(!logs.includes(secret), `a log line contains a secret (${secret.slice(0, 4)}…)`);
    assert.ok(!/Basic [A-Za-z0-9+/=]{8,}/.test(logs), 'a log line contains a Basic credential');
    assert.ok(!/Signature=[0-9a-f]{64}/.test(logs), 'a log line contains a SigV4 signature');
  });
});
