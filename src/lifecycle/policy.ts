import { RegistryError } from '../core/errors.ts';
import { compileTagRegex, type TagRegex } from './tag-match.ts';

/**
 * Lifecycle policy documents: ECR's JSON (rules with unique `rulePriority`, `selection`, `action`) plus
 * cargohold's documented extensions (docs/lifecycle.md), which use member names ECR does not have — ECR
 * refuses unknown members, so every policy ECR accepts parses here to the same meaning.
 *
 * Refusals are worded as ECR words them: `Invalid parameter at 'LifecyclePolicyText' failed to satisfy
 * constraint: 'Lifecycle policy validation failure: <detail>'` (InvalidParameterException), where the schema
 * details follow the JSON-schema validator ECR uses ("object has missing required properties ([…])", "instance
 * value (…) not found in enum (…)", "instance failed to match exactly one schema (matched 0 out of 2)" …).
 */

export type TagStatus = 'tagged' | 'untagged' | 'any';
export type CountType = 'imageCountMoreThan' | 'sinceImagePushed' | 'sinceImagePulled';
/** Extension: the order imageCountMoreThan keeps the newest N in. */
export type CountOrder = 'pushedAt' | 'lastPulledAt';

export interface RuleSelection {
  tagStatus: TagStatus;
  /** ECR: every prefix must start at least one tag of the image. */
  tagPrefixList?: string[];
  /** ECR: every pattern (`*` = any run of characters) must match a whole tag of the image. */
  tagPatternList?: string[];
  /** Extension: every regular expression must match a whole tag of the image (RE2 syntax, linear time). */
  tagRegexList?: string[];
  countType: CountType;
  countUnit?: 'days';
  countNumber: number;
  /** Extension (imageCountMoreThan only): keep the N most recently pulled instead of the N most recently pushed. */
  countOrderBy?: CountOrder;
}

export interface LifecycleRule {
  rulePriority: number;
  description?: string;
  selection: RuleSelection;
  action: { type: 'expire' };
}

/** Extension: images carrying a matching tag are never expired and are left out of every rule's selection and count. */
export interface ProtectedTags {
  tagPatternList?: string[];
  tagRegexList?: string[];
}

export interface LifecyclePolicy {
  /** In priority order (lowest rulePriority first). */
  rules: LifecycleRule[];
  protectedTags?: ProtectedTags;
  /** Compiled regular expressions by source (rules and protectedTags). */
  regexes: ReadonlyMap<string, TagRegex>;
}

/** ECR's lengths for lifecyclePolicyText. */
export const POLICY_TEXT_MIN = 100;
export const POLICY_TEXT_MAX = 30_720;
/** ECR allows at most four `*` in a tagPatternList entry. */
export const MAX_WILDCARDS = 4;
const MAX_LIST = 100;
const MAX_REGEX_LENGTH = 256;

const TAG_STATUS: readonly TagStatus[] = ['tagged', 'untagged', 'any'];
const COUNT_TYPES: readonly string[] = ['imageCountMoreThan', 'sinceImagePushed', 'sinceImagePulled', 'sinceImageTransitioned'];
const ACTION_TYPES: readonly string[] = ['expire', 'transition'];
const STORAGE_CLASSES: readonly string[] = ['standard', 'archive'];
const COUNT_ORDERS: readonly CountOrder[] = ['pushedAt', 'lastPulledAt'];

const ROOT_MEMBERS = ['rules', 'protectedTags'];
const RULE_MEMBERS = ['rulePriority', 'description', 'selection', 'action'];
const SELECTION_MEMBERS = ['tagStatus', 'tagPrefixList', 'tagPatternList', 'tagRegexList', 'storageClass', 'countType', 'countUnit', 'countNumber', 'countOrderBy'];
const ACTION_MEMBERS = ['type', 'targetStorageClass'];
const PROTECTED_MEMBERS = ['tagPatternList', 'tagRegexList'];

/** The ECR refusal for a policy document. */
export function invalidLifecyclePolicy(detail: string): RegistryError {
  return new RegistryError('POLICY_INVALID', `Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: ${detail}'`, { detail });
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function wrongType(v: unknown, allowed: string): never {
  throw invalidLifecyclePolicy(`instance type (${typeName(v)}) does not match any allowed primitive type (allowed: ["${allowed}"])`);
}

function object(v: unknown, members: readonly string[], required: readonly string[]): Record<string, unknown> {
  if (typeName(v) !== 'object') wrongType(v, 'object');
  const o = v as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => !members.includes(k)).sort();
  if (extra.length) throw invalidLifecyclePolicy(`object instance has properties which are not allowed by the schema: (${JSON.stringify(extra)})`);
  const missing = required.filter((k) => !(k in o)).sort();
  if (missing.length) throw invalidLifecyclePolicy(`object has missing required properties (${JSON.stringify(missing)})`);
  return o;
}

function enumValue<T extends string>(v: unknown, values: readonly T[]): T {
  if (typeof v !== 'string') wrongType(v, 'string');
  if (!values.includes(v as T)) throw invalidLifecyclePolicy(`instance value (${JSON.stringify(v)}) not found in enum (possible values: ${JSON.stringify(values)})`);
  return v as T;
}

