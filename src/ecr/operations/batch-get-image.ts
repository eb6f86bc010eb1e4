import type { EcrOperation } from '../context.ts';
import { ecrImageError, failureOutput, imageIdOutput, imageIdsInput } from '../image-shapes.ts';
import { ownRegistry, repositoryName } from '../repository-shapes.ts';
import { checkString, createValidator } from '../validate.ts';

/**
 * BatchGetImage ≡ the /v2/ manifest GET: the stored bytes unchanged for each id (by tag, digest or both),
 * misses in `failures` with ECR's codes. `acceptedMediaTypes` excludes a manifest whose type it does not
 * name (no conversion). Records a pull for every image returned.
 */
const batchGetImage: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  const registryId = ownRegistry(v, ctx, name);
  const ids = imageIdsInput(v, { required: true });
  const accepted = v.list('acceptedMediaTypes', (x, where) => checkString(x, where, {}, v.fail), { min: 1, max: 100 });
  await ctx.authorize('BatchGetImage', name);
  try {
    const r = await ctx.registry.images.batchGet(name, ids, accepted);
    return {
      images: r.images.map((i) => ({
        registryId,
        repositoryName: name,
        imageId: imageIdOutput(i.id),
        imageManifest: i.manifest.body.toString('utf8'),
        imageManifestMediaType: i.manifest.mediaType,
      })),
      failures: r.failures.map(failureOutput),
    };
  } catch (e) {
    ecrImageError(e, ctx, name, registryId);
  }
};

export default batchGetImage;
