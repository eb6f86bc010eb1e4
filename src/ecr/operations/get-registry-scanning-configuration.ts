import type { EcrOperation } from '../context.ts';

/** GetRegistryScanningConfiguration: the registry's scan type and rules (BASIC with no rules until one is put). */
const getRegistryScanningConfiguration: EcrOperation = async (_input, ctx) => {
  await ctx.authorize('GetRegistryScanningConfiguration');
  return { registryId: ctx.accountId, scanningConfiguration: await ctx.scans.registryConfiguration() };
};

export default getRegistryScanningConfiguration;
