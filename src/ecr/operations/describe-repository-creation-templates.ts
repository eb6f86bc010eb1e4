import type { EcrContext, EcrOperation } from '../context.ts';
import { PREFIX_RULES, templateOutput } from '../repository-shapes.ts';
import { checkString, createValidator, Rules } from '../validate.ts';

const DEFAULT_PAGE = 100;

/**
 * DescribeRepositoryCreationTemplates: templates in prefix order (optionally only the given prefixes; ones
 * that do not exist are left out), 100 a page by default (maxResults 1–1000), signed nextToken.
 */
const describeRepositoryCreationTemplates: EcrOperation = async (input, ctx) => {
  const v = createValidator(input, 'Validation');
  const prefixes = v.list('prefixes', (x, where) => checkString(x, where, PREFIX_RULES, v.fail), { min: 1, max: 100 });
  const nextToken = v.string('nextToken', Rules.nextToken);
  const maxResults = v.integer('maxResults', { min: 1, max: 1000 });
  await ctx.authorize('DescribeRepositoryCreationTemplates');
  const after = nextToken !== undefined ? ctx.tokens.decode<{ after: string }>(scope(ctx, prefixes), nextToken).after : undefined;
  const page = await ctx.registry.repositories.listTemplates({ after, limit: maxResults ?? DEFAULT_PAGE, prefixes });
  return {
    registryId: ctx.accountId,
    repositoryCreationTemplates: page.items.map(templateOutput),
    ...(page.next !== undefined ? { nextToken: ctx.tokens.encode(scope(ctx, prefixes), { after: page.next }) } : {}),
  };
};

/** A token is only valid for the same prefix filter. */
function scope(ctx: EcrContext, prefixes: string[] | undefined): string {
  return `DescribeRepositoryCreationTemplates:${ctx.accountId}:${prefixes ? [...prefixes].sort().join(',') : '*'}`;
}

export default describeRepositoryCreationTemplates;
