import type { EcrOperation } from '../context.ts';
import { repositoryFromArn, tagKey } from '../repository-shapes.ts';
import { createValidator } from '../validate.ts';

/** UntagResource: removes tags by key from a repository (keys it does not have are ignored). */
const untagResource: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const arn = v.string('resourceArn', { required: true, min: 1 });
  const keys = v.list('tagKeys', (x) => tagKey(x), { required: true, min: 0, max: 200 });
  const name = repositoryFromArn(arn, ctx);
  await ctx.authorize('UntagResource', name);
  await ctx.registry.repositories.untag(name, keys);
  return {};
};

export default untagResource;
