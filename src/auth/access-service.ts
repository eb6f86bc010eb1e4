/**
 * The AccessService (auth/access.ts) over the identity store, the ECR policy store and the one policy evaluator.
 *
 * Hot path: a /v2/ request with a registry token costs one HMAC (results cached per Authorization header until
 * the token expires) and one policy evaluation over policies cached in memory for `cacheTtlMs` — no database
 * round trip. Changes made through another process (`cargohold iam …`) take effect within the cache TTL;
 * `invalidate()` drops the caches at once (called after ECR API writes that change policies or tags).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import { RegistryError } from '../core/errors.ts';
import type { AccessKeyRecord, MetadataStore } from '../metadata/types.ts';
import type { AccessDecision, AccessRequest, AccessService, Principal, RegistryIdentity } from './access.ts';
import type { IdentityService } from './identity.ts';
import { denialMessage, evaluate, parsePolicy, type PolicyDocument, type RequestContext } from './policy/index.ts';
import { createRegistryTokenCodec, type RegistryTokenCodec } from './registry-token.ts';
import { generateSecretAccessKey } from './identity.ts';
import { createSessionTokenCodec, generateTemporaryAccessKeyId, type SessionTokenCodec } from './session-token.ts';
import { AuthError, EXPIRED_TOKEN_MESSAGE, INVALID_TOKEN_MESSAGE, parseSigV4, verifySigV4, type SigV4Secret } from './sigv4/index.ts';

export interface AccessServiceOptions {
  meta: Pick<MetadataStore, 'iam' | 'ecr' | 'repositories'>;
  identity: IdentityService;
  accountId: string;
  region: string;
  /** DATA_DIR/keys/token.key */
  tokenKey: Buffer;
  /** DATA_DIR/keys/session.key: seals the session tokens of temporary credentials (default: derived from tokenKey). */
  sessionKey?: Buffer;
  clock: Clock;
  log?: Logger;
  /** Registry token lifetime (ECR: 12 h). */
  tokenTtlMs?: number;
  /** How long keys, identity policies, repository policies/tags and the registry policy stay cached. */
  cacheTtlMs?: number;
}

/** The service plus what the composition root and the CLI need beyond the contract. */
export interface CargoholdAccessService extends AccessService {
  /** Drops every cached key, policy and tag set (after a write that changes them). */
  invalidate(): void;
  /** The policies that apply to a request, as the evaluator sees them (for `cargohold iam explain`). */
  policiesFor(request: AccessRequest): Promise<{ identity: PolicyDocument[]; resource: PolicyDocument[]; registry: PolicyDocument[]; context: RequestContext }>;
  /** Principal for an IAM user name (undefined when no such user). */
  principalForUser(userName: string): Promise<Principal | undefined>;
  /**
   * Temporary credentials for STS GetSessionToken: an `ASIA…` key id, a secret and a sealed session token that
   * act as `principal` (who must have signed with a long-term key) until `now + durationSeconds`. Nothing is stored.
   */
  issueSessionCredentials(principal: Principal, durationSeconds: number, now: Date): { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date };
}

/** The caller without credentials. */
export const ANONYMOUS: Principal = Object.freeze({ arn: 'anonymous', accountId: '', isAnonymous: true });

const EXPIRED_MESSAGE = 'Your authorization token has expired. Reauthenticate and try again.';
const NOT_AUTHORIZED = 'Not Authorized';

interface Cached<T> {
  value: T;
  until: number;
}

/** A small TTL map that forgets everything when it grows past `max` (bounded memory under junk keys). */
class TtlCache<T> {
  private readonly map = new Map<string, Cached<T>>();
  constructor(private readonly max: number) {}
  get(key: string, now: number): T | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.until <= now) {
      this.map.delete(key);
      return undefined;
    }
    return e.value;
  }
  set(key: string, value: T, until: number): void {
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(key, { value, until });
  }
  clear(): void {
    this.map.clear();
  }
}

interface KeyEntry {
  record: AccessKeyRecord;
  secret: string;
}

/** Derives the session-token key from the registry-token key when no DATA_DIR/keys/session.key is given. */
function deriveSessionKey(tokenKey: Buffer): Buffer {
  return createHash('sha256').update('cargohold session token key v1\n').update(tokenKey).digest();
}

interface RepositoryPolicies {
  docs: PolicyDocument[];
  tags: Array<{ key: string; value: string }>;
}

