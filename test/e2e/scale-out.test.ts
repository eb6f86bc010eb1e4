// Scale-out mode end to end: `cargohold migrate` and `serve` over PostgreSQL + S3 (Ceph RGW), then two nodes
// sharing both behind a round-robin proxy, so consecutive requests of one push land on different nodes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { GetAuthorizationTokenCommand, PutLifecyclePolicyCommand } from '@aws-sdk/client-ecr';
import { stringify } from 'yaml';
import { configSchema } from '../../src/config/schema.ts';
import { createPostgresMetadata } from '../../src/metadata/dialects/postgres.ts';
import { ecrClient } from '../helpers/auth.ts';
import { assertAvailable, hasDocker, skipUnless, startDockerd } from '../helpers/dockerd.ts';
import { hasBusybox, importBusyboxImage } from '../helpers/images.ts';
import { freshDatabase, skipUnlessPostgres, stopTestPostgres, testPostgres } from '../helpers/postgres.ts';
import { freshBucket, skipUnlessS3, stopTestS3, testS3 } from '../helpers/s3.ts';
import { basicAuth, startCargohold, type RunningServer } from '../helpers/server.ts';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const skip = skipUnlessPostgres() || skipUnlessS3();
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** An HTTP proxy that sends request i to upstream i mod n (no stickiness), and records where each went. */
async function roundRobin(upstreams: () => string[]): Promise<{ url: string; hits: number[]; close(): Promise<void> }> {
  let next = 0;
  const hits: number[] = [];
  const server: Server = createServer((req, res) => {
    const targets = upstreams();
    const i = next++ % targets.length;
    hits.push(i);
    const target = new URL(targets[i]);
    const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end(); });
    req.pipe(up);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, hits, close: () => new Promise((done) => server.close(() => done())) };
}

