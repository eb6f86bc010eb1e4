import type { EcrContext, EcrOperation } from '../context.ts';
import { ecrImageError } from '../image-shapes.ts';
import { ownRegistry, repositoryName } from '../repository-shapes.ts';
import { checkString, createValidator, Rules } from '../validate.ts';
import { isDigest } from '../../core/digest.ts';

const DEFAULT_PAGE = 20;
const ARTIFACT_STATUS = ['ACTIVE', 'ARCHIVED', 'ACTIVATING', 'ANY'] as const;

/**
 * ListImageReferrers ≡ the /v2/ referrers API: manifests in the repository whose `subject` is the given
 * digest, in digest order, 20 a page by default (maxResults 1–50), optionally only some artifact types.
 * Needs ecr:BatchGetImage, as on AWS.
 */
const listImageReferrers: EcrOperation = async (input, ctx) => {
  const v = createValidator(input, 'Validation');
  const name = repositoryName(v);
  const registryId = ownRegistry(v, ctx, name);
  const subject = v.object('subjectId', { required: true });
  const subjectDigest = checkString(subject.imageDigest ?? missing(v), 'subjectId.imageDigest', {}, v.fail);
  if (!isDigest(subjectDigest)) v.fail('subjectId.imageDigest', `image digest should satisfy the regex '${Rules.imageDigest.patternText}'`);
  const filter = v.object('filter') ?? {};
  let artifactTypes: string[] | undefined;
  const rawTypes: unknown = filter.artifactTypes;
  if (rawTypes !== undefined && rawTypes !== null) {
    const list: unknown[] = Array.isArray(rawTypes) ? rawTypes : v.fail('filter.artifactTypes', 'Member must be a list');
    if (list.length > 5) v.fail('filter.artifactTypes', 'Member must have length less than or equal to 5');
    artifactTypes = list.map((x: unknown, i: number) => checkString(x, `filter.artifactTypes.${i + 1}`, { min: 1, max: 255 }, v.fail));
  }
  const status = filter.artifactStatus;
  if (status !== undefined && status !== null && (typeof status !== 'string' || !(ARTIFACT_STATUS as readonly string[]).includes(status))) {
    v.fail('filter.artifactStatus', `Member must satisfy enum value set: [${ARTIFACT_STATUS.join(', ')}]`);
  }
  const nextToken = v.string('nextToken', Rules.nextToken);
  const maxResults = v.integer('maxResults', { min: 1, max: 50 }) ?? DEFAULT_PAGE;
  await ctx.authorize('BatchGetImage', name);
  try {
    await ctx.registry.getRepository(name);
    const s = scope(ctx, name, subjectDigest, artifactTypes);
    const after = nextToken !== undefined ? ctx.tokens.decode<{ after: string }>(s, nextToken).after : undefined;
    // Every image cargohold holds is ACTIVE.
    const active = status === undefined || status === null || status === 'ACTIVE' || status === 'ANY';
    const all = active ? await ctx.registry.referrers(name, subjectDigest) : [];
    const wanted = all.filter((r) => (!artifactTypes || artifactTypes.length === 0 || (r.artifactType !== null && artifactTypes.includes(r.artifactType))) && (after === undefined || r.digest > after));
    const page = wanted.slice(0, maxResults);
    return {
      referrers: page.map((r) => ({
        digest: r.digest,
        mediaType: r.mediaType,
        ...(r.artifactType ? { artifactType: r.artifactType } : {}),
        size: r.size,
        ...(r.annotations ? { annotations: JSON.parse(r.annotations) as Record<string, string> } : {}),
        artifactStatus: 'ACTIVE',
      })),
      ...(wanted.length > maxResults ? { nextToken: ctx.tokens.encode(s, { after: page[page.length - 1]!.digest }) } : {}),
    };
  } catch (e) {
    ecrImageError(e, ctx, name, registryId);
  }
};

function missing(v: { fail(field: string, reason: string): never }): never {
  return v.fail('subjectId.imageDigest', 'Member must not be null');
}

function scope(ctx: EcrContext, name: string, subject: string, types: string[] | undefined): string {
  return `ListImageReferrers:${ctx.accountId}:${name}:${subject}:${(types ?? []).join(',')}`;
}

export default listImageReferrers;
