/**
 * The one error catalogue. Domain code throws `RegistryError(kind, message, detail)` and never mentions
 * HTTP; each front end renders a kind through this table (OCI error JSON + status, or ECR `__type`).
 */
export interface ErrorSpec {
  /** OCI distribution error code (errors[].code). */
  readonly oci: string;
  /** HTTP status on the /v2/ API. */
  readonly status: number;
  /** ECR exception name (`__type`). */
  readonly ecr: string;
  /** HTTP status on the ECR API (400 unless a server fault). */
  readonly ecrStatus?: number;
}

export const errorCatalogue = {
  BLOB_UNKNOWN: { oci: 'BLOB_UNKNOWN', status: 404, ecr: 'LayersNotFoundException' },
  BLOB_UPLOAD_INVALID: { oci: 'BLOB_UPLOAD_INVALID', status: 400, ecr: 'InvalidLayerPartException' },
  BLOB_UPLOAD_UNKNOWN: { oci: 'BLOB_UPLOAD_UNKNOWN', status: 404, ecr: 'UploadNotFoundException' },
  RANGE_INVALID: { oci: 'BLOB_UPLOAD_INVALID', status: 416, ecr: 'InvalidLayerPartException' },
  RANGE_NOT_SATISFIABLE: { oci: 'RANGE_INVALID', status: 416, ecr: 'InvalidParameterException' },
  DIGEST_INVALID: { oci: 'DIGEST_INVALID', status: 400, ecr: 'InvalidLayerException' },
  MANIFEST_BLOB_UNKNOWN: { oci: 'MANIFEST_BLOB_UNKNOWN', status: 400, ecr: 'LayersNotFoundException' },
  MANIFEST_INVALID: { oci: 'MANIFEST_INVALID', status: 400, ecr: 'InvalidParameterException' },
  MANIFEST_UNKNOWN: { oci: 'MANIFEST_UNKNOWN', status: 404, ecr: 'ImageNotFoundException' },
  MANIFEST_TOO_LARGE: { oci: 'MANIFEST_INVALID', status: 413, ecr: 'InvalidParameterException' },
  NAME_INVALID: { oci: 'NAME_INVALID', status: 400, ecr: 'InvalidParameterException' },
  NAME_UNKNOWN: { oci: 'NAME_UNKNOWN', status: 404, ecr: 'RepositoryNotFoundException' },
  SIZE_INVALID: { oci: 'SIZE_INVALID', status: 400, ecr: 'InvalidLayerException' },
  BODY_TOO_LARGE: { oci: 'SIZE_INVALID', status: 413, ecr: 'InvalidParameterException' },
  TAG_INVALID: { oci: 'TAG_INVALID', status: 400, ecr: 'InvalidParameterException' },
  TAG_IMMUTABLE: { oci: 'TAG_INVALID', status: 400, ecr: 'ImageTagAlreadyExistsException' },
  /** A manifest's bytes do not hash to the digest the client gave (reference digest / PutImage imageDigest). */
  MANIFEST_DIGEST_MISMATCH: { oci: 'DIGEST_INVALID', status: 400, ecr: 'ImageDigestDoesNotMatchException' },
  /** PutImage of a digest+tag the repository already has (the /v2/ PUT treats it as an idempotent re-push). */
  IMAGE_ALREADY_EXISTS: { oci: 'MANIFEST_INVALID', status: 400, ecr: 'ImageAlreadyExistsException' },
  /** An index lists child manifests the repository does not have. */
  REFERENCED_IMAGES_NOT_FOUND: { oci: 'MANIFEST_BLOB_UNKNOWN', status: 400, ecr: 'ReferencedImagesNotFoundException' },
  /** Deleting a manifest that an index in the same repository lists. */
  IMAGE_REFERENCED_BY_INDEX: { oci: 'DENIED', status: 409, ecr: 'InvalidParameterException' },
  /** A blob the repository holds but no image in it references (GetDownloadUrlForLayer). */
  LAYER_INACCESSIBLE: { oci: 'BLOB_UNKNOWN', status: 404, ecr: 'LayerInaccessibleException' },
  /** Completing an upload of a blob the repository already holds (ECR CompleteLayerUpload only). */
  LAYER_ALREADY_EXISTS: { oci: 'BLOB_UPLOAD_INVALID', status: 400, ecr: 'LayerAlreadyExistsException' },
  /** Completing an upload that received no bytes (ECR CompleteLayerUpload only). */
  EMPTY_UPLOAD: { oci: 'BLOB_UPLOAD_INVALID', status: 400, ecr: 'EmptyUploadException' },
  /** A part other than the last one was under the minimum part size (ECR CompleteLayerUpload only). */
  LAYER_PART_TOO_SMALL: { oci: 'BLOB_UPLOAD_INVALID', status: 400, ecr: 'LayerPartTooSmallException' },
  UNAUTHORIZED: { oci: 'UNAUTHORIZED', status: 401, ecr: 'UnrecognizedClientException' },
  DENIED: { oci: 'DENIED', status: 403, ecr: 'AccessDeniedException' },
  UNSUPPORTED: { oci: 'UNSUPPORTED', status: 415, ecr: 'UnsupportedImageTypeException' },
  METHOD_NOT_ALLOWED: { oci: 'UNSUPPORTED', status: 405, ecr: 'ValidationException' },
  PAGINATION_INVALID: { oci: 'PAGINATION_NUMBER_INVALID', status: 400, ecr: 'InvalidParameterException' },
  /** Too many failed authentications from one address (auth/failure-limiter.ts); 429 on both APIs. */
  TOO_MANY_REQUESTS: { oci: 'TOOMANYREQUESTS', status: 429, ecr: 'ThrottlingException', ecrStatus: 429 },
  /** A request target longer than http.maxUrlBytes. */
  URI_TOO_LONG: { oci: 'UNSUPPORTED', status: 414, ecr: 'ValidationException', ecrStatus: 414 },
  NOT_FOUND: { oci: 'NOT_FOUND', status: 404, ecr: 'ValidationException' },
  REPOSITORY_EXISTS: { oci: 'NAME_INVALID', status: 409, ecr: 'RepositoryAlreadyExistsException' },
  REPOSITORY_NOT_EMPTY: { oci: 'DENIED', status: 409, ecr: 'RepositoryNotEmptyException' },
  /** A repository or registry policy document ECR would not accept (grammar, actions outside the allowed set). */
  POLICY_INVALID: { oci: 'DENIED', status: 400, ecr: 'InvalidParameterException' },
  REPOSITORY_POLICY_NOT_FOUND: { oci: 'NOT_FOUND', status: 404, ecr: 'RepositoryPolicyNotFoundException' },
  REGISTRY_POLICY_NOT_FOUND: { oci: 'NOT_FOUND', status: 404, ecr: 'RegistryPolicyNotFoundException' },
  /** Repository resource tags: more than 50 after a merge. */
  TOO_MANY_TAGS: { oci: 'DENIED', status: 400, ecr: 'TooManyTagsException' },
  /** Repository resource tags: key/value too long, reserved `aws:` prefix, bad characters, duplicate keys. */
  TAG_PARAMETER_INVALID: { oci: 'DENIED', status: 400, ecr: 'InvalidTagParameterException' },
  TEMPLATE_EXISTS: { oci: 'DENIED', status: 409, ecr: 'TemplateAlreadyExistsException' },
  TEMPLATE_NOT_FOUND: { oci: 'NOT_FOUND', status: 404, ecr: 'TemplateNotFoundException' },
  CONFLICT: { oci: 'DENIED', status: 409, ecr: 'InvalidParameterException' },
  /** Get/DeleteLifecyclePolicy (and a preview without text) on a repository that has no lifecycle policy. */
  LIFECYCLE_POLICY_NOT_FOUND: { oci: 'NOT_FOUND', status: 404, ecr: 'LifecyclePolicyNotFoundException' },
  /** DescribeImageScanFindings for an image that was never scanned. */
  SCAN_NOT_FOUND: { oci: 'NOT_FOUND', status: 404, ecr: 'ScanNotFoundException' },
  /** StartImageScan more than once per image per 24 h (ECR's quota). */
  LIMIT_EXCEEDED: { oci: 'TOOMANYREQUESTS', status: 429, ecr: 'LimitExceededException' },
  /** GetLifecyclePolicyPreview on a repository where no preview was ever started. */
  LIFECYCLE_PREVIEW_NOT_FOUND: { oci: 'NOT_FOUND', status: 404, ecr: 'LifecyclePolicyPreviewNotFoundException' },
  /** StartLifecyclePolicyPreview while the repository's previous preview is still running. */
  LIFECYCLE_PREVIEW_IN_PROGRESS: { oci: 'DENIED', status: 409, ecr: 'LifecyclePolicyPreviewInProgressException' },
  /** A repository's KMS key is unknown, disabled or cannot be used (CreateRepository encryptionConfiguration). */
  KMS_ERROR: { oci: 'DENIED', status: 400, ecr: 'KmsException' },
  INTERNAL: { oci: 'UNKNOWN', status: 500, ecr: 'ServerException', ecrStatus: 500 },
  UNAVAILABLE: { oci: 'UNAVAILABLE', status: 503, ecr: 'ServerException', ecrStatus: 500 },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorKind = keyof typeof errorCatalogue;

/** A failure with a kind from the catalogue. `detail` is sent to clients; `cause` is only logged. */
export class RegistryError extends Error {
  readonly kind: ErrorKind;
  readonly detail: unknown;
  /** Extra response headers (e.g. Range on a 416 for an upload). */
  headers?: Record<string, string>;

  constructor(kind: ErrorKind, message: string, detail?: unknown, options?: { cause?: unknown; headers?: Record<string, string> }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'RegistryError';
    this.kind = kind;
    this.detail = detail;
    if (options?.headers) this.headers = options.headers;
  }

  get spec(): ErrorSpec {
    return errorCatalogue[this.kind];
  }
}

export function isRegistryError(e: unknown): e is RegistryError {
  return e instanceof RegistryError;
}
