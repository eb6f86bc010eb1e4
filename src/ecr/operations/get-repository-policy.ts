import type { EcrOperation } from '../context.ts';
import { ownRegistry, repositoryName } from '../repository-shapes.ts';
import { createValidator } from '../validate.ts';

/** GetRepositoryPolicy: the stored text; RepositoryPolicyNotFoundException when none is set. */
const getRepositoryPolicy: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  const registryId = ownRegistry(v, ctx, name);
  await ctx.authorize('GetRepositoryPolicy', name);
  const policyText = await ctx.registry.repositories.getPolicy(name);
  return { registryId, repositoryName: name, policyText };
};

export default getRepositoryPolicy;
