import type { EcrOperation } from '../context.ts';
import { PREFIX_RULES, templateOutput } from '../repository-shapes.ts';
import { createValidator } from '../validate.ts';

/** DeleteRepositoryCreationTemplate: returns the deleted template; TemplateNotFoundException when absent. */
const deleteRepositoryCreationTemplate: EcrOperation = async (input, ctx) => {
  const v = createValidator(input, 'Validation');
  const prefix = v.string('prefix', { ...PREFIX_RULES, required: true });
  await ctx.authorize('DeleteRepositoryCreationTemplate');
  const deleted = await ctx.registry.repositories.deleteTemplate(prefix);
  return { registryId: ctx.accountId, repositoryCreationTemplate: templateOutput(deleted) };
};

export default deleteRepositoryCreationTemplate;
