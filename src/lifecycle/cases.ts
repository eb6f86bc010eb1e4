import { createHash } from 'node:crypto';
import { MediaType } from '../core/media-types.ts';
import type { LifecycleImage } from './evaluate.ts';

/**
 * The lifecycle evaluation table: each case is a policy, a repository's images (ages in days before NOW,
 * tags, pulls, index children, referrer subjects) and the images it must expire with the rule that expires
 * them — or, for invalid policies, ECR's refusal. `lifecycle.test.ts` runs every case through the same
 * functions PutLifecyclePolicy, the preview and the expiry job use.
 */

export const NOW = new Date('2026-06-01T12:00:00.000Z');
const DAY = 86_400_000;

/** A deterministic digest per image label. */
export function digestOf(id: string): string {
  return `sha256:${createHash('sha256').update(`lifecycle-case:${id}`).digest('hex')}`;
}

/** cosign's tag for a signature / attestation / SBOM of the image labelled `id`. */
export function cosignTag(id: string, kind: 'sig' | 'att' | 'sbom'): string {
  return `${digestOf(id).replace(':', '-')}.${kind}`;
}

export interface CaseImage {
  id: string;
  tags?: string[];
  /** Days before NOW it was pushed (fractions allowed). */
  pushed: number;
  /** Days before NOW it was last pulled; absent = never. */
  pulled?: number;
  /** Labels of the manifests it lists (makes it an image index). */
  children?: string[];
  /** Label of its subject (makes it a referrer). */
  subject?: string;
}

export interface EvalCase {
  name: string;
  proves: string;
  policy: object;
  images: CaseImage[];
  /** Expired image labels → the rulePriority expiring them. Everything else must be kept. */
  expect: Record<string, number>;
  /** Labels that must appear in this order among the expired (deletion order). */
  order?: string[];
}

export interface InvalidCase {
  name: string;
  proves: string;
  /** A policy object, or raw text. */
  policy: object | string;
  /** Substring of the message after `Lifecycle policy validation failure: ` (or the whole message for length errors). */
  error: string;
}

export function toImages(list: CaseImage[]): LifecycleImage[] {
  return list.map((i) => ({
    digest: digestOf(i.id),
    tags: i.tags ?? [],
    pushedAt: new Date(NOW.getTime() - Math.round(i.pushed * DAY)),
    lastPulledAt: i.pulled === undefined ? null : new Date(NOW.getTime() - Math.round(i.pulled * DAY)),
    mediaType: i.children ? MediaType.ociIndex : MediaType.ociManifest,
    subject: i.subject ? digestOf(i.subject) : null,
    children: (i.children ?? []).map(digestOf),
  }));
}

type Sel = Record<string, unknown>;
const rule = (rulePriority: number, selection: Sel, description?: string) => ({ rulePriority, ...(description ? { description } : {}), selection, action: { type: 'expire' } });
const keep = (n: number, extra: Sel = {}): Sel => ({ countType: 'imageCountMoreThan', countNumber: n, ...extra });
const pushedOlder = (n: number, extra: Sel = {}): Sel => ({ countType: 'sinceImagePushed', countUnit: 'days', countNumber: n, ...extra });
const pulledOlder = (n: number, extra: Sel = {}): Sel => ({ countType: 'sinceImagePulled', countUnit: 'days', countNumber: n, ...extra });
const tagged = (lists: Sel): Sel => ({ tagStatus: 'tagged', ...lists });
const untagged: Sel = { tagStatus: 'untagged' };
const any: Sel = { tagStatus: 'any' };
const policy = (...rules: object[]) => ({ rules });

