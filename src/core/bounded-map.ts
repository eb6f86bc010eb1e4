/**
 * Helpers for process-local caches kept in a Map: when a map holds more than `max` entries it is emptied before
 * the next one goes in. A crude bound, enough for caches of derived or re-readable values (keys, parsed
 * versions, verified records) that must not grow without limit in a long-running server.
 */

/** Stores `value` under `key`, emptying `map` first when it is over `max` entries; returns `value`. */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): V {
  if (map.size > max) map.clear();
  map.set(key, value);
  return value;
}

/** The cached value of `key`, or `make()`'s, stored with {@link setBounded}. */
export function getOrCreateBounded<K, V>(map: Map<K, V>, key: K, max: number, make: () => V): V {
  const hit = map.get(key);
  return hit !== undefined ? hit : setBounded(map, key, make(), max);
}