function integer(v: unknown, min: number): number {
  if (typeName(v) !== 'integer') wrongType(v, 'integer');
  const n = v as number;
  if (n < min) throw invalidLifecyclePolicy(`numeric instance is lower than the required minimum (minimum: ${min}, found: ${n})`);
  if (!Number.isSafeInteger(n)) throw invalidLifecyclePolicy(`numeric instance is greater than the required maximum (maximum: ${Number.MAX_SAFE_INTEGER}, found: ${n})`);
  return n;
}

function stringList(v: unknown, what: string): string[] {
  if (!Array.isArray(v)) wrongType(v, 'array');
  const list = v as unknown[];
  if (list.length === 0) throw invalidLifecyclePolicy('array is too short: must have at least 1 elements but instance has 0 elements');
  if (list.length > MAX_LIST) throw invalidLifecyclePolicy(`array is too long: must have at most ${MAX_LIST} elements but instance has ${list.length} elements`);
  for (const s of list) {
    if (typeof s !== 'string') wrongType(s, 'string');
    if (s.length === 0) throw invalidLifecyclePolicy(`${what} must not contain empty strings`);
  }
  return list as string[];
}

function patternList(v: unknown): string[] {
  const list = stringList(v, 'tagPatternList');
  for (const p of list) {
    const stars = p.split('*').length - 1;
    if (stars > MAX_WILDCARDS) throw invalidLifecyclePolicy(`tagPatternList entry '${p}' has ${stars} wildcards; at most ${MAX_WILDCARDS} are allowed`);
  }
  return list;
}

function regexList(v: unknown, regexes: Map<string, TagRegex>): string[] {
  const list = stringList(v, 'tagRegexList');
  for (const r of list) {
    if (r.length > MAX_REGEX_LENGTH) throw invalidLifecyclePolicy(`tagRegexList entry is longer than ${MAX_REGEX_LENGTH} characters`);
    if (!regexes.has(r)) {
      try {
        regexes.set(r, compileTagRegex(r));
      } catch (e) {
        throw invalidLifecyclePolicy(`tagRegexList entry '${r}' is not a valid regular expression: ${(e as Error).message}`);
      }
    }
  }
  return list;
}

/** An unordered list as a key (rules must not repeat the same set of tag prefixes or patterns). */
function setKey(list: readonly string[]): string {
  return JSON.stringify([...new Set(list)].sort());
}

function parseSelection(v: unknown, regexes: Map<string, TagRegex>): RuleSelection {
  const o = object(v, SELECTION_MEMBERS, ['countNumber', 'countType', 'tagStatus']);
  // Nulls anywhere in a selection make it match neither of ECR's two selection schemas.
  if (Object.values(o).some((x) => x === null)) throw invalidLifecyclePolicy('instance failed to match exactly one schema (matched 0 out of 2)');
  const tagStatus = enumValue(o.tagStatus, TAG_STATUS);
  const countType = enumValue(o.countType, COUNT_TYPES);
  if (o.storageClass !== undefined) enumValue(o.storageClass, STORAGE_CLASSES);
  if (countType === 'sinceImageTransitioned' || o.storageClass === 'archive') {
    throw invalidLifecyclePolicy('the archive storage class (storageClass "archive", countType "sinceImageTransitioned") is not supported by this registry');
  }
  // ECR's two selection schemas: imageCountMoreThan without countUnit, the since* types with countUnit "days".
  const since = countType !== 'imageCountMoreThan';
  if (since !== (o.countUnit !== undefined)) throw invalidLifecyclePolicy('instance failed to match exactly one schema (matched 0 out of 2)');
  if (since) enumValue(o.countUnit, ['days'] as const);
  const countNumber = integer(o.countNumber, 1);
  const sel: RuleSelection = { tagStatus, countType: countType as CountType, countNumber };
  if (since) sel.countUnit = 'days';
  if (o.tagPrefixList !== undefined) sel.tagPrefixList = stringList(o.tagPrefixList, 'tagPrefixList');
  if (o.tagPatternList !== undefined) sel.tagPatternList = patternList(o.tagPatternList);
  if (o.tagRegexList !== undefined) sel.tagRegexList = regexList(o.tagRegexList, regexes);
  if (o.countOrderBy !== undefined) {
    sel.countOrderBy = enumValue(o.countOrderBy, COUNT_ORDERS);
    if (countType !== 'imageCountMoreThan') throw invalidLifecyclePolicy('countOrderBy can only be used with countType imageCountMoreThan');
  }
  const lists = [sel.tagPrefixList, sel.tagPatternList, sel.tagRegexList].filter((l) => l !== undefined).length;
  if (tagStatus === 'tagged' && lists === 0) throw invalidLifecyclePolicy("tagPrefixList or tagPatternList is required when tagStatus is 'tagged'");
  if (tagStatus === 'tagged' && lists > 1) throw invalidLifecyclePolicy('only one of tagPrefixList, tagPatternList and tagRegexList can be specified in a rule');
  if (tagStatus !== 'tagged' && lists > 0) throw invalidLifecyclePolicy(`tagPrefixList and tagPatternList can only be specified when tagStatus is 'tagged'`);
  return sel;
}

