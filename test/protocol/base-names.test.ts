/**
 * Protocol: the `/v2/` base endpoint, the API version header, and the name / tag / digest grammar.
 *
 * Names (spec): `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`, under 256 characters.
 * Choice for invalid names: routes that write (manifest PUT, upload POST) must answer 400 NAME_INVALID —
 * a 404 would tell a pushing client the repository is merely missing, although pushing creates it.
 * Read routes may answer 400 NAME_INVALID or 404 NAME_UNKNOWN (Distribution's router answers 404 for a
 * name its grammar does not match); either way with a JSON error body.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EMPTY_BLOB_DIGEST, expectError, expectStatus, makeImage, MT, randomBlob, sha256, uniqueRepo, type OciClient } from '../helpers/oci-client.ts';
import { distTodo, startTarget, type Target } from './target.ts';

let t: Target;
let c: OciClient;

before(async () => {
  t = await startTarget();
  c = t.client;
});
after(async () => {
  await t?.stop();
});

const API_HEADER = 'docker-distribution-api-version';

describe('base /v2/', () => {
  it('GET /v2/ answers 200 with Docker-Distribution-API-Version: registry/2.0', async () => {
    const res = await c.get('/v2/');
    expectStatus(res, 200);
    assert.equal(res.header(API_HEADER), 'registry/2.0');
  });

  it('HEAD /v2/ answers 200 with the API version header', async () => {
    const res = await c.head('/v2/');
    expectStatus(res, 200);
    assert.equal(res.header(API_HEADER), 'registry/2.0');
  });

  it('every response carries Docker-Distribution-API-Version: registry/2.0 (successes and errors alike)', distTodo('a 416 on a blob range drops the connection'), async () => {
    const repo = uniqueRepo('apiver');
    const img = makeImage();
    await c.pushImage(repo, img, 'v1');
    const blob = img.layers[0];
    const session = await c.openSession(repo);
    const missing = sha256(randomBlob(16));
    const requests: Array<[string, string, Record<string, string>?, Buffer?]> = [
      ['GET', '/v2/'],
      ['GET', `/v2/${repo}/manifests/v1`],
      ['HEAD', `/v2/${repo}/manifests/${img.digest}`],
      ['GET', `/v2/${repo}/manifests/nope`],
      ['HEAD', `/v2/${repo}/manifests/nope`],
      ['GET', `/v2/${repo}/blobs/${blob.digest}`],
      ['HEAD', `/v2/${repo}/blobs/${blob.digest}`],
      ['GET', `/v2/${repo}/blobs/${blob.digest}`, { Range: 'bytes=0-3' }],
      ['GET', `/v2/${repo}/blobs/${blob.digest}`, { Range: `bytes=${blob.size + 10}-` }],
      ['GET', `/v2/${repo}/blobs/${missing}`],
      ['GET', `/v2/${repo}/blobs/sha256:abc`],
      ['POST', `/v2/${repo}/blobs/uploads/`],
      ['GET', session],
      ['PATCH', session, { 'Content-Type': 'application/octet-stream' }, Buffer.from('abc')],
      ['PUT', session, {}, undefined],
      ['GET', `/v2/${repo}/tags/list`],
      ['GET', `/v2/${uniqueRepo('nosuch')}/tags/list`],
      ['GET', '/v2/_catalog'],
      ['GET', `/v2/${repo}/referrers/${img.digest}`],
      ['PUT', `/v2/${repo}/manifests/bad`, { 'Content-Type': MT.ociManifest }, Buffer.from('{not json')],
      ['GET', '/v2/Invalid_Name/tags/list'],
      ['GET', `/v2/${repo}/no-such-endpoint`],
      ['POST', `/v2/${repo}/manifests/v1`],
      ['DELETE', `/v2/${repo}/blobs/uploads/not-a-session`],
    ];
    const problems: string[] = [];
    for (const [method, path, headers, body] of requests) {
      try {
        const res = await c.request(method, path, { headers, body });
        if (res.status >= 500) problems.push(`${res.what} answered ${res.status}`);
        if (res.header(API_HEADER) !== 'registry/2.0') problems.push(`${res.what} -> ${res.status} without the header (${res.header(API_HEADER)})`);
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
    assert.deepEqual(problems, [], 'responses without Docker-Distribution-API-Version: registry/2.0');
  });
});

describe('repository names', () => {
  it('nested names (dev/team/app) work for push, pull, blobs and tags', async () => {
    const repo = `${uniqueRepo('dev')}/team/app`;
    const img = makeImage();
    await c.pushImage(repo, img, 'latest');
    const m = await c.getManifest(repo, 'latest');
    expectStatus(m, 200);
    assert.deepEqual(m.body, img.bytes);
    const b = await c.getBlob(repo, img.layers[0].digest);
    expectStatus(b, 200);
    assert.deepEqual(b.body, img.layers[0].data);
    const tags = await c.get(`/v2/${repo}/tags/list`);
    expectStatus(tags, 200);
    assert.deepEqual(tags.json(), { name: repo, tags: ['latest'] });
  });

  it('names using every separator kind (., _, __, -, --) are accepted', async () => {
    const repo = `${uniqueRepo('sep')}/a.b_c__d--e-f/x0`;
    const img = makeImage();
    await c.pushImage(repo, img, 'v1');
    expectStatus(await c.getManifest(repo, 'v1'), 200);
  });

  it('names whose components look like route keywords (blobs, uploads, manifests, tags, list, referrers) route correctly', async () => {
    const repo = `${uniqueRepo('kw')}/blobs/uploads/manifests/tags/list/referrers`;
    const img = makeImage();
    await c.pushImage(repo, img, 'latest');
    const m = await c.getManifest(repo, 'latest');
    expectStatus(m, 200);
    assert.deepEqual(m.body, img.bytes);
    const b = await c.getBlob(repo, img.config.digest);
    expectStatus(b, 200);
    assert.deepEqual(b.body, img.config.data);
    const tags = await c.get(`/v2/${repo}/tags/list`);
    expectStatus(tags, 200);
    assert.deepEqual(tags.json(), { name: repo, tags: ['latest'] });
  });

  it('a 255-character name is accepted', distTodo('answers 500 UNKNOWN'), async () => {
    const prefix = `${uniqueRepo('long')}/`;
    const repo = prefix + 'a'.repeat(255 - prefix.length);
    assert.equal(repo.length, 255);
    const res = await c.startUpload(repo);
    expectStatus(res, 202);
  });

  const invalidNames: Array<[string, string]> = [
    ['upper-case', 'Upper/app'],
    ['upper-case component', 'team/App'],
    ['leading dash', '-app'],
    ['leading underscore', '_app'],
    ['leading dot', '.app'],
    ['trailing dash', 'app-'],
    ['trailing dot', 'app.'],
    ['trailing underscore', 'team/app_'],
    ['empty component (a//b)', 'a//b'],
    ['three underscores', 'a___b'],
    ['double dot', 'a..b'],
    ['256 characters', 'a'.repeat(256)],
    ['300 characters in components', Array.from({ length: 30 }, () => 'abcdefghi').join('/')],
  ];

  for (const [label, name] of invalidNames) {
    it(`invalid name (${label}): write routes answer 400 NAME_INVALID`, distTodo('answers 404 text, 301 or 500 for names outside its grammar'), async () => {
      const img = makeImage();
      expectError(await c.putManifest(name, 'v1', img.bytes, img.mediaType), 400, ['NAME_INVALID']);
      expectError(await c.startUpload(name), 400, ['NAME_INVALID']);
    });

    it(`invalid name (${label}): read routes answer 400 NAME_INVALID or 404 NAME_UNKNOWN with a JSON error`, distTodo('answers 404 text, 301 or 500 for names outside its grammar'), async () => {
      const digest = sha256(randomBlob(8));
      for (const path of [`/v2/${name}/manifests/v1`, `/v2/${name}/blobs/${digest}`, `/v2/${name}/tags/list`, `/v2/${name}/referrers/${digest}`]) {
        const res = await c.get(path);
        const [e] = expectError(res, [400, 404], ['NAME_INVALID', 'NAME_UNKNOWN']);
        assert.equal(e.code, res.status === 400 ? 'NAME_INVALID' : 'NAME_UNKNOWN', `${res.what}: status and code disagree`);
      }
    });
  }
});

describe('tags grammar', () => {
  it('a 128-character tag is accepted', async () => {
    const repo = uniqueRepo('tag128');
    const img = makeImage();
    const tag = `T${'a_.-9'.repeat(26)}z`.slice(0, 128);
    assert.equal(tag.length, 128);
    await c.pushImage(repo, img, tag);
    const res = await c.getManifest(repo, tag);
    expectStatus(res, 200);
    assert.equal(res.header('docker-content-digest'), img.digest);
  });

  for (const [label, tag] of [
    ['129 characters', 'a'.repeat(129)],
    ['leading dot', '.hidden'],
    ['leading dash', '-dash'],
  ] as const) {
    it(`PUT manifest under an invalid tag (${label}) answers 400 TAG_INVALID or MANIFEST_INVALID`, distTodo('its router answers 404 text for references outside its grammar'), async () => {
      const repo = uniqueRepo('badtag');
      const img = makeImage();
      await c.pushImage(repo, img);
      expectError(await c.putManifest(repo, tag, img.bytes, img.mediaType), 400, ['TAG_INVALID', 'MANIFEST_INVALID']);
      const list = await c.get(`/v2/${repo}/tags/list`);
      if (list.status === 200) assert.ok(!(list.json().tags ?? []).includes(tag), 'invalid tag must not be listed');
    });
  }
});

describe('digest grammar', () => {
  const hex = sha256('x').slice('sha256:'.length);
  const invalidDigests: Array<[string, string]> = [
    ['hex too short', 'sha256:abc123'],
    ['hex too long', `sha256:${hex}00`],
    ['sha512 with 64 hex', `sha512:${hex}`],
    ['upper-case hex', `sha256:${hex.toUpperCase()}`],
    ['non-hex characters', `sha256:${'g'.repeat(64)}`],
    ['unknown algorithm md5', `md5:${hex.slice(0, 32)}`],
    ['unknown algorithm sha1', `sha1:${hex.slice(0, 40)}`],
    ['missing algorithm', `:${hex}`],
  ];

  for (const [label, digest] of invalidDigests) {
    it(`invalid digest (${label}) answers 400 DIGEST_INVALID on blob, upload and manifest routes`, distTodo('ignores ?digest= on POST and routes some malformed digests to a text 404'), async () => {
      const repo = uniqueRepo('baddigest');
      await c.pushImage(repo, makeImage(), 'v1');
      expectError(await c.getBlob(repo, digest), 400, ['DIGEST_INVALID']);
      const head = await c.headBlob(repo, digest);
      expectStatus(head, 400);
      expectError(await c.delete(`/v2/${repo}/blobs/${digest}`), 400, ['DIGEST_INVALID']);
      // Completing an upload with a malformed digest.
      const loc = await c.openSession(repo);
      expectError(await c.completeUpload(loc, digest, Buffer.from('data')), 400, ['DIGEST_INVALID']);
      // Single-request monolithic upload with a malformed digest.
      expectError(await c.startUpload(repo, { query: { digest }, body: Buffer.from('data'), headers: { 'Content-Type': 'application/octet-stream' } }), 400, ['DIGEST_INVALID']);
      // A reference containing ':' is not a tag, so it is judged as a digest.
      expectError(await c.getManifest(repo, digest), 400, ['DIGEST_INVALID']);
      expectError(await c.delete(`/v2/${repo}/manifests/${digest}`), 400, ['DIGEST_INVALID']);
    });
  }

  it('the zero-length blob digest is a valid digest (404 BLOB_UNKNOWN when absent, not 400)', async () => {
    const repo = uniqueRepo('emptyd');
    await c.pushImage(repo, makeImage(), 'v1');
    expectError(await c.getBlob(repo, EMPTY_BLOB_DIGEST), 404, ['BLOB_UNKNOWN']);
  });
});
