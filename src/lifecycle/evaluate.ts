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

const byNewestPush = (a: LifecycleImage, b: LifecycleImage) => b.pushedAt.getTime() - a.pushedAt.getTime() || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0);
const byNewestPull = (a: LifecycleImage, b: LifecycleImage) => (b.lastPulledAt?.getTime() ?? -Infinity) - (a.lastPulledAt?.getTime() ?? -Infinity) || byNewestPush(a, b);

/** The matching images the rule's count criterion expires, each with its reason; and the reason the others stay. */
function applyCount(rule: LifecycleRule, matching: LifecycleImage[], now: Date): { expire: Map<string, string>; keep: Map<string, string> } {
  const s = rule.selection;
  const expire = new Map<string, string>();
  const keep = new Map<string, string>();
  const name = ruleName(rule);
  if (s.countType === 'imageCountMoreThan') {
    const byPull = s.countOrderBy === 'lastPulledAt';
    const sorted = [...matching].sort(byPull ? byNewestPull : byNewestPush);
    const order = byPull ? 'most recently pulled' : 'newest';
    sorted.forEach((img, i) => {
      const text = `${name}: ${ordinal(i + 1)} ${order} of ${sorted.length} matching images (imageCountMoreThan ${s.countNumber})`;
      (i >= s.countNumber ? expire : keep).set(img.digest, text);
    });
    return { expire, keep };
  }
  const limit = s.countNumber * DAY_MS;
  for (const img of matching) {
    if (s.countType === 'sinceImagePushed') {
      const age = now.getTime() - img.pushedAt.getTime();
      (age > limit ? expire : keep).set(img.digest, `${name}: pushed ${days(age)} ago (sinceImagePushed ${s.countNumber} days)`);
    } else {
      const at = img.lastPulledAt ?? img.pushedAt;
      const age = now.getTime() - at.getTime();
      const what = img.lastPulledAt ? `last pulled ${days(age)} ago` : `never pulled, pushed ${days(age)} ago`;
      (age > limit ? expire : keep).set(img.digest, `${name}: ${what} (sinceImagePulled ${s.countNumber} days)`);
    }
  }
  return { expire, keep };
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
  const candidates: LifecycleImage[] = [];
  for (const img of images) {
    if (subjectOf.has(img.digest)) continue;
    if (img.tags.length === 0 && parents.has(img.digest)) continue;
    const guard = protectedPatterns.length || protectedRegexes.length ? firstMatchingTag(img.tags, protectedPatterns, protectedRegexes) : undefined;
    if (guard !== undefined) {
      decided.set(img.digest, { action: 'keep', rulePriority: null, reason: `protected by tag '${guard}' (protectedTags)` });
      continue;
    }
    candidates.push(img);
  }

  const claimed = new Set<string>();
  for (const rule of policy.rules) {
    const matching = candidates.filter((img) => selects(policy, rule, img));
    const { expire, keep } = applyCount(rule, matching, now);
    for (const img of matching) {
      if (claimed.has(img.digest)) continue;
      claimed.add(img.digest);
      const reason = expire.get(img.digest);
      if (reason !== undefined) decided.set(img.digest, { action: 'expire', rulePriority: rule.rulePriority, reason });
      else decided.set(img.digest, { action: 'keep', rulePriority: rule.rulePriority, reason: keep.get(img.digest)! });
    }
  }
  for (const img of candidates) {
    if (!decided.has(img.digest)) decided.set(img.digest, { action: 'keep', rulePriority: null, reason: 'selected by no rule' });
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

  const ordered = [...images].sort((a, b) => a.pushedAt.getTime() - b.pushedAt.getTime() || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  const decisions: ImageDecision[] = ordered.map((img) => ({ digest: img.digest, tags: img.tags, pushedAt: img.pushedAt, ...resolve(img.digest) }));
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
    const out = img.children.filter((c) => c !== digest && set.has(c));
    const s = subjectOf.get(digest);
    if (s !== undefined && set.has(s)) out.push(s);
    return out;
  };
  const incoming = new Map<string, number>(expired.map((d) => [d.digest, 0]));
  for (const d of expired) for (const t of pointsAt(d.digest)) incoming.set(t, incoming.get(t)! + 1);
  const ready = expired.filter((d) => incoming.get(d.digest) === 0);
  const out: ImageDecision[] = [];
  const queued = new Set(ready.map((d) => d.digest));
  for (let i = 0; i < ready.length; i++) {
    const d = ready[i]!;
    out.push(d);
    for (const t of pointsAt(d.digest)) {
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
