import type { EcrOperation } from '../context.ts';
import { lifecycleTextInput } from '../lifecycle-shapes.ts';
import { ownRegistry, repositoryName } from '../repository-shapes.ts';
import { createValidator } from '../validate.ts';

/**
 * StartLifecyclePolicyPreview: previews `lifecyclePolicyText` (or the stored policy: LifecyclePolicyNotFoundException
 * when there is none) as a background job and answers IN_PROGRESS; a second start while one runs is
 * LifecyclePolicyPreviewInProgressException. The preview never changes the repository.
 */
const startLifecyclePolicyPreview: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  const registryId = ownRegistry(v, ctx, name);
  const text = lifecycleTextInput(v, false);
  await ctx.authorize('StartLifecyclePolicyPreview', name);
  const r = await ctx.lifecycle.startPreview(name, text);
  return { registryId, repositoryName: name, lifecyclePolicyText: r.policyText, status: r.status };
};

export default startLifecyclePolicyPreview;
