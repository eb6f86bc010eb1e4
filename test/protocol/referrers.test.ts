/**
 * Protocol: the referrers API (`GET /v2/<name>/referrers/<digest>`, OCI Distribution Spec v1.1).
 *
 * Each descriptor carries the referrer's mediaType, digest, size, artifactType (for an image manifest
 * without one: its config mediaType; for an index without one: omitted) and all of its annotations.
 * Referrers are scoped to the repository.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  EMPTY_JSON,
  EMPTY_JSON_DIGEST,
  expectError,
  expectStatus,
  makeImage,
  makeIndex,
  MT,
  randomBlob,
  sha256,
  uniqueRepo,
  type Descriptor,
  type Image,
  type OciClient,
  type OciResponse,
} from '../helpers/oci-client.ts';
import { distTodo, startTarget, type Target } from './target.ts';

let t: Target;
let c: OciClient;

const SBOM = 'application/vnd.example.sbom.v1+json';
const SIG_CONFIG = 'application/vnd.example.signature.config.v1+json';
const BUNDLE = 'application/vnd.example.bundle.v1';

const repo = uniqueRepo('refs');
let subject: Image;
let expected: Descriptor[];
let sbom: Image;
let sig: Image;

before(async () => {
  t = await startTarget();
  c = t.client;
  subject = makeImage();
  await c.pushImage(repo, subject, 'v1');
  expectStatus(await c.completeUpload(await c.openSession(repo), EMPTY_JSON_DIGEST, EMPTY_JSON), 201);

  // 1. artifact manifest with artifactType
  sbom = makeImage({ emptyConfig: true, artifactType: SBOM, subject: subject.descriptor, annotations: { 'org.example.kind': 'sbom', 'org.opencontainers.image.created': '2024-05-01T10:00:00Z' } });
  await c.pushImage(repo, sbom);
  // 2. image manifest without artifactType: the descriptor's artifactType is its config mediaType
  sig = makeImage({ configMediaType: SIG_CONFIG, subject: subject.descriptor, annotations: { 'org.example.signer': 'alice' } });
  await c.pushImage(repo, sig);
  // 3. index with artifactType and subject
  const child = makeImage();
  await c.pushImage(repo, child);
  const bundle = makeIndex([child.descriptor], { artifactType: BUNDLE, subject: subject.descriptor, annotations: { 'org.example.bundle': 'yes' } });
  await c.pushIndex(repo, bundle);
  // 4. index without artifactType: artifactType omitted
  const plainIndex = makeIndex([child.descriptor], { subject: subject.descriptor });
  await c.pushIndex(repo, plainIndex, 'plain-index');

  expected = [
    { mediaType: MT.ociManifest, digest: sbom.digest, size: sbom.bytes.length, artifactType: SBOM, annotations: sbom.manifest.annotations as Record<string, string> },
    { mediaType: MT.ociManifest, digest: sig.digest, size: sig.bytes.length, artifactType: SIG_CONFIG, annotations: { 'org.example.signer': 'alice' } },
    { mediaType: MT.ociIndex, digest: bundle.digest, size: bundle.bytes.length, artifactType: BUNDLE, annotations: { 'org.example.bundle': 'yes' } },
    { mediaType: MT.ociIndex, digest: plainIndex.digest, size: plainIndex.bytes.length },
  ];

  // Noise that must not be listed: a manifest with another subject, and a referrer of the same subject in another repository.
  await c.pushImage(repo, makeImage({ emptyConfig: true, artifactType: SBOM, subject: child.descriptor }));
  const other = uniqueRepo('refs-other');
  await c.pushImage(other, subject, 'v1');
  await c.pushBlob(other, EMPTY_JSON);
  await c.pushImage(other, makeImage({ emptyConfig: true, artifactType: SBOM, subject: subject.descriptor }));
});
after(async () => {
  await t?.stop();
});

const NO_API = distTodo('no referrers API (404)');

function referrers(name: string, digest: string, query?: Record<string, string>): Promise<OciResponse> {
  return c.get(`/v2/${name}/referrers/${digest}`, { query });
}

function expectIndex(res: OciResponse): Descriptor[] {
  expectStatus(res, 200);
  assert.equal(res.header('content-type'), MT.ociIndex, `${res.what}: Content-Type`);
  const body = res.json();
  assert.equal(body.schemaVersion, 2);
  assert.equal(body.mediaType, MT.ociIndex);
  assert.ok(Array.isArray(body.manifests), 'manifests must be an array');
  return body.manifests as Descriptor[];
}

function normalize(ds: Descriptor[]): Array<Record<string, unknown>> {
  return ds
    .map((d) => {
      const out: Record<string, unknown> = { mediaType: d.mediaType, digest: d.digest, size: d.size };
      if (d.artifactType !== undefined) out.artifactType = d.artifactType;
      if (d.annotations !== undefined && Object.keys(d.annotations).length > 0) out.annotations = d.annotations;
      return out;
    })
    .sort((a, b) => String(a.digest).localeCompare(String(b.digest)));
}

describe('referrers', () => {
  it('lists every manifest and index whose subject is the digest, with mediaType, digest, size, artifactType and annotations', NO_API, async () => {
    const got = expectIndex(await referrers(repo, subject.digest));
    assert.deepEqual(normalize(got), normalize(expected));
  });

  it('an index referrer without artifactType has no artifactType in its descriptor', NO_API, async () => {
    const got = expectIndex(await referrers(repo, subject.digest));
    const plain = got.find((d) => d.digest === expected[3].digest);
    assert.ok(plain, 'plain index listed');
    assert.equal('artifactType' in plain, false);
  });

  it('an unknown digest answers 200 with an empty manifests list', NO_API, async () => {
    const got = expectIndex(await referrers(repo, sha256(randomBlob(16))));
    assert.deepEqual(got, []);
  });

  it('a manifest with no referrers answers 200 with an empty list', NO_API, async () => {
    const got = expectIndex(await referrers(repo, sbom.digest));
    assert.deepEqual(got, []);
  });

  it('referrers pushed before their subject are listed', NO_API, async () => {
    const name = uniqueRepo('refs-early');
    const ghost = makeImage();
    await c.pushBlob(name, EMPTY_JSON);
    const early = makeImage({ emptyConfig: true, artifactType: SBOM, subject: ghost.descriptor });
    await c.pushImage(name, early);
    const got = expectIndex(await referrers(name, ghost.digest));
    assert.deepEqual(got.map((d) => d.digest), [early.digest]);
  });

  it('?artifactType= filters the list and sets OCI-Filters-Applied: artifactType', NO_API, async () => {
    const res = await referrers(repo, subject.digest, { artifactType: SBOM });
    const got = expectIndex(res);
    assert.equal(res.header('oci-filters-applied'), 'artifactType');
    assert.deepEqual(normalize(got), normalize([expected[0]]));
  });

  it('?artifactType= matches the config-derived artifactType of an image manifest', NO_API, async () => {
    const res = await referrers(repo, subject.digest, { artifactType: SIG_CONFIG });
    assert.equal(res.header('oci-filters-applied'), 'artifactType');
    assert.deepEqual(expectIndex(res).map((d) => d.digest), [sig.digest]);
  });

  it('?artifactType= that matches nothing answers 200 with an empty list and the filter header', NO_API, async () => {
    const res = await referrers(repo, subject.digest, { artifactType: 'application/vnd.example.none' });
    assert.deepEqual(expectIndex(res), []);
    assert.equal(res.header('oci-filters-applied'), 'artifactType');
  });

  it('without a filter there is no OCI-Filters-Applied header', NO_API, async () => {
    const res = await referrers(repo, subject.digest);
    expectIndex(res);
    assert.equal(res.header('oci-filters-applied'), null);
  });

  it('an invalid digest answers 400 DIGEST_INVALID', NO_API, async () => {
    for (const bad of ['sha256:abc', `sha256:${'A'.repeat(64)}`, 'not-a-digest', `md5:${'a'.repeat(32)}`]) {
      expectError(await referrers(repo, bad), 400, ['DIGEST_INVALID']);
    }
  });

  it('a deleted referrer disappears from the list', NO_API, async () => {
    const name = uniqueRepo('refs-del');
    const subj = makeImage();
    await c.pushImage(name, subj, 'v1');
    await c.pushBlob(name, EMPTY_JSON);
    const a = makeImage({ emptyConfig: true, artifactType: SBOM, subject: subj.descriptor });
    const b = makeImage({ emptyConfig: true, artifactType: SBOM, subject: subj.descriptor });
    await c.pushImage(name, a);
    await c.pushImage(name, b);
    assert.deepEqual(expectIndex(await referrers(name, subj.digest)).map((d) => d.digest).sort(), [a.digest, b.digest].sort());
    expectStatus(await c.delete(`/v2/${name}/manifests/${a.digest}`), 202);
    assert.deepEqual(expectIndex(await referrers(name, subj.digest)).map((d) => d.digest), [b.digest]);
  });
});
