/**
 * Parses and validates IAM policy JSON (identity policies, ECR repository and registry policies) into the
 * normalised {@link PolicyDocument}. Every rejection is a {@link PolicyError} naming the problem and where it is.
 */
import { CONDITION_OPERATORS, parseCidr, parseDate, parseNumber } from './conditions.ts';
import { isArn } from './match.ts';
import { PolicyError, type Condition, type ConditionOperator, type PolicyDocument, type PolicyVersion, type PrincipalSpec, type SetQualifier, type Statement } from './types.ts';
import { parseBoundedJson } from '../../core/json.ts';

/** Options for {@link parsePolicy}. */
export interface ParsePolicyOptions {
  /**
   * `identity`: Principal/NotPrincipal are forbidden and Resource/NotResource required (IAM identity policies).
   * `resource`: Principal/NotPrincipal required, Resource optional (ECR repository/registry policies).
   * `any` (default): grammar only.
   */
  kind?: 'identity' | 'resource' | 'any';
  /** Name carried into decisions and explanations. */
  name?: string;
  /** Maximum document length in characters (ECR allows 10,240 for repository policies). */
  maxLength?: number;
}

const TOP_LEVEL = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
const PRINCIPAL_TYPES = ['AWS', 'Service', 'Federated', 'CanonicalUser'] as const;
const VENDOR_MESSAGE = 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.';
const OPERATOR_BY_LOWER = new Map(CONDITION_OPERATORS.map((op) => [op.toLowerCase(), op]));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

function stringList(value: Json | undefined, path: string, what: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new PolicyError(`${what} must not be an empty list`, path);
  return list.map((v, i) => {
    if (typeof v !== 'string' || v === '') throw new PolicyError(`${what} must be a non-empty string or a list of them`, Array.isArray(value) ? `${path}[${i}]` : path);
    return v;
  });
}

function parseAwsPrincipal(value: string, path: string): void {
  if (value === '*' || /^\d{12}$/.test(value)) return;
  if (value.includes('*') || value.includes('?')) throw new PolicyError(`Invalid principal in policy: "AWS":"${value}" (wildcards are only allowed as "*")`, path);
  if (/^arn:[a-z-]+:(iam|sts)::\d{12}:(root|user\/.+|role\/.+|assumed-role\/.+|federated-user\/.+)$/.test(value)) return;
  throw new PolicyError(`Invalid principal in policy: "AWS":"${value}"`, path);
}

function parsePrincipal(value: Json | undefined, path: string): PrincipalSpec {
  if (value === '*') return '*';
  if (!isObject(value)) throw new PolicyError('Principal must be "*" or an object such as {"AWS": "arn:aws:iam::123456789012:root"}', path);
  const keys = Object.keys(value);
  if (keys.length === 0) throw new PolicyError('Principal must name at least one principal', path);
  const spec: Exclude<PrincipalSpec, '*'> = {};
  for (const key of keys) {
    const type = PRINCIPAL_TYPES.find((t) => t === key);
    if (!type) throw new PolicyError(`Invalid principal type "${key}"; expected one of ${PRINCIPAL_TYPES.join(', ')}`, `${path}.${key}`);
    const list = stringList(value[key], `${path}.${key}`, `Principal ${key}`);
    if (type === 'AWS') list.forEach((v) => parseAwsPrincipal(v, `${path}.AWS`));
    if (type === 'Service' && list.some((v) => !/^[a-z0-9.-]+$/i.test(v))) throw new PolicyError('Invalid service principal', `${path}.Service`);
    spec[type] = list;
  }
  return spec;
}

function parseActions(value: Json | undefined, path: string): string[] {
  return stringList(value, path, 'Action').map((action) => {
    if (action === '*') return action;
    const colon = action.indexOf(':');
    if (colon <= 0) throw new PolicyError(`${VENDOR_MESSAGE} Got "${action}"`, path);
    if (!/^[A-Za-z0-9-]+:[A-Za-z0-9*?_-]+$/.test(action)) throw new PolicyError(`Action "${action}" contains invalid characters`, path);
    return action;
  });
}

