import type { EcrOperation } from '../context.ts';

/** GetRegistryPolicy: the stored text; RegistryPolicyNotFoundException when none is set. */
const getRegistryPolicy: EcrOperation = async (_input, ctx) => {
  await ctx.authorize('GetRegistryPolicy');
  const policyText = await ctx.registry.repositories.getRegistryPolicy();
  return { registryId: ctx.accountId, policyText };
};

export default getRegistryPolicy;
