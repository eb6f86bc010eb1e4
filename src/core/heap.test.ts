import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tuneHeapGrowth } from './heap.ts';

describe('heap growth tuning', () => {
  it('applies the registry default', () => {
    assert.equal(tuneHeapGrowth([]), true);
    assert.equal(tuneHeapGrowth(['--enable-source-maps']), true);
  });
  it("leaves an operator's own --heap-growing-percent alone", () => {
    assert.equal(tuneHeapGrowth(['--heap-growing-percent=50']), false);
    assert.equal(tuneHeapGrowth(['--heap_growing_percent=150']), false);
  });
});
