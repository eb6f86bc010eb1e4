import type { EcrOperation } from '../context.ts';
import { policyOutput } from '../lifecycle-shapes.ts';
import { ownRegistry, repositoryName } from '../repository-shapes.ts';
import { createValidator } from '../validate.ts';

/** GetLifecyclePolicy: the stored text and `lastEvaluatedAt` (once an expiry run evaluated it); LifecyclePolicyNotFoundException when none. */
const getLifecyclePolicy: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  const registryId = ownRegistry(v, ctx, name);
  await ctx.authorize('GetLifecyclePolicy', name);
  return policyOutput(registryId, name, await ctx.lifecycle.getPolicy(name));
};

export default getLifecyclePolicy;
