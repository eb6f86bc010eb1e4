import type { EcrOperation } from '../context.ts';
import { Rules, checkString, createValidator } from '../validate.ts';

/**
 * GetAuthorizationToken: a registry token for `docker login -u AWS` (base64 of `AWS:<token>`, valid 12 h),
 * scoped to the caller and this registry's account and region. Needs `ecr:GetAuthorizationToken` on `*`.
 * The deprecated `registryIds` yields one entry per id (all for this registry's endpoint).
 */
const getAuthorizationToken: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const registryIds = v.list('registryIds', (x, where) => checkString(x, where, Rules.registryId), { min: 1, max: 10 });
  await ctx.authorize('GetAuthorizationToken');
  const { authorizationToken, expiresAt } = ctx.access.issueRegistryToken(ctx.principal, ctx.clock.now());
  const entry = { authorizationToken, expiresAt: expiresAt.getTime() / 1000, proxyEndpoint: ctx.settings.proxyEndpoint };
  return { authorizationData: (registryIds ?? [ctx.accountId]).map(() => ({ ...entry })) };
};

export default getAuthorizationToken;