describe('scale-out: PostgreSQL + S3', { skip, timeout: 10 * 60_000 }, () => {
  let configFile: string;
  let dir: string;
  let a: RunningServer | undefined;
  let b: RunningServer | undefined;
  let dropDb: (() => Promise<void>) | undefined;
  let dbUrl = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cargohold-scale-'));
    const db = await freshDatabase(await testPostgres());
    dropDb = db.drop;
    dbUrl = db.url;
    const s3 = await testS3();
    const { bucket, client } = await freshBucket(s3);
    client.destroy();
    configFile = join(dir, 'cargohold.yaml');
    await writeFile(configFile, stringify({
      // Background work every second on both nodes (lifecycle case below).
      jobs: { pollIntervalMs: 100 },
      lifecycle: { intervalSeconds: 1 },
      database: { driver: 'postgres', url: db.url },
      storage: { driver: 's3', s3: { bucket, endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, prefix: 'registry' } },
    }));
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await dropDb?.();
    await rm(dir, { recursive: true, force: true });
    await stopTestPostgres();
    await stopTestS3();
  });

  const cli = (args: string[]) => run(process.execPath, [join(ROOT, 'bin/cargohold.js'), ...args, '--config', configFile], { cwd: ROOT, env: { ...process.env, CARGOHOLD_LOG_LEVEL: 'warn' } });

  it('serve refuses an unmigrated shared database; cargohold migrate applies the schema once', async () => {
    await assert.rejects(startCargohold({ env: { CARGOHOLD_CONFIG: configFile, CARGOHOLD_LOG_LEVEL: 'warn' } }), /cargohold migrate/);
    const status = await cli(['migrate', '--status']);
    assert.match(status.stdout, /schema behind/);
    const applied = await cli(['migrate']);
    assert.match(applied.stdout, /applied 1, 2, .*schema current/);
    assert.match((await cli(['migrate'])).stdout, /schema current/);
  });

  it('two nodes share one registry: a chunked push alternates nodes request by request, pulls from both', async () => {
    a = await startCargohold({ env: { CARGOHOLD_CONFIG: configFile, CARGOHOLD_LOG_LEVEL: 'warn' } });
    // Node keys (token, session, secret box, pagination, download links) must be the same on every node.
    const bDir = join(dir, 'node-b');
    await cp(join(a.dataDir, 'keys'), join(bDir, 'keys'), { recursive: true });
    b = await startCargohold({ dataDir: bDir, env: { CARGOHOLD_CONFIG: configFile, CARGOHOLD_LOG_LEVEL: 'warn' } });
    const proxy = await roundRobin(() => [a!.url, b!.url]);
    try {
      const auth = { authorization: a.authorization! };
      const layer = randomBytes(7 * 1024 * 1024 + 17); // more than one S3 part, in three chunks
      const layerDigest = sha256(layer);
      let res = await fetch(`${proxy.url}/v2/team/app/blobs/uploads/`, { method: 'POST', headers: auth });
      assert.equal(res.status, 202);
      let location = res.headers.get('location')!;
      const cuts = [0, 3_000_000, 6_000_000, layer.length];
      for (let i = 0; i < 3; i++) {
        const chunk = layer.subarray(cuts[i], cuts[i + 1]);
        res = await fetch(new URL(location, proxy.url), {
          method: 'PATCH', body: chunk,
          headers: { ...auth, 'Content-Type': 'application/octet-stream', 'Content-Range': `${cuts[i]}-${cuts[i + 1] - 1}`, 'Content-Length': String(chunk.length) },
        });
        assert.equal(res.status, 202, await res.text());
        location = res.headers.get('location')!;
      }
      const put = new URL(location, proxy.url);
      put.searchParams.set('digest', layerDigest);
      res = await fetch(put, { method: 'PUT', headers: auth });
      assert.equal(res.status, 201, await res.text());

      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layerDigest] } }));
      res = await fetch(`${proxy.url}/v2/team/app/blobs/uploads/?digest=${sha256(config)}`, { method: 'POST', body: config, headers: { ...auth, 'Content-Type': 'application/octet-stream' } });
      assert.equal(res.status, 201);
      const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
      }));
      res = await fetch(`${proxy.url}/v2/team/app/manifests/v1`, { method: 'PUT', body: manifest, headers: { ...auth, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
      assert.equal(res.status, 201, await res.text());
      // The push used both nodes, strictly alternating.
      assert.ok(proxy.hits.includes(0) && proxy.hits.includes(1));
      assert.ok(proxy.hits.every((h, i) => i === 0 || h !== proxy.hits[i - 1]));

      for (const node of [a, b]) {
        const m = await fetch(`${node.url}/v2/team/app/manifests/v1`, { headers: { ...auth, accept: 'application/vnd.oci.image.manifest.v1+json' } });
        assert.equal(m.status, 200);
        assert.equal(m.headers.get('docker-content-digest'), sha256(manifest));
        const blob = Buffer.from(await (await fetch(`${node.url}/v2/team/app/blobs/${layerDigest}`, { headers: auth })).arrayBuffer());
        assert.equal(sha256(blob), layerDigest);
        const part = await fetch(`${node.url}/v2/team/app/blobs/${layerDigest}`, { headers: { ...auth, range: 'bytes=5242878-5242881' } });
        assert.equal(part.status, 206);
        assert.ok(Buffer.from(await part.arrayBuffer()).equals(layer.subarray(5242878, 5242882)));
      }
    } finally {
      await proxy.close();
    }
  });

  it('a registry token issued by one node is accepted by the other', async () => {
    const out = await ecrClient(a!).send(new GetAuthorizationTokenCommand({}));
    const password = Buffer.from(out.authorizationData![0]!.authorizationToken!, 'base64').toString().slice(4);
    const res = await fetch(`${b!.url}/v2/team/app/tags/list`, { headers: { authorization: basicAuth('AWS', password) } });
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as { tags: string[] }).tags, ['v1']);
  });

  it('with storage.s3.redirect (and no encryption layer) blob GETs answer 307 to a presigned S3 URL', async () => {
    // Its own database and bucket: encryption at rest must never have been used there.
    const db = await freshDatabase(await testPostgres());
    const s3 = await testS3();
    const { bucket, client } = await freshBucket(s3);
    client.destroy();
    const file = join(dir, 'redirect.yaml');
    await writeFile(file, stringify({
      // Encryption at rest would put ciphertext in the bucket (and hide presign); off for this registry.
      ...('encryption' in configSchema.shape ? { encryption: { enabled: false } } : {}),
      database: { driver: 'postgres', url: db.url, migrateOnStart: true },
      storage: { driver: 's3', s3: { bucket, endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, redirect: { enabled: true, expiresSeconds: 120 } } },
    }));
    const node = await startCargohold({ env: { CARGOHOLD_CONFIG: file, CARGOHOLD_LOG_LEVEL: 'warn' } });
    try {
      const auth = { authorization: node.authorization! };
      const blob = randomBytes(4096);
      const res = await fetch(`${node.url}/v2/direct/app/blobs/uploads/?digest=${sha256(blob)}`, { method: 'POST', body: blob, headers: { ...auth, 'Content-Type': 'application/octet-stream' } });
      assert.equal(res.status, 201);
      const head = await fetch(`${node.url}/v2/direct/app/blobs/${sha256(blob)}`, { method: 'HEAD', headers: auth });
      assert.equal(head.status, 200);
      const get = await fetch(`${node.url}/v2/direct/app/blobs/${sha256(blob)}`, { headers: auth, redirect: 'manual' });
      assert.equal(get.status, 307);
      const location = get.headers.get('location')!;
      assert.ok(location.startsWith(`${s3.endpoint}/${bucket}/blobs/sha256/`), location);
      const direct = await fetch(location);
      assert.equal(direct.status, 200);
      assert.ok(Buffer.from(await direct.arrayBuffer()).equals(blob));
      // Access is still checked first: another repository does not get a URL for the blob.
      const other = await fetch(`${node.url}/v2/direct/other/blobs/${sha256(blob)}`, { headers: auth, redirect: 'manual' });
      assert.equal(other.status, 404);
    } finally {
      await node.stop();
      await db.drop();
    }
  });

  it('concurrent pushes of one tag through both nodes end with exactly one consistent winner', async () => {
    const auth = { authorization: a!.authorization! };
    const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    const res = await fetch(`${a!.url}/v2/team/race/blobs/uploads/?digest=${sha256(config)}`, { method: 'POST', body: config, headers: { ...auth, 'Content-Type': 'application/octet-stream' } });
    assert.equal(res.status, 201);
    const manifests = Array.from({ length: 6 }, (_, i) => Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [], annotations: { attempt: String(i) },
    })));
    const results = await Promise.all(manifests.map((m, i) => fetch(`${(i % 2 ? b! : a!).url}/v2/team/race/manifests/latest`, {
      method: 'PUT', body: m, headers: { ...auth, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
    }).then((r) => r.status)));
    assert.deepEqual(results, manifests.map(() => 201));
    const seen = await Promise.all([a!, b!].map(async (node) => (await fetch(`${node.url}/v2/team/race/manifests/latest`, { method: 'HEAD', headers: { ...auth, accept: 'application/vnd.oci.image.manifest.v1+json' } })).headers.get('docker-content-digest')));
    assert.equal(seen[0], seen[1], 'both nodes agree on the tag');
    assert.ok(manifests.map(sha256).includes(seen[0]!));
    const tags = (await (await fetch(`${b!.url}/v2/team/race/tags/list`, { headers: auth })).json()) as { tags: string[] };
    assert.deepEqual(tags.tags, ['latest']);
  });

  it('lifecycle expiry running on both nodes expires each image once', async () => {
    const auth = { authorization: a!.authorization! };
    const repo = 'team/life';
    const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    const res = await fetch(`${a!.url}/v2/${repo}/blobs/uploads/?digest=${sha256(config)}`, { method: 'POST', body: config, headers: { ...auth, 'Content-Type': 'application/octet-stream' } });
    assert.equal(res.status, 201);
    const digests: string[] = [];
    for (let i = 0; i < 5; i++) {
      const m = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
        layers: [], annotations: { n: String(i) },
      }));
      const put = await fetch(`${(i % 2 ? b! : a!).url}/v2/${repo}/manifests/t${i}`, { method: 'PUT', body: m, headers: { ...auth, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
      assert.equal(put.status, 201);
      digests.push(sha256(m));
      await new Promise((r) => setTimeout(r, 5)); // distinct push times
    }
    const policy = { rules: [{ rulePriority: 1, description: 'keep one', selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }] };
    await ecrClient(a!).send(new PutLifecyclePolicyCommand({ repositoryName: repo, lifecyclePolicyText: JSON.stringify(policy) }));
    // Both nodes run the sweep every second; wait (bounded) until the expiry happened.
    let tags: string[] = [];
    for (let i = 0; i < 120; i++) {
      tags = ((await (await fetch(`${b!.url}/v2/${repo}/tags/list`, { headers: auth })).json()) as { tags: string[] }).tags;
      if (tags.length === 1) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(tags, ['t4'], 'the newest image stays');
    const meta = await createPostgresMetadata({ url: dbUrl });
    try {
      const events = await meta.lifecycle.events({ limit: 100, repositoryName: repo });
      assert.deepEqual(events.map((e) => e.digest).sort(), digests.slice(0, 4).sort(), 'each expired image recorded exactly once');
    } finally {
      await meta.close();
    }
  });

  it('docker pushes and pulls a multi-layer image through the round-robin proxy', { skip: skipUnless(hasDocker()) || skipUnless(hasBusybox()), timeout: 300_000 }, async () => {
    assertAvailable(hasDocker());
    assertAvailable(hasBusybox());
    const proxy = await roundRobin(() => [a!.url, b!.url]);
    const dockerd = await startDockerd();
    try {
      const host = proxy.url.slice('http://'.length);
      await importBusyboxImage(dockerd, 'cargohold-test/busybox:1');
      const nonce = randomBytes(6).toString('hex');
      const ctx = join(dir, 'docker-context');
      await mkdir(ctx, { recursive: true });
      await writeFile(join(ctx, 'Dockerfile'), [
        'FROM cargohold-test/busybox:1',
        `RUN echo 'first ${nonce}' > /first.txt`,
        `RUN echo 'second ${nonce}' > /second.txt`,
        'CMD ["/bin/cat", "/first.txt", "/second.txt"]',
        '',
      ].join('\n'));
      const image = `${host}/scale/app:v1`;
      await dockerd.docker(['build', '--network', 'none', '-t', image, ctx], { timeoutMs: 170_000 });
      await dockerd.docker(['login', '--username', a!.credentials!.accessKeyId, '--password-stdin', host], { input: a!.credentials!.secretAccessKey });
      const push = await dockerd.docker(['push', image], { timeoutMs: 120_000 });
      assert.equal((push.stdout.match(/: Pushed$/gm) ?? []).length, 3, push.stdout);
      const pushed = /v1: digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)?.[1];
      assert.ok(pushed, push.stdout);
      assert.ok(proxy.hits.filter((h) => h === 0).length > 3 && proxy.hits.filter((h) => h === 1).length > 3, 'requests went to both nodes');
      await dockerd.docker(['rmi', image, 'cargohold-test/busybox:1']);
      await dockerd.docker(['image', 'prune', '--all', '--force']);
      const pull = await dockerd.docker(['pull', image], { timeoutMs: 120_000 });
      assert.match(pull.stdout, new RegExp(`Digest: ${pushed}`));
      const out = await dockerd.docker(['run', '--rm', '--network', 'none', image], { timeoutMs: 80_000 });
      assert.equal(out.stdout, `first ${nonce}\nsecond ${nonce}\n`);
    } finally {
      await dockerd.stop();
      await proxy.close();
    }
  });

  it('a node killed mid-chunk: the client resumes through the other node from the size the session kept', async () => {
    const auth = { authorization: a!.authorization! };
    const layer = randomBytes(9 * 1024 * 1024);
    let res = await fetch(`${a!.url}/v2/team/resume/blobs/uploads/`, { method: 'POST', headers: auth });
    assert.equal(res.status, 202);
    const location = res.headers.get('location')!;
    const first = layer.subarray(0, 6 * 1024 * 1024);
    res = await fetch(new URL(location, a!.url), { method: 'PATCH', body: first, headers: { ...auth, 'Content-Type': 'application/octet-stream', 'Content-Range': `0-${first.length - 1}` } });
    assert.equal(res.status, 202);
    // Second chunk to node a, which dies after receiving part of it.
    const dying = new Promise<void>((done) => {
      const req = request(new URL(location, a!.url), { method: 'PATCH', headers: { ...auth, 'Content-Type': 'application/octet-stream', 'Transfer-Encoding': 'chunked' } });
      req.on('error', () => done());
      req.on('response', (r) => { r.resume(); done(); });
      req.write(layer.subarray(first.length, first.length + 1024 * 1024), () => {
        setTimeout(() => { a!.process.kill('SIGKILL'); }, 200);
      });
    });
    await dying;
    // The client asks node b where to resume: the interrupted chunk was not kept.
    res = await fetch(new URL(location, b!.url), { headers: auth });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('range'), `0-${first.length - 1}`);
    const rest = layer.subarray(first.length);
    res = await fetch(new URL(location, b!.url), { method: 'PATCH', body: rest, headers: { ...auth, 'Content-Type': 'application/octet-stream', 'Content-Range': `${first.length}-${layer.length - 1}` } });
    assert.equal(res.status, 202, await res.text());
    const put = new URL(res.headers.get('location')!, b!.url);
    put.searchParams.set('digest', sha256(layer));
    res = await fetch(put, { method: 'PUT', headers: auth });
    assert.equal(res.status, 201, await res.text());
    const pulled = Buffer.from(await (await fetch(`${b!.url}/v2/team/resume/blobs/${sha256(layer)}`, { headers: auth })).arrayBuffer());
    assert.equal(sha256(pulled), sha256(layer));
  });
});
