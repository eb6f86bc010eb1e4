import type { EcrOperation } from '../context.ts';
import { policyOutput } from '../lifecycle-shapes.ts';
import { ownRegistry, repositoryName } from '../repository-shapes.ts';
import { createValidator } from '../validate.ts';

/** DeleteLifecyclePolicy: removes the policy and returns it; LifecyclePolicyNotFoundException when none. */
const deleteLifecyclePolicy: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  const registryId = ownRegistry(v, ctx, name);
  await ctx.authorize('DeleteLifecyclePolicy', name);
  return policyOutput(registryId, name, await ctx.lifecycle.deletePolicy(name));
};

export default deleteLifecyclePolicy;
