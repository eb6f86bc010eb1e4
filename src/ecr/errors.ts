/**
 * An ECR API failure with the exact AWS exception name (`__type`). Extra members (e.g.
 * `lastValidByteReceived` of InvalidLayerPartException) are sent next to `message`.
 */
export class EcrError extends Error {
  readonly type: string;
  readonly status: number;
  readonly extra: Record<string, unknown>;

  constructor(type: string, message: string, extra: Record<string, unknown> = {}, status = 400) {
    super(message);
    this.name = 'EcrError';
    this.type = type;
    this.status = status;
    this.extra = extra;
  }
}

/** `Invalid parameter at '<field>' failed to satisfy constraint: '<reason>'` as InvalidParameterException. */
export function invalidParameter(field: string, reason: string): EcrError {
  return new EcrError('InvalidParameterException', `Invalid parameter at '${field}' failed to satisfy constraint: '${reason}'`);
}

/** The newer operations' ValidationException. */
export function validationError(message = 'There was an exception validating this request.'): EcrError {
  return new EcrError('ValidationException', message);
}
