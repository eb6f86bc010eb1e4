import type { EcrOperation } from '../context.ts';
import { templateInput, templateOutput } from '../repository-shapes.ts';

/**
 * CreateRepositoryCreationTemplate: settings applied to repositories created for a prefix (`ROOT`: every
 * name). CREATE_ON_PUSH templates are applied when a push reaches a repository that does not exist.
 */
const createRepositoryCreationTemplate: EcrOperation = async (input, ctx) => {
  const t = templateInput(input, { create: true });
  await ctx.authorize('CreateRepositoryCreationTemplate');
  const created = await ctx.registry.repositories.createTemplate({
    prefix: t.prefix,
    description: t.description || null,
    encryptionType: t.encryption?.encryptionType ?? 'AES256',
    kmsKey: t.encryption?.kmsKey ?? null,
    resourceTags: t.resourceTags ?? [],
    imageTagMutability: t.imageTagMutability ?? 'MUTABLE',
    imageTagMutabilityExclusionFilters: t.imageTagMutabilityExclusionFilters ?? [],
    repositoryPolicy: t.repositoryPolicy || null,
    lifecyclePolicy: t.lifecyclePolicy || null,
    appliedFor: t.appliedFor!,
    customRoleArn: t.customRoleArn || null,
  });
  return { registryId: ctx.accountId, repositoryCreationTemplate: templateOutput(created) };
};

export default createRepositoryCreationTemplate;
