import type { EcrOperation } from '../context.ts';
import { nested, ownRegistry, repositoryName } from '../repository-shapes.ts';
import { createValidator } from '../validate.ts';

/** PutImageScanningConfiguration: the repository's (legacy) scan-on-push flag. */
const putImageScanningConfiguration: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  const registryId = ownRegistry(v, ctx, name);
  const config = v.object('imageScanningConfiguration', { required: true });
  const scanOnPush = nested(config, 'imageScanningConfiguration').boolean('imageScanningConfiguration.scanOnPush') ?? false;
  await ctx.authorize('PutImageScanningConfiguration', name);
  const { settings } = await ctx.registry.repositories.putScanOnPush(name, scanOnPush);
  return { registryId, repositoryName: name, imageScanningConfiguration: { scanOnPush: settings.scanOnPush } };
};

export default putImageScanningConfiguration;
