import type { EcrOperation } from '../context.ts';

/** DeleteRegistryPolicy: removes the policy and returns the text it had; RegistryPolicyNotFoundException when none. */
const deleteRegistryPolicy: EcrOperation = async (_input, ctx) => {
  await ctx.authorize('DeleteRegistryPolicy');
  const policyText = await ctx.registry.repositories.deleteRegistryPolicy();
  return { registryId: ctx.accountId, policyText };
};

export default deleteRegistryPolicy;
