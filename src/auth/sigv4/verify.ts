/**
 * Server-side SigV4 verification (Authorization header and presigned query-string auth) for the ECR API and
 * signed download URLs. Pure: the caller supplies the clock and the secret lookup.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { AuthError, incomplete, invalidToken, signatureMismatch } from './errors.ts';
import { computeSignature, type SigningKeyCache } from './canonical.ts';
import { SIGV4_TERMINATOR, formatAmzDate, parseSigV4, type ParsedSigV4, type SigV4Request } from './parse.ts';

/** What the credential store knows about an access key. */
export interface SigV4Secret {
  secretAccessKey: string;
  /** Set for temporary (session) credentials: the request must carry exactly this X-Amz-Security-Token. */
  sessionToken?: string;
  /** Deactivated keys are rejected like unknown ones. */
  active: boolean;
}

/** Options for {@link verifySigV4}. */
export interface VerifySigV4Options {
  /** The current time (inject a clock; never read here). */
  now: Date;
  /** Looks a key up; `undefined` when unknown. */
  lookupSecret(accessKeyId: string): Promise<SigV4Secret | undefined>;
  /** Signing name expected in the credential scope, e.g. `ecr`. */
  service: string;
  /** Allowed clock skew; AWS uses 15 minutes. */
  maxSkewMs?: number;
  /** Signing-key cache; defaults to a process-wide one. */
  keyCache?: SigningKeyCache;
}

/** A verified caller. */
export interface VerifiedSigV4 {
  accessKeyId: string;
  /** Region from the credential scope (the client's configured region). */
  region: string;
  /** Lower-case signed header names as the client listed them. */
  signedHeaders: string[];
  /** True for presigned (query-string) auth. */
  presigned: boolean;
  /** Time the request was signed. */
  signedAt: Date;
  /** For presigned requests, the instant the URL stops being valid. */
  expiresAt?: Date;
}

/** AWS's clock-skew window. */
export const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

function constantTimeEqual(a: string, b: string): boolean {
  // Hash first so unequal lengths neither throw nor leak through timing.
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

function checkScope(parsed: ParsedSigV4, service: string): void {
  if (parsed.terminator !== SIGV4_TERMINATOR) {
    throw incomplete(`Credential should be scoped with a valid terminator: '${SIGV4_TERMINATOR}', not '${parsed.terminator}'.`);
  }
  if (parsed.service !== service) {
    throw new AuthError('InvalidSignatureException', `Credential should be scoped to correct service: '${service}'. `);
  }
  const day = parsed.amzDate.slice(0, 8);
  if (parsed.scopeDate !== day) {
    throw new AuthError(
      'InvalidSignatureException',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${parsed.scopeDate}' != '${day}', from '${parsed.amzDate}'.`,
    );
  }
  if (!parsed.signedHeaders.includes('host')) {
    throw incomplete(`'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.`);
  }
  if (parsed.kind === 'header') {
    const dateHeader = parsed.headers['x-amz-date'] !== undefined ? 'x-amz-date' : 'date';
    if (!parsed.signedHeaders.includes(dateHeader)) {
      throw incomplete(`'${dateHeader === 'date' ? 'Date' : 'X-Amz-Date'}' must be a 'SignedHeader' in the AWS Authorization.`);
    }
  }
  for (const name of parsed.signedHeaders) {
    if (parsed.headers[name] === undefined) throw signatureMismatch();
  }
}

function checkTime(parsed: ParsedSigV4, now: Date, maxSkewMs: number): Date | undefined {
  const signed = parsed.signingDate.getTime();
  const t = now.getTime();
  const skewMin = Math.round(maxSkewMs / 60_000);
  if (signed - t > maxSkewMs) {
    throw new AuthError(
      'InvalidSignatureException',
      `Signature not yet current: ${parsed.amzDate} is still later than ${formatAmzDate(new Date(t + maxSkewMs))} (${formatAmzDate(now)} + ${skewMin} min.)`,
    );
  }
  if (parsed.kind === 'query') {
    const expiresAt = new Date(signed + parsed.expiresSeconds! * 1000);
    if (t > expiresAt.getTime()) throw new AuthError('AccessDeniedException', 'Request has expired');
    return expiresAt;
  }
  if (t - signed > maxSkewMs) {
    throw new AuthError(
      'InvalidSignatureException',
      `Signature expired: ${parsed.amzDate} is now earlier than ${formatAmzDate(new Date(t - maxSkewMs))} (${formatAmzDate(now)} - ${skewMin} min.)`,
    );
  }
  return undefined;
}

function checkToken(parsed: ParsedSigV4, secret: SigV4Secret): void {
  const sent = parsed.securityToken;
  if (secret.sessionToken === undefined) {
    if (sent !== undefined && sent !== '') throw invalidToken();
    return;
  }
  if (sent === undefined || !constantTimeEqual(sent, secret.sessionToken)) throw invalidToken();
}

/** Payload hashes to try: the body hash, or for presigned URLs also UNSIGNED-PAYLOAD (S3-style download links). */
function payloadCandidates(parsed: ParsedSigV4, bodySha256Hex: string): string[] {
  const body = bodySha256Hex.toLowerCase();
  const claimed = parsed.kind === 'query'
    ? parsed.query.find(([k]) => k === 'X-Amz-Content-Sha256')?.[1] ?? parsed.headers['x-amz-content-sha256']
    : parsed.headers['x-amz-content-sha256'];
  if (claimed !== undefined) {
    const value = claimed.trim();
    if (parsed.kind === 'query' && value === UNSIGNED_PAYLOAD) return [UNSIGNED_PAYLOAD];
    if (value.toLowerCase() !== body) {
      throw new AuthError('InvalidSignatureException', "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    return [body];
  }
  return parsed.kind === 'query' ? [body, UNSIGNED_PAYLOAD] : [body];
}

/**
 * Verifies a SigV4-signed request the way AWS does and returns the caller's access key and region.
 *
 * Checks, in order: syntax; scope (terminator, service, scope date = request day, `host` and the date header
 * signed, every signed header present); time (±15 min skew; X-Amz-Expires for presigned URLs); the key exists
 * and is active; the session token matches; `x-amz-content-sha256`, when sent, equals the body hash; and the
 * signature, compared in constant time.
 *
 * @throws AuthError with AWS's exception name and message.
 */
export async function verifySigV4(request: SigV4Request, options: VerifySigV4Options): Promise<VerifiedSigV4> {
  const parsed = parseSigV4(request);
  checkScope(parsed, options.service);
  const expiresAt = checkTime(parsed, options.now, options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS);

  const secret = await options.lookupSecret(parsed.accessKeyId);
  if (!secret || !secret.active) throw invalidToken();
  checkToken(parsed, secret);

  let matched = false;
  for (const payloadHash of payloadCandidates(parsed, request.bodySha256Hex)) {
    let signature: string;
    try {
      ({ signature } = await computeSignature({
        parsed,
        method: request.method,
        path: request.path,
        payloadHash,
        secretAccessKey: secret.secretAccessKey,
        keyCache: options.keyCache,
      }));
    } catch {
      throw signatureMismatch(); // e.g. a path with a lone surrogate that cannot be canonicalised
    }
    if (constantTimeEqual(signature, parsed.signature)) matched = true;
  }
  if (!matched) throw signatureMismatch();

  return {
    accessKeyId: parsed.accessKeyId,
    region: parsed.region,
    signedHeaders: parsed.signedHeaders,
    presigned: parsed.kind === 'query',
    signedAt: parsed.signingDate,
    ...(expiresAt ? { expiresAt } : {}),
  };
}