function parseRule(v: unknown, regexes: Map<string, TagRegex>): LifecycleRule {
  const o = object(v, RULE_MEMBERS, ['action', 'rulePriority', 'selection']);
  const rulePriority = integer(o.rulePriority, 1);
  let description: string | undefined;
  if (o.description !== undefined) {
    if (typeof o.description !== 'string') wrongType(o.description, 'string');
    description = o.description;
  }
  const selection = parseSelection(o.selection, regexes);
  const a = object(o.action, ACTION_MEMBERS, ['type']);
  if (Object.values(a).some((x) => x === null)) throw invalidLifecyclePolicy('instance failed to match exactly one schema (matched 0 out of 2)');
  const type = enumValue(a.type, ACTION_TYPES);
  if (a.targetStorageClass !== undefined) enumValue(a.targetStorageClass, ['archive'] as const);
  if (type === 'transition' || a.targetStorageClass !== undefined) {
    throw invalidLifecyclePolicy('the transition action (targetStorageClass "archive") is not supported by this registry');
  }
  return { rulePriority, ...(description !== undefined ? { description } : {}), selection, action: { type: 'expire' } };
}

/**
 * Parses and validates a policy text the way PutLifecyclePolicy / StartLifecyclePolicyPreview do. Throws
 * RegistryError POLICY_INVALID (ECR InvalidParameterException) with ECR's wording.
 */
export function parseLifecyclePolicy(text: string): LifecyclePolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw invalidLifecyclePolicy('Could not map policyString into LifecyclePolicy.');
  }
  const regexes = new Map<string, TagRegex>();
  const root = object(doc, ROOT_MEMBERS, ['rules']);
  if (!Array.isArray(root.rules)) wrongType(root.rules, 'array');
  const list = root.rules as unknown[];
  if (list.length === 0) throw invalidLifecyclePolicy('array is too short: must have at least 1 elements but instance has 0 elements');
  const rules = list.map((r) => parseRule(r, regexes));

  const priorities = new Set<number>();
  for (const r of rules) {
    if (priorities.has(r.rulePriority)) throw invalidLifecyclePolicy(`rulePriority ${r.rulePriority} is used by more than one rule; each rule must have a unique rulePriority`);
    priorities.add(r.rulePriority);
  }
  rules.sort((a, b) => a.rulePriority - b.rulePriority);
  const highest = rules[rules.length - 1]!.rulePriority;
  for (const r of rules) {
    if (r.selection.tagStatus === 'any' && r.rulePriority !== highest) {
      throw invalidLifecyclePolicy(`the rule with tagStatus 'any' (rulePriority ${r.rulePriority}) must have the highest rulePriority`);
    }
  }
  if (rules.filter((r) => r.selection.tagStatus === 'untagged').length > 1) throw invalidLifecyclePolicy("only one rule can select untagged images (tagStatus 'untagged')");
  if (rules.filter((r) => r.selection.tagStatus === 'any').length > 1) throw invalidLifecyclePolicy("only one rule can have tagStatus 'any'");
  const seen = new Set<string>();
  for (const r of rules) {
    const s = r.selection;
    const key = s.tagPrefixList ? `p${setKey(s.tagPrefixList)}` : s.tagPatternList ? `t${setKey(s.tagPatternList)}` : s.tagRegexList ? `r${setKey(s.tagRegexList)}` : undefined;
    if (key === undefined) continue;
    if (seen.has(key)) throw invalidLifecyclePolicy('the set of rules must contain a unique set of tag prefixes and tag patterns');
    seen.add(key);
  }

  let protectedTags: ProtectedTags | undefined;
  if (root.protectedTags !== undefined) {
    const p = object(root.protectedTags, PROTECTED_MEMBERS, []);
    protectedTags = {};
    if (p.tagPatternList !== undefined) protectedTags.tagPatternList = patternList(p.tagPatternList);
    if (p.tagRegexList !== undefined) protectedTags.tagRegexList = regexList(p.tagRegexList, regexes);
    if (!protectedTags.tagPatternList && !protectedTags.tagRegexList) throw invalidLifecyclePolicy('protectedTags needs tagPatternList or tagRegexList');
  }
  return { rules, ...(protectedTags ? { protectedTags } : {}), regexes };
}

/** Checks the policy text's length as ECR's model does, then parses it. */
export function validateLifecyclePolicyText(text: string): LifecyclePolicy {
  if (text.length < POLICY_TEXT_MIN) throw new RegistryError('POLICY_INVALID', `Invalid parameter at 'lifecyclePolicyText' failed to satisfy constraint: 'Member must have length greater than or equal to ${POLICY_TEXT_MIN}'`);
  if (text.length > POLICY_TEXT_MAX) throw new RegistryError('POLICY_INVALID', `Invalid parameter at 'lifecyclePolicyText' failed to satisfy constraint: 'Member must have length less than or equal to ${POLICY_TEXT_MAX}'`);
  return parseLifecyclePolicy(text);
}
