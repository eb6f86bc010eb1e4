import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { jsonDepth, MAX_JSON_DEPTH, parseBoundedJson } from './json.ts';

/** Reference depth of a parsed value. */
function depthOf(v: unknown): number {
  if (Array.isArray(v)) return 1 + Math.max(0, ...v.map(depthOf));
  if (v && typeof v === 'object') return 1 + Math.max(0, ...Object.values(v).map(depthOf));
  return 0;
}

test('jsonDepth agrees with the depth of the parsed value (strings with brackets and escapes included)', () => {
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 8 }), (v) => {
    const text = JSON.stringify(v);
    assert.equal(jsonDepth(text, 100), depthOf(v));
  }), { seed: 42, numRuns: 500 });
});

test('parseBoundedJson parses documents within the limit like JSON.parse', () => {
  const doc = { a: [1, { b: '[[[{{{"\\\\' }], c: null };
  assert.deepEqual(parseBoundedJson(JSON.stringify(doc)), doc);
  const deepest = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
  assert.equal(depthOf(parseBoundedJson(deepest)), MAX_JSON_DEPTH);
});

test('parseBoundedJson refuses deeper nesting with a SyntaxError, without parsing', () => {
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  assert.throws(() => parseBoundedJson(deep), (e: unknown) => e instanceof SyntaxError && /deeper than 32/.test((e as Error).message));
  assert.throws(() => parseBoundedJson('{"a":'.repeat(40) + '1' + '}'.repeat(40), 32), SyntaxError);
  // Bad syntax still fails as JSON.parse fails.
  assert.throws(() => parseBoundedJson('{"a":'), SyntaxError);
});
