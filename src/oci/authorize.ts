/**
 * /v2/ authorization: maps each route + method to the ECR actions ECR checks for it and asks the one policy
 * evaluator (through the AccessService). Anonymous callers that are not allowed get the 401 Basic challenge
 * docker expects (so it prompts / says "no basic auth credentials"); authenticated callers that are denied get
 * 403 DENIED with ECR's wording (docker prints it after "denied:").
 */
import type { IncomingMessage } from 'node:http';
import type { AccessDecision, AccessService, Principal } from '../auth/access.ts';
import { RegistryError } from '../core/errors.ts';
import type { RequestContext } from '../http/context.ts';

/** What a route needs to know about the caller beyond "go ahead". */
export interface OciAccess {
  principal: Principal;
  /** Catalog: keeps the repository names the caller may see (ecr:DescribeRepositories on each). */
  visibleRepositories?(names: string[]): Promise<string[]>;
}

/** The request as the router matched it. `query` may be edited (a refused mount becomes a plain upload). */
export interface OciRouteRequest {
  route: string;
  method: string;
  name: string;
  ref: string;
  query: URLSearchParams;
}

/** Authorizes a matched /v2/ request; throws RegistryError UNAUTHORIZED/DENIED. */
export type OciAuthorizer = (req: IncomingMessage, ctx: RequestContext, route: OciRouteRequest) => Promise<OciAccess>;

/**
 * ECR actions required per route and method. `pull`/`push` families follow ECR's documented mapping:
 * manifests GET/HEAD → BatchGetImage, blob GET → GetDownloadUrlForLayer, blob HEAD → BatchCheckLayerAvailability,
 * uploads → Initiate/UploadLayerPart/CompleteLayerUpload, manifest PUT → PutImage, DELETE → BatchDeleteImage,
 * tags list → ListImages, catalog → DescribeRepositories, referrers → BatchGetImage (ListImageReferrers).
 */
export function requiredActions(route: string, method: string, query: URLSearchParams): string[] {
  const read = method === 'GET' || method === 'HEAD';
  switch (route) {
    case 'base':
      return [];
    case 'catalog':
      return ['ecr:DescribeRepositories'];
    case 'tags':
      return ['ecr:ListImages'];
    case 'referrers':
      return ['ecr:BatchGetImage'];
    case 'manifest':
      if (read) return ['ecr:BatchGetImage'];
      if (method === 'PUT') return ['ecr:PutImage'];
      if (method === 'DELETE') return ['ecr:BatchDeleteImage'];
      return [];
    case 'blob':
      if (method === 'GET') return ['ecr:GetDownloadUrlForLayer'];
      if (method === 'HEAD') return ['ecr:BatchCheckLayerAvailability'];
      if (method === 'DELETE') return ['ecr:BatchDeleteImage'];
      return [];
    case 'upload-start':
      // A monolithic POST ?digest= is initiate + upload + complete in one request.
      return query.has('digest') && !query.has('mount') ? ['ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload'] : ['ecr:InitiateLayerUpload'];
    case 'upload':
      if (method === 'PUT') return ['ecr:CompleteLayerUpload'];
      return ['ecr:UploadLayerPart'];
    default:
      return [];
  }
}

export interface V2AuthorizerOptions {
  access: AccessService;
  /**
   * How long one connection may reuse an allow decision, in ms: at most the access service's own cache
   * lifetime (0 when its caches are off, so CLI changes show at once).
   */
  memoTtlMs?: number;
  /** proxyEndpoint (scheme://host[:port]); the challenge realm is `<proxyEndpoint>/`. Read per challenge (known once listening). */
  proxyEndpoint: () => string;
}