function parseResources(value: Json | undefined, path: string): string[] {
  return stringList(value, path, 'Resource').map((resource) => {
    if (resource !== '*' && !isArn(resource)) throw new PolicyError(`Resource ${resource} must be in ARN format or "*"`, path);
    return resource;
  });
}

function parseOperator(raw: string, path: string): Pick<Condition, 'operator' | 'base' | 'qualifier' | 'ifExists'> {
  let rest = raw;
  let qualifier: SetQualifier | undefined;
  const q = /^(ForAnyValue|ForAllValues):/i.exec(rest);
  if (q) {
    qualifier = q[1]!.toLowerCase() === 'foranyvalue' ? 'ForAnyValue' : 'ForAllValues';
    rest = rest.slice(q[0].length);
  }
  let ifExists = false;
  if (/IfExists$/i.test(rest)) {
    ifExists = true;
    rest = rest.slice(0, -'IfExists'.length);
  }
  const base = OPERATOR_BY_LOWER.get(rest.toLowerCase());
  if (!base) throw new PolicyError(`Invalid condition operator "${raw}"`, path);
  if (base === 'Null' && (ifExists || qualifier)) throw new PolicyError(`Invalid condition operator "${raw}": Null takes no IfExists or set qualifier`, path);
  const operator = `${qualifier ? `${qualifier}:` : ''}${base}${ifExists ? 'IfExists' : ''}`;
  return { operator, base, ifExists, ...(qualifier ? { qualifier } : {}) };
}

function checkValue(base: ConditionOperator, value: string, path: string): void {
  const fail = (kind: string) => {
    throw new PolicyError(`Condition value "${value}" is not a valid ${kind} for ${base}`, path);
  };
  if (base.startsWith('Numeric') && parseNumber(value) === undefined) fail('number');
  if (base.startsWith('Date') && parseDate(value) === undefined) fail('date (ISO 8601 or epoch seconds)');
  if ((base === 'Bool' || base === 'Null') && !/^(true|false)$/i.test(value) && !value.includes('${')) fail('boolean');
  if ((base === 'IpAddress' || base === 'NotIpAddress') && !parseCidr(value)) fail('IP address or CIDR block');
  if (base === 'BinaryEquals' && !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) fail('base64 value');
}

function parseConditions(value: Json | undefined, path: string): Condition[] {
  if (value === undefined) return [];
  if (!isObject(value)) throw new PolicyError('Condition must be an object of operator blocks', path);
  const out: Condition[] = [];
  for (const [rawOp, block] of Object.entries(value)) {
    const opPath = `${path}.${rawOp}`;
    const op = parseOperator(rawOp, opPath);
    if (!isObject(block) || Object.keys(block).length === 0) throw new PolicyError(`Condition operator ${rawOp} must map condition keys to values`, opPath);
    for (const [key, raw] of Object.entries(block)) {
      const keyPath = `${opPath}.${key}`;
      if (!/^[A-Za-z0-9-]+:.+$/.test(key)) throw new PolicyError(`${VENDOR_MESSAGE} Got condition key "${key}"`, keyPath);
      const list = Array.isArray(raw) ? raw : [raw];
      if (list.length === 0) throw new PolicyError(`Condition key ${key} has an empty value list`, keyPath);
      const values = list.map((v) => {
        if (typeof v === 'string') return v;
        if (typeof v === 'number' || typeof v === 'boolean') return String(v);
        throw new PolicyError(`Condition values must be strings, numbers or booleans`, keyPath);
      });
      values.forEach((v) => checkValue(op.base, v, keyPath));
      out.push({ ...op, key, values });
    }
  }
  return out;
}

