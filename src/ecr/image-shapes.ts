import { isRegistryError } from '../core/errors.ts';
import type { TagStatusFilter } from '../metadata/types.ts';
import type { ImageFailure, ImageId, ImageWithTags } from '../registry/images.ts';
import type { EcrContext } from './context.ts';
import { EcrError, invalidParameter } from './errors.ts';
import { epochSeconds } from './repository-shapes.ts';
import { checkString, Rules, type Validator } from './validate.ts';

/**
 * Input rules, output shapes and error wording shared by the image and layer operations (PutImage,
 * BatchGetImage, DescribeImages, ListImages, BatchDeleteImage, the layer calls, ListImageReferrers).
 */

export const TAG_STATUS_VALUES: readonly TagStatusFilter[] = ['TAGGED', 'UNTAGGED', 'ANY'];
export const IMAGE_STATUS_VALUES = ['ACTIVE', 'ARCHIVED', 'ACTIVATING', 'ANY'] as const;
export type ImageStatusFilter = (typeof IMAGE_STATUS_VALUES)[number];

/** ECR's `LayerDigest` pattern (anchored). */
export const LAYER_DIGEST_RULES = Rules.imageDigest;

/** `ImageIdentifier {imageDigest, imageTag}` — both optional here; what is missing is a per-id failure. */
export function imageIdInput(value: unknown, where: string, fail?: (field: string, reason: string) => never): ImageId {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new EcrError('SerializationException', `Value for '${where}' must be a structure`);
  const o = value as Record<string, unknown>;
  const id: ImageId = {};
  if (o.imageDigest !== undefined && o.imageDigest !== null) id.digest = checkString(o.imageDigest, `${where}.imageDigest`, {}, fail);
  if (o.imageTag !== undefined && o.imageTag !== null) id.tag = checkString(o.imageTag, `${where}.imageTag`, Rules.imageTag, fail);
  return id;
}

/** `imageIds` (1–100 ImageIdentifier). */
export function imageIdsInput(v: Validator, options: { required: true }): ImageId[];
export function imageIdsInput(v: Validator, options?: { required?: boolean }): ImageId[] | undefined;
export function imageIdsInput(v: Validator, options: { required?: boolean } = {}): ImageId[] | undefined {
  const rules = { min: 1, max: 100 };
  return options.required
    ? v.list('imageIds', (x, where) => imageIdInput(x, where, v.fail), { ...rules, required: true })
    : v.list('imageIds', (x, where) => imageIdInput(x, where, v.fail), rules);
}

/** `filter {tagStatus, imageStatus}` of DescribeImages / ListImages (defaults ANY / ACTIVE). */
export function imageFilterInput(v: Validator): { tagStatus: TagStatusFilter; imageStatus: ImageStatusFilter } {
  const raw = v.object('filter');
  if (!raw) return { tagStatus: 'ANY', imageStatus: 'ACTIVE' };
  const f = nestedEnum(raw, 'filter', v);
  return {
    tagStatus: f('tagStatus', TAG_STATUS_VALUES) ?? 'ANY',
    imageStatus: f('imageStatus', IMAGE_STATUS_VALUES) ?? 'ACTIVE',
  };
}

function nestedEnum(raw: Record<string, unknown>, prefix: string, v: Validator) {
  return <T extends string>(member: string, values: readonly T[]): T | undefined => {
    const value = raw[member];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || !values.includes(value as T)) v.fail(`${prefix}.${member}`, `Member must satisfy enum value set: [${values.join(', ')}]`);
    return value as T;
  };
}

/** Every image cargohold holds is ACTIVE (no archive storage class): other status filters match nothing. */
export function statusMatches(filter: ImageStatusFilter): boolean {
  return filter === 'ACTIVE' || filter === 'ANY';
}

/** `ImageIdentifier` output: members present only when known. */
export function imageIdOutput(id: ImageId): Record<string, string> {
  return { ...(id.digest !== undefined ? { imageDigest: id.digest } : {}), ...(id.tag !== undefined ? { imageTag: id.tag } : {}) };
}

/** `ImageFailure {imageId, failureCode, failureReason}`. */
export function failureOutput(f: ImageFailure): Record<string, unknown> {
  return { imageId: imageIdOutput(f.id), failureCode: f.code, failureReason: f.reason };
}

/** ECR's `ImageDetail` (absent members omitted; imageTags only when tagged). */
export function imageDetailOutput(image: ImageWithTags, name: string, ctx: EcrContext): Record<string, unknown> {
  return {
    registryId: ctx.accountId,
    repositoryName: name,
    imageDigest: image.digest,
    ...(image.tags.length ? { imageTags: image.tags } : {}),
    imageSizeInBytes: image.imageSize ?? 0,
    imagePushedAt: epochSeconds(image.pushedAt),
    imageManifestMediaType: image.mediaType,
    ...(image.artifactType ? { artifactMediaType: image.artifactType } : {}),
    ...(image.lastPulledAt ? { lastRecordedPullTime: epochSeconds(image.lastPulledAt) } : {}),
    ...(image.subjectDigest ? { subjectManifestDigest: image.subjectDigest } : {}),
    imageStatus: 'ACTIVE',
  };
}

