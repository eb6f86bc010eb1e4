/**
 * Condition operators: single-value comparison per operator family, then IAM's rules for absent keys,
 * `...IfExists`, negated operators, `Null`, and the `ForAnyValue:` / `ForAllValues:` set qualifiers.
 */
import { BlockList, isIP } from 'node:net';
import { arnMatches, compilePattern, expandLiteral, type VariableLookup } from './match.ts';
import type { Condition, ConditionOperator } from './types.ts';

/** Operators whose result is the negation of a positive operator. */
const NEGATED: Partial<Record<ConditionOperator, ConditionOperator>> = {
  StringNotEquals: 'StringEquals',
  StringNotEqualsIgnoreCase: 'StringEqualsIgnoreCase',
  StringNotLike: 'StringLike',
  NumericNotEquals: 'NumericEquals',
  DateNotEquals: 'DateEquals',
  NotIpAddress: 'IpAddress',
  ArnNotEquals: 'ArnEquals',
  ArnNotLike: 'ArnLike',
};

/** Every operator name (without qualifier or IfExists). */
export const CONDITION_OPERATORS: readonly ConditionOperator[] = [
  'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
  'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
  'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
  'Bool', 'BinaryEquals', 'IpAddress', 'NotIpAddress', 'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike', 'Null',
];

/** Operator families whose values may contain policy variables. */
const VARIABLE_FAMILIES = /^(String|Arn|Bool)/;

/** Parses a number as IAM does (decimal, optionally signed). */
export function parseNumber(value: string): number | undefined {
  if (!/^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** Parses an ISO-8601 date/time or epoch seconds to milliseconds. */
export function parseDate(value: string): number | undefined {
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/^\d{4}-\d{2}-\d{2}/.test(v)) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

/** Parses `a.b.c.d[/n]` or an IPv6 address with optional prefix into a BlockList; `undefined` if invalid. */
export function parseCidr(value: string): BlockList | undefined {
  const [addr, prefixRaw, extra] = value.trim().split('/');
  if (extra !== undefined || !addr) return undefined;
  const family = isIP(addr);
  if (family === 0) return undefined;
  const max = family === 4 ? 32 : 128;
  const prefix = prefixRaw === undefined ? max : /^\d{1,3}$/.test(prefixRaw) ? Number(prefixRaw) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  const list = new BlockList();
  list.addSubnet(addr, prefix, family === 4 ? 'ipv4' : 'ipv6');
  return list;
}

function ipMatches(cidr: string, ip: string): boolean | undefined {
  const family = isIP(ip.trim());
  const list = parseCidr(cidr);
  if (family === 0 || !list) return undefined;
  return list.check(ip.trim(), family === 4 ? 'ipv4' : 'ipv6');
}

function compareWith(base: ConditionOperator, a: number, b: number): boolean {
  if (base.endsWith('LessThanEquals')) return a <= b;
  if (base.endsWith('LessThan')) return a < b;
  if (base.endsWith('GreaterThanEquals')) return a >= b;
  if (base.endsWith('GreaterThan')) return a > b;
  return a === b;
}

/**
 * Does one context value satisfy a positive operator for one policy value?
 * `undefined` means the context value is not of the operator's type (never a match, even when negated).
 */
function positiveMatch(base: ConditionOperator, policyValue: string, contextValue: string, lookup?: VariableLookup): boolean | undefined {
  switch (base) {
    case 'StringEquals':
      return policyValue === contextValue;
    case 'StringEqualsIgnoreCase':
      return policyValue.toLowerCase() === contextValue.toLowerCase();
    case 'StringLike': {
      const c = compilePattern(policyValue, { lookup });
      return 'regex' in c && c.regex.test(contextValue);
    }
    case 'Bool':
      return policyValue.toLowerCase() === contextValue.toLowerCase();
    case 'BinaryEquals':
      return policyValue === contextValue;
    case 'IpAddress':
      return ipMatches(policyValue, contextValue);
    case 'ArnEquals':
    case 'ArnLike': {
      const r = arnMatches(policyValue, contextValue, lookup);
      return r === true;
    }
    default: {
      if (base.startsWith('Numeric')) {
        const a = parseNumber(contextValue);
        const b = parseNumber(policyValue);
        return a === undefined || b === undefined ? undefined : compareWith(base, a, b);
      }
      if (base.startsWith('Date')) {
        const a = parseDate(contextValue);
        const b = parseDate(policyValue);
        return a === undefined || b === undefined ? undefined : compareWith(base, a, b);
      }
      return false;
    }
  }
}

/** Outcome of one condition, with a short reason for explanations. */
export interface ConditionResult {
  ok: boolean;
  why: string;
}

/**
 * Evaluates one condition against the context values of its key (`undefined` / empty = key absent).
 * Rules: absent key → `IfExists` true, `ForAllValues` true, `ForAnyValue` false, negated operators true,
 * others false; `Null` tests presence; multiple policy values are ORed; an unqualified multivalued key matches
 * when any value does (for negated operators: when no value matches the positive form).
 */
export function evaluateCondition(condition: Condition, contextValues: string[] | undefined, lookup?: VariableLookup): ConditionResult {
  const present = contextValues !== undefined && contextValues.length > 0;
  const shown = present ? JSON.stringify(contextValues.length === 1 ? contextValues[0] : contextValues) : 'absent';
  const head = `${condition.operator} ${condition.key} ${JSON.stringify(condition.values)} vs ${shown}`;
  if (condition.base === 'Null') {
    const wantAbsent = condition.values.some((v) => v.toLowerCase() === 'true');
    const ok = wantAbsent ? !present : present;
    return { ok, why: `${head} → ${ok}` };
  }
  if (!present) {
    const ok = condition.ifExists || condition.qualifier === 'ForAllValues'
      ? true
      : condition.qualifier === 'ForAnyValue'
        ? false
        : NEGATED[condition.base] !== undefined;
    const rule = condition.ifExists ? 'IfExists' : condition.qualifier ?? (ok ? 'negated operator' : 'key required');
    return { ok, why: `${head} → ${ok} (key absent: ${rule})` };
  }
  const positive = NEGATED[condition.base] ?? condition.base;
  const negated = positive !== condition.base;
  const policyValues = VARIABLE_FAMILIES.test(positive) && positive !== 'StringLike' && !positive.startsWith('Arn')
    ? condition.values.map((v) => expandLiteral(v, lookup)).filter((v): v is string => v !== undefined)
    : condition.values;
  const variableLookup = positive === 'StringLike' || positive.startsWith('Arn') ? lookup : undefined;
  const pred = (value: string): boolean => {
    const results = policyValues.map((p) => positiveMatch(positive, p, value, variableLookup));
    if (results.some((r) => r === undefined)) return false;
    const any = results.some((r) => r === true);
    return negated ? !any : any;
  };
  let ok: boolean;
  if (condition.qualifier === 'ForAllValues') ok = contextValues.every(pred);
  else if (condition.qualifier === 'ForAnyValue') ok = contextValues.some(pred);
  else ok = negated ? contextValues.every(pred) : contextValues.some(pred);
  return { ok, why: `${head} → ${ok}` };
}
