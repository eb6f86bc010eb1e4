import type { LifecyclePolicy, LifecycleRule } from './policy.ts';
import { firstMatchingTag, patternsMatch, prefixesMatch, regexesMatch, type TagRegex } from './tag-match.ts';

/**
 * The lifecycle evaluator: a pure function of (policy, images, now). Preview and apply both call it; apply
 * then deletes the images it expires (see service.ts), preview only stores the answer.
 *
 * ECR's rules (docs/lifecycle.md):
 * - rules are evaluated against one snapshot, in rulePriority order (lowest first);
 * - an image is expired by at most one rule; an image that matches the tag requirements of a rule cannot be
 *   expired by any later rule (it is "claimed"), but later rules still count it;
 * - imageCountMoreThan N keeps the newest N matching images by push time; sinceImagePushed / sinceImagePulled
 *   N days expire matching images pushed / last pulled more than N days before `now` (never pulled: push time).
 * Relations between manifests (cargohold's treatment, as ECR leaves it unspecified):
 * - referrers (an OCI `subject`, or a cosign-style `sha256-<hex>.sig|.att|.sbom` tag naming an image here)
 *   are not selected by rules: they follow their subject (expired with it, kept with it);
 * - an untagged manifest listed by an index follows the index (expired when every index listing it expires);
 *   a tagged one is selected by rules like any image; either way, a manifest a kept index lists is kept.
 */

/** What the evaluator needs to know about one image (manifest) of the repository. */
export interface LifecycleImage {
  digest: string;
  /** Tags pointing at it (any order). */
  tags: readonly string[];
  pushedAt: Date;
  lastPulledAt: Date | null;
  mediaType: string;
  /** Digest of the manifest this one refers to (OCI referrers), or null. */
  subject: string | null;
  /** Manifests this one lists (an image index / manifest list), else empty. */
  children: readonly string[];
}

export type LifecycleAction = 'expire' | 'keep';

/** The outcome for one image, with the rule that decided and why. */
export interface ImageDecision {
  digest: string;
  tags: readonly string[];
  pushedAt: Date;
  action: LifecycleAction;
  /** The rule that expired the image (or that claimed it and kept it); null when no rule selected it. */
  rulePriority: number | null;
  reason: string;
}

export interface Evaluation {
  /** One decision per image, oldest push first (ties by digest). */
  decisions: ImageDecision[];
  /** The expired ones, in a safe deletion order: an index before what it lists, a referrer before its subject. */
  expired: ImageDecision[];
}

