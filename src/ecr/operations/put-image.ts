import type { EcrOperation } from '../context.ts';
import { invalidParameter } from '../errors.ts';
import { ecrImageError } from '../image-shapes.ts';
import { ownRegistry, repositoryName } from '../repository-shapes.ts';
import { createValidator, Rules } from '../validate.ts';
import { parseBoundedJson } from '../../core/json.ts';

/**
 * PutImage ≡ the /v2/ manifest PUT (registry.images.put): digest of the exact bytes, imageDigest checked,
 * every referenced blob and child manifest must be in the repository, tag immutability, and — unlike the
 * /v2/ PUT — the same digest and tag again is ImageAlreadyExistsException.
 */
const putImage: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  const registryId = ownRegistry(v, ctx, name);
  const manifest = v.string('imageManifest', { required: true, min: 1, max: 4_194_304 });
  const mediaType = v.string('imageManifestMediaType');
  const tag = v.string('imageTag', Rules.imageTag);
  const digest = v.string('imageDigest');
  if (digest !== undefined && !Rules.imageDigest.pattern.test(digest)) {
    throw invalidParameter('imageDigest', `image digest should satisfy the regex '${Rules.imageDigest.patternText}'`);
  }
  // ECR takes the media type from imageManifestMediaType or the manifest's own mediaType, never from its shape.
  let json: unknown;
  try {
    json = parseBoundedJson(manifest);
  } catch {
    throw invalidParameter('ImageManifest', 'Invalid JSON syntax');
  }
  const bodyType = json && typeof json === 'object' ? (json as { mediaType?: unknown }).mediaType : undefined;
  if (mediaType === undefined && typeof bodyType !== 'string') throw invalidParameter('ImageManifest', 'Invalid JSON syntax');
  await ctx.authorize('PutImage', name);
  const body = Buffer.from(manifest, 'utf8');
  try {
    const r = await ctx.registry.images.put(name, { body, api: 'ecr', ...(mediaType !== undefined ? { mediaType } : {}), ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) });
    return {
      image: {
        registryId,
        repositoryName: name,
        imageId: { imageDigest: r.digest, ...(tag !== undefined ? { imageTag: tag } : {}) },
        imageManifest: manifest,
        imageManifestMediaType: r.mediaType,
      },
    };
  } catch (e) {
    ecrImageError(e, ctx, name, registryId);
  }
};

export default putImage;
