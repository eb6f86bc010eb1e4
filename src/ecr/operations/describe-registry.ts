import type { EcrOperation } from '../context.ts';

/** DescribeRegistry: this registry's id and its replication configuration (cargohold replicates nothing: no rules). */
const describeRegistry: EcrOperation = async (_input, ctx) => {
  await ctx.authorize('DescribeRegistry');
  return { registryId: ctx.accountId, replicationConfiguration: { rules: [] } };
};

export default describeRegistry;
