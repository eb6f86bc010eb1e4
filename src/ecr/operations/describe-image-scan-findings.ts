import type { EcrOperation } from '../context.ts';
import { imageIdOutput } from '../image-shapes.ts';
import { epochSeconds, ownRegistry, repositoryName } from '../repository-shapes.ts';
import { basicFindingOutput, enhancedFindingOutput, resolveImage, scanImageIdInput, scanNotFound, scanStatusOutput, severityCounts } from '../scan-shapes.ts';
import { createValidator, Rules } from '../validate.ts';
import type { Finding } from '../../scan/match/match.ts';

const DEFAULT_PAGE = 100;

/**
 * DescribeImageScanFindings: the image's scan status and, once COMPLETE, its findings — the basic `findings`
 * shape, or `enhancedFindings` when the registry scanning configuration says ENHANCED — 100 a page by default
 * (maxResults 1–1000) with a signed nextToken tied to the scan it pages.
 */
const describeImageScanFindings: EcrOperation = async (input, ctx) => {
  const v = createValidator(input);
  const name = repositoryName(v);
  const registryId = ownRegistry(v, ctx, name);
  const id = scanImageIdInput(v);
  const nextToken = v.string('nextToken', Rules.nextToken);
  const maxResults = v.integer('maxResults', { min: 1, max: 1000 }) ?? DEFAULT_PAGE;
  await ctx.authorize('DescribeImageScanFindings', name);
  const { manifest, id: resolved } = await resolveImage(ctx, name, registryId, id);
  const repo = await ctx.registry.getRepository(name);
  const scan = await ctx.scans.get(repo.id, manifest.digest);
  if (!scan) throw scanNotFound(id, name, registryId);
  const out: Record<string, unknown> = { registryId, repositoryName: name, imageId: imageIdOutput(resolved), imageScanStatus: scanStatusOutput(scan) };
  if (!scan.findings || !scan.completedAt) return out;
  const findings = scan.findings as Finding[];
  const scope = `DescribeImageScanFindings:${ctx.accountId}:${name}:${manifest.digest}:${scan.completedAt.getTime()}`;
  const offset = nextToken !== undefined ? ctx.tokens.decode<{ offset: number }>(scope, nextToken).offset : 0;
  const page = findings.slice(offset, offset + maxResults);
  const enhanced = (await ctx.scans.registryConfiguration()).scanType === 'ENHANCED';
  const tags = enhanced ? ((await ctx.registry.images.describeIds(name, [{ digest: manifest.digest }])).images[0]?.tags ?? []) : [];
  out.imageScanFindings = {
    imageScanCompletedAt: epochSeconds(scan.completedAt),
    ...(scan.vulnerabilitySourceUpdatedAt ? { vulnerabilitySourceUpdatedAt: epochSeconds(scan.vulnerabilitySourceUpdatedAt) } : {}),
    findingSeverityCounts: severityCounts(findings),
    ...(enhanced
      ? { enhancedFindings: page.map((f) => enhancedFindingOutput(f, { manifest, tags }, scan, ctx, name)) }
      : { findings: page.map(basicFindingOutput) }),
  };
  if (offset + maxResults < findings.length) out.nextToken = ctx.tokens.encode(scope, { offset: offset + maxResults });
  return out;
};

export default describeImageScanFindings;
