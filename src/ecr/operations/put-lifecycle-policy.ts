import type { EcrOperation } from '../context.ts';
import { lifecycleTextInput } from '../lifecycle-shapes.ts';
import { ownRegistry, repositoryName } from '../repository-shapes.ts';
import { createValidator } from '../validate.ts';

/**
 * PutLifecyclePolicy: validates the policy as ECR does (InvalidParameterException `Lifecycle policy validation
 * failure: …`) and stores it verbatim; the expiry job evaluates it on its schedule (docs/lifecycle.md).
 */
const putLifecyclePolicy: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  const registryId = ownRegistry(v, ctx, name);
  const text = lifecycleTextInput(v, true)!;
  await ctx.authorize('PutLifecyclePolicy', name);
  const { policyText } = await ctx.lifecycle.putPolicy(name, text);
  return { registryId, repositoryName: name, lifecyclePolicyText: policyText };
};

export default putLifecyclePolicy;
