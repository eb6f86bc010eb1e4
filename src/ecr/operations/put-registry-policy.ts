import type { EcrOperation } from '../context.ts';
import { createValidator } from '../validate.ts';

/**
 * PutRegistryPolicy: replaces the registry policy. With the default REGISTRY_POLICY_SCOPE (V1) only
 * ecr:ReplicateImage, ecr:BatchImportUpstreamImage and ecr:CreateRepository may appear; V2 allows any ECR action.
 */
const putRegistryPolicy: EcrOperation = async (input, ctx) => {
  const v = createValidator(input, 'Validation');
  const policyText = v.string('policyText', { required: true, min: 0, max: 10_240 });
  await ctx.authorize('PutRegistryPolicy');
  await ctx.registry.repositories.setRegistryPolicy(policyText);
  return { registryId: ctx.accountId, policyText };
};

export default putRegistryPolicy;
