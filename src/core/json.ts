/**
 * Bounded JSON parsing for untrusted input (API bodies, manifests, policy documents). Sizes are bounded where
 * the bytes are read (http/body.ts); this bounds the nesting depth, so no code that walks a parsed document
 * recursively (validation, canonicalisation, logging) can be driven into a stack overflow by `[[[[…]]]]`.
 */

/** Deepest nesting accepted by {@link parseBoundedJson} unless told otherwise (real manifests and policies use < 10). */
export const MAX_JSON_DEPTH = 32;

/**
 * Returns the depth of the deepest array/object nesting in `text` as long as it stays within `limit`, or
 * `limit + 1` as soon as it goes past it. One linear scan that skips string contents (including escaped quotes).
 */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return limit + 1;
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/**
 * `JSON.parse` with a nesting limit. Throws a SyntaxError (as JSON.parse does for bad syntax, so callers'
 * existing handling applies) when the text nests deeper than `maxDepth`.
 */
export function parseBoundedJson(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  if (jsonDepth(text, maxDepth) > maxDepth) throw new SyntaxError(`JSON nests deeper than ${maxDepth} levels`);
  return JSON.parse(text) as unknown;
}
