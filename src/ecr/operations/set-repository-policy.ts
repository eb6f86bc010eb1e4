import type { EcrOperation } from '../context.ts';
import { ownRegistry, repositoryName } from '../repository-shapes.ts';
import { createValidator } from '../validate.ts';

/**
 * SetRepositoryPolicy: replaces the repository policy (a resource policy: Principal required, ECR actions
 * only, ≤ 10,240 characters). The text is stored and returned verbatim. `force` (skip ECR's lock-out check)
 * is accepted; cargohold has no lock-out check to skip.
 */
const setRepositoryPolicy: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  const registryId = ownRegistry(v, ctx, name);
  const policyText = v.string('policyText', { required: true, min: 0, max: 10_240 });
  v.boolean('force');
  await ctx.authorize('SetRepositoryPolicy', name);
  await ctx.registry.repositories.setPolicy(name, policyText);
  return { registryId, repositoryName: name, policyText };
};

export default setRepositoryPolicy;
