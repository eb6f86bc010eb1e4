/** `cargohold iam explain`: the evaluator's decision for a hypothetical request, with every statement considered. */
import type { Principal } from '../auth/access.ts';
import { ANONYMOUS, createAccessService } from '../auth/access-service.ts';
import type { IdentityService } from '../auth/identity.ts';
import { loadOrCreateKey } from '../auth/keys.ts';
import { explainDecision } from '../auth/policy/index.ts';
import type { Config } from '../config/schema.ts';
import { systemClock } from '../core/clock.ts';
import type { MetadataStore } from '../metadata/types.ts';

export interface ExplainInput {
  principal: string;
  action: string;
  resource: string;
  sourceIp?: string;
  secure?: boolean;
}

export async function explain(ctx: { config: Readonly<Config>; dataDir: string; meta: MetadataStore; identity: IdentityService }, input: ExplainInput): Promise<{ allowed: boolean; lines: string[] }> {
  const { accountId, region } = ctx.config.identity;
  const access = createAccessService({ meta: ctx.meta, identity: ctx.identity, accountId, region, tokenKey: loadOrCreateKey(ctx.dataDir, 'token'), clock: systemClock, cacheTtlMs: 0 });
  let principal: Principal;
  const notes: string[] = [];
  if (input.principal === 'anonymous' || input.principal === '*') {
    principal = ANONYMOUS;
  } else if (input.principal.startsWith('arn:')) {
    const m = /^arn:[^:]+:iam::(\d{12}):user\/(?:.*\/)?([^/]+)$/.exec(input.principal);
    if (m && m[1] === accountId) {
      principal = (await access.principalForUser(m[2]!)) ?? { arn: input.principal, accountId, username: m[2], isAnonymous: false };
      if (!(await ctx.identity.getUser(m[2]!))) notes.push(`note: there is no user ${m[2]} in this registry (no identity policies)`);
    } else {
      principal = { arn: input.principal, accountId: /^arn:[^:]+:(?:iam|sts)::(\d{12}):/.exec(input.principal)?.[1] ?? '', isAnonymous: false };
      notes.push('note: a principal of another account has no identity policies here');
    }
  } else {
    const p = await access.principalForUser(input.principal);
    if (!p) throw new Error(`no user named ${input.principal} (give an ARN for principals outside this registry)`);
    principal = p;
  }
  const action = input.action.includes(':') ? input.action : `ecr:${input.action}`;
  const prefix = `arn:aws:ecr:${region}:${accountId}:repository/`;
  const repositoryName = input.resource.startsWith(prefix) ? input.resource.slice(prefix.length) : undefined;
  const decision = await access.authorize({ principal, action, resource: input.resource, repositoryName, sourceIp: input.sourceIp, secure: input.secure });
  const lines = [...explainDecision(decision), ...notes];
  if (!decision.allowed && decision.message) lines.push(`ECR would answer: ${decision.message}`);
  return { allowed: decision.allowed, lines };
}
