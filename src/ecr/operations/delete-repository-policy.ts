import type { EcrOperation } from '../context.ts';
import { ownRegistry, repositoryName } from '../repository-shapes.ts';
import { createValidator } from '../validate.ts';

/** DeleteRepositoryPolicy: removes the policy and returns the text it had; RepositoryPolicyNotFoundException when none. */
const deleteRepositoryPolicy: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  const registryId = ownRegistry(v, ctx, name);
  await ctx.authorize('DeleteRepositoryPolicy', name);
  const policyText = await ctx.registry.repositories.deletePolicy(name);
  return { registryId, repositoryName: name, policyText };
};

export default deleteRepositoryPolicy;
