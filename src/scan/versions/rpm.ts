/**
 * RPM version ordering: rpm 4.18 rpmio/rpmvercmp.c for version and release strings, and EVR comparison
 * (`[epoch:]version[-release]`, epoch missing = 0).
 */

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}
function isAlpha(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
function isAlnum(c: string): boolean {
  return isDigit(c) || isAlpha(c);
}

/** rpmvercmp: negative, zero or positive. */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnum(a[i]!) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAlnum(b[j]!) && b[j] !== '~' && b[j] !== '^') j++;
    const ca = a[i];
    const cb = b[j];
    if (ca === '~' || cb === '~') {
      if (ca !== '~') return 1;
      if (cb !== '~') return -1;
      i++;
      j++;
      continue;
    }
    if (ca === '^' || cb === '^') {
      if (ca === undefined) return -1;
      if (cb === undefined) return 1;
      if (ca !== '^') return 1;
      if (cb !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (ca === undefined || cb === undefined) break;
    const isNum = isDigit(ca);
    const test = isNum ? isDigit : isAlpha;
    let ei = i;
    let ej = j;
    while (ei < a.length && test(a[ei]!)) ei++;
    while (ej < b.length && test(b[ej]!)) ej++;
    let sa = a.slice(i, ei);
    let sb = b.slice(j, ej);
    if (sb === '') return isNum ? 1 : -1;
    if (isNum) {
      sa = sa.replace(/^0+/, '');
      sb = sb.replace(/^0+/, '');
      if (sa.length !== sb.length) return sa.length > sb.length ? 1 : -1;
    }
    if (sa !== sb) return sa < sb ? -1 : 1;
    i = ei;
    j = ej;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

interface Evr {
  epoch: number;
  version: string;
  release: string | undefined;
}

/** Splits `[epoch:]version[-release]`. */
export function parseEvr(text: string): Evr {
  let rest = text.trim();
  let epoch = 0;
  const m = /^(\d+):/.exec(rest);
  if (m) {
    epoch = Number(m[1]);
    rest = rest.slice(m[0].length);
  }
  const dash = rest.lastIndexOf('-');
  return dash >= 0 ? { epoch, version: rest.slice(0, dash), release: rest.slice(dash + 1) } : { epoch, version: rest, release: undefined };
}

/** Compares two EVRs as OSV does for RPM ecosystems: epoch, version, then release (a missing release is empty, so `1 < 1-0`). */
export function compareRpm(a: string, b: string): number {
  const x = parseEvr(a);
  const y = parseEvr(b);
  if (x.epoch !== y.epoch) return x.epoch < y.epoch ? -1 : 1;
  const v = rpmvercmp(x.version, y.version) || rpmvercmp(x.release ?? '', y.release ?? '');
  if (v !== 0 || (x.release === undefined) === (y.release === undefined)) return v;
  return x.release === undefined ? -1 : 1; // `1 < 1-`: a (possibly empty) release beats none
}
