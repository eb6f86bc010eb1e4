import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRegistryError, type ErrorKind } from '../core/errors.ts';
import { MediaType } from '../core/media-types.ts';
import { parseManifest } from './manifest-parse.ts';

const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;
const D3 = `sha512:${'c'.repeat(128)}`;
const desc = (digest: string, mediaType = 'application/vnd.oci.image.layer.v1.tar+gzip', size = 10) => ({ mediaType, digest, size });
const buf = (v: unknown) => Buffer.from(JSON.stringify(v));

function fails(kind: ErrorKind, body: unknown, contentType?: string) {
  assert.throws(() => parseManifest(typeof body === 'string' ? Buffer.from(body) : buf(body), contentType), (e) => isRegistryError(e) && e.kind === kind && e.message.length > 0);
}

describe('parseManifest', () => {
  it('parses an OCI image manifest and its references', () => {
    const p = parseManifest(buf({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: desc(D1, MediaType.ociConfig), layers: [desc(D2), desc(D3)] }), MediaType.ociManifest);
    assert.equal(p.mediaType, MediaType.ociManifest);
    assert.deepEqual(p.references.map((r) => [r.digest, r.kind]), [[D1, 'blob'], [D2, 'blob'], [D3, 'blob']]);
    assert.equal(p.artifactType, MediaType.ociConfig);
    assert.equal(p.subject, null);
  });
  it('parses a Docker schema2 manifest by Content-Type', () => {
    const p = parseManifest(buf({ schemaVersion: 2, mediaType: MediaType.dockerManifest, config: desc(D1, MediaType.dockerConfig), layers: [desc(D2, 'application/vnd.docker.image.rootfs.diff.tar.gzip')] }), MediaType.dockerManifest);
    assert.equal(p.mediaType, MediaType.dockerManifest);
  });
  it('parses an index with child manifests', () => {
    const p = parseManifest(buf({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [desc(D1, MediaType.ociManifest), desc(D2, MediaType.dockerManifest)] }), MediaType.ociIndex);
    assert.deepEqual(p.references.map((r) => r.kind), ['manifest', 'manifest']);
  });
  it('infers the media type when neither header nor body says it', () => {
    assert.equal(parseManifest(buf({ schemaVersion: 2, manifests: [] }), undefined).mediaType, MediaType.ociIndex);
    assert.equal(parseManifest(buf({ schemaVersion: 2, config: desc(D1), layers: [] }), 'application/json').mediaType, MediaType.ociManifest);
  });
  it('records artifactType, subject and annotations', () => {
    const p = parseManifest(buf({ schemaVersion: 2, mediaType: MediaType.ociManifest, artifactType: 'application/vnd.example.sbom', config: desc(D1, MediaType.ociEmpty, 2), layers: [desc(D2)], subject: desc(D3, MediaType.ociManifest), annotations: { a: 'b' } }), MediaType.ociManifest);
    assert.equal(p.artifactType, 'application/vnd.example.sbom');
    assert.equal(p.subject, D3);
    assert.deepEqual(p.annotations, { a: 'b' });
  });
  it('does not require foreign layers to exist', () => {
    const p = parseManifest(buf({ schemaVersion: 2, mediaType: MediaType.dockerManifest, config: desc(D1), layers: [{ ...desc(D2, 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip'), urls: ['https://example.invalid/l'] }] }), MediaType.dockerManifest);
    assert.deepEqual(p.references.map((r) => r.digest), [D1]);
    assert.deepEqual(p.foreign.map((r) => r.digest), [D2]);
  });
  it('refuses invalid JSON', () => fails('MANIFEST_INVALID', '{"schemaVersion":', MediaType.ociManifest));
  it('refuses a non-object', () => fails('MANIFEST_INVALID', '[1,2]', MediaType.ociManifest));
  it('refuses schemaVersion 1', () => fails('MANIFEST_INVALID', { schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] }, MediaType.dockerManifestV1Signed));
  it('refuses schemaVersion 3', () => fails('MANIFEST_INVALID', { schemaVersion: 3, config: desc(D1), layers: [] }, MediaType.ociManifest));
  it('refuses a body mediaType that differs from Content-Type', () => fails('MANIFEST_INVALID', { schemaVersion: 2, mediaType: MediaType.dockerManifest, config: desc(D1), layers: [] }, MediaType.ociManifest));
  it('refuses an unknown media type', () => fails('MANIFEST_INVALID', { schemaVersion: 2, config: desc(D1), layers: [] }, 'application/vnd.example.thing'));
  it('refuses a manifest without config', () => fails('MANIFEST_INVALID', { schemaVersion: 2, layers: [] }, MediaType.ociManifest));
  it('refuses layers that are not an array', () => fails('MANIFEST_INVALID', { schemaVersion: 2, config: desc(D1), layers: {} }, MediaType.ociManifest));
  it('refuses an index without manifests', () => fails('MANIFEST_INVALID', { schemaVersion: 2 }, MediaType.ociIndex));
  it('refuses a bad descriptor digest', () => fails('DIGEST_INVALID', { schemaVersion: 2, config: desc('sha256:abc'), layers: [] }, MediaType.ociManifest));
  it('refuses a negative size', () => fails('MANIFEST_INVALID', { schemaVersion: 2, config: desc(D1, MediaType.ociConfig, -1), layers: [] }, MediaType.ociManifest));
  it('refuses a fractional size', () => fails('MANIFEST_INVALID', { schemaVersion: 2, config: desc(D1, MediaType.ociConfig, 1.5), layers: [] }, MediaType.ociManifest));
  it('refuses a bad descriptor media type', () => fails('MANIFEST_INVALID', { schemaVersion: 2, config: desc(D1, 'not a type'), layers: [] }, MediaType.ociManifest));
  it('refuses non-string annotations', () => fails('MANIFEST_INVALID', { schemaVersion: 2, config: desc(D1), layers: [], annotations: { a: 1 } }, MediaType.ociManifest));
  it('refuses a bad subject', () => fails('MANIFEST_INVALID', { schemaVersion: 2, config: desc(D1), layers: [], subject: 'x' }, MediaType.ociManifest));
});
