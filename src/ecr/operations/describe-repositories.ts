import type { EcrContext, EcrOperation } from '../context.ts';
import { invalidParameter } from '../errors.ts';
import { repositoryNotFound, repositoryOutput } from '../repository-shapes.ts';
import { checkString, createValidator, Rules } from '../validate.ts';

const DEFAULT_PAGE = 100;

/**
 * DescribeRepositories: the named repositories (all must exist; the call fails on the first missing one), or
 * every repository in name order, 100 a page by default (maxResults 1–1000) with a signed nextToken.
 * Names cannot be combined with paging.
 */
const describeRepositories: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const registryId = v.string('registryId', Rules.registryId) ?? ctx.accountId;
  const names = v.list('repositoryNames', (x, where) => checkString(x, where, Rules.repositoryName), { min: 1, max: 100 });
  const nextToken = v.string('nextToken', Rules.nextToken);
  const maxResults = v.integer('maxResults', { min: 1, max: 1000 });
  if (names && (nextToken !== undefined || maxResults !== undefined)) {
    throw invalidParameter('repositoryNames', 'nextToken and maxResults cannot be specified together with repositoryNames');
  }
  if (names) {
    for (const name of names) await ctx.authorize('DescribeRepositories', name);
    if (registryId !== ctx.accountId) throw repositoryNotFound(names[0]!, registryId);
    const views = await ctx.registry.repositories.describe(names);
    return { repositories: views.map((view) => repositoryOutput(view, ctx)) };
  }
  await ctx.authorize('DescribeRepositories', '*');
  const after = nextToken !== undefined ? ctx.tokens.decode<{ after: string }>(scope(ctx), nextToken).after : undefined;
  if (registryId !== ctx.accountId) return { repositories: [] };
  const page = await ctx.registry.repositories.list({ after, limit: maxResults ?? DEFAULT_PAGE });
  return {
    repositories: page.items.map((view) => repositoryOutput(view, ctx)),
    ...(page.next !== undefined ? { nextToken: ctx.tokens.encode(scope(ctx), { after: page.next }) } : {}),
  };
};

function scope(ctx: EcrContext): string {
  return `DescribeRepositories:${ctx.accountId}`;
}

export default describeRepositories;