function parseStatement(raw: Json, index: number, kind: ParsePolicyOptions['kind']): Statement {
  const path = `Statement[${index}]`;
  if (!isObject(raw)) throw new PolicyError('Each statement must be an object', path);
  for (const key of Object.keys(raw)) {
    if (!STATEMENT_KEYS.has(key)) throw new PolicyError(`Statement contains unknown element "${key}"`, `${path}.${key}`);
  }
  const st: Statement = { index, effect: 'Allow', conditions: [] };
  if (raw.Sid !== undefined) {
    if (typeof raw.Sid !== 'string') throw new PolicyError('Sid must be a string', `${path}.Sid`);
    st.sid = raw.Sid;
  }
  if (raw.Effect !== 'Allow' && raw.Effect !== 'Deny') {
    throw new PolicyError(raw.Effect === undefined ? 'Statement is missing required element Effect' : `Effect must be "Allow" or "Deny", got ${JSON.stringify(raw.Effect)}`, `${path}.Effect`);
  }
  st.effect = raw.Effect;
  const pair = (a: string, b: string) => {
    if (raw[a] !== undefined && raw[b] !== undefined) throw new PolicyError(`Statement cannot contain both ${a} and ${b}`, path);
  };
  pair('Principal', 'NotPrincipal');
  pair('Action', 'NotAction');
  pair('Resource', 'NotResource');
  if (raw.Principal !== undefined) st.principal = parsePrincipal(raw.Principal, `${path}.Principal`);
  if (raw.NotPrincipal !== undefined) st.notPrincipal = parsePrincipal(raw.NotPrincipal, `${path}.NotPrincipal`);
  if (kind === 'identity' && (st.principal || st.notPrincipal)) throw new PolicyError('Identity-based policies cannot contain Principal or NotPrincipal', path);
  if (kind === 'resource' && !st.principal && !st.notPrincipal) throw new PolicyError('Statement is missing required element Principal', path);
  if (raw.Action !== undefined) st.action = parseActions(raw.Action, `${path}.Action`);
  else if (raw.NotAction !== undefined) st.notAction = parseActions(raw.NotAction, `${path}.NotAction`);
  else throw new PolicyError('Statement is missing required element Action (or NotAction)', path);
  if (raw.Resource !== undefined) st.resource = parseResources(raw.Resource, `${path}.Resource`);
  else if (raw.NotResource !== undefined) st.notResource = parseResources(raw.NotResource, `${path}.NotResource`);
  else if (kind === 'identity') throw new PolicyError('Statement is missing required element Resource (or NotResource)', path);
  st.conditions = parseConditions(raw.Condition, `${path}.Condition`);
  return st;
}

/**
 * Parses a policy document.
 *
 * Accepts Version 2012-10-17 or 2008-10-17 (default when absent), Id, and Statement as an object or a non-empty
 * array. Validates Effect, Principal/NotPrincipal, Action/NotAction (vendor-prefixed, `*`/`?` wildcards),
 * Resource/NotResource (ARNs or `*`), and Condition operators (with `IfExists` and `ForAnyValue:`/`ForAllValues:`)
 * including value types (numbers, dates, booleans, CIDRs).
 *
 * @throws PolicyError naming the problem, e.g. `Invalid condition operator "StringEqualz" (at Statement[0].Condition.StringEqualz)`.
 */
export function parsePolicy(json: string, options: ParsePolicyOptions = {}): PolicyDocument {
  const maxLength = options.maxLength ?? 10_240;
  if (json.length > maxLength) throw new PolicyError(`Policy document is longer than ${maxLength} characters`);
  let doc: Json;
  try {
    doc = parseBoundedJson(json) as Json;
  } catch (err) {
    throw new PolicyError(`Policy is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw new PolicyError('Policy document must be a JSON object');
  for (const key of Object.keys(doc)) {
    if (!TOP_LEVEL.has(key)) throw new PolicyError(`Policy document contains unknown element "${key}"`, key);
  }
  const version = doc.Version ?? '2008-10-17';
  if (version !== '2012-10-17' && version !== '2008-10-17') {
    throw new PolicyError(`Version must be "2012-10-17" or "2008-10-17", got ${JSON.stringify(version)}`, 'Version');
  }
  if (doc.Id !== undefined && typeof doc.Id !== 'string') throw new PolicyError('Id must be a string', 'Id');
  if (doc.Statement === undefined) throw new PolicyError('Policy document is missing required element Statement');
  const rawStatements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  if (rawStatements.length === 0) throw new PolicyError('Statement must not be empty', 'Statement');
  return {
    version: version as PolicyVersion,
    ...(typeof doc.Id === 'string' ? { id: doc.Id } : {}),
    ...(options.name !== undefined ? { name: options.name } : {}),
    statements: rawStatements.map((s, i) => parseStatement(s, i, options.kind)),
  };
}
