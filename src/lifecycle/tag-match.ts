import { RE2JS } from 're2js';
import { wildcardMatches } from '../registry/repositories.ts';

/**
 * Tag selection primitives of lifecycle rules. Every list is an AND over its entries, each entry an OR over
 * the image's tags (ECR: "only the images with all specified tags are selected").
 */

/** A compiled regular expression for whole-tag matching (RE2: linear time whatever the pattern). */
export interface TagRegex {
  readonly source: string;
  matches(tag: string): boolean;
}

/** Compiles RE2 syntax; throws with the parser's message when invalid. */
export function compileTagRegex(source: string): TagRegex {
  const re = RE2JS.compile(source);
  return { source, matches: (tag) => re.matches(tag) };
}

/** Every prefix starts at least one tag. */
export function prefixesMatch(prefixes: readonly string[], tags: readonly string[]): boolean {
  return prefixes.every((p) => tags.some((t) => t.startsWith(p)));
}

/** Every pattern (`*` = any run of characters) matches at least one whole tag. */
export function patternsMatch(patterns: readonly string[], tags: readonly string[]): boolean {
  return patterns.every((p) => tags.some((t) => wildcardMatches(p, t)));
}

/** Every regular expression matches at least one whole tag. */
export function regexesMatch(regexes: readonly TagRegex[], tags: readonly string[]): boolean {
  return regexes.every((r) => tags.some((t) => r.matches(t)));
}

/** The first tag matching any pattern or regex (protection), or undefined. */
export function firstMatchingTag(tags: readonly string[], patterns: readonly string[], regexes: readonly TagRegex[]): string | undefined {
  return tags.find((t) => patterns.some((p) => wildcardMatches(p, t)) || regexes.some((r) => r.matches(t)));
}