export const evalCases: EvalCase[] = [
  // --- The ECR user guide's worked examples -------------------------------------------------------------
  {
    name: 'guide: prod then beta',
    proves: 'an image matched by a higher-priority rule is claimed: rule 2 cannot expire B although it is beyond its count',
    policy: policy(rule(1, { ...tagged({ tagPrefixList: ['prod'] }), ...keep(1) }), rule(2, { ...tagged({ tagPrefixList: ['beta'] }), ...keep(1) })),
    images: [{ id: 'A', tags: ['beta-1', 'prod-1'], pushed: 10 }, { id: 'B', tags: ['beta-2', 'prod-2'], pushed: 9 }, { id: 'C', tags: ['beta-3'], pushed: 8 }],
    expect: { A: 1 },
  },
  {
    name: 'guide: beta then prod',
    proves: 'swapping priorities changes the outcome: beta keeps only C, so A and B expire by rule 1',
    policy: policy(rule(1, { ...tagged({ tagPrefixList: ['beta'] }), ...keep(1) }), rule(2, { ...tagged({ tagPrefixList: ['prod'] }), ...keep(1) })),
    images: [{ id: 'A', tags: ['beta-1', 'prod-1'], pushed: 10 }, { id: 'B', tags: ['beta-2', 'prod-2'], pushed: 9 }, { id: 'C', tags: ['beta-3'], pushed: 8 }],
    expect: { A: 1, B: 1 },
  },
  {
    name: 'guide: two prefixes, age',
    proves: 'with several prefixes an image must carry a tag for every prefix; only C is both old enough and tagged alpha and beta',
    policy: policy(rule(1, { ...tagged({ tagPrefixList: ['alpha', 'beta'] }), ...pushedOlder(5) })),
    images: [
      { id: 'A', tags: ['alpha-1'], pushed: 12 }, { id: 'B', tags: ['beta-1'], pushed: 11 }, { id: 'C', tags: ['alpha-2', 'beta-2'], pushed: 10 },
      { id: 'D', tags: ['alpha-3'], pushed: 4 }, { id: 'E', tags: ['beta-3'], pushed: 3 }, { id: 'F', tags: ['alpha-4', 'beta-4'], pushed: 2 },
    ],
    expect: { C: 1 },
  },
  {
    name: 'guide: two prefixes, count',
    proves: 'extra tags do not matter: all three images carry alpha and beta tags, the newest one stays',
    policy: policy(rule(1, { ...tagged({ tagPrefixList: ['alpha', 'beta'] }), ...keep(1) })),
    images: [{ id: 'A', tags: ['alpha-1', 'beta-1', 'gamma-1'], pushed: 10 }, { id: 'B', tags: ['alpha-2', 'beta-2'], pushed: 9 }, { id: 'C', tags: ['alpha-3', 'beta-3', 'gamma-2'], pushed: 8 }],
    expect: { A: 1, B: 1 },
  },
  {
    name: 'guide: tagged, untagged and any',
    proves: "the guide's three-rule example: A by the alpha rule, B by the untagged rule, D by the 'any' rule (E is newest, C claimed)",
    policy: policy(rule(1, { ...tagged({ tagPrefixList: ['alpha'] }), ...keep(1) }), rule(2, { ...untagged, ...pushedOlder(1) }), rule(3, { ...any, ...keep(1) })),
    images: [{ id: 'A', tags: ['alpha-1', 'beta-1'], pushed: 4 }, { id: 'B', pushed: 3 }, { id: 'C', tags: ['alpha-2'], pushed: 2 }, { id: 'D', tags: ['1a2b3c4'], pushed: 26 / 24 }, { id: 'E', pushed: 20 / 24 }],
    expect: { A: 1, B: 2, D: 3 },
  },
  {
    name: 'guide: prod* older than 14 days',
    proves: 'tagPatternList prod* with sinceImagePushed 14 days expires only old prod images',
    policy: policy(rule(1, { ...tagged({ tagPatternList: ['prod*'] }), ...pushedOlder(14) }, 'Expire images older than 14 days')),
    images: [{ id: 'P1', tags: ['prod-1'], pushed: 20 }, { id: 'P2', tags: ['prod'], pushed: 10 }, { id: 'D1', tags: ['dev-1'], pushed: 30 }, { id: 'U', pushed: 40 }],
    expect: { P1: 1 },
  },
  {
    name: 'guide: keep one untagged',
    proves: 'untagged imageCountMoreThan 1 keeps the newest untagged image and never touches tagged ones',
    policy: policy(rule(1, { ...untagged, ...keep(1) }, 'Keep only one untagged image, expire all others')),
    images: [{ id: 'U1', pushed: 5 }, { id: 'U2', pushed: 3 }, { id: 'U3', pushed: 1 }, { id: 'T', tags: ['v1'], pushed: 10 }],
    expect: { U1: 1, U2: 1 },
  },
  // --- Selection fields -----------------------------------------------------------------------------------
  {
    name: 'prefix: any tag of the image',
    proves: 'a tagged rule selects an image when any one of its tags matches (latest + prod-3 counts as prod)',
    policy: policy(rule(1, { ...tagged({ tagPrefixList: ['prod'] }), ...keep(1) })),
    images: [{ id: 'X', tags: ['latest', 'prod-3'], pushed: 1 }, { id: 'Y', tags: ['prod-2'], pushed: 2 }, { id: 'Z', tags: ['latest-old'], pushed: 3 }],
    expect: { Y: 1 },
  },
  {
    name: 'prefix: case-sensitive',
    proves: 'tag prefixes compare exactly: Prod does not select prod-1',
    policy: policy(rule(1, { ...tagged({ tagPrefixList: ['Prod'] }), ...keep(1) })),
    images: [{ id: 'A', tags: ['prod-1'], pushed: 3 }, { id: 'B', tags: ['Prod-2'], pushed: 2 }, { id: 'C', tags: ['Prod-3'], pushed: 1 }],
    expect: { B: 1 },
  },
  {
    name: 'pattern: wildcard in the middle',
    proves: 'release-*-final matches a whole tag with anything in place of *, not release-1.2-rc',
    policy: policy(rule(1, { ...tagged({ tagPatternList: ['release-*-final'] }), ...pushedOlder(7) })),
    images: [{ id: 'F', tags: ['release-1.2-final'], pushed: 30 }, { id: 'R', tags: ['release-1.2-rc'], pushed: 30 }, { id: 'G', tags: ['release--final'], pushed: 10 }],
    expect: { F: 1, G: 1 },
  },
  {
    name: 'pattern: no wildcard is an exact tag',
    proves: 'a pattern without * matches only that exact tag (latest, not latest-2)',
    policy: policy(rule(1, { ...tagged({ tagPatternList: ['latest'] }), ...pushedOlder(1) })),
    images: [{ id: 'L', tags: ['latest'], pushed: 5 }, { id: 'L2', tags: ['latest-2'], pushed: 5 }],
    expect: { L: 1 },
  },
  {
    name: 'pattern: every pattern must match',
    proves: 'several patterns select only images having a tag for each (prod* and *-stable)',
    policy: policy(rule(1, { ...tagged({ tagPatternList: ['prod*', '*-stable'] }), ...pushedOlder(1) })),
    images: [{ id: 'A', tags: ['prod-1', '1.0-stable'], pushed: 5 }, { id: 'B', tags: ['prod-2'], pushed: 5 }, { id: 'C', tags: ['prod-3-stable'], pushed: 5 }, { id: 'D', tags: ['2.0-stable'], pushed: 5 }],
    expect: { A: 1, C: 1 },
  },
  {
    name: 'pattern: four wildcards',
    proves: 'a pattern with the maximum of four * matches across several segments',
    policy: policy(rule(1, { ...tagged({ tagPatternList: ['*a*b*c*'] }), ...keep(1) })),
    images: [{ id: 'A', tags: ['xaybzc'], pushed: 3 }, { id: 'B', tags: ['abc'], pushed: 2 }, { id: 'C', tags: ['cba'], pushed: 1 }],
    expect: { A: 1 },
  },
  {
    name: 'pattern: * alone',
    proves: "tagPatternList ['*'] selects every tagged image and no untagged one",
    policy: policy(rule(1, { ...tagged({ tagPatternList: ['*'] }), ...keep(1) })),
    images: [{ id: 'A', tags: ['a'], pushed: 3 }, { id: 'B', tags: ['b'], pushed: 2 }, { id: 'U', pushed: 10 }],
    expect: { A: 1 },
  },
  {
    name: 'count: newest N by push time',
    proves: 'imageCountMoreThan ranks by push time only: a recently pulled old image still expires',
    policy: policy(rule(1, { ...any, ...keep(2) })),
    images: [{ id: 'A', tags: ['a'], pushed: 30, pulled: 0.1 }, { id: 'B', tags: ['b'], pushed: 2 }, { id: 'C', pushed: 1 }],
    expect: { A: 1 },
  },
  {
    name: 'count: fewer than N',
    proves: 'imageCountMoreThan N expires nothing while N or fewer images match',
    policy: policy(rule(1, { ...any, ...keep(5) })),
    images: [{ id: 'A', pushed: 300 }, { id: 'B', tags: ['b'], pushed: 200 }, { id: 'C', tags: ['c'], pushed: 100 }],
    expect: {},
  },
  {
    name: 'count: every image beyond N',
    proves: 'all matching images after the newest N expire, oldest first',
    policy: policy(rule(1, { ...tagged({ tagPrefixList: ['build-'] }), ...keep(2) })),
    images: Array.from({ length: 6 }, (_, i) => ({ id: `b${i}`, tags: [`build-${i}`], pushed: 10 - i })),
    expect: { b0: 1, b1: 1, b2: 1, b3: 1 },
  },
  {
    name: 'age: boundary',
    proves: 'sinceImagePushed N days expires images older than N days, not those exactly N days old',
    policy: policy(rule(1, { ...any, ...pushedOlder(3) })),
    images: [{ id: 'EXACT', pushed: 3 }, { id: 'OVER', pushed: 3 + 1 / 86_400 }, { id: 'NEW', pushed: 1 }],
    expect: { OVER: 1 },
  },
  {
    name: 'pulled: last pull time',
    proves: 'sinceImagePulled looks at the last pull: an old image pulled yesterday stays, one last pulled 40 days ago goes',
    policy: policy(rule(1, { ...any, ...pulledOlder(30) })),
    images: [{ id: 'HOT', tags: ['a'], pushed: 100, pulled: 1 }, { id: 'COLD', tags: ['b'], pushed: 100, pulled: 40 }, { id: 'FRESH', tags: ['c'], pushed: 2 }],
    expect: { COLD: 1 },
  },
  {
    name: 'pulled: never pulled',
    proves: 'sinceImagePulled falls back to the push time for images never pulled',
    policy: policy(rule(1, { ...untagged, ...pulledOlder(7) })),
    images: [{ id: 'OLD', pushed: 8 }, { id: 'YOUNG', pushed: 6 }],
    expect: { OLD: 1 },
  },
  {
    name: 'pulled: tagged rule',
    proves: 'sinceImagePulled combines with tag selection',
    policy: policy(rule(1, { ...tagged({ tagPatternList: ['feature-*'] }), ...pulledOlder(14) })),
    images: [{ id: 'F1', tags: ['feature-a'], pushed: 60, pulled: 20 }, { id: 'F2', tags: ['feature-b'], pushed: 60, pulled: 2 }, { id: 'M', tags: ['main'], pushed: 60, pulled: 50 }],
    expect: { F1: 1 },
  },
  {
    name: 'untagged: never tagged images',
    proves: 'an untagged rule ignores tagged images however old they are',
    policy: policy(rule(1, { ...untagged, ...pushedOlder(1) })),
    images: [{ id: 'U', pushed: 2 }, { id: 'T', tags: ['v1'], pushed: 200 }],
    expect: { U: 1 },
  },
  {
    name: 'any: counts tagged and untagged',
    proves: "tagStatus 'any' ranks tagged and untagged images together",
    policy: policy(rule(1, { ...any, ...keep(2) })),
    images: [{ id: 'T1', tags: ['a'], pushed: 4 }, { id: 'U1', pushed: 3 }, { id: 'T2', tags: ['b'], pushed: 2 }, { id: 'U2', pushed: 1 }],
    expect: { T1: 1, U1: 1 },
  },
  // --- Priority interplay ---------------------------------------------------------------------------------
  {
    name: 'priority: kept by a higher rule',
    proves: "images a higher rule keeps cannot be expired by the final 'any' rule",
    policy: policy(rule(1, { ...tagged({ tagPrefixList: ['prod'] }), ...keep(5) }), rule(2, { ...any, ...keep(1) })),
    images: [{ id: 'P1', tags: ['prod-1'], pushed: 9 }, { id: 'P2', tags: ['prod-2'], pushed: 8 }, { id: 'D', tags: ['dev'], pushed: 7 }, { id: 'U', pushed: 1 }],
    expect: { D: 2 },
  },
  {
    name: 'priority: lower rules still count claimed images',
    proves: 'a later rule counts images claimed earlier: the two newest are prod (claimed), so every other image is beyond the count',
    policy: policy(rule(1, { ...tagged({ tagPrefixList: ['prod'] }), ...pushedOlder(100) }), rule(2, { ...any, ...keep(2) })),
    images: [{ id: 'P1', tags: ['prod-1'], pushed: 1 }, { id: 'P2', tags: ['prod-2'], pushed: 2 }, { id: 'N1', tags: ['dev-1'], pushed: 3 }, { id: 'N2', tags: ['dev-2'], pushed: 4 }, { id: 'U', pushed: 5 }],
    expect: { N1: 2, N2: 2, U: 2 },
  },
  {
    name: 'priority: first rule wins',
    proves: 'an image two rules would expire is reported with the lower rulePriority',
    policy: policy(rule(1, { ...tagged({ tagPrefixList: ['v'] }), ...keep(1) }), rule(2, { ...tagged({ tagPatternList: ['*-rc'] }), ...pushedOlder(1) })),
    images: [{ id: 'RC', tags: ['v2-rc'], pushed: 5 }, { id: 'V3', tags: ['v3'], pushed: 0.1 }, { id: 'X', tags: ['x-rc'], pushed: 5 }],
    expect: { RC: 1, X: 2 },
  },
  {
    name: 'priority: by number, not by position',
    proves: 'rules apply in rulePriority order (10 before 20 before 100) whatever their order in the document',
    policy: policy(rule(100, { ...any, ...keep(1) }), rule(20, { ...tagged({ tagPrefixList: ['beta'] }), ...keep(1) }), rule(10, { ...tagged({ tagPrefixList: ['prod'] }), ...keep(1) })),
    images: [{ id: 'A', tags: ['beta-1', 'prod-1'], pushed: 10 }, { id: 'B', tags: ['beta-2', 'prod-2'], pushed: 9 }, { id: 'C', tags: ['beta-3'], pushed: 8 }, { id: 'D', pushed: 1 }],
    expect: { A: 10 },
  },
  {
    name: 'priority: multi-tag image kept by its first match',
    proves: "an image one of whose tags a higher rule keeps is protected from a lower rule matching another of its tags",
    policy: policy(rule(1, { ...tagged({ tagPatternList: ['stable'] }), ...keep(1) }), rule(2, { ...tagged({ tagPrefixList: ['nightly'] }), ...keep(1) })),
    images: [{ id: 'S', tags: ['nightly-1', 'stable'], pushed: 10 }, { id: 'N2', tags: ['nightly-2'], pushed: 2 }, { id: 'N3', tags: ['nightly-3'], pushed: 1 }],
    expect: { N2: 2 },
  },
  {
    name: 'multi-tag image counts once',
    proves: 'an image with several matching tags is one image in the count',
    policy: policy(rule(1, { ...tagged({ tagPrefixList: ['v'] }), ...keep(2) })),
    images: [{ id: 'A', tags: ['v1', 'v1.0', 'v1.0.0'], pushed: 3 }, { id: 'B', tags: ['v2'], pushed: 2 }, { id: 'C', tags: ['v3', 'v3.0'], pushed: 1 }],
    expect: { A: 1 },
  },
  {
    name: 'untagged then tagged rules',
    proves: 'an untagged rule and a tagged rule act on disjoint sets',
    policy: policy(rule(1, { ...untagged, ...keep(1) }), rule(2, { ...tagged({ tagPatternList: ['*'] }), ...keep(1) })),
    images: [{ id: 'U1', pushed: 4 }, { id: 'U2', pushed: 3 }, { id: 'T1', tags: ['a'], pushed: 2 }, { id: 'T2', tags: ['b'], pushed: 1 }],
    expect: { U1: 1, T1: 2 },
  },
  {
    name: 'empty repository',
    proves: 'a policy over no images expires nothing',
    policy: policy(rule(1, { ...any, ...keep(1) })),
    images: [],
    expect: {},
  },
  // --- Image indexes ----------------------------------------------------------------------------------------
  {
    name: 'index: children of a kept index',
    proves: 'untagged manifests a kept index lists are kept although an untagged rule would expire them',
    policy: policy(rule(1, { ...untagged, ...pushedOlder(1) })),
    images: [{ id: 'I', tags: ['v1'], pushed: 5, children: ['C1', 'C2'] }, { id: 'C1', pushed: 6 }, { id: 'C2', pushed: 6 }, { id: 'S', pushed: 7 }],
    expect: { S: 1 },
  },
  {
    name: 'index: expired index takes its children',
    proves: 'the untagged children of an expired index expire with it, after it in deletion order',
    policy: policy(rule(1, { ...tagged({ tagPrefixList: ['v'] }), ...keep(1) })),
    images: [
      { id: 'A1', pushed: 11 }, { id: 'A2', pushed: 11 }, { id: 'I1', tags: ['v1'], pushed: 10, children: ['A1', 'A2'] },
      { id: 'B1', pushed: 2 }, { id: 'B2', pushed: 2 }, { id: 'I2', tags: ['v2'], pushed: 1, children: ['B1', 'B2'] },
    ],
    expect: { I1: 1, A1: 1, A2: 1 },
    order: ['I1', 'A1'],
  },
  {
    name: 'index: shared child',
    proves: 'a manifest listed by an expired index and a kept one is kept; one listed only by the expired index goes',
    policy: policy(rule(1, { ...tagged({ tagPrefixList: ['v'] }), ...keep(1) })),
    images: [{ id: 'X', pushed: 12 }, { id: 'Y', pushed: 12 }, { id: 'I1', tags: ['v1'], pushed: 10, children: ['X', 'Y'] }, { id: 'I2', tags: ['v2'], pushed: 1, children: ['X'] }],
    expect: { I1: 1, Y: 1 },
  },
  {
    name: 'index: tagged child of a kept index',
    proves: 'a tagged platform manifest a rule would expire stays while a kept index lists it',
    policy: policy(rule(1, { ...tagged({ tagPatternList: ['amd64*'] }), ...pushedOlder(1) })),
    images: [{ id: 'C', tags: ['amd64-1'], pushed: 2 }, { id: 'I', tags: ['latest'], pushed: 1, children: ['C'] }, { id: 'D', tags: ['amd64-0'], pushed: 3 }],
    expect: { D: 1 },
  },
  {
    name: 'index: children are not counted',
    proves: "an untagged count rule counts stray untagged images only, not the platform manifests of an index",
    policy: policy(rule(1, { ...untagged, ...keep(1) })),
    images: [{ id: 'S1', pushed: 5 }, { id: 'S2', pushed: 4 }, { id: 'c1', pushed: 1 }, { id: 'c2', pushed: 1 }, { id: 'c3', pushed: 1 }, { id: 'I', tags: ['v1'], pushed: 1, children: ['c1', 'c2', 'c3'] }],
    expect: { S1: 1 },
  },
  {
    name: 'index: untagged index expires with its children',
    proves: 'an untagged index is selected by an untagged rule and takes its children along',
    policy: policy(rule(1, { ...untagged, ...pushedOlder(10) })),
    images: [{ id: 'c1', pushed: 20 }, { id: 'I', pushed: 20, children: ['c1'] }, { id: 'J', pushed: 5, children: ['c2'] }, { id: 'c2', pushed: 5 }],
    expect: { I: 1, c1: 1 },
    order: ['I', 'c1'],
  },
  // --- Referrers ---------------------------------------------------------------------------------------------
  {
    name: 'referrers: follow their subject',
    proves: 'signatures are never selected themselves: one of an expired image expires with it (same rule), one of a kept image stays',
    policy: policy(rule(1, { ...tagged({ tagPrefixList: ['v'] }), ...keep(1) }), rule(2, { ...untagged, ...pushedOlder(1) })),
    images: [{ id: 'T1', tags: ['v1'], pushed: 20 }, { id: 'T2', tags: ['v2'], pushed: 0.1 }, { id: 'SIG1', subject: 'T1', pushed: 19 }, { id: 'SIG2', subject: 'T2', pushed: 0.1 }, { id: 'SIG0', subject: 'T2', pushed: 9 }, { id: 'U', pushed: 10 }],
    expect: { T1: 1, SIG1: 1, U: 2 },
    order: ['SIG1', 'T1'],
  },
  {
    name: 'referrers: chains',
    proves: 'a signature of an SBOM of an image follows the image; deletion goes signature, SBOM, image',
    policy: policy(rule(1, { ...any, ...keep(1) })),
    images: [{ id: 'IMG', tags: ['a'], pushed: 10 }, { id: 'SBOM', subject: 'IMG', pushed: 9 }, { id: 'SSIG', subject: 'SBOM', pushed: 8 }, { id: 'NEW', tags: ['b'], pushed: 1 }],
    expect: { IMG: 1, SBOM: 1, SSIG: 1 },
    order: ['SSIG', 'SBOM', 'IMG'],
  },
  {
    name: 'referrers: not counted',
    proves: "referrers are left out of counts: 'any' keep 2 keeps two images, not an image and its signature",
    policy: policy(rule(1, { ...any, ...keep(2) })),
    images: [{ id: 'A', tags: ['a'], pushed: 3 }, { id: 'B', tags: ['b'], pushed: 2 }, { id: 'C', tags: ['c'], pushed: 1 }, { id: 'SIGC', subject: 'C', pushed: 0.5 }],
    expect: { A: 1 },
  },
  {
    name: 'referrers: cosign tags',
    proves: 'tag-based cosign signatures (sha256-<hex>.sig) follow the image they name',
    policy: policy(rule(1, { ...tagged({ tagPrefixList: ['v'] }), ...keep(1) }), rule(2, { ...any, ...keep(2) })),
    images: [{ id: 'T1', tags: ['v1'], pushed: 10 }, { id: 'T2', tags: ['v2'], pushed: 1 }, { id: 'S1', tags: [cosignTag('T1', 'sig')], pushed: 9 }, { id: 'S2', tags: [cosignTag('T2', 'sig')], pushed: 0.5 }, { id: 'A2', tags: [cosignTag('T2', 'att')], pushed: 0.4 }],
    expect: { T1: 1, S1: 1 },
  },
  {
    name: 'referrers: dangling subject',
    proves: 'a referrer whose subject is not in the repository is an ordinary image',
    policy: policy(rule(1, { ...untagged, ...pushedOlder(1) })),
    images: [{ id: 'ORPHAN', subject: 'GONE', pushed: 5 }, { id: 'T', tags: ['t'], pushed: 5 }],
    expect: { ORPHAN: 1 },
  },
  {
    name: 'referrers: of an index child',
    proves: 'a signature of a platform manifest follows that manifest, which follows its index',
    policy: policy(rule(1, { ...tagged({ tagPrefixList: ['v'] }), ...keep(1) })),
    images: [{ id: 'C', pushed: 11 }, { id: 'I', tags: ['v1'], pushed: 10, children: ['C'] }, { id: 'SIG', subject: 'C', pushed: 9 }, { id: 'J', tags: ['v2'], pushed: 1 }],
    expect: { I: 1, C: 1, SIG: 1 },
    order: ['I', 'SIG', 'C'],
  },
  // --- Extensions (docs/lifecycle.md) -----------------------------------------------------------------------
  {
    name: 'extension: tagRegexList',
    proves: 'regular-expression selection matches whole tags: strict semver tags only, v1.2 and v1.2.3-rc are not selected',
    policy: policy(rule(1, { ...tagged({ tagRegexList: ['v[0-9]+\\.[0-9]+\\.[0-9]+'] }), ...keep(1) })),
    images: [{ id: 'A', tags: ['v1.0.0'], pushed: 4 }, { id: 'B', tags: ['v1.2'], pushed: 3 }, { id: 'C', tags: ['v1.2.3-rc'], pushed: 2 }, { id: 'D', tags: ['v2.0.0'], pushed: 1 }],
    expect: { A: 1 },
  },
  {
    name: 'extension: tagRegexList, every regex',
    proves: 'like prefixes and patterns, several regexes each need a matching tag',
    policy: policy(rule(1, { ...tagged({ tagRegexList: ['[0-9a-f]{7}', 'branch-.+'] }), ...pushedOlder(1) })),
    images: [{ id: 'A', tags: ['1a2b3c4', 'branch-x'], pushed: 5 }, { id: 'B', tags: ['1a2b3c4x'], pushed: 5 }, { id: 'C', tags: ['branch-y'], pushed: 5 }],
    expect: { A: 1 },
  },
  {
    name: 'extension: protectedTags keeps and is not counted',
    proves: 'an image with a protected tag is never expired and does not take one of the N places of a count',
    policy: { ...policy(rule(1, { ...any, ...keep(1) })), protectedTags: { tagPatternList: ['release-*'] } },
    images: [{ id: 'R', tags: ['release-1'], pushed: 0.5 }, { id: 'OLDR', tags: ['x', 'release-0'], pushed: 90 }, { id: 'A', tags: ['a'], pushed: 5 }, { id: 'B', tags: ['b'], pushed: 1 }],
    expect: { A: 1 },
  },
  {
    name: 'extension: protectedTags regex covers indexes and referrers',
    proves: 'a protected index keeps its children and its signatures',
    policy: { ...policy(rule(1, { ...any, ...pushedOlder(1) })), protectedTags: { tagRegexList: ['prod-[0-9]+'] } },
    images: [{ id: 'c', pushed: 30 }, { id: 'I', tags: ['prod-7'], pushed: 30, children: ['c'] }, { id: 'SIG', subject: 'I', pushed: 30 }, { id: 'OTHER', tags: ['prod-x'], pushed: 30 }],
    expect: { OTHER: 1 },
  },
  {
    name: 'extension: keep the N most recently pulled',
    proves: 'countOrderBy lastPulledAt keeps the images pulled last (never pulled rank last), whatever their push time',
    policy: policy(rule(1, { ...any, ...keep(2, { countOrderBy: 'lastPulledAt' }) })),
    images: [{ id: 'A', tags: ['a'], pushed: 10, pulled: 1 }, { id: 'B', tags: ['b'], pushed: 1 }, { id: 'C', tags: ['c'], pushed: 5, pulled: 3 }, { id: 'D', tags: ['d'], pushed: 2, pulled: 20 }],
    expect: { B: 1, D: 1 },
  },
  {
    name: 'extension: countOrderBy pushedAt is ECR',
    proves: 'countOrderBy pushedAt means exactly what imageCountMoreThan means without it',
    policy: policy(rule(1, { ...any, ...keep(2, { countOrderBy: 'pushedAt' }) })),
    images: [{ id: 'A', tags: ['a'], pushed: 10, pulled: 1 }, { id: 'B', tags: ['b'], pushed: 1 }, { id: 'C', tags: ['c'], pushed: 5, pulled: 3 }],
    expect: { A: 1 },
  },
];

