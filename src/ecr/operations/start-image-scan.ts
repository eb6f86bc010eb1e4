import type { EcrOperation } from '../context.ts';
import { EcrError } from '../errors.ts';
import { imageIdOutput } from '../image-shapes.ts';
import { ownRegistry, repositoryName } from '../repository-shapes.ts';
import { resolveImage, scanImageIdInput, scanStatusOutput } from '../scan-shapes.ts';
import { createValidator } from '../validate.ts';
import { isRegistryError } from '../../core/errors.ts';

/**
 * StartImageScan: queues a scan of one image (a durable job) and answers IN_PROGRESS. Like ECR, once per image
 * per 24 hours (LimitExceededException) and only for container images (UnsupportedImageTypeException).
 */
const startImageScan: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  const registryId = ownRegistry(v, ctx, name);
  const id = scanImageIdInput(v);
  await ctx.authorize('StartImageScan', name);
  const { manifest, id: resolved } = await resolveImage(ctx, name, registryId, id);
  const repo = await ctx.registry.getRepository(name);
  try {
    const scan = await ctx.scans.start(repo, manifest);
    return { registryId, repositoryName: name, imageId: imageIdOutput(resolved), imageScanStatus: scanStatusOutput(scan) };
  } catch (e) {
    if (isRegistryError(e) && e.kind === 'LIMIT_EXCEEDED') throw new EcrError('LimitExceededException', 'The scan quota per image has been exceeded. Wait and try again.');
    if (isRegistryError(e) && e.kind === 'UNSUPPORTED') throw new EcrError('UnsupportedImageTypeException', 'The image is of a type that cannot be scanned.');
    throw e;
  }
};

export default startImageScan;
