import type { PreviewPage } from '../../lifecycle/service.ts';
import type { ImageCursor } from '../../metadata/types.ts';
import type { EcrOperation } from '../context.ts';
import { invalidParameter } from '../errors.ts';
import { imageIdsInput, TAG_STATUS_VALUES } from '../image-shapes.ts';
import { previewResultOutput } from '../lifecycle-shapes.ts';
import { nested, ownRegistry, repositoryName } from '../repository-shapes.ts';
import { createValidator, Rules } from '../validate.ts';

const DEFAULT_PAGE = 100;

/**
 * GetLifecyclePolicyPreview: the latest preview's status and, once COMPLETE, the images it would expire
 * (oldest push first) with the rule that expires each, 100 a page by default (maxResults 1–100), optionally
 * filtered by tag status, or only those named by `imageIds` (not combinable with paging); `summary` counts
 * every image the preview expires. LifecyclePolicyPreviewNotFoundException when no preview was started.
 */
const getLifecyclePolicyPreview: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  const registryId = ownRegistry(v, ctx, name);
  const ids = imageIdsInput(v);
  const nextToken = v.string('nextToken', Rules.nextToken);
  const maxResults = v.integer('maxResults', { min: 1, max: 100 });
  const rawFilter = v.object('filter');
  const tagStatus = (rawFilter ? nested(rawFilter, 'filter').enumValue('filter.tagStatus', TAG_STATUS_VALUES) : undefined) ?? 'ANY';
  if (ids && (nextToken !== undefined || maxResults !== undefined)) {
    throw invalidParameter('imageIds', 'nextToken and maxResults cannot be specified together with imageIds');
  }
  await ctx.authorize('GetLifecyclePolicyPreview', name);
  const lifecycle = ctx.lifecycle;
  let page: PreviewPage;
  if (ids) {
    const resolved = await ctx.registry.images.describeIds(name, ids);
    page = await lifecycle.getPreview(name, { digests: resolved.images.map((i) => i.digest) });
    page.results = page.results.filter((r) => tagStatus === 'ANY' || (tagStatus === 'TAGGED') === r.tags.length > 0);
  } else {
    // Tokens are bound to the preview they page through: a new preview invalidates the old tokens.
    const current = await lifecycle.getPreview(name, { digests: [] });
    const scope = `GetLifecyclePolicyPreview:${ctx.accountId}:${name}:${tagStatus}:${current.preview.startedAt.getTime()}`;
    const after = nextToken !== undefined ? ctx.tokens.decode<ImageCursor>(scope, nextToken) : undefined;
    page = await lifecycle.getPreview(name, { after, limit: maxResults ?? DEFAULT_PAGE, tagStatus });
    if (page.next) return output(page, ctx.tokens.encode(scope, page.next));
  }
  return output(page);

  function output(p: PreviewPage, token?: string): Record<string, unknown> {
    return {
      registryId,
      repositoryName: name,
      lifecyclePolicyText: p.preview.policyText,
      status: p.preview.status,
      ...(token ? { nextToken: token } : {}),
      previewResults: p.results.map(previewResultOutput),
      ...(p.preview.status === 'COMPLETE' ? { summary: { expiringImageTotalCount: p.preview.expiringCount } } : {}),
    };
  }
};

export default getLifecyclePolicyPreview;
