/**
 * The policy evaluation table: each case is a request, the policies in force, the expected decision, and
 * `proves` — the grammar element or evaluation rule it pins down. Run by policy.test.ts.
 */
import type { Decision, PolicySource, Principal, RequestContext } from './types.ts';

type Json = Record<string, unknown>;

export interface PolicyCase {
  name: string;
  proves: string;
  principal?: Principal;
  action?: string;
  resource?: string;
  context?: RequestContext;
  identity?: Json[];
  resource_?: Json[];
  registry?: Json[];
  expect: { allowed: boolean; reason: Decision['reason']; source?: PolicySource; sid?: string; missing?: 'identity' | 'resource' };
}

export const ACCOUNT = '123456789012';
export const OTHER = '210987654321';
export const REPO = `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/app`;
export const ALICE: Principal = { arn: `arn:aws:iam::${ACCOUNT}:user/alice`, accountId: ACCOUNT, username: 'alice' };
const BOB: Principal = { arn: `arn:aws:iam::${ACCOUNT}:user/bob`, accountId: ACCOUNT, username: 'bob' };
const CAROL_OTHER: Principal = { arn: `arn:aws:iam::${OTHER}:user/carol`, accountId: OTHER, username: 'carol' };
const SESSION: Principal = { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Builder/ci-42`, accountId: ACCOUNT };
const ANON: Principal = { arn: 'anonymous', accountId: '', isAnonymous: true };
const CODEBUILD: Principal = { arn: 'codebuild.amazonaws.com', accountId: '' };

/** A 2012-10-17 policy with the given statements. */
const doc = (...Statement: Json[]): Json => ({ Version: '2012-10-17', Statement });
/** Identity Allow of `action` on `resource` plus extra statement fields. */
const allow = (Action: unknown = 'ecr:PutImage', Resource: unknown = REPO, extra: Json = {}): Json => ({ Effect: 'Allow', Action, Resource, ...extra });
const deny = (Action: unknown = 'ecr:PutImage', Resource: unknown = REPO, extra: Json = {}): Json => ({ Effect: 'Deny', Action, Resource, ...extra });
/** Resource-policy statement (Resource implied by the repository). */
const rAllow = (Principal: unknown, Action: unknown = 'ecr:PutImage', extra: Json = {}): Json => ({ Effect: 'Allow', Principal, Action, ...extra });
const rDeny = (Principal: unknown, Action: unknown = 'ecr:PutImage', extra: Json = {}): Json => ({ Effect: 'Deny', Principal, Action, ...extra });
/** Identity Allow guarded by one condition block. */
const when = (Condition: Json): Json[] => [doc(allow('ecr:PutImage', REPO, { Condition }))];

const ALLOW_ID = { allowed: true, reason: 'allow', source: 'identity' } as const;
const ALLOW_RES = { allowed: true, reason: 'allow', source: 'resource' } as const;
const IMPLICIT = { allowed: false, reason: 'implicit-deny', missing: 'identity' } as const;

export const policyCases: PolicyCase[] = [
  // ── evaluation logic ─────────────────────────────────────────────────────────────────────────────
  { name: 'no policies', proves: 'default is implicit deny', expect: IMPLICIT },
  { name: 'identity allow', proves: 'an identity Allow on action and resource allows', identity: [doc(allow())], expect: ALLOW_ID },
  { name: 'identity allow other action', proves: 'an Allow for another action does not apply', identity: [doc(allow('ecr:BatchGetImage'))], expect: IMPLICIT },
  { name: 'identity deny beats allow', proves: 'explicit Deny in an identity policy overrides any Allow', identity: [doc(allow(), { ...deny(), Sid: 'NoPush' })], expect: { allowed: false, reason: 'explicit-deny', source: 'identity', sid: 'NoPush' } },
  { name: 'deny first or last', proves: 'statement order is irrelevant: Deny listed before Allow still wins', identity: [doc(deny(), allow())], expect: { allowed: false, reason: 'explicit-deny', source: 'identity' } },
  { name: 'deny in another policy', proves: 'a Deny in any attached identity policy wins over an Allow in another', identity: [doc(allow()), doc(deny('ecr:*', '*'))], expect: { allowed: false, reason: 'explicit-deny', source: 'identity' } },
  { name: 'repository deny beats identity allow', proves: 'explicit Deny in a resource (repository) policy overrides an identity Allow', identity: [doc(allow())], resource_: [doc(rDeny('*'))], expect: { allowed: false, reason: 'explicit-deny', source: 'resource' } },
  { name: 'registry deny', proves: 'explicit Deny in a registry policy is honoured', identity: [doc(allow())], registry: [doc(rDeny({ AWS: ACCOUNT }, 'ecr:*'))], expect: { allowed: false, reason: 'explicit-deny', source: 'registry' } },
  { name: 'repository allow alone (same account)', proves: 'same account: a resource-policy Allow suffices without any identity Allow', resource_: [doc(rAllow({ AWS: `arn:aws:iam::${ACCOUNT}:root` }))], expect: ALLOW_RES },
  { name: 'repository allow for another user', proves: 'resource statements apply only to the principals they name', principal: BOB, resource_: [doc(rAllow({ AWS: ALICE.arn }))], expect: IMPLICIT },
  { name: 'registry allow', proves: 'registry policy Allows count like repository policy Allows', action: 'ecr:ReplicateImage', registry: [doc(rAllow({ AWS: ACCOUNT }, 'ecr:ReplicateImage', { Sid: 'Repl' }))], expect: { allowed: true, reason: 'allow', source: 'registry', sid: 'Repl' } },
  { name: 'deny with unmet condition', proves: 'a Deny whose condition fails does not apply', identity: [doc(allow(), deny('ecr:PutImage', REPO, { Condition: { Bool: { 'aws:SecureTransport': 'false' } } }))], context: { 'aws:SecureTransport': 'true' }, expect: ALLOW_ID },
  { name: 'account-level action', proves: 'GetAuthorizationToken (resource "*") is allowed by Resource "*"', action: 'ecr:GetAuthorizationToken', resource: '*', identity: [doc(allow('ecr:GetAuthorizationToken', '*'))], expect: ALLOW_ID },
  { name: 'account-level action, ARN resource', proves: 'a repository ARN does not match the "*" resource of account-level actions', action: 'ecr:GetAuthorizationToken', resource: '*', identity: [doc(allow('ecr:GetAuthorizationToken', `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/*`))], expect: IMPLICIT },
  { name: 'single statement object', proves: 'Statement may be one object instead of a list', identity: [{ Version: '2012-10-17', Statement: allow() }], expect: ALLOW_ID },

  // ── anonymous and cross-account ──────────────────────────────────────────────────────────────────
  { name: 'anonymous, Principal "*"', proves: 'anonymous callers are allowed by a resource statement with Principal "*"', principal: ANON, action: 'ecr:BatchGetImage', resource_: [doc(rAllow('*', 'ecr:BatchGetImage'))], expect: ALLOW_RES },
  { name: 'anonymous, AWS "*"', proves: '{"AWS": "*"} also admits anonymous callers', principal: ANON, action: 'ecr:BatchGetImage', resource_: [doc(rAllow({ AWS: '*' }, 'ecr:BatchGetImage'))], expect: ALLOW_RES },
  { name: 'anonymous, account principal', proves: 'an account principal never matches an anonymous caller', principal: ANON, resource_: [doc(rAllow({ AWS: ACCOUNT }))], expect: { allowed: false, reason: 'implicit-deny', missing: 'resource' } },
  { name: 'anonymous ignores identity policies', proves: 'identity policies never apply to anonymous callers', principal: ANON, identity: [doc(allow())], expect: { allowed: false, reason: 'implicit-deny', missing: 'resource' } },
  { name: 'cross-account, identity only', proves: 'cross-account access also needs a resource-policy Allow', principal: CAROL_OTHER, identity: [doc(allow())], expect: { allowed: false, reason: 'implicit-deny', missing: 'resource' } },
  { name: 'cross-account, resource only', proves: 'cross-account access also needs an identity Allow in the caller account', principal: CAROL_OTHER, resource_: [doc(rAllow({ AWS: OTHER }))], expect: { allowed: false, reason: 'implicit-deny', missing: 'identity' } },
  { name: 'cross-account, both', proves: 'cross-account access is allowed when both sides allow', principal: CAROL_OTHER, identity: [doc(allow())], resource_: [doc(rAllow({ AWS: `arn:aws:iam::${OTHER}:root` }))], expect: ALLOW_RES },

  // ── Action / NotAction ───────────────────────────────────────────────────────────────────────────
  { name: 'service wildcard', proves: 'Action "ecr:*" matches every ECR action', identity: [doc(allow('ecr:*'))], expect: ALLOW_ID },
  { name: 'global wildcard', proves: 'Action "*" matches everything', identity: [doc(allow('*', '*'))], expect: ALLOW_ID },
  { name: 'action case', proves: 'action names and service prefixes match case-insensitively', identity: [doc(allow('ECR:putimage'))], expect: ALLOW_ID },
  { name: 'action prefix wildcard', proves: '"*" inside an action name matches any run of characters', identity: [doc(allow('ecr:Put*'))], expect: ALLOW_ID },
  { name: 'action ? wildcard', proves: '"?" matches exactly one character', action: 'ecr:BatchGetImage', identity: [doc(allow('ecr:Batch?etImage'))], expect: ALLOW_ID },
  { name: 'action ? is one char', proves: '"?" does not match several characters', identity: [doc(allow('ecr:Put?'))], expect: IMPLICIT },
  { name: 'action list', proves: 'an Action list matches if any entry matches', identity: [doc(allow(['ecr:BatchGetImage', 'ecr:PutImage']))], expect: ALLOW_ID },
  { name: 'NotAction allow', proves: 'Allow with NotAction covers every action not listed', identity: [doc({ Effect: 'Allow', NotAction: 'ecr:Delete*', Resource: '*' })], expect: ALLOW_ID },
  { name: 'NotAction allow, listed action', proves: 'Allow with NotAction does not cover the listed actions', identity: [doc({ Effect: 'Allow', NotAction: ['ecr:PutImage'], Resource: '*' })], expect: IMPLICIT },
  { name: 'NotAction deny', proves: 'Deny with NotAction denies everything except the listed (read-only) actions', identity: [doc(allow('ecr:*', '*'), { Effect: 'Deny', NotAction: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], Resource: '*' })], expect: { allowed: false, reason: 'explicit-deny', source: 'identity' } },

  // ── Resource / NotResource and policy variables ──────────────────────────────────────────────────
  { name: 'resource wildcard', proves: 'Resource "…:repository/*" matches any repository', identity: [doc(allow('ecr:PutImage', `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/*`))], expect: ALLOW_ID },
  { name: 'resource region wildcard', proves: 'a wildcard can stand for a whole ARN component (region)', identity: [doc(allow('ecr:PutImage', `arn:aws:ecr:*:${ACCOUNT}:repository/app`))], expect: ALLOW_ID },
  { name: 'resource ? wildcard', proves: '"?" in a Resource matches one character', identity: [doc(allow('ecr:PutImage', `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/ap?`))], expect: ALLOW_ID },
  { name: 'resource case-sensitive', proves: 'Resource ARNs match case-sensitively', identity: [doc(allow('ecr:PutImage', `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/App`))], expect: IMPLICIT },
  { name: 'resource list', proves: 'a Resource list matches if any entry matches', identity: [doc(allow('ecr:PutImage', [`arn:aws:ecr:us-east-1:${ACCOUNT}:repository/other`, REPO]))], expect: ALLOW_ID },
  { name: 'NotResource allow', proves: 'Allow with NotResource covers resources not listed', identity: [doc({ Effect: 'Allow', Action: 'ecr:*', NotResource: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/secret` })], expect: ALLOW_ID },
  { name: 'NotResource allow, listed resource', proves: 'Allow with NotResource does not cover the listed resources', resource: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/secret`, identity: [doc({ Effect: 'Allow', Action: 'ecr:*', NotResource: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/secret` })], expect: IMPLICIT },
  { name: 'resource policy without Resource', proves: 'in a repository policy Resource is optional (the repository is implied)', principal: BOB, resource_: [doc(rAllow({ AWS: BOB.arn }))], expect: ALLOW_RES },
  { name: '${aws:username} in Resource', proves: 'policy variables expand in Resource (2012-10-17)', resource: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/alice/app`, identity: [doc(allow('ecr:PutImage', `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/\${aws:username}/*`))], expect: ALLOW_ID },
  { name: 'variable without value', proves: 'a Resource whose variable has no value (role session has no username) matches nothing', principal: SESSION, resource: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/alice/app`, identity: [doc(allow('ecr:PutImage', `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/\${aws:username}/*`))], expect: IMPLICIT },
  { name: 'variable default', proves: "${key, 'default'} supplies a value when the key is absent", principal: SESSION, resource: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/shared/app`, identity: [doc(allow('ecr:PutImage', `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/\${aws:username, 'shared'}/*`))], expect: ALLOW_ID },
  { name: '${*} is a literal star', proves: '${*} inserts a literal "*" that is not a wildcard', resource: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/appx`, identity: [doc(allow('ecr:PutImage', `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/app\${*}`))], expect: IMPLICIT },
  { name: '2008-10-17 keeps ${} literal', proves: 'policy variables are not expanded under Version 2008-10-17', resource: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/alice/app`, identity: [{ Version: '2008-10-17', Statement: [allow('ecr:PutImage', `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/\${aws:username}/*`)] }], expect: IMPLICIT },

  // ── Principal / NotPrincipal ─────────────────────────────────────────────────────────────────────
  { name: 'principal as account id', proves: 'a bare 12-digit account id names every principal of that account', principal: BOB, resource_: [doc(rAllow({ AWS: ACCOUNT }))], expect: ALLOW_RES },
  { name: 'principal list', proves: 'an AWS principal list matches if any entry names the caller', resource_: [doc(rAllow({ AWS: [BOB.arn, ALICE.arn] }))], expect: ALLOW_RES },
  { name: 'role principal covers its sessions', proves: 'a role ARN principal matches assumed-role sessions of that role', principal: SESSION, resource_: [doc(rAllow({ AWS: `arn:aws:iam::${ACCOUNT}:role/Builder` }))], expect: ALLOW_RES },
  { name: 'service principal', proves: '{"Service": …} names an AWS service principal', principal: CODEBUILD, action: 'ecr:BatchGetImage', resource_: [doc(rAllow({ Service: 'codebuild.amazonaws.com' }, 'ecr:BatchGetImage'))], expect: ALLOW_RES },
  { name: 'NotPrincipal deny hits others', proves: 'Deny with NotPrincipal applies to everyone not listed', principal: BOB, identity: [doc(allow('ecr:*', '*'))], resource_: [doc({ Effect: 'Deny', NotPrincipal: { AWS: ALICE.arn }, Action: 'ecr:*' })], expect: { allowed: false, reason: 'explicit-deny', source: 'resource' } },
  { name: 'NotPrincipal deny spares the listed', proves: 'Deny with NotPrincipal does not apply to the listed principal', identity: [doc(allow('ecr:*', '*'))], resource_: [doc({ Effect: 'Deny', NotPrincipal: { AWS: ALICE.arn }, Action: 'ecr:*' })], expect: ALLOW_ID },

  // ── String operators ─────────────────────────────────────────────────────────────────────────────
  { name: 'StringEquals match', proves: 'StringEquals compares exactly', context: { 'ecr:ResourceTag/team': 'platform' }, identity: when({ StringEquals: { 'ecr:ResourceTag/team': 'platform' } }), expect: ALLOW_ID },
  { name: 'StringEquals case', proves: 'StringEquals is case-sensitive', context: { 'ecr:ResourceTag/team': 'Platform' }, identity: when({ StringEquals: { 'ecr:ResourceTag/team': 'platform' } }), expect: IMPLICIT },
  { name: 'StringEquals value list', proves: 'several values for one key are ORed', context: { 'aws:ResourceTag/env': 'staging' }, identity: when({ StringEquals: { 'aws:ResourceTag/env': ['prod', 'staging'] } }), expect: ALLOW_ID },
  { name: 'StringEquals key absent', proves: 'a positive operator on an absent key is false', identity: when({ StringEquals: { 'aws:ResourceTag/env': 'prod' } }), expect: IMPLICIT },
  { name: 'StringNotEquals key absent', proves: 'a negated operator on an absent key is true (so this Deny applies)', identity: [doc(allow(), deny('ecr:PutImage', REPO, { Condition: { StringNotEquals: { 'aws:SourceVpce': 'vpce-1a2b' } } }))], expect: { allowed: false, reason: 'explicit-deny', source: 'identity' } },
  { name: 'StringNotEquals', proves: 'StringNotEquals holds when the value differs from every listed value', context: { 'aws:ResourceTag/env': 'dev' }, identity: when({ StringNotEquals: { 'aws:ResourceTag/env': ['prod', 'staging'] } }), expect: ALLOW_ID },
  { name: 'StringEqualsIgnoreCase', proves: 'StringEqualsIgnoreCase ignores case', context: { 'ecr:ResourceTag/team': 'PLATFORM' }, identity: when({ StringEqualsIgnoreCase: { 'ecr:ResourceTag/team': 'platform' } }), expect: ALLOW_ID },
  { name: 'StringNotEqualsIgnoreCase', proves: 'StringNotEqualsIgnoreCase fails on a case-only difference', context: { 'ecr:ResourceTag/team': 'PLATFORM' }, identity: when({ StringNotEqualsIgnoreCase: { 'ecr:ResourceTag/team': 'platform' } }), expect: IMPLICIT },
  { name: 'StringLike', proves: 'StringLike supports * and ?', context: { 'ecr:ResourceTag/team': 'platform-eu1' }, identity: when({ StringLike: { 'ecr:ResourceTag/team': 'platform-??1*' } }), expect: ALLOW_ID },
  { name: 'StringNotLike', proves: 'StringNotLike fails when the pattern matches', context: { 'aws:userid': 'AIDAEXAMPLE:ci-bot' }, identity: when({ StringNotLike: { 'aws:userid': '*:ci-*' } }), expect: IMPLICIT },
  { name: 'condition key case', proves: 'condition key names match case-insensitively', context: { 'aws:SourceIp': '10.1.2.3' }, identity: when({ IpAddress: { 'AWS:SOURCEIP': '10.0.0.0/8' } }), expect: ALLOW_ID },
  { name: 'operators are ANDed', proves: 'every operator block must hold', context: { 'aws:SourceIp': '10.1.2.3', 'aws:SecureTransport': 'false' }, identity: when({ IpAddress: { 'aws:SourceIp': '10.0.0.0/8' }, Bool: { 'aws:SecureTransport': 'true' } }), expect: IMPLICIT },
  { name: 'variable in condition value', proves: 'policy variables expand in condition values', context: { 'ecr:ResourceTag/owner': 'alice' }, identity: when({ StringEquals: { 'ecr:ResourceTag/owner': '${aws:username}' } }), expect: ALLOW_ID },
  { name: 'principal-derived key', proves: 'aws:PrincipalArn is filled in from the caller when not supplied', identity: when({ ArnEquals: { 'aws:PrincipalArn': ALICE.arn } }), expect: ALLOW_ID },

  // ── Numeric, Date, Bool, IP, ARN, Null ───────────────────────────────────────────────────────────
  { name: 'NumericLessThan', proves: 'NumericLessThan compares numerically', context: { 'aws:MultiFactorAuthAge': '900' }, identity: when({ NumericLessThan: { 'aws:MultiFactorAuthAge': 3600 } }), expect: ALLOW_ID },
  { name: 'NumericLessThanEquals boundary', proves: 'NumericLessThanEquals includes equality', context: { 'aws:MultiFactorAuthAge': '3600' }, identity: when({ NumericLessThanEquals: { 'aws:MultiFactorAuthAge': '3600' } }), expect: ALLOW_ID },
  { name: 'NumericGreaterThan fails', proves: 'NumericGreaterThan is strict', context: { 'ecr:maxResults': '100' }, identity: when({ NumericGreaterThan: { 'ecr:maxResults': '100' } }), expect: IMPLICIT },
  { name: 'NumericGreaterThanEquals', proves: 'NumericGreaterThanEquals includes equality', context: { 'ecr:maxResults': '100' }, identity: when({ NumericGreaterThanEquals: { 'ecr:maxResults': '100.0' } }), expect: ALLOW_ID },
  { name: 'NumericEquals / NumericNotEquals', proves: 'numeric equality ignores formatting; NotEquals negates', context: { 'ecr:maxResults': '50' }, identity: when({ NumericEquals: { 'ecr:maxResults': '5e1' }, NumericNotEquals: { 'ecr:maxResults': 10 } }), expect: ALLOW_ID },
  { name: 'Numeric with non-number context', proves: 'a context value that is not a number never matches', context: { 'ecr:maxResults': 'lots' }, identity: when({ NumericLessThan: { 'ecr:maxResults': 1000 } }), expect: IMPLICIT },
  { name: 'DateGreaterThan', proves: 'Date operators compare aws:CurrentTime as ISO 8601', context: { 'aws:CurrentTime': '2026-03-01T12:00:00Z' }, identity: when({ DateGreaterThan: { 'aws:CurrentTime': '2026-01-01T00:00:00Z' } }), expect: ALLOW_ID },
  { name: 'DateLessThan epoch', proves: 'Date policy values may be epoch seconds', context: { 'aws:CurrentTime': '2026-03-01T12:00:00Z' }, identity: when({ DateLessThan: { 'aws:CurrentTime': '1767225600' } }), expect: IMPLICIT },
  { name: 'DateLessThanEquals / GreaterThanEquals window', proves: 'inclusive date bounds form a validity window', context: { 'aws:CurrentTime': '2026-03-01T00:00:00Z' }, identity: when({ DateGreaterThanEquals: { 'aws:CurrentTime': '2026-03-01T00:00:00Z' }, DateLessThanEquals: { 'aws:CurrentTime': '2026-03-31T23:59:59Z' } }), expect: ALLOW_ID },
  { name: 'DateEquals / DateNotEquals', proves: 'DateEquals compares instants, not strings', context: { 'aws:TokenIssueTime': '2026-03-01T12:00:00+00:00' }, identity: when({ DateEquals: { 'aws:TokenIssueTime': '2026-03-01T12:00:00Z' }, DateNotEquals: { 'aws:TokenIssueTime': '2026-03-02T12:00:00Z' } }), expect: ALLOW_ID },
  { name: 'Bool deny insecure transport', proves: 'Bool matches "false" (Deny over HTTP)', context: { 'aws:SecureTransport': 'false' }, identity: [doc(allow(), deny('ecr:*', '*', { Condition: { Bool: { 'aws:SecureTransport': 'false' } } }))], expect: { allowed: false, reason: 'explicit-deny', source: 'identity' } },
  { name: 'Bool JSON boolean', proves: 'a JSON boolean condition value is accepted and compared as text', context: { 'aws:SecureTransport': 'true' }, identity: when({ Bool: { 'aws:SecureTransport': true } }), expect: ALLOW_ID },
  { name: 'IpAddress v4', proves: 'IpAddress matches an IPv4 CIDR', context: { 'aws:SourceIp': '203.0.113.77' }, identity: when({ IpAddress: { 'aws:SourceIp': ['198.51.100.0/24', '203.0.113.0/24'] } }), expect: ALLOW_ID },
  { name: 'IpAddress single address', proves: 'an address without a prefix is a /32', context: { 'aws:SourceIp': '203.0.113.78' }, identity: when({ IpAddress: { 'aws:SourceIp': '203.0.113.77' } }), expect: IMPLICIT },
  { name: 'IpAddress v6', proves: 'IpAddress matches an IPv6 CIDR', context: { 'aws:SourceIp': '2001:db8:1234::42' }, identity: when({ IpAddress: { 'aws:SourceIp': '2001:db8:1234::/48' } }), expect: ALLOW_ID },
  { name: 'NotIpAddress deny', proves: 'NotIpAddress in a Deny blocks callers outside the range', context: { 'aws:SourceIp': '192.0.2.1' }, identity: [doc(allow(), deny('ecr:*', '*', { Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }))], expect: { allowed: false, reason: 'explicit-deny', source: 'identity' } },
  { name: 'ArnLike components', proves: 'ArnLike wildcards match within ARN components', context: { 'aws:SourceArn': `arn:aws:codebuild:eu-west-1:${ACCOUNT}:project/build-app` }, identity: when({ ArnLike: { 'aws:SourceArn': `arn:aws:codebuild:*:${ACCOUNT}:project/build-*` } }), expect: ALLOW_ID },
  { name: 'ArnLike cannot span components', proves: 'a wildcard in an ARN component does not swallow the following components', context: { 'aws:SourceArn': `arn:aws:iam::${ACCOUNT}:user/x` }, identity: when({ ArnLike: { 'aws:SourceArn': 'arn:aws:iam::*' } }), expect: IMPLICIT },
  { name: 'ArnNotEquals / ArnNotLike', proves: 'negated ARN operators hold when nothing matches', context: { 'aws:SourceArn': `arn:aws:codebuild:us-east-1:${ACCOUNT}:project/app` }, identity: when({ ArnNotEquals: { 'aws:SourceArn': `arn:aws:codebuild:us-east-1:${ACCOUNT}:project/other` }, ArnNotLike: { 'aws:SourceArn': 'arn:aws:s3:::*' } }), expect: ALLOW_ID },
  { name: 'Null true', proves: 'Null "true" holds when the key is absent', identity: when({ Null: { 'aws:TokenIssueTime': 'true' } }), expect: ALLOW_ID },
  { name: 'Null false', proves: 'Null "false" requires the key to be present', identity: when({ Null: { 'aws:TokenIssueTime': 'false' } }), expect: IMPLICIT },

  // ── IfExists and set qualifiers ──────────────────────────────────────────────────────────────────
  { name: 'IfExists absent', proves: '…IfExists is true when the key is absent', identity: when({ StringEqualsIfExists: { 'ecr:ResourceTag/team': 'platform' } }), expect: ALLOW_ID },
  { name: 'IfExists present', proves: '…IfExists still tests the key when present', context: { 'ecr:ResourceTag/team': 'data' }, identity: when({ StringEqualsIfExists: { 'ecr:ResourceTag/team': 'platform' } }), expect: IMPLICIT },
  { name: 'ForAnyValue match', proves: 'ForAnyValue holds when any context value matches', context: { 'aws:TagKeys': ['env', 'owner'] }, identity: when({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['owner'] } }), expect: ALLOW_ID },
  { name: 'ForAnyValue absent', proves: 'ForAnyValue on an absent key is false', identity: when({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['owner'] } }), expect: IMPLICIT },
  { name: 'ForAllValues subset', proves: 'ForAllValues holds when every context value is in the set', context: { 'aws:TagKeys': ['env', 'owner'] }, identity: when({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env', 'owner', 'team'] } }), expect: ALLOW_ID },
  { name: 'ForAllValues outsider', proves: 'ForAllValues fails if one context value is outside the set', context: { 'aws:TagKeys': ['env', 'cost'] }, identity: when({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env', 'owner'] } }), expect: IMPLICIT },
  { name: 'ForAllValues absent', proves: 'ForAllValues on an absent key is true', identity: when({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env'] } }), expect: ALLOW_ID },
  { name: 'ForAnyValue:StringLike', proves: 'set qualifiers combine with pattern operators', context: { 'aws:TagKeys': ['Name', 'team-owner'] }, identity: when({ 'ForAnyValue:StringLike': { 'aws:TagKeys': 'team-*' } }), expect: ALLOW_ID },
  { name: 'ForAllValues:StringNotEquals', proves: 'negated operators apply per value under ForAllValues', context: { 'aws:TagKeys': ['env', 'secret'] }, identity: when({ 'ForAllValues:StringNotEquals': { 'aws:TagKeys': 'secret' } }), expect: IMPLICIT },
  { name: 'unqualified negated multivalue', proves: 'without a qualifier, a negated operator on a multivalued key holds only if no value matches', context: { 'aws:TagKeys': ['env', 'secret'] }, identity: when({ StringNotEquals: { 'aws:TagKeys': 'secret' } }), expect: IMPLICIT },
];
