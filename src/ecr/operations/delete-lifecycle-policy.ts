import type { EcrOperation } from '../context.ts';
import { epochSeconds, ownRegistry, repositoryName } from '../repository-shapes.ts';
import { createValidator } from '../validate.ts';

/** DeleteLifecyclePolicy: removes the policy and returns it; LifecyclePolicyNotFoundException when none. */
const deleteLifecyclePolicy: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  const registryId = ownRegistry(v, ctx, name);
  await ctx.authorize('DeleteLifecyclePolicy', name);
  const p = await ctx.lifecycle.deletePolicy(name);
  return { registryId, repositoryName: name, lifecyclePolicyText: p.policyText, ...(p.lastEvaluatedAt ? { lastEvaluatedAt: epochSeconds(p.lastEvaluatedAt) } : {}) };
};

export default deleteLifecyclePolicy;
