/**
 * The one policy evaluator both APIs ask. IAM logic within one account, as ECR applies it:
 * an applicable explicit Deny anywhere wins; otherwise an Allow from an identity policy OR from a
 * resource/registry policy whose Principal names the caller allows; otherwise implicit deny.
 * Cross-account callers need both an identity Allow and a resource Allow; anonymous callers can only be
 * allowed by resource/registry statements with `Principal: "*"` (or `{"AWS": "*"}`).
 */
import { evaluateCondition } from './conditions.ts';
import { actionMatches, arnAccount, arnMatches, type VariableLookup } from './match.ts';
import type { AuthorizationRequest, DecidedBy, Decision, PolicyDocument, PolicySet, PolicySource, Principal, PrincipalSpec, Statement } from './types.ts';

type ContextMap = Map<string, string[]>;

/** Lower-cased context with principal-derived keys filled in when the caller did not supply them. */
function buildContext(request: AuthorizationRequest): ContextMap {
  const map: ContextMap = new Map();
  const put = (key: string, value: string | string[] | undefined) => {
    if (value === undefined) return;
    const list = Array.isArray(value) ? value : [value];
    if (list.length > 0) map.set(key.toLowerCase(), list);
  };
  const p = request.principal;
  if (!p.isAnonymous) {
    put('aws:PrincipalArn', p.arn);
    put('aws:PrincipalAccount', p.accountId);
    put('aws:username', p.username);
  }
  for (const [key, value] of Object.entries(request.context)) put(key, value);
  return map;
}

function lookupFor(doc: PolicyDocument, ctx: ContextMap): VariableLookup | undefined {
  if (doc.version !== '2012-10-17') return undefined; // 2008-10-17 treats ${...} literally
  return (key) => {
    const v = ctx.get(key.toLowerCase());
    return v && v.length === 1 ? v[0] : undefined;
  };
}

/** Role ARN `arn:aws:iam::A:role/path/Name` also names its sessions `arn:aws:sts::A:assumed-role/Name/*`. */
function roleCoversSession(roleArn: string, callerArn: string): boolean {
  const role = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
  const session = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(callerArn);
  return !!role && !!session && role[1] === session[1] && role[2] === session[2] && role[3] === session[3];
}

function awsPrincipalMatches(value: string, p: Principal): boolean {
  if (value === '*') return true;
  if (p.isAnonymous) return false;
  const root = /^arn:[^:]+:iam::(\d{12}):root$/.exec(value);
  if (/^\d{12}$/.test(value) || root) return p.accountId === (root ? root[1] : value);
  return value === p.arn || roleCoversSession(value, p.arn);
}

/** Does a Principal block name this caller? */
export function principalMatches(spec: PrincipalSpec, p: Principal): boolean {
  if (spec === '*') return true;
  if ((spec.AWS ?? []).some((v) => awsPrincipalMatches(v, p))) return true;
  if (p.isAnonymous) return false;
  const others = [...(spec.Service ?? []), ...(spec.Federated ?? []), ...(spec.CanonicalUser ?? [])];
  return others.some((v) => v.toLowerCase() === p.arn.toLowerCase());
}

function anyResource(patterns: string[], resource: string, lookup: VariableLookup | undefined): { match: boolean; unresolved?: string } {
  let unresolved: string | undefined;
  for (const pattern of patterns) {
    const r = arnMatches(pattern, resource, lookup);
    if (r === true) return { match: true };
    if (typeof r === 'object') unresolved ??= r.unresolved;
  }
  return { match: false, ...(unresolved ? { unresolved } : {}) };
}

const list = (xs: string[]) => `[${xs.join(', ')}]`;

