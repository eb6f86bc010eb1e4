/**
 * SigV4 request verification for the ECR API (Authorization header) and presigned URLs (query string).
 * @module
 */
export { AuthError, authErrorStatus, EXPIRED_TOKEN_MESSAGE, INVALID_TOKEN_MESSAGE, MISSING_TOKEN_MESSAGE, SIGNATURE_MISMATCH_MESSAGE } from './errors.ts';
export type { AuthErrorCode } from './errors.ts';
export { formatAmzDate, parseAmzDate, parseQueryString, parseSigV4, MAX_PRESIGNED_EXPIRES_SECONDS } from './parse.ts';
export type { ParsedSigV4, SigV4Request } from './parse.ts';
export { computeSignature, createSigningKeyCache, NodeSha256, defaultSigningKeyCache, deriveSigningKey } from './canonical.ts';
export type { ComputeSignatureInput, SigningKeyCache, SigV4Stages } from './canonical.ts';
export { verifySigV4, DEFAULT_MAX_SKEW_MS } from './verify.ts';
export type { SigV4Secret, VerifiedSigV4, VerifySigV4Options } from './verify.ts';
