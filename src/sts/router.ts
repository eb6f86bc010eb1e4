/**
 * An STS-compatible endpoint on the registry port, for temporary credentials: `GetSessionToken` over the AWS
 * Query protocol (`POST /`, `Content-Type: application/x-www-form-urlencoded`, body
 * `Action=GetSessionToken&Version=2011-06-15[&DurationSeconds=N]`, SigV4 with signing name `sts`), answered in
 * STS's XML. Only long-term access keys may call it (as on AWS). The credentials are stateless (a sealed session
 * token, see auth/session-token.ts), so any node sharing DATA_DIR/keys/ accepts them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { CargoholdAccessService } from '../auth/access-service.ts';
import { AuthError, type AuthErrorCode } from '../auth/sigv4/index.ts';
import type { Clock } from '../core/clock.ts';
import { isRegistryError } from '../core/errors.ts';
import { readBody, sha256Hex } from '../http/body.ts';
import { clientGone } from '../http/errors.ts';
import type { Handler, RequestContext } from '../http/context.ts';

export interface StsRoutesOptions {
  access: Pick<CargoholdAccessService, 'authenticateSigV4' | 'issueSessionCredentials'>;
  clock: Clock;
  log: Logger;
}

export const STS_VERSION = '2011-06-15';
export const STS_NAMESPACE = `https://sts.amazonaws.com/doc/${STS_VERSION}/`;
/** GetSessionToken's DurationSeconds range and default (IAM users). */
export const MIN_DURATION_SECONDS = 900;
export const MAX_DURATION_SECONDS = 129_600;
export const DEFAULT_DURATION_SECONDS = 43_200;
const MAX_BODY = 64 * 1024;

/** A failure rendered as STS's `<ErrorResponse>`. */
export class StsError extends Error {
  constructor(readonly code: string, message: string, readonly status = 400, readonly type: 'Sender' | 'Receiver' = 'Sender') {
    super(message);
    this.name = code;
  }
}

/** SigV4 failures as STS (Query protocol) names them. */
const AUTH_CODES: Record<AuthErrorCode, { code: string; status: number }> = {
  MissingAuthenticationTokenException: { code: 'MissingAuthenticationToken', status: 403 },
  IncompleteSignatureException: { code: 'IncompleteSignature', status: 400 },
  InvalidSignatureException: { code: 'SignatureDoesNotMatch', status: 403 },
  UnrecognizedClientException: { code: 'InvalidClientTokenId', status: 403 },
  ExpiredTokenException: { code: 'ExpiredToken', status: 403 },
  AccessDeniedException: { code: 'AccessDenied', status: 403 },
};

/** True for what looks like an AWS Query request (form body, no X-Amz-Target) to `/`. */
function isQueryRequest(req: IncomingMessage): boolean {
  if (req.method !== 'POST' || (req.url !== '/' && !req.url?.startsWith('/?'))) return false;
  if (req.headers['x-amz-target'] !== undefined) return false;
  const type = req.headers['content-type'];
  return typeof type === 'string' && /^application\/x-www-form-urlencoded\s*(;|$)/i.test(type);
}

/** Escapes text content (never used in attributes). */
export function escapeXml(s: string): string {
  return s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);
}

function sendXml(res: ServerResponse, requestId: string, status: number, xml: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n${xml}\n`;
  res.writeHead(status, { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(body), 'x-amzn-RequestId': requestId });
  res.end(body);
}

/** STS's error document. */
export function errorXml(type: string, code: string, message: string, requestId: string): string {
  return `<ErrorResponse xmlns="${STS_NAMESPACE}"><Error><Type>${type}</Type><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${escapeXml(requestId)}</RequestId></ErrorResponse>`;
}

/** Parses and range-checks DurationSeconds (AWS's ValidationError wording). */
export function parseDuration(value: string | null): number {
  if (value === null) return DEFAULT_DURATION_SECONDS;
  if (!/^-?\d{1,12}$/.test(value.trim())) throw new StsError('ValidationError', `1 validation error detected: Value '${value.slice(0, 40)}' at 'durationSeconds' failed to satisfy constraint: Member must be an integer`);
  const n = Number(value.trim());
  if (n < MIN_DURATION_SECONDS) throw new StsError('ValidationError', `1 validation error detected: Value '${n}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to ${MIN_DURATION_SECONDS}`);
  if (n > MAX_DURATION_SECONDS) throw new StsError('ValidationError', `1 validation error detected: Value '${n}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to ${MAX_DURATION_SECONDS}`);
  return n;
}