/** `{imageDigest:'…', imageTag:'…'}` as ECR prints an image id in messages (null for a missing member). */
export function imageIdText(id: ImageId): string {
  return `{imageDigest:'${id.digest ?? 'null'}', imageTag:'${id.tag ?? 'null'}'}`;
}

export function imageNotFound(id: ImageId, name: string, registryId: string): EcrError {
  return new EcrError('ImageNotFoundException', `The image with imageId ${imageIdText(id)} does not exist within the repository with name '${name}' in the registry with id '${registryId}'`);
}

/** Extra members of InvalidLayerPartException. */
export interface LayerPartContext {
  uploadId: string;
}

/**
 * Rewords a registry failure for the ECR API (the exception name comes from the catalogue; ECR's messages
 * name the registry id and use its own phrasing). Anything else is rethrown unchanged for the router.
 */
export function ecrImageError(e: unknown, ctx: EcrContext, name: string, registryId: string, part?: LayerPartContext): never {
  if (!isRegistryError(e)) throw e;
  const detail = (e.detail ?? {}) as Record<string, unknown>;
  const at = `in the registry with id '${registryId}'`;
  switch (e.kind) {
    case 'MANIFEST_BLOB_UNKNOWN': {
      const missing = (detail.missing as string[] | undefined) ?? [String(detail.digest)];
      throw new EcrError('LayersNotFoundException', `Layers with digests '[${missing.join(', ')}]' required for pushing image into repository with name '${name}' in registry with id '${registryId}' do not exist`);
    }
    case 'BLOB_UNKNOWN':
      throw new EcrError('LayersNotFoundException', `The layer with digest ${String(detail.digest)} does not exist within the repository with name '${name}' ${at}`);
    case 'LAYER_INACCESSIBLE':
      throw new EcrError('LayerInaccessibleException', `The layer with digest ${String(detail.digest)} in the repository with name '${name}' ${at} is not referenced by any image`);
    case 'REFERENCED_IMAGES_NOT_FOUND':
      throw new EcrError('ReferencedImagesNotFoundException', `The manifest list is referencing an image that does not exist. Missing images: [${((detail.missing as string[]) ?? []).join(', ')}]`);
    case 'MANIFEST_DIGEST_MISMATCH':
      throw new EcrError('ImageDigestDoesNotMatchException', `The image with digest '${String(detail.expected)}' in repository '${name}' and registry ID '${registryId}' does not match the image digest that Amazon ECR has calculated.`);
    case 'IMAGE_ALREADY_EXISTS':
      throw new EcrError('ImageAlreadyExistsException', `Image with digest '${String(detail.digest)}' and tag '${detail.tag ?? 'null'}' already exists in the repository with name '${name}' in registry with id '${registryId}'`);
    case 'MANIFEST_INVALID':
    case 'MANIFEST_TOO_LARGE':
    case 'DIGEST_INVALID':
    case 'UNSUPPORTED':
      if (part) throw new EcrError('InvalidLayerException', `The layer digest calculated for the upload with id '${part.uploadId}' does not match the layer digest provided`);
      throw invalidParameter('ImageManifest', e.message);
    case 'TAG_INVALID':
      throw invalidParameter('imageTag', e.message);
    case 'BLOB_UPLOAD_UNKNOWN':
      throw new EcrError('UploadNotFoundException', `The upload with id '${part?.uploadId ?? ''}' does not exist within the repository with name '${name}' ${at}`);
    case 'RANGE_INVALID':
    case 'SIZE_INVALID': {
      const size = typeof detail.size === 'number' ? detail.size : 0;
      throw new EcrError('InvalidLayerPartException', `The layer part is invalid: ${e.message}. The last valid byte received was ${size - 1}.`, {
        registryId,
        repositoryName: name,
        uploadId: part?.uploadId,
        lastValidByteReceived: size - 1,
      });
    }
    case 'EMPTY_UPLOAD':
      throw new EcrError('EmptyUploadException', `The upload with id '${part?.uploadId ?? ''}' in the repository with name '${name}' ${at} does not contain any layer parts`);
    case 'LAYER_ALREADY_EXISTS':
      throw new EcrError('LayerAlreadyExistsException', `The layer with digest ${String(detail.digest)} already exists in the repository with name '${name}' ${at}`);
    default:
      throw e;
  }
}
