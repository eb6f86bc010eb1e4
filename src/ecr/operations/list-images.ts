import type { EcrContext, EcrOperation } from '../context.ts';
import { ecrImageError, imageFilterInput, statusMatches } from '../image-shapes.ts';
import { ownRegistry, repositoryName } from '../repository-shapes.ts';
import { createValidator, Rules } from '../validate.ts';
import type { ImageCursor } from '../../metadata/types.ts';

const DEFAULT_PAGE = 100;

/**
 * ListImages: one entry per (digest, tag) pair — an image with three tags appears three times, an
 * untagged image once with only its digest — in push order, 100 a page by default (maxResults 1–1000),
 * filtered by tag status, with a signed nextToken. An empty repository gives `{"imageIds": []}`.
 */
const listImages: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  const registryId = ownRegistry(v, ctx, name);
  const nextToken = v.string('nextToken', Rules.nextToken);
  const maxResults = v.integer('maxResults', { min: 1, max: 1000 });
  const filter = imageFilterInput(v);
  await ctx.authorize('ListImages', name);
  try {
    const s = scope(ctx, name, filter.tagStatus);
    const after = nextToken !== undefined ? ctx.tokens.decode<ImageCursor & { tag: string | null }>(s, nextToken) : undefined;
    if (!statusMatches(filter.imageStatus)) {
      await ctx.registry.getRepository(name);
      return { imageIds: [] };
    }
    const page = await ctx.registry.images.listIds(name, { after, limit: maxResults ?? DEFAULT_PAGE, tagStatus: filter.tagStatus });
    return {
      imageIds: page.ids.map((i) => ({ imageDigest: i.digest, ...(i.tag !== null ? { imageTag: i.tag } : {}) })),
      ...(page.next ? { nextToken: ctx.tokens.encode(s, page.next) } : {}),
    };
  } catch (e) {
    ecrImageError(e, ctx, name, registryId);
  }
};

function scope(ctx: EcrContext, name: string, tagStatus: string): string {
  return `ListImages:${ctx.accountId}:${name}:${tagStatus}`;
}

export default listImages;
