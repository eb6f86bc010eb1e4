/**
 * Maven version ordering, Maven's ComparableVersion (the "version order specification"): items split on `.`,
 * `-` and digit/letter transitions; lists nest at `-` and transitions; trailing nulls (0, "", ga, final,
 * release) are dropped; qualifiers order alpha < beta < milestone < rc = cr < snapshot < "" = ga = final
 * = release < sp < any other (alphabetically); numbers beat qualifiers.
 */

type Item = { kind: 'int'; value: bigint } | { kind: 'str'; value: string } | { kind: 'list'; items: Item[] };

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const ALIASES: Record<string, string> = { ga: '', final: '', release: '', cr: 'rc' };
const RELEASE_INDEX = String(QUALIFIERS.indexOf(''));

function strItem(raw: string, followedByDigit: boolean): Item {
  let value = raw;
  if (followedByDigit && value.length === 1) {
    if (value === 'a') value = 'alpha';
    else if (value === 'b') value = 'beta';
    else if (value === 'm') value = 'milestone';
  }
  return { kind: 'str', value: ALIASES[value] ?? value };
}

function comparableQualifier(q: string): string {
  const i = QUALIFIERS.indexOf(q);
  return i === -1 ? `${QUALIFIERS.length}-${q}` : String(i);
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function parseItem(isDigit: boolean, text: string): Item {
  return isDigit ? { kind: 'int', value: BigInt(text) } : strItem(text, false);
}

function isNull(item: Item): boolean {
  if (item.kind === 'int') return item.value === 0n;
  if (item.kind === 'str') return comparableQualifier(item.value) === RELEASE_INDEX;
  return item.items.length === 0;
}

function normalize(list: Item[]): void {
  for (let i = list.length - 1; i >= 0; i--) {
    const last = list[i]!;
    if (isNull(last)) list.splice(i, 1);
    else if (last.kind !== 'list') break;
  }
}

/** Parses a Maven version into ComparableVersion's item tree. */
export function parseMaven(version: string): Item {
  const root: Item & { kind: 'list' } = { kind: 'list', items: [] };
  const text = version.toLowerCase();
  let list = root;
  const stack: (Item & { kind: 'list' })[] = [root];
  let isDigit = false;
  let start = 0;
  const push = (): void => {
    const next: Item & { kind: 'list' } = { kind: 'list', items: [] };
    list.items.push(next);
    list = next;
    stack.push(next);
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '.') {
      list.items.push(i === start ? { kind: 'int', value: 0n } : parseItem(isDigit, text.slice(start, i)));
      start = i + 1;
    } else if (c === '-') {
      list.items.push(i === start ? { kind: 'int', value: 0n } : parseItem(isDigit, text.slice(start, i)));
      start = i + 1;
      push();
    } else if (c >= '0' && c <= '9') {
      if (!isDigit && i > start) {
        list.items.push(strItem(text.slice(start, i), true));
        start = i;
        push();
      }
      isDigit = true;
    } else {
      if (isDigit && i > start) {
        list.items.push(parseItem(true, text.slice(start, i)));
        start = i;
        push();
      }
      isDigit = false;
    }
  }
  if (text.length > start) list.items.push(parseItem(isDigit, text.slice(start)));
  while (stack.length > 0) normalize(stack.pop()!.items);
  return root;
}

function compareItem(a: Item, b: Item | undefined): number {
  if (a.kind === 'int') {
    if (!b) return a.value === 0n ? 0 : 1;
    if (b.kind === 'int') return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
    return 1;
  }
  if (a.kind === 'str') {
    if (!b) return cmpStr(comparableQualifier(a.value), RELEASE_INDEX);
    if (b.kind === 'str') return cmpStr(comparableQualifier(a.value), comparableQualifier(b.value));
    return -1;
  }
  if (!b) return a.items.length === 0 ? 0 : compareItem(a.items[0]!, undefined);
  if (b.kind === 'int') return -1;
  if (b.kind === 'str') return 1;
  const n = Math.max(a.items.length, b.items.length);
  for (let i = 0; i < n; i++) {
    const l = a.items[i];
    const r = b.items[i];
    const result = l === undefined ? (r === undefined ? 0 : -compareItem(r, l)) : compareItem(l, r);
    if (result !== 0) return result;
  }
  return 0;
}

/** Compares two Maven versions: negative, zero or positive. */
export function compareMaven(a: string, b: string): number {
  return compareItem(parseMaven(a), parseMaven(b));
}