/** Builds the authorizer the OCI routes call before each handler. */
export function createV2Authorizer(options: V2AuthorizerOptions): OciAuthorizer {
  const { access } = options;
  const identity = access.identity;
  const memoTtlMs = options.memoTtlMs ?? 0;
  const connectionMemo = new WeakMap<object, { header: string; principal: Principal; generation: number; until: number; allowed: Set<string> }>();

  const unauthorized = (message: string) =>
    new RegistryError('UNAUTHORIZED', message, undefined, { headers: { 'WWW-Authenticate': `Basic realm="${options.proxyEndpoint()}/",service="ecr.amazonaws.com"` } });

  async function decide(req: IncomingMessage, principal: Principal, action: string, repositoryName?: string): Promise<AccessDecision> {
    return access.authorize({
      principal,
      action,
      resource: repositoryName ? identity.repositoryArn(repositoryName) : '*',
      repositoryName,
      sourceIp: req.socket.remoteAddress,
      secure: (req.socket as { encrypted?: boolean }).encrypted === true,
    });
  }

  function refuse(principal: Principal, decision: AccessDecision): RegistryError {
    if (principal.isAnonymous) return unauthorized('authentication required');
    return new RegistryError('DENIED', decision.message ?? `User: ${principal.arn} is not authorized`);
  }

  return async (req, _ctx, r) => {
    // Per-connection memo of allowed requests: a client pulling layer after layer on one keep-alive connection
    // with the same credentials is authenticated and decided once per second (the lifetime of the access
    // service's own caches), not per request; any policy change (a new generation) drops it.
    const simple = memoTtlMs > 0 && r.route !== 'base' && r.route !== 'catalog' && r.route !== 'upload-start';
    const actions = simple ? requiredActions(r.route, r.method, r.query) : [];
    const header = req.headers.authorization ?? '';
    const memoKey = simple ? `${r.name}\n${actions.join(',')}` : undefined;
    const now = Date.now();
    let memo = simple ? connectionMemo.get(req.socket) : undefined;
    if (memo && (memo.generation !== access.generation || memo.until < now || memo.header !== header)) memo = undefined;
    if (memo && memoKey !== undefined && memo.allowed.has(memoKey)) return { principal: memo.principal };
    const generation = access.generation;
    let principal: Principal;
    try {
      principal = await access.authenticateBasic(req);
    } catch (e) {
      if (e instanceof RegistryError && e.kind === 'UNAUTHORIZED') throw unauthorized(e.message);
      throw e;
    }
    if (r.route === 'base' || r.route === 'catalog') {
      // Like ECR: the base endpoint (docker login's probe) and the catalog need credentials.
      if (principal.isAnonymous) throw unauthorized('authentication required');
      if (r.route === 'base') return { principal };
      return {
        principal,
        async visibleRepositories(names) {
          const out: string[] = [];
          for (const n of names) if ((await decide(req, principal, 'ecr:DescribeRepositories', n)).allowed) out.push(n);
          return out;
        },
      };
    }
    if (!simple) actions.push(...requiredActions(r.route, r.method, r.query));
    for (const action of actions) {
      const d = await decide(req, principal, action, r.name);
      if (d.allowed) continue;
      // Checking a layer's presence is also fine for whoever may download it.
      if (action === 'ecr:BatchCheckLayerAvailability' && d.reason !== 'explicit-deny' && (await decide(req, principal, 'ecr:GetDownloadUrlForLayer', r.name)).allowed) continue;
      throw refuse(principal, d);
    }
    if (memoKey !== undefined && generation === access.generation) {
      if (!memo) {
        memo = { header, principal, generation, until: now + memoTtlMs, allowed: new Set() };
        connectionMemo.set(req.socket, memo);
      }
      if (memo.allowed.size < 64) memo.allowed.add(memoKey);
    }
    if (r.route === 'upload-start' && r.query.has('mount')) {
      // A cross-repository mount also reads the source: without pull rights there, start a plain upload (202).
      const from = r.query.get('from');
      const pull = from ? await decide(req, principal, 'ecr:GetDownloadUrlForLayer', from) : undefined;
      if (!pull?.allowed) {
        r.query.delete('mount');
        r.query.delete('from');
      }
    }
    return { principal };
  };
}
