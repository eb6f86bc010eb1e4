/**
 * Typed SigV4 failures carrying the AWS exception name (`code`, rendered as the ECR `__type`) and the wording
 * that AWS services use, so SDKs and the CLI show their users the messages they already know.
 */

/** AWS exception names a signature check can end with. */
export type AuthErrorCode =
  | 'MissingAuthenticationTokenException'
  | 'IncompleteSignatureException'
  | 'InvalidSignatureException'
  | 'UnrecognizedClientException'
  | 'ExpiredTokenException'
  | 'AccessDeniedException';

/** HTTP status AWS JSON services answer with for each code. */
export const authErrorStatus: Readonly<Record<AuthErrorCode, number>> = {
  MissingAuthenticationTokenException: 403,
  IncompleteSignatureException: 400,
  InvalidSignatureException: 400,
  UnrecognizedClientException: 400,
  ExpiredTokenException: 400,
  AccessDeniedException: 403,
};

/**
 * A request that failed authentication. `name` and `code` are the AWS exception name; `message` is safe to send
 * to the client (it never contains secrets or the expected signature); `status` is the HTTP status to answer with.
 */
export class AuthError extends Error {
  readonly code: AuthErrorCode;
  readonly status: number;

  constructor(code: AuthErrorCode, message: string) {
    super(message);
    this.name = code;
    this.code = code;
    this.status = authErrorStatus[code];
  }
}

/** AWS's exact message for a signature that does not match. */
export const SIGNATURE_MISMATCH_MESSAGE =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/** AWS's exact message for an unknown or inactive access key, or a wrong session token. */
export const INVALID_TOKEN_MESSAGE = 'The security token included in the request is invalid.';

/** AWS's exact message for temporary credentials past their expiry. */
export const EXPIRED_TOKEN_MESSAGE = 'The security token included in the request is expired';

/** AWS's message when neither an Authorization header nor presigned query parameters are present. */
export const MISSING_TOKEN_MESSAGE = 'Missing Authentication Token';

/** The signature does not match. */
export const signatureMismatch = (): AuthError => new AuthError('InvalidSignatureException', SIGNATURE_MISMATCH_MESSAGE);

/** Unknown, inactive or mismatched credentials. */
export const invalidToken = (): AuthError => new AuthError('UnrecognizedClientException', INVALID_TOKEN_MESSAGE);

/** Malformed or partial signature information. */
export const incomplete = (message: string): AuthError => new AuthError('IncompleteSignatureException', message);
