import { setFlagsFromString } from 'node:v8';

/**
 * V8 heap growth for `cargohold serve` (docs/performance.md, "Garbage collection and encrypted pulls").
 *
 * Every decrypted segment comes back from Node's cipher as a new 256 KiB buffer, so an encrypted pull turns
 * over its whole size in short-lived external memory. V8 (11.x, Node 20) counts external memory allocated since
 * the last full collection against the old generation's limit, and after a quiet spell its memory reducer
 * shrinks that limit to about 1.1× the live heap: some 10 MB of headroom for a ~25 MB heap, less than the ~32 MB
 * of dead buffers that pile up between two scavenges. From then on every pull runs one full mark-compact
 * after another (8–10 per 256 MiB, measured), and the pull costs twice the CPU. Letting the old generation
 * grow to 3× its live size after a collection keeps the headroom above that churn; the heap of a registry
 * node is small (tens of MB), so the cost is a few tens of MB of address space, not a growing footprint.
 */
export const HEAP_GROWING_PERCENT = 200;

/**
 * Applies {@link HEAP_GROWING_PERCENT} unless the operator chose their own (`node --heap-growing-percent=N`).
 * The flag is read by V8 each time it recomputes the heap's limits, so setting it at startup takes effect for
 * every collection after. Returns whether it was applied.
 */
export function tuneHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((a) => /^--heap[-_]growing[-_]percent(=|$)/.test(a))) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
