/**
 * IAM-style policy engine: parse and validate policy JSON, evaluate a request against identity, repository and
 * registry policies, and explain the decision.
 * @module
 */
export { parsePolicy } from './parse.ts';
export type { ParsePolicyOptions } from './parse.ts';
export { evaluate, principalMatches } from './evaluate.ts';
export { explainDecision, denialMessage } from './explain.ts';
export { evaluateCondition, CONDITION_OPERATORS } from './conditions.ts';
export { actionMatches, arnMatches } from './match.ts';
export { PolicyError } from './types.ts';
export type {
  AuthorizationRequest,
  Condition,
  ConditionOperator,
  DecidedBy,
  Decision,
  Effect,
  PolicyDocument,
  PolicySet,
  PolicySource,
  PolicyVersion,
  Principal,
  PrincipalSpec,
  RequestContext,
  SetQualifier,
  Statement,
} from './types.ts';
