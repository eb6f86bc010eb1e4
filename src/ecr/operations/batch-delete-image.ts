import type { EcrOperation } from '../context.ts';
import { ecrImageError, failureOutput, imageIdsInput } from '../image-shapes.ts';
import { ownRegistry, repositoryName } from '../repository-shapes.ts';
import { createValidator } from '../validate.ts';

/**
 * BatchDeleteImage ≡ the /v2/ manifest DELETE: by digest the image and all its tags go; by tag only that
 * tag (the image goes with its last tag); both must agree. Per-id problems are `failures`; an image a
 * manifest list in the repository still lists is ImageReferencedByManifestList.
 */
const batchDeleteImage: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  const registryId = ownRegistry(v, ctx, name);
  const ids = imageIdsInput(v, { required: true });
  await ctx.authorize('BatchDeleteImage', name);
  try {
    const r = await ctx.registry.images.batchDelete(name, ids);
    return {
      imageIds: r.removed.map((i) => ({ imageDigest: i.digest, ...(i.tag !== undefined ? { imageTag: i.tag } : {}) })),
      failures: r.failures.map(failureOutput),
    };
  } catch (e) {
    ecrImageError(e, ctx, name, registryId);
  }
};

export default batchDeleteImage;
