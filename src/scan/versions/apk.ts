/**
 * Alpine apk version ordering, the apk-tools 2.x algorithm (src/version.c) that go-apk-version ports and that
 * Trivy, Grype and Clair use: token by token (digits, letter, `_suffix`, suffix number, `-r` revision), with
 * a component starting with `0` worth minus its count of leading zeros, pre-release suffixes sorting low.
 */

const INVALID = -1;
const DIGIT_OR_ZERO = 0;
const DIGIT = 1;
const LETTER = 2;
const SUFFIX = 3;
const SUFFIX_NO = 4;
const REVISION_NO = 5;
const END = 6;

const PRE_SUFFIXES = ['alpha', 'beta', 'pre', 'rc'];
const POST_SUFFIXES = ['cvs', 'svn', 'git', 'hg', 'p'];

interface Cursor {
  s: string;
  p: number;
  type: number;
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isLower = (c: string | undefined): boolean => c !== undefined && c >= 'a' && c <= 'z';

function nextToken(cur: Cursor): void {
  let n = INVALID;
  const c = cur.s[cur.p];
  if (c === undefined) n = END;
  else if ((cur.type === DIGIT || cur.type === DIGIT_OR_ZERO) && isLower(c)) n = LETTER;
  else if (cur.type === LETTER && isDigit(c)) n = DIGIT;
  else if (cur.type === SUFFIX && isDigit(c)) n = SUFFIX_NO;
  else {
    if (c === '.') n = DIGIT_OR_ZERO;
    else if (c === '_') n = SUFFIX;
    else if (c === '-') {
      if (cur.s[cur.p + 1] === 'r') {
        n = REVISION_NO;
        cur.p++;
      }
    }
    cur.p++;
  }
  if (n < cur.type) {
    if (!((n === DIGIT_OR_ZERO && cur.type === DIGIT) || (n === SUFFIX && cur.type === SUFFIX_NO) || (n === DIGIT && cur.type === LETTER))) n = INVALID;
  }
  cur.type = n;
}

function getToken(cur: Cursor): number {
  const { s } = cur;
  if (cur.p >= s.length) {
    cur.type = END;
    return 0;
  }
  let v = 0;
  let i = cur.p;
  let nt = INVALID;
  switch (cur.type) {
    case DIGIT_OR_ZERO:
    case DIGIT:
    case SUFFIX_NO:
    case REVISION_NO:
      if (cur.type === DIGIT_OR_ZERO && s[i] === '0') {
        // A component with leading zeros is worth minus their count; the digits after them are the next token.
        while (s[i] === '0') i++;
        nt = DIGIT;
        v = -(i - cur.p);
        break;
      }
      while (isDigit(s[i])) v = v * 10 + (s.charCodeAt(i++) - 48);
      break;
    case LETTER:
      v = s.charCodeAt(i++);
      break;
    case SUFFIX: {
      const rest = s.slice(i);
      const pre = PRE_SUFFIXES.findIndex((x) => rest.startsWith(x));
      if (pre >= 0) {
        v = pre - PRE_SUFFIXES.length;
        i += PRE_SUFFIXES[pre]!.length;
        break;
      }
      const post = POST_SUFFIXES.findIndex((x) => rest.startsWith(x));
      if (post >= 0) {
        v = post;
        i += POST_SUFFIXES[post]!.length;
        break;
      }
      cur.type = INVALID;
      return -1;
    }
    default:
      cur.type = INVALID;
      return -1;
  }
  cur.p = i;
  if (cur.p >= s.length) cur.type = END;
  else if (nt !== INVALID) cur.type = nt;
  else nextToken(cur);
  return v;
}

/** Compares two apk versions (2.x rules): negative, zero or positive. */
export function compareApk(a: string, b: string): number {
  const ca: Cursor = { s: a, p: 0, type: DIGIT };
  const cb: Cursor = { s: b, p: 0, type: DIGIT };
  let av = 0;
  let bv = 0;
  while (ca.type === cb.type && ca.type !== END && ca.type !== INVALID && av === bv) {
    av = getToken(ca);
    bv = getToken(cb);
  }
  if (av < bv) return -1;
  if (av > bv) return 1;
  if (ca.type === cb.type) return 0;
  if (ca.type === SUFFIX && getToken({ ...ca }) < 0) return -1;
  if (cb.type === SUFFIX && getToken({ ...cb }) < 0) return 1;
  if (ca.type > cb.type) return -1;
  if (cb.type > ca.type) return 1;
  return 0;
}
