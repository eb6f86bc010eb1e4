/**
 * Vocabulary of the IAM-style policy engine: parsed (normalised) policy documents, the request being
 * authorised, and the decision with the statement that decided it.
 */

/** Policy language versions. Policy variables (`${aws:username}`) are only expanded under 2012-10-17. */
export type PolicyVersion = '2012-10-17' | '2008-10-17';

/** Statement effect. */
export type Effect = 'Allow' | 'Deny';

/** A `Principal` / `NotPrincipal` block: `"*"` or principal lists by type (each list normalised to an array). */
export type PrincipalSpec =
  | '*'
  | { AWS?: string[]; Service?: string[]; Federated?: string[]; CanonicalUser?: string[] };

/** Condition operators without `IfExists` or a set qualifier. */
export type ConditionOperator =
  | 'StringEquals' | 'StringNotEquals' | 'StringEqualsIgnoreCase' | 'StringNotEqualsIgnoreCase'
  | 'StringLike' | 'StringNotLike'
  | 'NumericEquals' | 'NumericNotEquals' | 'NumericLessThan' | 'NumericLessThanEquals'
  | 'NumericGreaterThan' | 'NumericGreaterThanEquals'
  | 'DateEquals' | 'DateNotEquals' | 'DateLessThan' | 'DateLessThanEquals' | 'DateGreaterThan' | 'DateGreaterThanEquals'
  | 'Bool' | 'BinaryEquals' | 'IpAddress' | 'NotIpAddress'
  | 'ArnEquals' | 'ArnLike' | 'ArnNotEquals' | 'ArnNotLike'
  | 'Null';

/** `ForAnyValue:` / `ForAllValues:` qualifiers for multivalued context keys. */
export type SetQualifier = 'ForAnyValue' | 'ForAllValues';

/** One (operator, key, values) test from a `Condition` block. */
export interface Condition {
  /** The operator as written in canonical case, e.g. `ForAnyValue:StringLikeIfExists`. */
  operator: string;
  base: ConditionOperator;
  qualifier?: SetQualifier;
  ifExists: boolean;
  /** Condition key as written (matched case-insensitively). */
  key: string;
  /** Policy values, stringified (numbers and booleans as JSON gave them). */
  values: string[];
}

/** A normalised statement. Exactly one of action/notAction is set; resource elements are optional. */
export interface Statement {
  /** Position in the document's Statement list. */
  index: number;
  sid?: string;
  effect: Effect;
  principal?: PrincipalSpec;
  notPrincipal?: PrincipalSpec;
  action?: string[];
  notAction?: string[];
  resource?: string[];
  notResource?: string[];
  /** All conditions; every one must hold (AND). */
  conditions: Condition[];
}

/** A parsed, validated policy document. */
export interface PolicyDocument {
  version: PolicyVersion;
  id?: string;
  /** Display name used in decisions and explanations (e.g. the IAM policy name). */
  name?: string;
  statements: Statement[];
}

/** The caller. */
export interface Principal {
  /** `arn:aws:iam::123456789012:user/alice`, an assumed-role session ARN, or a service name for service principals. */
  arn: string;
  /** Caller's account; empty for service principals (which only resource policies can allow). */
  accountId: string;
  username?: string;
  /** Unauthenticated caller: identity policies never apply; only `Principal: "*"` resource statements can allow. */
  isAnonymous?: boolean;
}

/** Request context values (keys matched case-insensitively); arrays are multivalued keys. */
export type RequestContext = Record<string, string | string[] | undefined>;

/** What is being authorised. */
export interface AuthorizationRequest {
  principal: Principal;
  /** e.g. `ecr:PutImage`. */
  action: string;
  /** Resource ARN, or `*` for account-level actions such as `ecr:GetAuthorizationToken`. */
  resource: string;
  context: RequestContext;
}

/** Where a policy came from. `registry` policies are resource-based policies on the registry. */
export type PolicySource = 'identity' | 'resource' | 'registry';

/** The policies in force for one request. */
export interface PolicySet {
  identity: PolicyDocument[];
  /** Repository policy. */
  resource?: PolicyDocument[];
  registry?: PolicyDocument[];
}

/** The statement that decided. */
export interface DecidedBy {
  source: PolicySource;
  policyName?: string;
  sid?: string;
  /** Index of the policy within its source list. */
  index: number;
  /** Index of the statement within the policy. */
  statement: number;
}

/** An authorisation decision that explains itself. */
export interface Decision {
  allowed: boolean;
  reason: 'explicit-deny' | 'allow' | 'implicit-deny';
  decidedBy?: DecidedBy;
  /**
   * For implicit denies: which kind of policy lacked an Allow. `resource` when the caller was anonymous or
   * cross-account and no resource/registry policy allowed; otherwise `identity`.
   */
  missingAllowFrom?: 'identity' | 'resource';
  /** One line per statement considered, then the verdict. */
  explain: string[];
}

/** An invalid policy document. The message names the problem. */
export class PolicyError extends Error {
  /** Path of the offending element, e.g. `Statement[1].Condition.StringEquals`. */
  readonly path?: string;

  constructor(message: string, path?: string) {
    super(path ? `${message} (at ${path})` : message);
    this.name = 'PolicyError';
    this.path = path;
  }
}
