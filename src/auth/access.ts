import type { IncomingMessage } from 'node:http';
import type { Decision } from './policy/index.ts';

/**
 * The access layer both front ends use (OCI /v2/ and the ECR API). Implemented in `auth/access-service.ts`
 * over the identity stores; the front ends only see this contract.
 */

/** Who is calling. */
export interface Principal {
  /** `arn:aws:iam::<account>:user/<name>`, or `anonymous` for unauthenticated callers. */
  arn: string;
  accountId: string;
  /** IAM user name (absent for anonymous). */
  username?: string;
  /** The access key the request was signed with or the registry token was issued to. */
  accessKeyId?: string;
  isAnonymous: boolean;
}

/** What a request wants to do. */
export interface AccessRequest {
  principal: Principal;
  /** `ecr:PutImage` … */
  action: string;
  /** Repository ARN, or `*` for registry-level actions. */
  resource: string;
  /** Repository name when the resource is a repository (for repository policy and tag lookups). */
  repositoryName?: string;
  /** Client address (aws:SourceIp). */
  sourceIp?: string;
  /** Whether the request came over TLS (aws:SecureTransport). */
  secure?: boolean;
}

export interface AccessDecision extends Decision {
  /** ECR's wording for a denial (`User: arn:… is not authorized to perform: …`), when denied. */
  message?: string;
}

export interface RegistryIdentity {
  accountId: string;
  region: string;
  /** `arn:aws:ecr:<region>:<account>:repository/<name>` */
  repositoryArn(name: string): string;
}

export interface AccessService {
  readonly identity: RegistryIdentity;
  /**
   * Changes whenever cached keys, policies or decisions are dropped (`invalidate`): a caller that memoizes
   * decisions must treat any memo taken under another generation as stale.
   */
  readonly generation: number;
  /**
   * Authenticates an ECR API request (SigV4). Throws `AuthError` (auth/sigv4) with the AWS exception name.
   * `bodySha256Hex` is the hash of the exact body bytes. `service` is the signing name expected in the credential
   * scope (default `ecr`; the STS endpoint passes `sts`). Temporary credentials (`ASIA…` key +
   * X-Amz-Security-Token from GetSessionToken) authenticate as their parent user (`temporary: true`); an expired
   * one throws `ExpiredTokenException`.
   */
  authenticateSigV4(req: IncomingMessage, bodySha256Hex: string, options?: { service?: string }): Promise<{ principal: Principal; region: string; temporary?: boolean }>;
  /**
   * Authenticates a /v2/ request from its Authorization header: `Basic AWS:<registry token>` or
   * `Basic <access key id>:<secret>`. No header → anonymous principal. Invalid, forged, foreign or expired →
   * RegistryError UNAUTHORIZED (an expired token says ECR's `Your authorization token has expired. Reauthenticate
   * and try again.`), which /v2/ answers with 401 and the Basic challenge. Token checks need no database round trip.
   */
  authenticateBasic(req: IncomingMessage): Promise<Principal>;
  /** Issues a registry token for GetAuthorizationToken: base64(`AWS:<token>`) valid 12 h. */
  issueRegistryToken(principal: Principal, now: Date): { authorizationToken: string; expiresAt: Date };
  /** Evaluates identity, repository and registry policies (explicit deny → allow → implicit deny). */
  authorize(request: AccessRequest): Promise<AccessDecision>;
}
