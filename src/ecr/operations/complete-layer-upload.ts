import type { EcrOperation } from '../context.ts';
import { ecrImageError, LAYER_DIGEST_RULES } from '../image-shapes.ts';
import { ownRegistry, repositoryName } from '../repository-shapes.ts';
import { checkString, createValidator, Rules } from '../validate.ts';

/**
 * CompleteLayerUpload ≡ the /v2/ closing PUT …?digest=: ECR's checks first (no parts → EmptyUpload, a
 * non-final part under 5 MiB → LayerPartTooSmall, a blob the repository already holds → LayerAlreadyExists),
 * then the shared completeUpload, which verifies the digest (mismatch → InvalidLayerException).
 */
const completeLayerUpload: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  const registryId = ownRegistry(v, ctx, name);
  const uploadId = v.string('uploadId', { ...Rules.uploadId, required: true });
  const digests = v.list('layerDigests', (x, where) => checkString(x, where, LAYER_DIGEST_RULES, v.fail), { required: true, min: 1, max: 100 });
  await ctx.authorize('CompleteLayerUpload', name);
  try {
    const r = await ctx.registry.images.completeLayerUpload(name, uploadId, digests[0]!);
    return { registryId, repositoryName: name, uploadId, layerDigest: r.digest };
  } catch (e) {
    ecrImageError(e, ctx, name, registryId, { uploadId });
  }
};

export default completeLayerUpload;