export function createAccessService(options: AccessServiceOptions): CargoholdAccessService {
  const { meta, identity: ids, accountId, region, clock, log } = options;
  const tokenTtlMs = options.tokenTtlMs ?? 12 * 3600 * 1000;
  const ttl = options.cacheTtlMs ?? 5000;
  const codec: RegistryTokenCodec = createRegistryTokenCodec(options.tokenKey, { accountId, region });
  const sessions: SessionTokenCodec = createSessionTokenCodec(options.sessionKey ?? deriveSessionKey(options.tokenKey), { accountId });

  const identity: RegistryIdentity = {
    accountId,
    region,
    repositoryArn: (name) => `arn:aws:ecr:${region}:${accountId}:repository/${name}`,
  };

  const keys = new TtlCache<KeyEntry | null>(10_000);
  const userPolicies = new TtlCache<PolicyDocument[] | null>(10_000);
  const repoPolicies = new TtlCache<RepositoryPolicies>(50_000);
  const registryPolicy = new TtlCache<PolicyDocument[]>(1);
  /** Authorization header → principal (tokens: until expiry; key+secret: for the cache TTL). */
  const basic = new TtlCache<Principal>(20_000);
  /** Access keys whose last use was recorded recently (one write per key per minute at most). */
  const touched = new TtlCache<true>(10_000);
  /**
   * Decisions per (principal, action, resource, source, transport) for at most a second: the hot path then costs
   * a map lookup. Time-based conditions (aws:CurrentTime) may thus be up to a second late.
   */
  const decisions = new TtlCache<AccessDecision>(50_000);
  const decisionTtl = Math.min(ttl, 1000);
  let generation = 0;

  function principalOf(userName: string, accessKeyId?: string): Principal {
    return { arn: ids.userArn(userName), accountId, username: userName, ...(accessKeyId ? { accessKeyId } : {}), isAnonymous: false };
  }

  async function lookupKey(accessKeyId: string): Promise<KeyEntry | undefined> {
    const now = clock.now().getTime();
    const hit = keys.get(accessKeyId, now);
    if (hit !== undefined) return hit ?? undefined;
    if (!/^[A-Za-z0-9]{16,128}$/.test(accessKeyId)) return undefined;
    const record = await meta.iam.getAccessKey(accessKeyId);
    let entry: KeyEntry | null = null;
    if (record) {
      try {
        entry = { record, secret: ids.revealSecret(record) };
      } catch (e) {
        log?.error({ accessKeyId, err: e }, 'cannot decrypt access key secret (wrong DATA_DIR/keys/secrets.key?)');
      }
    }
    // Unknown keys are remembered briefly only, so a key created a moment later works at once.
    keys.set(accessKeyId, entry, now + (entry ? ttl : Math.min(ttl, 1000)));
    return entry ?? undefined;
  }

  function recordUse(accessKeyId: string): void {
    const now = clock.now();
    if (touched.get(accessKeyId, now.getTime())) return;
    touched.set(accessKeyId, true, now.getTime() + 60_000);
    meta.iam.touchAccessKey(accessKeyId, now).catch((e: unknown) => log?.warn({ err: e, accessKeyId }, 'cannot record access key use'));
  }

  async function identityPolicies(userName: string): Promise<PolicyDocument[] | undefined> {
    const now = clock.now().getTime();
    const hit = userPolicies.get(userName, now);
    if (hit !== undefined) return hit ?? undefined;
    const user = await meta.iam.getUser(userName);
    let docs: PolicyDocument[] | null = null;
    if (user) {
      docs = [];
      for (const p of await meta.iam.listUserPolicies(userName)) {
        try {
          docs.push(parsePolicy(p.document, { kind: 'identity', name: p.policyName, maxLength: Number.MAX_SAFE_INTEGER }));
        } catch (e) {
          log?.warn({ userName, policyName: p.policyName, err: e }, 'ignoring an invalid identity policy');
        }
      }
    }
    userPolicies.set(userName, docs, now + ttl);
    return docs ?? undefined;
  }

  async function repositoryPolicies(name: string): Promise<RepositoryPolicies> {
    const now = clock.now().getTime();
    const hit = repoPolicies.get(name, now);
    if (hit) return hit;
    const repo = await meta.repositories.get(name);
    const value: RepositoryPolicies = { docs: [], tags: [] };
    if (repo) {
      const [text, tags] = await Promise.all([meta.ecr.getRepositoryPolicy(repo.id), meta.ecr.getTags(repo.id)]);
      value.tags = tags;
      if (text) {
        try {
          value.docs.push(parsePolicy(text, { kind: 'resource', name: `repository policy of ${name}`, maxLength: Number.MAX_SAFE_INTEGER }));
        } catch (e) {
          log?.warn({ repository: name, err: e }, 'ignoring an invalid repository policy');
        }
      }
    }
    repoPolicies.set(name, value, now + ttl);
    return value;
  }

  async function registryPolicies(): Promise<PolicyDocument[]> {
    const now = clock.now().getTime();
    const hit = registryPolicy.get('', now);
    if (hit) return hit;
    const text = await meta.ecr.getRegistryPolicy();
    const docs: PolicyDocument[] = [];
    if (text) {
      try {
        docs.push(parsePolicy(text, { kind: 'resource', name: 'registry policy', maxLength: Number.MAX_SAFE_INTEGER }));
      } catch (e) {
        log?.warn({ err: e }, 'ignoring an invalid registry policy');
      }
    }
    registryPolicy.set('', docs, now + ttl);
    return docs;
  }

  async function policiesFor(request: AccessRequest) {
    const p = request.principal;
    const [identityDocs, repo, registry] = await Promise.all([
      p.isAnonymous || !p.username || p.accountId !== accountId ? Promise.resolve(undefined) : identityPolicies(p.username),
      request.repositoryName ? repositoryPolicies(request.repositoryName) : Promise.resolve(undefined),
      registryPolicies(),
    ]);
    const now = clock.now();
    const context: RequestContext = {
      'aws:CurrentTime': now.toISOString(),
      'aws:EpochTime': String(Math.floor(now.getTime() / 1000)),
      'aws:SecureTransport': request.secure ? 'true' : 'false',
      'aws:RequestedRegion': region,
      ...(request.sourceIp ? { 'aws:SourceIp': request.sourceIp.startsWith('::ffff:') ? request.sourceIp.slice(7) : request.sourceIp } : {}),
    };
    for (const t of repo?.tags ?? []) {
      context[`ecr:ResourceTag/${t.key}`] = t.value;
      context[`aws:ResourceTag/${t.key}`] = t.value;
    }
    return { identity: identityDocs ?? [], resource: repo?.docs ?? [], registry, context };
  }

  function unauthorized(message: string): RegistryError {
    return new RegistryError('UNAUTHORIZED', message);
  }

  async function checkKeySecret(accessKeyId: string, secret: string): Promise<Principal> {
    const entry = await lookupKey(accessKeyId);
    if (!entry || entry.record.status !== 'Active' || !safeEqual(entry.secret, secret)) throw unauthorized(NOT_AUTHORIZED);
    recordUse(accessKeyId);
    return principalOf(entry.record.userName, accessKeyId);
  }

  return {
    identity,

    async authenticateSigV4(req: IncomingMessage, bodySha256Hex: string, opts?: { service?: string }) {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const request = { method: req.method ?? 'GET', path: q === -1 ? url : url.slice(0, q), query: q === -1 ? '' : url.slice(q + 1), headers: req.headersDistinct, bodySha256Hex };
      const parsed = parseSigV4(request);
      if (parsed.region !== region) throw new AuthError('InvalidSignatureException', `Credential should be scoped to a valid region, not '${parsed.region}'. `);
      const now = clock.now();
      // Temporary credentials: the X-Amz-Security-Token is a sealed session (no lookup of the ASIA key itself).
      const token = parsed.securityToken;
      let session: { username: string; parentAccessKeyId: string } | undefined;
      const verified = await verifySigV4(request, {
        now,
        service: opts?.service ?? 'ecr',
        async lookupSecret(id): Promise<SigV4Secret | undefined> {
          if (token !== undefined && token !== '') {
            const check = sessions.open(token, now.getTime());
            if (!check.ok) {
              if (check.reason === 'expired') throw new AuthError('ExpiredTokenException', EXPIRED_TOKEN_MESSAGE);
              return undefined;
            }
            const c = check.claims;
            if (c.accessKeyId !== id) return undefined;
            const parent = await lookupKey(c.parentAccessKeyId);
            if (!parent || parent.record.userName !== c.username) return undefined;
            session = { username: c.username, parentAccessKeyId: c.parentAccessKeyId };
            return { secretAccessKey: c.secretAccessKey, sessionToken: token, active: parent.record.status === 'Active' };
          }
          const entry = await lookupKey(id);
          return entry && { secretAccessKey: entry.secret, active: entry.record.status === 'Active' };
        },
      });
      if (session) {
        recordUse(session.parentAccessKeyId);
        return { principal: principalOf(session.username, verified.accessKeyId), region: verified.region, temporary: true };
      }
      const entry = await lookupKey(verified.accessKeyId);
      if (!entry) throw new AuthError('UnrecognizedClientException', INVALID_TOKEN_MESSAGE);
      recordUse(verified.accessKeyId);
      return { principal: principalOf(entry.record.userName, verified.accessKeyId), region: verified.region, temporary: false };
    },

    issueSessionCredentials(principal: Principal, durationSeconds: number, now: Date) {
      if (principal.isAnonymous || !principal.username || !principal.accessKeyId) throw unauthorized('temporary credentials need a caller signed with an access key');
      const accessKeyId = generateTemporaryAccessKeyId();
      const secretAccessKey = generateSecretAccessKey();
      const expiration = new Date(now.getTime() + durationSeconds * 1000);
      const sessionToken = sessions.seal({ accessKeyId, secretAccessKey, username: principal.username, parentAccessKeyId: principal.accessKeyId, accountId, issuedAt: now.getTime(), expiresAt: expiration.getTime() });
      return { accessKeyId, secretAccessKey, sessionToken, expiration };
    },

    async authenticateBasic(req: IncomingMessage) {
      const header = req.headers.authorization;
      if (header === undefined || header === '') return ANONYMOUS;
      const now = clock.now().getTime();
      const hit = basic.get(header, now);
      if (hit) return hit;
      const m = /^Basic\s+([A-Za-z0-9+/=_-]{1,8192})\s*$/i.exec(header);
      if (!m) throw unauthorized('Authorization must be HTTP Basic: user AWS with a token from GetAuthorizationToken, or an access key id and secret');
      const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0) throw unauthorized(NOT_AUTHORIZED);
      const user = decoded.slice(0, colon);
      const password = decoded.slice(colon + 1);
      if (user === 'AWS') {
        const check = codec.verify(password, now);
        if (!check.ok) throw unauthorized(check.reason === 'expired' ? EXPIRED_MESSAGE : check.reason === 'scope' ? 'Your authorization token is for another registry or region.' : NOT_AUTHORIZED);
        const principal = principalOf(check.claims.username, check.claims.accessKeyId);
        basic.set(header, principal, Math.min(check.claims.expiresAt, now + 3600_000));
        return principal;
      }
      const principal = await checkKeySecret(user, password);
      basic.set(header, principal, now + Math.min(ttl, 60_000));
      return principal;
    },

    issueRegistryToken(principal: Principal, now: Date) {
      if (principal.isAnonymous || !principal.username) throw unauthorized('anonymous callers cannot get a registry token');
      const expiresAt = new Date(now.getTime() + tokenTtlMs);
      const token = codec.issue({ username: principal.username, accessKeyId: principal.accessKeyId ?? '', accountId, region, issuedAt: now.getTime(), expiresAt: expiresAt.getTime() });
      return { authorizationToken: Buffer.from(`AWS:${token}`).toString('base64'), expiresAt };
    },

    async authorize(request: AccessRequest): Promise<AccessDecision> {
      const key = decisionTtl > 0 ? `${request.principal.arn}\n${request.principal.accountId}\n${request.action}\n${request.resource}\n${request.repositoryName ?? ''}\n${request.sourceIp ?? ''}\n${request.secure ? 1 : 0}` : '';
      const now = clock.now().getTime();
      if (key) {
        const hit = decisions.get(key, now);
        if (hit) return hit;
      }
      const { identity: idDocs, resource, registry, context } = await policiesFor(request);
      const decision: AccessDecision = evaluate({ principal: request.principal, action: request.action, resource: request.resource, context }, { identity: idDocs, resource, registry });
      if (!decision.allowed) decision.message = denialMessage(request.principal.arn, request.action, request.resource, decision);
      if (key) decisions.set(key, decision, now + decisionTtl);
      return decision;
    },

    get generation() {
      return generation;
    },

    invalidate() {
      generation++;
      keys.clear();
      userPolicies.clear();
      repoPolicies.clear();
      registryPolicy.clear();
      basic.clear();
      decisions.clear();
    },

    policiesFor,

    async principalForUser(userName) {
      const user = await meta.iam.getUser(userName);
      return user && principalOf(user.name);
    },
  };
}

/** Constant-time string comparison (hashing first so lengths do not leak). */
function safeEqual(a: string, b: string): boolean {
  const ha = createHashOf(a);
  const hb = createHashOf(b);
  return timingSafeEqual(ha, hb);
}

function createHashOf(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
