import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getOrCreateBounded, setBounded } from './bounded-map.ts';

test('setBounded stores and returns the value, emptying the map once it is over the bound', () => {
  const m = new Map<string, number>();
  for (let i = 0; i < 3; i++) assert.equal(setBounded(m, `k${i}`, i, 2), i);
  assert.equal(m.size, 3);
  setBounded(m, 'k3', 3, 2);
  assert.deepEqual([...m], [['k3', 3]]);
});

test('getOrCreateBounded makes a value once, and keeps falsy values such as null', () => {
  const m = new Map<string, number | null>();
  let made = 0;
  const make = () => { made++; return null; };
  assert.equal(getOrCreateBounded(m, 'a', 10, make), null);
  assert.equal(getOrCreateBounded(m, 'a', 10, make), null);
  assert.equal(made, 1);
});
