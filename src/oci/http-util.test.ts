import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRegistryError } from '../core/errors.ts';
import { pageParams, parseRangeHeader } from './http-util.ts';

describe('parseRangeHeader', () => {
  const cases: Array<[string | undefined, number, ReturnType<typeof parseRangeHeader>]> = [
    [undefined, 10, undefined],
    ['bytes=0-0', 10, { start: 0, end: 0 }],
    ['bytes=2-5', 10, { start: 2, end: 5 }],
    ['bytes=2-', 10, { start: 2, end: 9 }],
    ['bytes=-3', 10, { start: 7, end: 9 }],
    ['bytes=-30', 10, { start: 0, end: 9 }],
    ['bytes=5-100', 10, { start: 5, end: 9 }],
    ['bytes=10-', 10, 'unsatisfiable'],
    ['bytes=10-12', 10, 'unsatisfiable'],
    ['bytes=-0', 10, 'unsatisfiable'],
    ['bytes=0-', 0, 'unsatisfiable'],
    ['bytes=5-2', 10, undefined],
    ['bytes=0-1,3-4', 10, undefined],
    ['items=0-1', 10, undefined],
    ['bytes=-', 10, undefined],
    ['garbage', 10, undefined],
  ];
  for (const [header, size, expected] of cases) {
    it(`${header ?? '(none)'} of ${size} bytes`, () => assert.deepEqual(parseRangeHeader(header, size), expected));
  }
});

describe('pageParams', () => {
  it('reads n and last', () => assert.deepEqual(pageParams(new URLSearchParams('n=5&last=b')), { n: 5, last: 'b' }));
  it('treats missing n as undefined', () => assert.deepEqual(pageParams(new URLSearchParams('')), { n: undefined, last: undefined }));
  for (const bad of ['-1', 'abc', '1.5', '9999999999']) {
    it(`refuses n=${bad}`, () => assert.throws(() => pageParams(new URLSearchParams(`n=${bad}`)), (e) => isRegistryError(e) && e.kind === 'PAGINATION_INVALID'));
  }
});
