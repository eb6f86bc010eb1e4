import type { EcrOperation } from '../context.ts';
import { ownRegistry, repositoryName, repositoryOutput } from '../repository-shapes.ts';
import { createValidator } from '../validate.ts';

/**
 * DeleteRepository: returns the deleted repository. Without `force` a repository that still holds images
 * fails with RepositoryNotEmptyException; with `force: true` its images (manifests, tags, layer links) go too.
 */
const deleteRepository: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  ownRegistry(v, ctx, name);
  const force = v.boolean('force') ?? false;
  await ctx.authorize('DeleteRepository', name);
  const view = await ctx.registry.repositories.delete(name, { force });
  return { repository: repositoryOutput(view, ctx) };
};

export default deleteRepository;
