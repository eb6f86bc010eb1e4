import type { EcrOperation } from '../context.ts';
import { templateInput, templateOutput } from '../repository-shapes.ts';

/** UpdateRepositoryCreationTemplate: changes the members given; the others keep their values. */
const updateRepositoryCreationTemplate: EcrOperation = async (input, ctx) => {
  const t = templateInput(input, { create: false });
  await ctx.authorize('UpdateRepositoryCreationTemplate');
  const updated = await ctx.registry.repositories.updateTemplate({
    prefix: t.prefix,
    ...(t.description !== undefined ? { description: t.description || null } : {}),
    ...(t.encryption ? { encryptionType: t.encryption.encryptionType, kmsKey: t.encryption.kmsKey } : {}),
    ...(t.resourceTags ? { resourceTags: t.resourceTags } : {}),
    ...(t.imageTagMutability ? { imageTagMutability: t.imageTagMutability, imageTagMutabilityExclusionFilters: t.imageTagMutabilityExclusionFilters ?? [] } : {}),
    ...(t.repositoryPolicy !== undefined ? { repositoryPolicy: t.repositoryPolicy || null } : {}),
    ...(t.lifecyclePolicy !== undefined ? { lifecyclePolicy: t.lifecyclePolicy || null } : {}),
    ...(t.appliedFor ? { appliedFor: t.appliedFor } : {}),
    ...(t.customRoleArn !== undefined ? { customRoleArn: t.customRoleArn || null } : {}),
  });
  return { registryId: ctx.accountId, repositoryCreationTemplate: templateOutput(updated) };
};

export default updateRepositoryCreationTemplate;
