import { isDigest, type Digest } from '../core/digest.ts';
import { RegistryError } from '../core/errors.ts';
import { MediaType, MANIFEST_MEDIA_TYPES, isIndexMediaType } from '../core/media-types.ts';
import type { ManifestReference } from '../metadata/types.ts';
import { parseBoundedJson } from '../core/json.ts';

/** What the registry needs to know about a manifest it accepts. */
export interface ParsedManifest {
  mediaType: string;
  /** Descriptors that must exist in the repository (blobs and child manifests). */
  references: ManifestReference[];
  /** References that are not checked (foreign layers with urls). */
  foreign: ManifestReference[];
  subject: Digest | null;
  artifactType: string | null;
  annotations: Record<string, string> | null;
}

const FOREIGN_LAYER_TYPES = new Set([
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
]);

const MEDIA_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

function invalid(message: string, detail?: unknown): never {
  throw new RegistryError('MANIFEST_INVALID', message, detail);
}

interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  artifactType?: string;
}

function parseDescriptor(value: unknown, where: string): Descriptor {
  if (!value || typeof value !== 'object' || Array.isArray(value)) invalid(`${where} must be a descriptor object`);
  const d = value as Record<string, unknown>;
  if (typeof d.mediaType !== 'string' || !MEDIA_TYPE_RE.test(d.mediaType)) invalid(`${where}.mediaType must be a valid media type`);
  if (typeof d.digest !== 'string') invalid(`${where}.digest is required`);
  if (!isDigest(d.digest)) throw new RegistryError('DIGEST_INVALID', `${where}.digest "${String(d.digest).slice(0, 150)}" is not a valid sha256/sha512 digest`, { digest: String(d.digest).slice(0, 150) });
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) invalid(`${where}.size must be a non-negative integer`);
  if (d.urls !== undefined && (!Array.isArray(d.urls) || d.urls.some((u) => typeof u !== 'string'))) invalid(`${where}.urls must be an array of strings`);
  if (d.annotations !== undefined) parseAnnotations(d.annotations, `${where}.annotations`);
  if (d.artifactType !== undefined && (typeof d.artifactType !== 'string' || !MEDIA_TYPE_RE.test(d.artifactType))) invalid(`${where}.artifactType must be a valid media type`);
  return { mediaType: d.mediaType, digest: d.digest, size: d.size, urls: d.urls as string[] | undefined };
}

function parseAnnotations(value: unknown, where: string): Record<string, string> | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) invalid(`${where} must be an object of strings`);
  for (const v of Object.values(value as object)) if (typeof v !== 'string') invalid(`${where} values must be strings`);
  return value as Record<string, string>;
}

/**
 * Validates a manifest body against its declared media type (the request's Content-Type, or the body's
 * `mediaType` when the Content-Type is not a manifest type) and extracts its references.
 */
export function parseManifest(body: Buffer, contentType: string | undefined): ParsedManifest {
  let json: unknown;
  try {
    json = parseBoundedJson(body.toString('utf8'));
  } catch (e) {
    invalid(`manifest is not valid JSON: ${(e as Error).message}`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) invalid('manifest must be a JSON object');
  const m = json as Record<string, unknown>;
  const declared = contentType?.split(';')[0].trim().toLowerCase();
  const bodyType = typeof m.mediaType === 'string' ? m.mediaType : undefined;
  if (m.mediaType !== undefined && typeof m.mediaType !== 'string') invalid('manifest mediaType must be a string');

  if (m.schemaVersion === 1 || declared === MediaType.dockerManifestV1Signed || declared === MediaType.dockerManifestV1) {
    throw new RegistryError('MANIFEST_INVALID', 'Docker schema1 manifests are not supported; push with a client that writes schema2 or OCI manifests', { mediaType: declared ?? bodyType });
  }
  if (m.schemaVersion !== 2) invalid(`manifest schemaVersion must be 2, got ${JSON.stringify(m.schemaVersion)?.slice(0, 50)}`);

  let mediaType: string;
  if (declared && MANIFEST_MEDIA_TYPES.has(declared)) {
    if (bodyType !== undefined && bodyType !== declared) invalid(`manifest mediaType "${bodyType}" does not match Content-Type "${declared}"`, { mediaType: bodyType, contentType: declared });
    mediaType = declared;
  } else if (bodyType !== undefined) {
    if (!MANIFEST_MEDIA_TYPES.has(bodyType)) throw new RegistryError('MANIFEST_INVALID', `unsupported manifest media type "${bodyType.slice(0, 150)}"`, { mediaType: bodyType.slice(0, 150) });
    mediaType = bodyType;
  } else if (declared && declared !== 'application/json' && declared !== 'application/octet-stream' && declared !== '') {
    throw new RegistryError('MANIFEST_INVALID', `unsupported manifest media type "${declared.slice(0, 150)}"`, { mediaType: declared.slice(0, 150) });
  } else if (Array.isArray(m.manifests)) {
    mediaType = MediaType.ociIndex;
  } else if (m.config !== undefined) {
    mediaType = MediaType.ociManifest;
  } else {
    invalid('cannot tell the manifest media type: set Content-Type or mediaType');
  }

  const annotations = parseAnnotations(m.annotations, 'annotations');
  let subject: Digest | null = null;
  if (m.subject !== undefined) subject = parseDescriptor(m.subject, 'subject').digest;
  let artifactType: string | null = null;
  if (m.artifactType !== undefined) {
    if (typeof m.artifactType !== 'string' || !MEDIA_TYPE_RE.test(m.artifactType)) invalid('artifactType must be a valid media type');
    artifactType = m.artifactType;
  }

  const references: ManifestReference[] = [];
  const foreign: ManifestReference[] = [];
  if (isIndexMediaType(mediaType)) {
    if (!Array.isArray(m.manifests)) invalid('an index must have a manifests array');
    m.manifests.forEach((v, i) => {
      const d = parseDescriptor(v, `manifests[${i}]`);
      references.push({ digest: d.digest, kind: 'manifest', size: d.size, mediaType: d.mediaType });
    });
  } else {
    if (m.config === undefined) invalid('an image manifest must have a config descriptor');
    const config = parseDescriptor(m.config, 'config');
    if (!Array.isArray(m.layers)) invalid('an image manifest must have a layers array');
    references.push({ digest: config.digest, kind: 'blob', size: config.size, mediaType: config.mediaType });
    m.layers.forEach((v, i) => {
      const d = parseDescriptor(v, `layers[${i}]`);
      const ref: ManifestReference = { digest: d.digest, kind: 'blob', size: d.size, mediaType: d.mediaType };
      if (d.urls && d.urls.length > 0 && FOREIGN_LAYER_TYPES.has(d.mediaType)) foreign.push(ref);
      else references.push(ref);
    });
    // Referrers API rule: an image manifest without artifactType reports its config media type.
    if (artifactType === null) artifactType = config.mediaType;
  }
  return { mediaType, references, foreign, subject, artifactType, annotations };
}