const base = (selection: Sel) => ({ rules: [rule(1, selection)] });

export const invalidCases: InvalidCase[] = [
  { name: 'not JSON', proves: 'text that is not JSON is refused with ECR\'s mapping error', policy: '{"rules": [' + ' '.repeat(100), error: 'Could not map policyString into LifecyclePolicy.' },
  { name: 'not an object', proves: 'a JSON array is not a policy', policy: [{ rules: [] }], error: 'instance type (array) does not match any allowed primitive type (allowed: ["object"])' },
  { name: 'no rules', proves: 'rules is required', policy: { description: 'x' }, error: 'object instance has properties which are not allowed by the schema: (["description"])' },
  { name: 'missing rules', proves: 'an empty object lacks rules', policy: {}, error: 'object has missing required properties (["rules"])' },
  { name: 'empty rules', proves: 'at least one rule', policy: { rules: [] }, error: 'array is too short: must have at least 1 elements but instance has 0 elements' },
  { name: 'rules null', proves: 'rules must be an array', policy: { rules: null }, error: 'instance type (null) does not match any allowed primitive type (allowed: ["array"])' },
  { name: 'unknown rule member', proves: 'rules take only ECR\'s members', policy: { rules: [{ ...rule(1, { ...any, ...keep(1) }), priority: 2 }] }, error: 'object instance has properties which are not allowed by the schema: (["priority"])' },
  { name: 'rule missing parts', proves: 'selection and action are required (names sorted)', policy: { rules: [{ rulePriority: 1 }] }, error: 'object has missing required properties (["action","selection"])' },
  { name: 'priority 0', proves: 'rulePriority ≥ 1', policy: { rules: [rule(0, { ...any, ...keep(1) })] }, error: 'numeric instance is lower than the required minimum (minimum: 1, found: 0)' },
  { name: 'priority string', proves: 'rulePriority is an integer', policy: { rules: [{ ...rule(1, { ...any, ...keep(1) }), rulePriority: '1' }] }, error: 'instance type (string) does not match any allowed primitive type (allowed: ["integer"])' },
  { name: 'duplicate priority', proves: 'rulePriority values are unique', policy: { rules: [rule(1, { ...untagged, ...keep(1) }), rule(1, { ...tagged({ tagPrefixList: ['a'] }), ...keep(1) })] }, error: 'rulePriority 1 is used by more than one rule' },
  { name: 'tagStatus upper case', proves: 'policy JSON enums are lower case', policy: base({ tagStatus: 'TAGGED', tagPrefixList: ['a'], ...keep(1) }), error: 'instance value ("TAGGED") not found in enum (possible values: ["tagged","untagged","any"])' },
  { name: 'countType unknown', proves: 'countType is one of ECR\'s', policy: base({ ...any, countType: 'imageCountLessThan', countNumber: 1 }), error: 'instance value ("imageCountLessThan") not found in enum' },
  { name: 'countUnit with a count', proves: 'countUnit is not allowed with imageCountMoreThan', policy: base({ ...any, ...keep(1), countUnit: 'days' }), error: 'instance failed to match exactly one schema (matched 0 out of 2)' },
  { name: 'age without countUnit', proves: 'sinceImagePushed needs countUnit', policy: base({ ...any, countType: 'sinceImagePushed', countNumber: 1 }), error: 'instance failed to match exactly one schema (matched 0 out of 2)' },
  { name: 'countUnit hours', proves: 'days is the only unit', policy: base({ ...any, ...pushedOlder(1), countUnit: 'hours' }), error: 'instance value ("hours") not found in enum (possible values: ["days"])' },
  { name: 'countNumber 0', proves: 'countNumber ≥ 1', policy: base({ ...any, ...keep(0) }), error: 'numeric instance is lower than the required minimum (minimum: 1, found: 0)' },
  { name: 'countNumber fractional', proves: 'countNumber is an integer', policy: base({ ...any, ...keep(1.5) }), error: 'instance type (number) does not match any allowed primitive type (allowed: ["integer"])' },
  { name: 'null countUnit', proves: 'a null member (as Terraform writes) fails both selection schemas', policy: base({ ...any, ...keep(1), countUnit: null }), error: 'instance failed to match exactly one schema (matched 0 out of 2)' },
  { name: 'null targetStorageClass', proves: 'a null action member is refused', policy: { rules: [{ ...rule(1, { ...any, ...keep(1) }), action: { type: 'expire', targetStorageClass: null } }] }, error: 'instance failed to match exactly one schema (matched 0 out of 2)' },
  { name: 'tagged without a list', proves: 'tagged needs tagPrefixList or tagPatternList', policy: base({ tagStatus: 'tagged', ...keep(1) }), error: "tagPrefixList or tagPatternList is required when tagStatus is 'tagged'" },
  { name: 'untagged with a list', proves: 'untagged takes no tag lists', policy: base({ ...untagged, tagPrefixList: ['a'], ...keep(1) }), error: "can only be specified when tagStatus is 'tagged'" },
  { name: 'both lists', proves: 'tagPrefixList and tagPatternList cannot be combined', policy: base({ ...tagged({ tagPrefixList: ['a'], tagPatternList: ['b*'] }), ...keep(1) }), error: 'only one of tagPrefixList, tagPatternList and tagRegexList' },
  { name: 'five wildcards', proves: 'at most four * per pattern', policy: base({ ...tagged({ tagPatternList: ['a*b*c*d*e*f'] }), ...keep(1) }), error: "has 5 wildcards; at most 4 are allowed" },
  { name: 'empty list', proves: 'tag lists are not empty', policy: base({ ...tagged({ tagPrefixList: [] }), ...keep(1) }), error: 'array is too short' },
  { name: "'any' not last", proves: "a rule with tagStatus 'any' must have the highest rulePriority", policy: { rules: [rule(1, { ...any, ...keep(1) }), rule(2, { ...untagged, ...keep(1) })] }, error: "the rule with tagStatus 'any' (rulePriority 1) must have the highest rulePriority" },
  { name: 'two untagged rules', proves: 'only one rule may select untagged images', policy: { rules: [rule(1, { ...untagged, ...keep(1) }), rule(2, { ...untagged, ...pushedOlder(3) })] }, error: 'only one rule can select untagged images' },
  { name: 'same prefixes twice', proves: 'rules must have a unique set of tag prefixes', policy: { rules: [rule(1, { ...tagged({ tagPrefixList: ['a', 'b'] }), ...keep(1) }), rule(2, { ...tagged({ tagPrefixList: ['b', 'a'] }), ...pushedOlder(3) })] }, error: 'unique set of tag prefixes' },
  { name: 'action delete', proves: 'expire is the action', policy: { rules: [{ ...rule(1, { ...any, ...keep(1) }), action: { type: 'delete' } }] }, error: 'instance value ("delete") not found in enum (possible values: ["expire","transition"])' },
  { name: 'transition', proves: 'ECR\'s archive transition is refused (no archive storage class here)', policy: { rules: [{ ...rule(1, { ...any, ...keep(1) }), action: { type: 'transition', targetStorageClass: 'archive' } }] }, error: 'the transition action' },
  { name: 'bad regex', proves: 'an invalid regular expression (extension) is refused with the parser\'s reason', policy: base({ ...tagged({ tagRegexList: ['(unclosed'] }), ...keep(1) }), error: "tagRegexList entry '(unclosed' is not a valid regular expression" },
  { name: 'countOrderBy with age', proves: 'countOrderBy (extension) only applies to counts', policy: base({ ...any, ...pushedOlder(3), countOrderBy: 'lastPulledAt' }), error: 'countOrderBy can only be used with countType imageCountMoreThan' },
  { name: 'text too short', proves: 'lifecyclePolicyText is at least 100 characters, as the model says', policy: '{"rules":[]}', error: "Invalid parameter at 'lifecyclePolicyText' failed to satisfy constraint: 'Member must have length greater than or equal to 100'" },
];
