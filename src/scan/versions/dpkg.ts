/**
 * dpkg version ordering (Debian Policy §5.6.12; dpkg lib/dpkg/version.c): `[epoch:]upstream[-revision]`,
 * epochs numerically, then upstream and revision with verrevcmp, where `~` sorts before everything (even the
 * end of the string) and letters sort before other punctuation.
 */

interface DpkgVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

/** A dpkg version string's parts, or undefined when it is not one (empty, bad epoch, no upstream). */
export function parseDpkgVersion(text: string): DpkgVersion | undefined {
  const v = text.trim();
  if (v === '' || /\s/.test(v)) return undefined;
  let epoch = 0;
  let rest = v;
  const colon = v.indexOf(':');
  if (colon >= 0) {
    const e = v.slice(0, colon);
    if (!/^\d+$/.test(e)) return undefined;
    epoch = Number(e);
    rest = v.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  const upstream = dash >= 0 ? rest.slice(0, dash) : rest;
  const revision = dash >= 0 ? rest.slice(dash + 1) : '';
  if (upstream === '') return undefined;
  return { epoch, upstream, revision };
}

function order(c: number): number {
  if (c >= 0x30 && c <= 0x39) return 0; // digit
  if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return c; // letter
  if (c === 0x7e) return -1; // ~
  return c + 256;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** dpkg's verrevcmp over one part (upstream or revision). */
export function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const ac = i < a.length ? order(a.charCodeAt(i)) : 0;
      const bc = j < b.length ? order(b.charCodeAt(j)) : 0;
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (i < a.length && a.charCodeAt(i) === 0x30) i++;
    while (j < b.length && b.charCodeAt(j) === 0x30) j++;
    while (i < a.length && isDigit(a.charCodeAt(i)) && j < b.length && isDigit(b.charCodeAt(j))) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (i < a.length && isDigit(a.charCodeAt(i))) return 1;
    if (j < b.length && isDigit(b.charCodeAt(j))) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

/** Compares two dpkg versions: negative, zero or positive. Unparsable strings compare as plain text below valid ones. */
export function compareDpkg(a: string, b: string): number {
  const va = parseDpkgVersion(a);
  const vb = parseDpkgVersion(b);
  if (!va || !vb) return va ? 1 : vb ? -1 : a < b ? -1 : a > b ? 1 : 0;
  if (va.epoch !== vb.epoch) return va.epoch - vb.epoch;
  return verrevcmp(va.upstream, vb.upstream) || verrevcmp(va.revision, vb.revision);
}
