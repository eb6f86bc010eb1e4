/**
 * ECR's image-scanning shapes: the image an operation names (imageId → manifest), ImageScanStatus, the
 * findings summary of DescribeImages, basic `findings` (name, uri, severity, package/CVSS attributes) and
 * enhanced `enhancedFindings` (Inspector's package-vulnerability shape) from cargohold's findings.
 */
import { createHash } from 'node:crypto';
import type { ManifestRecord } from '../metadata/types.ts';
import type { ImageId } from '../registry/images.ts';
import type { Finding } from '../scan/match/match.ts';
import { SEVERITY_ORDER } from '../scan/match/severity.ts';
import type { ImageScanRecord } from '../scan/store.ts';
import type { EcrContext } from './context.ts';
import { EcrError, invalidParameter } from './errors.ts';
import { ecrImageError, imageIdInput, imageIdText, imageNotFound } from './image-shapes.ts';
import { epochSeconds } from './repository-shapes.ts';
import type { Validator } from './validate.ts';

/** The `imageId` member (required, digest or tag). */
export function scanImageIdInput(v: Validator): ImageId {
  const raw = v.object('imageId', { required: true });
  const id = imageIdInput(raw, 'imageId', v.fail);
  if (id.digest === undefined && id.tag === undefined) throw invalidParameter('imageId', 'Invalid request parameters: both tag and digest cannot be null');
  return id;
}

/** Resolves an image id to the manifest it names (ImageNotFoundException worded like ECR). */
export async function resolveImage(ctx: EcrContext, name: string, registryId: string, id: ImageId): Promise<{ manifest: ManifestRecord; id: ImageId }> {
  try {
    const r = await ctx.registry.images.describeIds(name, [id]);
    const image = r.images[0];
    if (!image || r.failures.length) throw imageNotFound(id, name, registryId);
    const manifest = await ctx.registry.getManifest(name, image.digest, { recordPull: false });
    return { manifest, id: { digest: image.digest, ...(id.tag !== undefined ? { tag: id.tag } : {}) } };
  } catch (e) {
    if (e instanceof EcrError) throw e;
    ecrImageError(e, ctx, name, registryId);
  }
}

export function scanNotFound(id: ImageId, name: string, registryId: string): EcrError {
  return new EcrError('ScanNotFoundException', `Image scan does not exist for the image with '${imageIdText(id)}' in the repository with name '${name}' in the registry with id '${registryId}'`);
}

/** `ImageScanStatus`. */
export function scanStatusOutput(s: ImageScanRecord): Record<string, unknown> {
  return { status: s.status, description: s.description };
}

/** `findingSeverityCounts`: only severities present. */
export function severityCounts(findings: readonly Finding[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const sev of SEVERITY_ORDER) {
    const n = findings.filter((f) => f.severity === sev).length;
    if (n) counts[sev] = n;
  }
  return counts;
}

/** `imageScanFindingsSummary` of DescribeImages (only once a scan has completed). */
export function findingsSummaryOutput(s: ImageScanRecord): Record<string, unknown> | undefined {
  if (!s.findings || !s.completedAt) return undefined;
  return {
    imageScanCompletedAt: epochSeconds(s.completedAt),
    ...(s.vulnerabilitySourceUpdatedAt ? { vulnerabilitySourceUpdatedAt: epochSeconds(s.vulnerabilitySourceUpdatedAt) } : {}),
    findingSeverityCounts: severityCounts(s.findings as Finding[]),
  };
}

/** A basic-scanning `ImageScanFinding`. */
export function basicFindingOutput(f: Finding): Record<string, unknown> {
  const attributes: { key: string; value: string }[] = [
    { key: 'package_version', value: f.version },
    { key: 'package_name', value: f.package },
  ];
  const v2 = f.cvss.find((c) => c.version === '2.0');
  const v3 = f.cvss.find((c) => c.version.startsWith('3'));
  if (v2) attributes.push({ key: 'CVSS2_VECTOR', value: v2.vector }, { key: 'CVSS2_SCORE', value: String(v2.score) });
  if (v3) attributes.push({ key: 'CVSS3_VECTOR', value: v3.vector }, { key: 'CVSS3_SCORE', value: String(v3.score) });
  if (f.fixedVersion) attributes.push({ key: 'fixed_version', value: f.fixedVersion });
  return { name: f.id, ...(f.description ? { description: f.description } : {}), ...(f.url ? { uri: f.url } : {}), severity: f.severity, attributes };
}

const PACKAGE_MANAGERS: Record<string, string> = { deb: 'OS', apk: 'OS', rpm: 'OS', npm: 'NODE', pypi: 'PYTHONPKG', go: 'GOBINARY', maven: 'JAR', gem: 'GEMSPEC', cargo: 'CARGO' };

