import type { EcrContext, EcrOperation } from '../context.ts';
import { invalidParameter } from '../errors.ts';
import { ecrImageError, imageDetailOutput, imageFilterInput, imageIdsInput, imageNotFound, statusMatches } from '../image-shapes.ts';
import { addScanDetails } from '../scan-shapes.ts';
import { ownRegistry, repositoryName } from '../repository-shapes.ts';
import { createValidator, Rules } from '../validate.ts';
import type { ImageCursor } from '../../metadata/types.ts';

const DEFAULT_PAGE = 100;

/**
 * DescribeImages: one ImageDetail per digest. With `imageIds` every id must resolve (else
 * ImageNotFoundException for the whole call) and paging is refused; otherwise images in push order
 * (then digest), 100 a page by default (maxResults 1–1000), filtered by tag status, with a signed nextToken.
 */
const describeImages: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  const registryId = ownRegistry(v, ctx, name);
  const ids = imageIdsInput(v);
  const nextToken = v.string('nextToken', Rules.nextToken);
  const maxResults = v.integer('maxResults', { min: 1, max: 1000 });
  const filter = imageFilterInput(v);
  if (ids && (nextToken !== undefined || maxResults !== undefined)) {
    throw invalidParameter('imageIds', 'nextToken and maxResults cannot be specified together with imageIds');
  }
  await ctx.authorize('DescribeImages', name);
  try {
    if (ids) {
      const r = await ctx.registry.images.describeIds(name, ids);
      const failed = r.failures[0];
      if (failed) {
        if (failed.code === 'MissingDigestAndTag' || failed.code === 'InvalidImageDigest' || failed.code === 'InvalidImageTag') {
          throw invalidParameter('imageIds', failed.reason);
        }
        throw imageNotFound(failed.id, name, registryId);
      }
      const images = statusMatches(filter.imageStatus) ? r.images.filter((i) => filter.tagStatus === 'ANY' || (filter.tagStatus === 'TAGGED') === i.tags.length > 0) : [];
      return { imageDetails: await addScanDetails(ctx, name, images.map((i) => imageDetailOutput(i, name, ctx))) };
    }
    const s = scope(ctx, name, filter.tagStatus);
    const after = nextToken !== undefined ? ctx.tokens.decode<ImageCursor>(s, nextToken) : undefined;
    if (!statusMatches(filter.imageStatus)) {
      await ctx.registry.getRepository(name);
      return { imageDetails: [] };
    }
    const page = await ctx.registry.images.describePage(name, { after, limit: maxResults ?? DEFAULT_PAGE, tagStatus: filter.tagStatus });
    return {
      imageDetails: await addScanDetails(ctx, name, page.images.map((i) => imageDetailOutput(i, name, ctx))),
      ...(page.next ? { nextToken: ctx.tokens.encode(s, page.next) } : {}),
    };
  } catch (e) {
    ecrImageError(e, ctx, name, registryId);
  }
};

function scope(ctx: EcrContext, name: string, tagStatus: string): string {
  return `DescribeImages:${ctx.accountId}:${name}:${tagStatus}`;
}

export default describeImages;