const DAY_MS = 86_400_000;
const COSIGN_TAG = /^(sha256|sha512)-([0-9a-f]{64}|[0-9a-f]{128})(\.[A-Za-z0-9_-]+)?$/;

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${s}`;
}

function days(ms: number): string {
  return `${(ms / DAY_MS).toFixed(1)} days`;
}

function ruleName(rule: LifecycleRule): string {
  return rule.description ? `rule ${rule.rulePriority} (${rule.description})` : `rule ${rule.rulePriority}`;
}

function regexesOf(policy: LifecyclePolicy, sources: readonly string[] | undefined): TagRegex[] {
  return (sources ?? []).map((s) => policy.regexes.get(s)!);
}

/** Whether the rule's tag requirements select the image. */
function selects(policy: LifecyclePolicy, rule: LifecycleRule, image: LifecycleImage): boolean {
  const s = rule.selection;
  switch (s.tagStatus) {
    case 'any':
      return true;
    case 'untagged':
      return image.tags.length === 0;
    case 'tagged':
      if (image.tags.length === 0) return false;
      if (s.tagPrefixList) return prefixesMatch(s.tagPrefixList, image.tags);
      if (s.tagPatternList) return patternsMatch(s.tagPatternList, image.tags);
      return regexesMatch(regexesOf(policy, s.tagRegexList), image.tags);
  }
}

/** An image with its times as numbers (sorting 100,000 images compares numbers, not Dates). */
interface Timed {
  img: LifecycleImage;
  pushed: number;
  /** -Infinity when never pulled. */
  pulled: number;
}

const byNewestPush = (a: Timed, b: Timed) => b.pushed - a.pushed || (a.img.digest < b.img.digest ? -1 : a.img.digest > b.img.digest ? 1 : 0);
const byNewestPull = (a: Timed, b: Timed) => b.pulled - a.pulled || byNewestPush(a, b);

/**
 * Applies the rule's count criterion to the matching images, calling `decide` for each with whether it is
 * expired and a reason builder (reasons are only built for the images this rule decides: most images a later
 * rule matches were claimed earlier and need none).
 */
function applyCount(rule: LifecycleRule, matching: Timed[], now: number, decide: (t: Timed, expire: boolean, reason: () => string) => void): void {
  const s = rule.selection;
  const name = ruleName(rule);
  if (s.countType === 'imageCountMoreThan') {
    const byPull = s.countOrderBy === 'lastPulledAt';
    matching.sort(byPull ? byNewestPull : byNewestPush);
    const order = byPull ? 'most recently pulled' : 'newest';
    const total = matching.length;
    for (let i = 0; i < total; i++) {
      decide(matching[i]!, i >= s.countNumber, () => `${name}: ${ordinal(i + 1)} ${order} of ${total} matching images (imageCountMoreThan ${s.countNumber})`);
    }
    return;
  }
  const limit = s.countNumber * DAY_MS;
  for (const t of matching) {
    if (s.countType === 'sinceImagePushed') {
      const age = now - t.pushed;
      decide(t, age > limit, () => `${name}: pushed ${days(age)} ago (sinceImagePushed ${s.countNumber} days)`);
    } else {
      const pulled = t.pulled !== -Infinity;
      const age = now - (pulled ? t.pulled : t.pushed);
      decide(t, age > limit, () => `${name}: ${pulled ? `last pulled ${days(age)} ago` : `never pulled, pushed ${days(age)} ago`} (sinceImagePulled ${s.countNumber} days)`);
    }
  }
}

/** Evaluates a parsed policy over a snapshot of a repository's images at `now`. Pure: no I/O, no clock. */
export function evaluateLifecyclePolicy(policy: LifecyclePolicy, images: readonly LifecycleImage[], now: Date): Evaluation {
  const byDigest = new Map(images.map((i) => [i.digest, i]));
  const parents = new Map<string, string[]>();
  for (const img of images) {
    for (const c of img.children) {
      if (c === img.digest || !byDigest.has(c)) continue;
      const list = parents.get(c);
      if (list) list.push(img.digest);
      else parents.set(c, [img.digest]);
    }
  }

  // Referrers follow their subject: an OCI subject present here, or a cosign-style tag naming an image here.
  const subjectOf = new Map<string, string>();
  for (const img of images) {
    if (img.subject && img.subject !== img.digest && byDigest.has(img.subject)) {
      subjectOf.set(img.digest, img.subject);
      continue;
    }
    if (img.tags.length === 0) continue;
    let subject: string | undefined;
    for (const t of img.tags) {
      const m = COSIGN_TAG.exec(t);
      const d = m ? `${m[1]}:${m[2]}` : undefined;
      if (!d || d === img.digest || !byDigest.has(d) || (subject !== undefined && subject !== d)) {
        subject = undefined;
        break;
      }
      subject = d;
    }
    if (subject) subjectOf.set(img.digest, subject);
  }

  const decided = new Map<string, { action: LifecycleAction; rulePriority: number | null; reason: string }>();

  // Extension: protected tags take an image out of every rule.
  const protectedPatterns = policy.protectedTags?.tagPatternList ?? [];
  const protectedRegexes = regexesOf(policy, policy.protectedTags?.tagRegexList);
  const candidates: Timed[] = [];
  for (const img of images) {
    if (subjectOf.has(img.digest)) continue;
    if (img.tags.length === 0 && parents.has(img.digest)) continue;
    const guard = protectedPatterns.length || protectedRegexes.length ? firstMatchingTag(img.tags, protectedPatterns, protectedRegexes) : undefined;
    if (guard !== undefined) {
      decided.set(img.digest, { action: 'keep', rulePriority: null, reason: `protected by tag '${guard}' (protectedTags)` });
      continue;
    }
    candidates.push({ img, pushed: img.pushedAt.getTime(), pulled: img.lastPulledAt ? img.lastPulledAt.getTime() : -Infinity });
  }

  const at = now.getTime();
  for (const rule of policy.rules) {
    const matching = candidates.filter((t) => selects(policy, rule, t.img));
    // The first rule whose tag requirements select an image claims it: it decides, later rules only count it.
    applyCount(rule, matching, at, (t, expire, reason) => {
      if (decided.has(t.img.digest)) return;
      decided.set(t.img.digest, { action: expire ? 'expire' : 'keep', rulePriority: rule.rulePriority, reason: reason() });
    });
  }
  for (const t of candidates) {
    if (!decided.has(t.img.digest)) decided.set(t.img.digest, { action: 'keep', rulePriority: null, reason: 'selected by no rule' });
  }

  // Followers and kept indexes, resolved recursively (cycles, which valid content cannot form, resolve to keep).
  const final = new Map<string, { action: LifecycleAction; rulePriority: number | null; reason: string }>();
  const visiting = new Set<string>();
  const resolve = (digest: string): { action: LifecycleAction; rulePriority: number | null; reason: string } => {
    const done = final.get(digest);
    if (done) return done;
    if (visiting.has(digest)) return { action: 'keep', rulePriority: null, reason: 'part of a reference cycle' };
    visiting.add(digest);
    let out: { action: LifecycleAction; rulePriority: number | null; reason: string };
    const subject = subjectOf.get(digest);
    const ps = parents.get(digest) ?? [];
    if (subject !== undefined) {
      const s = resolve(subject);
      out = s.action === 'expire'
        ? { action: 'expire', rulePriority: s.rulePriority, reason: `referrer of ${subject}, which rule ${s.rulePriority} expires` }
        : { action: 'keep', rulePriority: null, reason: `referrer of ${subject}, which is kept` };
    } else {
      // Undefined for an untagged manifest an index lists: it follows the index.
      const own = decided.get(digest);
      const keptParent = ps.find((p) => resolve(p).action === 'keep');
      if (keptParent !== undefined && (own === undefined || own.action === 'expire')) {
        out = { action: 'keep', rulePriority: own?.rulePriority ?? null, reason: `listed by index ${keptParent}, which is kept` };
      } else if (own === undefined) {
        const p = resolve(ps[0]!);
        out = { action: 'expire', rulePriority: p.rulePriority, reason: `listed only by expired index${ps.length > 1 ? 'es' : ''} ${ps.join(', ')} (rule ${p.rulePriority})` };
      } else {
        out = own;
      }
    }
    visiting.delete(digest);
    final.set(digest, out);
    return out;
  };

  const ordered = images.map((img) => ({ img, pushed: img.pushedAt.getTime() })).sort((a, b) => a.pushed - b.pushed || (a.img.digest < b.img.digest ? -1 : a.img.digest > b.img.digest ? 1 : 0));
  const decisions: ImageDecision[] = ordered.map(({ img }) => {
    const d = resolve(img.digest);
    return { digest: img.digest, tags: img.tags, pushedAt: img.pushedAt, action: d.action, rulePriority: d.rulePriority, reason: d.reason };
  });
  return { decisions, expired: deletionOrder(decisions.filter((d) => d.action === 'expire'), byDigest, subjectOf) };
}

/**
 * Orders expired images so that nothing is deleted while another expired image still points at it: an index
 * before the manifests it lists, a referrer before its subject (Kahn's algorithm; ties keep push order).
 */
function deletionOrder(expired: ImageDecision[], byDigest: Map<string, LifecycleImage>, subjectOf: Map<string, string>): ImageDecision[] {
  const set = new Map(expired.map((d) => [d.digest, d]));
  // Edges referencing → referenced; count how many expired images reference each one.
  const pointsAt = (digest: string): string[] => {
    const img = byDigest.get(digest)!;
    const out = img.children.length ? img.children.filter((c) => c !== digest && set.has(c)) : [];
    const s = subjectOf.get(digest);
    if (s !== undefined && set.has(s)) out.push(s);
    return out;
  };
  const targets = new Map<string, string[]>(expired.map((d) => [d.digest, pointsAt(d.digest)]));
  const incoming = new Map<string, number>(expired.map((d) => [d.digest, 0]));
  for (const list of targets.values()) for (const t of list) incoming.set(t, incoming.get(t)! + 1);
  const ready = expired.filter((d) => incoming.get(d.digest) === 0);
  const out: ImageDecision[] = [];
  const queued = new Set(ready.map((d) => d.digest));
  for (let i = 0; i < ready.length; i++) {
    const d = ready[i]!;
    out.push(d);
    for (const t of targets.get(d.digest)!) {
      const n = incoming.get(t)! - 1;
      incoming.set(t, n);
      if (n === 0 && !queued.has(t)) {
        queued.add(t);
        ready.push(set.get(t)!);
      }
    }
  }
  // Anything left is in a cycle (not possible with content-addressed manifests); append in push order.
  for (const d of expired) if (!queued.has(d.digest)) out.push(d);
  return out;
}