function splitEpoch(version: string): { epoch: number; version: string; release?: string } {
  const m = /^(\d+):(.*)$/.exec(version);
  const rest = m ? m[2]! : version;
  return { epoch: m ? Number(m[1]) : 0, version: rest };
}

/** An enhanced-scanning finding (Inspector `EnhancedImageScanFinding`). */
export function enhancedFindingOutput(f: Finding, image: { manifest: ManifestRecord; tags: string[] }, scan: ImageScanRecord, ctx: EcrContext, name: string): Record<string, unknown> {
  const purlType = /^pkg:([^/]+)/.exec(f.purl)?.[1] ?? '';
  const manager = PACKAGE_MANAGERS[purlType === 'golang' ? 'go' : purlType] ?? PACKAGE_MANAGERS[f.ecosystem.startsWith('Debian') || f.ecosystem.startsWith('Alpine') ? 'deb' : ''] ?? 'OS';
  const best = f.cvss.find((c) => c.version.startsWith('3')) ?? f.cvss[0];
  const observed = epochSeconds(scan.completedAt ?? scan.requestedAt);
  const resourceId = `arn:aws:ecr:${ctx.region}:${ctx.accountId}:repository/${name}/${image.manifest.digest}`;
  const arnHash = createHash('sha256').update(`${resourceId}\0${f.id}\0${f.package}\0${f.version}`).digest('hex').slice(0, 32);
  const v = splitEpoch(f.version);
  return {
    awsAccountId: ctx.accountId,
    description: f.description ?? f.title ?? f.id,
    findingArn: `arn:aws:inspector2:${ctx.region}:${ctx.accountId}:finding/${arnHash}`,
    firstObservedAt: observed,
    lastObservedAt: observed,
    updatedAt: observed,
    packageVulnerabilityDetails: {
      cvss: f.cvss.map((c) => ({ baseScore: c.score, scoringVector: c.vector, source: 'NVD', version: c.version })),
      referenceUrls: f.url ? [f.url] : [],
      relatedVulnerabilities: f.aliases,
      source: f.severitySource === 'vendor' ? f.ecosystem.split(':')[0]!.toUpperCase() : 'NVD',
      ...(f.url ? { sourceUrl: f.url } : {}),
      ...(f.published ? { vendorCreatedAt: epochSeconds(new Date(f.published)) } : {}),
      vendorSeverity: f.severity,
      ...(f.modified && !f.modified.startsWith('0001') ? { vendorUpdatedAt: epochSeconds(new Date(f.modified)) } : {}),
      vulnerabilityId: f.id,
      vulnerablePackages: [{
        ...(f.arch ? { arch: f.arch } : {}),
        epoch: v.epoch,
        filePath: f.path,
        name: f.package,
        packageManager: manager,
        version: v.version,
        ...(f.sourceName ? { sourceLayerHash: undefined } : {}),
        ...(f.fixedVersion ? { fixedInVersion: f.fixedVersion } : {}),
      }],
    },
    remediation: { recommendation: { text: f.fixedVersion ? `Upgrade ${f.package} to ${f.fixedVersion} or later.` : 'None provided' } },
    resources: [{
      details: { awsEcrContainerImage: { imageHash: image.manifest.digest, ...(image.tags.length ? { imageTags: image.tags } : {}), pushedAt: epochSeconds(image.manifest.pushedAt), registry: ctx.accountId, repositoryName: name } },
      id: resourceId,
      type: 'AWS_ECR_CONTAINER_IMAGE',
    }],
    ...(best ? { score: best.score, scoreDetails: { cvss: { adjustments: [], score: best.score, scoreSource: 'NVD', scoringVector: best.vector, version: best.version } } } : {}),
    severity: f.severity,
    status: 'ACTIVE',
    title: f.title ? `${f.id} - ${f.title}` : `${f.id} - ${f.package}`,
    type: 'PACKAGE_VULNERABILITY',
    fixAvailable: f.fixedVersion ? 'YES' : 'NO',
    exploitAvailable: 'NO',
  };
}

/** Adds `imageScanStatus` and `imageScanFindingsSummary` to DescribeImages' ImageDetails (images scanned at least once). */
export async function addScanDetails(ctx: EcrContext, name: string, details: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
  if (details.length === 0) return details;
  const repo = await ctx.registry.getRepository(name);
  const scans = await ctx.scans.getMany(repo.id, details.map((d) => String(d.imageDigest)));
  for (const d of details) {
    const s = scans.get(String(d.imageDigest));
    if (!s) continue;
    d.imageScanStatus = scanStatusOutput(s);
    const summary = findingsSummaryOutput(s);
    if (summary) d.imageScanFindingsSummary = summary;
  }
  return details;
}
