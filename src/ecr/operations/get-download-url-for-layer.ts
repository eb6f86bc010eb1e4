import type { EcrOperation } from '../context.ts';
import { ecrImageError, LAYER_DIGEST_RULES } from '../image-shapes.ts';
import { ownRegistry, repositoryName } from '../repository-shapes.ts';
import { createValidator } from '../validate.ts';

/**
 * GetDownloadUrlForLayer: a short-lived signed URL on cargohold itself (ECR's presigned S3 URL) for a blob
 * an image of the repository references. Unknown blob → LayersNotFoundException; held but referenced by
 * no image → LayerInaccessibleException.
 */
const getDownloadUrlForLayer: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  const registryId = ownRegistry(v, ctx, name);
  const digest = v.string('layerDigest', { ...LAYER_DIGEST_RULES, required: true });
  await ctx.authorize('GetDownloadUrlForLayer', name);
  try {
    const path = await ctx.registry.images.layerDownloadPath(name, digest);
    return { downloadUrl: `${ctx.settings.proxyEndpoint}${path}`, layerDigest: digest };
  } catch (e) {
    ecrImageError(e, ctx, name, registryId);
  }
};

export default getDownloadUrlForLayer;
