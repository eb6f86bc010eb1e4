import type { EcrOperation } from '../context.ts';
import { repositoryFromArn, tagsInput } from '../repository-shapes.ts';
import { createValidator } from '../validate.ts';

/**
 * TagResource: merges tags into a repository's tags (keys not mentioned stay). Only repository ARNs of this
 * registry; more than 50 tags afterwards → TooManyTagsException and nothing changes.
 */
const tagResource: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const arn = v.string('resourceArn', { required: true, min: 1 });
  const tags = tagsInput(v, 'tags', { required: true, max: 50 })!;
  const name = repositoryFromArn(arn, ctx);
  await ctx.authorize('TagResource', name);
  await ctx.registry.repositories.tag(name, tags);
  return {};
};

export default tagResource;
