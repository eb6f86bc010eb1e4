/**
 * OSV affected-entry evaluation: a version is affected when it is listed in `versions[]` or lies in an
 * interval of an ECOSYSTEM/SEMVER range — events sorted by version, each `introduced` opening an interval
 * that the next `fixed` closes exclusively or the next `last_affected` closes inclusively; `introduced: "0"`
 * is the beginning. Alpine's "not affected" (`introduced 0` + `fixed 0`) is an empty interval.
 */
import { compareVersions, type VersionScheme } from '../versions/index.ts';
import type { OsvAffected } from '../vulndb/osv.ts';

/** The answer for one entry: affected or not, and the version that fixes it (undefined: no fix known). */
export interface AffectedVerdict {
  affected: boolean;
  fixed?: string;
}

interface Interval {
  introduced: string;
  fixed?: string;
  lastAffected?: string;
}

function intervals(events: { introduced?: string; fixed?: string; last_affected?: string }[], scheme: VersionScheme): Interval[] {
  const flat: { kind: 'introduced' | 'fixed' | 'last_affected'; v: string; i: number }[] = [];
  events.forEach((e, i) => {
    if (e.introduced !== undefined) flat.push({ kind: 'introduced', v: e.introduced, i });
    if (e.fixed !== undefined) flat.push({ kind: 'fixed', v: e.fixed, i });
    if (e.last_affected !== undefined) flat.push({ kind: 'last_affected', v: e.last_affected, i });
  });
  const rank = (v: string, kind: string) => (v === '0' && kind === 'introduced' ? -1 : 0);
  flat.sort((a, b) => {
    const ra = rank(a.v, a.kind);
    const rb = rank(b.v, b.kind);
    if (ra !== rb) return ra - rb;
    if (ra === -1) return a.i - b.i;
    return compareVersions(scheme, a.v, b.v) || a.i - b.i;
  });
  const out: Interval[] = [];
  let open: string | undefined;
  for (const e of flat) {
    if (e.kind === 'introduced') {
      if (open === undefined) open = e.v;
    } else if (open !== undefined) {
      out.push(e.kind === 'fixed' ? { introduced: open, fixed: e.v } : { introduced: open, lastAffected: e.v });
      open = undefined;
    }
  }
  if (open !== undefined) out.push({ introduced: open });
  return out;
}

/** Sorted intervals per range (ranges are cached advisory rows, evaluated for many packages and images). */
const intervalCache = new WeakMap<object, Interval[]>();

/** Evaluates one affected entry for an installed version in `scheme` (undefined scheme: only `versions[]`). */
export function evaluateAffected(entry: OsvAffected, version: string, scheme: VersionScheme | undefined, normalizeVersion?: (v: string) => string): AffectedVerdict {
  const normalize = normalizeVersion ?? ((v: string) => v);
  const ranges = (entry.ranges ?? []).filter((r) => r.type === 'ECOSYSTEM' || r.type === 'SEMVER');
  const listed = (entry.versions ?? []).some((v) => normalize(v) === version);
  let fixedForListed: string | undefined;
  if (scheme) {
    for (const r of ranges) {
      let ivs = normalizeVersion ? undefined : intervalCache.get(r);
      if (!ivs) {
        const events = r.events.map((e) => ({
          introduced: e.introduced === undefined ? undefined : e.introduced === '0' ? '0' : normalize(e.introduced),
          fixed: e.fixed === undefined ? undefined : normalize(e.fixed),
          last_affected: e.last_affected === undefined ? undefined : normalize(e.last_affected),
        }));
        ivs = intervals(events, scheme);
        if (!normalizeVersion) intervalCache.set(r, ivs);
      }
      for (const iv of ivs) {
        if (iv.introduced !== '0' && compareVersions(scheme, version, iv.introduced) < 0) continue;
        if (iv.fixed !== undefined) {
          if (compareVersions(scheme, version, iv.fixed) < 0) return { affected: true, fixed: iv.fixed };
          continue;
        }
        if (iv.lastAffected !== undefined && compareVersions(scheme, version, iv.lastAffected) > 0) continue;
        return { affected: true };
      }
      if (listed && fixedForListed === undefined) {
        fixedForListed = ivs.map((iv) => iv.fixed).find((f) => f !== undefined && compareVersions(scheme, version, f) < 0);
      }
    }
  }
  return listed ? { affected: true, fixed: fixedForListed } : { affected: false };
}
