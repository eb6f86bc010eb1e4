/**
 * Human-readable renderings of a {@link Decision}: the lines `cargohold iam explain` prints, and the
 * AccessDenied message ECR clients expect.
 */
import type { DecidedBy, Decision } from './types.ts';

function describe(by: DecidedBy): string {
  const policy = by.policyName ? `policy "${by.policyName}"` : `policy #${by.index}`;
  const sid = by.sid ? `statement "${by.sid}"` : `statement #${by.statement}`;
  return `${by.source} ${policy}, ${sid}`;
}

/**
 * Explains a decision: a headline naming the verdict and the statement that decided it, followed by one
 * indented line per statement considered (why it did or did not apply, including each condition's outcome).
 */
export function explainDecision(decision: Decision): string[] {
  let headline: string;
  if (decision.reason === 'allow' && decision.decidedBy) headline = `ALLOWED by ${describe(decision.decidedBy)}`;
  else if (decision.reason === 'explicit-deny' && decision.decidedBy) headline = `DENIED explicitly by ${describe(decision.decidedBy)}`;
  else headline = `DENIED implicitly: no ${decision.missingAllowFrom === 'resource' ? 'resource-based' : 'identity-based'} policy statement allows the request`;
  return [headline, ...decision.explain.map((line) => `  ${line}`)];
}

/**
 * ECR's AccessDenied wording, e.g.
 * `User: arn:aws:iam::123456789012:user/alice is not authorized to perform: ecr:PutImage on resource:
 * arn:aws:ecr:us-east-1:123456789012:repository/app because no identity-based policy allows the ecr:PutImage action`,
 * or `… with an explicit deny in an identity-based policy` / `… in a resource-based policy`.
 *
 * @throws TypeError when the decision allowed the request.
 */
export function denialMessage(principalArn: string, action: string, resource: string, decision: Decision): string {
  if (decision.allowed) throw new TypeError('denialMessage called for an allowed decision');
  const head = `User: ${principalArn} is not authorized to perform: ${action} on resource: ${resource}`;
  if (decision.reason === 'explicit-deny') {
    const where = decision.decidedBy?.source === 'identity' ? 'an identity-based policy' : 'a resource-based policy';
    return `${head} with an explicit deny in ${where}`;
  }
  const kind = decision.missingAllowFrom === 'resource' ? 'resource-based' : 'identity-based';
  return `${head} because no ${kind} policy allows the ${action} action`;
}