/** The STS route: claims Query-protocol requests to `/`, leaves everything else to the other routes. */
export function createStsRoutes(options: StsRoutesOptions): (req: IncomingMessage, ctx: RequestContext) => Handler | undefined {
  const { access, clock, log } = options;
  return (req, rctx) => {
    if (!isQueryRequest(req)) return undefined;
    rctx.route = 'sts';
    return async (_req, res) => {
      try {
        const body = await readBody(req, MAX_BODY).catch((e) => {
          if (isRegistryError(e) && e.kind === 'BODY_TOO_LARGE') throw new StsError('ValidationError', `Request body too large: ${e.message}`);
          throw e;
        });
        const form = new URLSearchParams(body.toString('utf8'));
        const action = form.get('Action') ?? '';
        if (action !== 'GetSessionToken') {
          throw new StsError('InvalidAction', `Could not find operation ${action.slice(0, 100)} for version ${form.get('Version') ?? 'NO_VERSION_SPECIFIED'}`);
        }
        rctx.route = 'sts:GetSessionToken';
        const version = form.get('Version');
        if (version !== null && version !== STS_VERSION) throw new StsError('InvalidAction', `Could not find operation ${action} for version ${version.slice(0, 40)}`);
        const { principal, temporary } = await access.authenticateSigV4(req, sha256Hex(body), { service: 'sts' });
        if (temporary) throw new StsError('AccessDenied', 'Cannot call GetSessionToken with session credentials', 403);
        const duration = parseDuration(form.get('DurationSeconds'));
        const c = access.issueSessionCredentials(principal, duration, clock.now());
        log.info({ reqId: rctx.id, user: principal.username, parentAccessKeyId: principal.accessKeyId, accessKeyId: c.accessKeyId, expiration: c.expiration.toISOString() }, 'issued temporary credentials');
        sendXml(res, rctx.id, 200, [
          `<GetSessionTokenResponse xmlns="${STS_NAMESPACE}">`,
          '<GetSessionTokenResult><Credentials>',
          `<AccessKeyId>${c.accessKeyId}</AccessKeyId>`,
          `<SecretAccessKey>${escapeXml(c.secretAccessKey)}</SecretAccessKey>`,
          `<SessionToken>${escapeXml(c.sessionToken)}</SessionToken>`,
          `<Expiration>${c.expiration.toISOString()}</Expiration>`,
          '</Credentials></GetSessionTokenResult>',
          `<ResponseMetadata><RequestId>${escapeXml(rctx.id)}</RequestId></ResponseMetadata>`,
          '</GetSessionTokenResponse>',
        ].join(''));
      } catch (e) {
        renderStsError(res, rctx, e, log);
      }
    };
  };
}

function renderStsError(res: ServerResponse, rctx: RequestContext, e: unknown, log: Logger): void {
  if (clientGone(res) && !(e instanceof StsError) && !(e instanceof AuthError)) {
    log.info({ reqId: rctx.id, route: rctx.route, reason: (e as Error | undefined)?.message }, 'request aborted by the client');
    return;
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  let code: string;
  let message: string;
  let status: number;
  let type = 'Sender';
  if (e instanceof StsError) {
    ({ code, message, status, type } = e);
  } else if (e instanceof AuthError) {
    ({ code, status } = AUTH_CODES[e.code]);
    message = e.code === 'MissingAuthenticationTokenException' ? 'Request is missing Authentication Token' : e.message;
  } else if (isRegistryError(e) && e.kind === 'UNAUTHORIZED') {
    code = 'AccessDenied';
    message = e.message;
    status = 403;
  } else if (isRegistryError(e) && e.kind === 'TOO_MANY_REQUESTS') {
    code = 'Throttling';
    message = e.message;
    status = 429;
  } else {
    log.error({ reqId: rctx.id, route: rctx.route, err: e }, 'request failed');
    code = 'InternalFailure';
    message = 'An internal error occurred';
    status = 500;
    type = 'Receiver';
  }
  sendXml(res, rctx.id, status, errorXml(type, code, message, rctx.id));
}
