/**
 * Attaches an SBOM to an image as an OCI referrer artifact (OCI image spec 1.1): an image manifest with
 * `artifactType` application/vnd.cyclonedx+json, the empty config, the SBOM as its one layer and `subject`
 * the image manifest, so `GET /v2/<name>/referrers/<digest>` and ListImageReferrers find it.
 */
import { Readable } from 'node:stream';
import { sha256Digest } from '../../core/digest.ts';
import { MediaType } from '../../core/media-types.ts';
import type { ManifestRecord } from '../../metadata/types.ts';
import type { Registry } from '../../registry/registry.ts';

export const SBOM_MEDIA_TYPE = 'application/vnd.cyclonedx+json';
const EMPTY = Buffer.from('{}');

/** Pushes the SBOM and its artifact manifest into `repository`; returns the artifact's digest. */
export async function attachSbom(registry: Registry, repository: string, subject: ManifestRecord, sbom: Buffer, now: Date): Promise<string> {
  const sbomDigest = sha256Digest(sbom);
  await registry.putBlob(repository, sbomDigest, Readable.from([sbom]), sbom.length);
  await registry.putBlob(repository, sha256Digest(EMPTY), Readable.from([EMPTY]), EMPTY.length);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType: SBOM_MEDIA_TYPE,
    config: { mediaType: MediaType.ociEmpty, digest: sha256Digest(EMPTY), size: EMPTY.length },
    layers: [{ mediaType: SBOM_MEDIA_TYPE, digest: sbomDigest, size: sbom.length, annotations: { 'org.opencontainers.image.title': 'sbom.cdx.json' } }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: { 'org.opencontainers.image.created': now.toISOString(), 'dev.cargohold.sbom.format': 'CycloneDX 1.5' },
  }));
  const digest = sha256Digest(manifest);
  await registry.putManifest(repository, digest, MediaType.ociManifest, manifest);
  return digest;
}
