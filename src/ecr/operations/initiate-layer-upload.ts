import type { EcrOperation } from '../context.ts';
import { ecrImageError } from '../image-shapes.ts';
import { ownRegistry, repositoryName } from '../repository-shapes.ts';
import { createValidator } from '../validate.ts';
import { LAYER_PART_SIZE } from '../../registry/images.ts';

/**
 * InitiateLayerUpload ≡ the /v2/ POST …/blobs/uploads/: the same upload session (a UUID) that
 * UploadLayerPart appends to and CompleteLayerUpload commits. The repository must exist.
 */
const initiateLayerUpload: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  const registryId = ownRegistry(v, ctx, name);
  await ctx.authorize('InitiateLayerUpload', name);
  try {
    await ctx.registry.getRepository(name);
    const up = await ctx.registry.startUpload(name);
    return { uploadId: up.id, partSize: LAYER_PART_SIZE };
  } catch (e) {
    ecrImageError(e, ctx, name, registryId);
  }
};

export default initiateLayerUpload;
