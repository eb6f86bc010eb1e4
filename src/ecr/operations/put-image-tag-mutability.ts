import type { EcrOperation } from '../context.ts';
import { filtersOutput, ownRegistry, repositoryName, tagMutabilityInput } from '../repository-shapes.ts';
import { createValidator } from '../validate.ts';

/** PutImageTagMutability: switches the mode (and exclusion filters) any time; existing images are unaffected. */
const putImageTagMutability: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  const registryId = ownRegistry(v, ctx, name);
  const { mode, filters } = tagMutabilityInput(v, { required: true });
  await ctx.authorize('PutImageTagMutability', name);
  const { settings } = await ctx.registry.repositories.putTagMutability(name, mode!, filters);
  return { registryId, repositoryName: name, imageTagMutability: settings.imageTagMutability, ...filtersOutput(settings) };
};

export default putImageTagMutability;
