import type { EcrOperation } from '../context.ts';
import { repositoryFromArn, tagsOutput } from '../repository-shapes.ts';
import { createValidator } from '../validate.ts';

/** ListTagsForResource: a repository's tags as `[{Key, Value}]`, ordered by key. */
const listTagsForResource: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const arn = v.string('resourceArn', { required: true, min: 1 });
  const name = repositoryFromArn(arn, ctx);
  await ctx.authorize('ListTagsForResource', name);
  return { tags: tagsOutput(await ctx.registry.repositories.listTags(name)) };
};

export default listTagsForResource;
