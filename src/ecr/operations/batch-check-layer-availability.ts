import type { EcrOperation } from '../context.ts';
import { ecrImageError } from '../image-shapes.ts';
import { ownRegistry, repositoryName } from '../repository-shapes.ts';
import { checkString, createValidator } from '../validate.ts';

/**
 * BatchCheckLayerAvailability ≡ the /v2/ blob HEAD, for up to 100 digests: blobs the repository holds are
 * AVAILABLE with their size (and media type when a manifest names one); others are failures —
 * InvalidLayerDigest for a malformed digest, MissingLayerDigest for one the repository does not hold.
 */
const batchCheckLayerAvailability: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  const registryId = ownRegistry(v, ctx, name);
  const digests = v.list('layerDigests', (x, where) => checkString(x, where, { min: 0, max: 1000 }, v.fail), { required: true, min: 1, max: 100 });
  await ctx.authorize('BatchCheckLayerAvailability', name);
  try {
    const r = await ctx.registry.images.layerAvailability(name, digests);
    const layers: Record<string, unknown>[] = [];
    const failures: Record<string, unknown>[] = [];
    for (const l of r) {
      if (l.status === 'present') layers.push({ layerDigest: l.digest, layerAvailability: 'AVAILABLE', layerSize: l.size, ...(l.mediaType ? { mediaType: l.mediaType } : {}) });
      else if (l.status === 'invalid') failures.push({ layerDigest: l.digest, failureCode: 'InvalidLayerDigest', failureReason: 'Invalid layer digest' });
      else failures.push({ layerDigest: l.digest, failureCode: 'MissingLayerDigest', failureReason: 'Could not find layer' });
    }
    return { layers, failures };
  } catch (e) {
    ecrImageError(e, ctx, name, registryId);
  }
};

export default batchCheckLayerAvailability;
