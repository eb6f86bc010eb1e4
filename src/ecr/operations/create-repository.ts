import type { EcrOperation } from '../context.ts';
import { invalidParameter } from '../errors.ts';
import { encryptionInput, nested, repositoryName, repositoryOutput, tagMutabilityInput, tagsInput } from '../repository-shapes.ts';
import { createValidator, Rules } from '../validate.ts';

/**
 * CreateRepository: a repository with tag mutability (+ exclusion filters), scan on push, encryption and
 * resource tags; ECR's defaults (MUTABLE, scanOnPush false, AES256) are returned even when not given.
 */
const createRepository: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  const registryId = v.string('registryId', Rules.registryId);
  if (registryId !== undefined && registryId !== ctx.accountId) throw invalidParameter('registryId', `Repositories can only be created in the caller's registry '${ctx.accountId}'`);
  const tags = tagsInput(v, 'tags', { max: 50 });
  const { mode, filters } = tagMutabilityInput(v, { required: false });
  const scanning = v.object('imageScanningConfiguration');
  const scanOnPush = scanning ? nested(scanning, 'imageScanningConfiguration').boolean('imageScanningConfiguration.scanOnPush') : undefined;
  const encryption = encryptionInput(v);
  await ctx.authorize('CreateRepository', name);
  const view = await ctx.registry.repositories.create({
    name,
    settings: {
      ...(mode ? { imageTagMutability: mode, imageTagMutabilityExclusionFilters: filters } : {}),
      ...(scanOnPush !== undefined ? { scanOnPush } : {}),
      ...(encryption ?? {}),
    },
    tags,
  });
  return { repository: repositoryOutput(view, ctx) };
};

export default createRepository;