/** Checks one statement in order principal → action → resource → conditions, explaining the first miss. */
function statementApplies(st: Statement, source: PolicySource, doc: PolicyDocument, request: AuthorizationRequest, ctx: ContextMap): { applies: boolean; why: string } {
  const reasons: string[] = [];
  if (source !== 'identity') {
    if (st.principal) {
      if (!principalMatches(st.principal, request.principal)) return { applies: false, why: `Principal does not name ${request.principal.arn}` };
      reasons.push('principal matches');
    } else if (st.notPrincipal) {
      if (principalMatches(st.notPrincipal, request.principal)) return { applies: false, why: `NotPrincipal excludes ${request.principal.arn}` };
      reasons.push('principal not excluded by NotPrincipal');
    } else {
      return { applies: false, why: 'resource-based statement has no Principal' };
    }
  }
  if (st.action) {
    if (!st.action.some((a) => actionMatches(a, request.action))) return { applies: false, why: `${request.action} not in Action ${list(st.action)}` };
    reasons.push(`action matches ${list(st.action)}`);
  } else if (st.notAction) {
    if (st.notAction.some((a) => actionMatches(a, request.action))) return { applies: false, why: `${request.action} excluded by NotAction ${list(st.notAction)}` };
    reasons.push(`action not in NotAction ${list(st.notAction)}`);
  }
  const lookup = lookupFor(doc, ctx);
  if (st.resource) {
    const r = anyResource(st.resource, request.resource, lookup);
    if (!r.match) {
      const note = r.unresolved ? ` (policy variable \${${r.unresolved}} has no value)` : '';
      return { applies: false, why: `${request.resource} not in Resource ${list(st.resource)}${note}` };
    }
    reasons.push('resource matches');
  } else if (st.notResource) {
    if (anyResource(st.notResource, request.resource, lookup).match) return { applies: false, why: `${request.resource} excluded by NotResource ${list(st.notResource)}` };
    reasons.push('resource not in NotResource');
  }
  for (const condition of st.conditions) {
    const r = evaluateCondition(condition, ctx.get(condition.key.toLowerCase()), lookup);
    if (!r.ok) return { applies: false, why: `condition failed: ${r.why}` };
    reasons.push(`condition met: ${r.why}`);
  }
  return { applies: true, why: reasons.join('; ') };
}

function label(source: PolicySource, doc: PolicyDocument, index: number, st: Statement): string {
  const name = doc.name ? ` "${doc.name}"` : '';
  const sid = st.sid ? ` (Sid "${st.sid}")` : '';
  return `${source}[${index}]${name} statement ${st.index}${sid} ${st.effect}`;
}

/**
 * Decides whether `request` is allowed under `policies`, returning the deciding statement and an explanation
 * line for every statement considered.
 */
export function evaluate(request: AuthorizationRequest, policies: PolicySet): Decision {
  const ctx = buildContext(request);
  const p = request.principal;
  const explain: string[] = [`request: ${p.isAnonymous ? 'anonymous' : p.arn} → ${request.action} on ${request.resource}`];
  let deny: DecidedBy | undefined;
  let identityAllow: DecidedBy | undefined;
  let resourceAllow: DecidedBy | undefined;
  const sources: Array<[PolicySource, PolicyDocument[]]> = [['identity', policies.identity], ['resource', policies.resource ?? []], ['registry', policies.registry ?? []]];
  for (const [source, docs] of sources) {
    if (source === 'identity' && p.isAnonymous && docs.length > 0) {
      explain.push('identity policies skipped: the caller is anonymous');
      continue;
    }
    for (const [index, doc] of docs.entries()) {
      for (const st of doc.statements) {
        const r = statementApplies(st, source, doc, request, ctx);
        explain.push(`${label(source, doc, index, st)}: ${r.applies ? 'APPLIES' : 'does not apply'} — ${r.why}`);
        if (!r.applies) continue;
        const by: DecidedBy = { source, index, statement: st.index, ...(doc.name ? { policyName: doc.name } : {}), ...(st.sid ? { sid: st.sid } : {}) };
        if (st.effect === 'Deny') deny ??= by;
        else if (source === 'identity') identityAllow ??= by;
        else resourceAllow ??= by;
      }
    }
  }
  if (deny) {
    explain.push(`decision: DENY (explicit deny in ${deny.source} policy)`);
    return { allowed: false, reason: 'explicit-deny', decidedBy: deny, explain };
  }
  const resourceAccount = arnAccount(request.resource);
  // Service principals carry no account; they are governed by resource policies alone.
  const crossAccount = !p.isAnonymous && p.accountId !== '' && resourceAccount !== undefined && resourceAccount !== p.accountId;
  let allowedBy: DecidedBy | undefined;
  let missing: 'identity' | 'resource' = 'identity';
  if (p.isAnonymous) {
    allowedBy = resourceAllow;
    missing = 'resource';
  } else if (crossAccount) {
    allowedBy = identityAllow && resourceAllow ? resourceAllow : undefined;
    missing = identityAllow ? 'resource' : 'identity';
    explain.push(`cross-account caller (${p.accountId} → ${resourceAccount}): needs an identity Allow and a resource Allow`);
  } else {
    allowedBy = identityAllow ?? resourceAllow;
  }
  if (allowedBy) {
    explain.push(`decision: ALLOW (by ${allowedBy.source} policy)`);
    return { allowed: true, reason: 'allow', decidedBy: allowedBy, explain };
  }
  explain.push(`decision: DENY (implicit: no ${missing === 'identity' ? 'identity-based' : 'resource-based'} policy allows ${request.action})`);
  return { allowed: false, reason: 'implicit-deny', missingAllowFrom: missing, explain };
}
