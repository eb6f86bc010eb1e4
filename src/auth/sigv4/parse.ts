/**
 * Parsing of the SigV4 material a request carries: the `Authorization` header or the presigned `X-Amz-*`
 * query parameters, the request date, and normalised header and query views of the raw request.
 * Nothing here touches secrets; malformed input ends in an {@link AuthError} with AWS's wording.
 */
import { AuthError, incomplete } from './errors.ts';

/** The only algorithm accepted (SigV4a is not supported). */
export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
/** Credential-scope terminator. */
export const SIGV4_TERMINATOR = 'aws4_request';
/** Longest presigned lifetime AWS allows, in seconds (7 days). */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 604_800;

/** The raw request as the HTTP layer received it. */
export interface SigV4Request {
  method: string;
  /** Raw path as received (still percent-encoded by the client), without the query string. */
  path: string;
  /** Raw query string, without the leading `?`. */
  query: string;
  /** Header map; repeated headers as arrays (Node's `req.headersDistinct`) keep their order for the canonical form. */
  headers: Record<string, string | string[] | undefined>;
  /** Lower-case hex SHA-256 of the body bytes as received. */
  bodySha256Hex: string;
}

/** Everything the signature claims, parsed and syntactically checked (not yet verified). */
export interface ParsedSigV4 {
  /** Where the signature came from. */
  kind: 'header' | 'query';
  accessKeyId: string;
  /** YYYYMMDD from the credential scope. */
  scopeDate: string;
  region: string;
  service: string;
  /** Last credential-scope element; must be `aws4_request`. */
  terminator: string;
  /** `date/region/service/aws4_request` as used in the string to sign. */
  credentialScope: string;
  /** Lower-case header names, in the order given. */
  signedHeaders: string[];
  /** Lower-case hex signature supplied by the client. */
  signature: string;
  /** Request time in ISO-8601 basic form (`20150830T123600Z`), as it enters the string to sign. */
  amzDate: string;
  signingDate: Date;
  /** Presigned lifetime (X-Amz-Expires), query auth only. */
  expiresSeconds?: number;
  /** X-Amz-Security-Token from the header or query, if any. */
  securityToken?: string;
  /** Header names lower-cased; repeated values joined with ',' as the canonical form wants. */
  headers: Record<string, string>;
  /** Decoded query parameters in received order. */
  query: Array<[string, string]>;
}

/** Formats a date as ISO-8601 basic (`YYYYMMDDTHHMMSSZ`), the form SigV4 and AWS error messages use. */
export function formatAmzDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

const BASIC_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Parses ISO-8601 basic form; `undefined` when malformed or not a real calendar time. */
export function parseAmzDate(value: string): Date | undefined {
  const m = BASIC_DATE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const date = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
  return formatAmzDate(date) === value ? date : undefined;
}

/** Lower-cases header names and joins repeated values with ',' (AWS's canonical joining). */
export function normalizeHeaders(headers: SigV4Request['headers']): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const joined = Array.isArray(value) ? value.join(',') : value;
    out[key] = key in out ? `${out[key]},${joined}` : joined;
  }
  return out;
}

function decodeComponent(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw; // not valid percent-encoding: keep the bytes; canonical encoding will escape the '%'
  }
}

/** Splits a raw query string into decoded pairs; a bare `key` becomes `[key, '']`. `+` stays a literal plus. */
export function parseQueryString(raw: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const part of raw.replace(/^\?/, '').split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    pairs.push([decodeComponent(key), decodeComponent(value)]);
  }
  return pairs;
}

interface Credential { accessKeyId: string; scopeDate: string; region: string; service: string; terminator: string }

function parseCredential(value: string): Credential {
  const parts = value.split('/');
  if (parts.length !== 5 || parts.some((p) => p === '')) {
    throw incomplete(`Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${value}'`);
  }
  const [accessKeyId, scopeDate, region, service, terminator] = parts as [string, string, string, string, string];
  return { accessKeyId, scopeDate, region, service, terminator };
}

function splitSignedHeaders(value: string): string[] {
  return value.split(';').map((h) => h.trim().toLowerCase()).filter((h) => h !== '');
}

/** Request time from `x-amz-date`, else `Date` (ISO-8601 basic or an HTTP date). */
function headerDate(headers: Record<string, string>): { name: string; date: Date } | undefined {
  const name = headers['x-amz-date'] !== undefined ? 'x-amz-date' : headers['date'] !== undefined ? 'date' : undefined;
  if (!name) return undefined;
  const raw = headers[name]!.trim();
  const date = parseAmzDate(raw) ?? (name === 'date' && /[a-z]/i.test(raw) ? new Date(raw) : undefined);
  if (!date || Number.isNaN(date.getTime())) {
    throw incomplete(`Date must be in ISO-8601 'basic format'. Got '${raw}'. See http://en.wikipedia.org/wiki/ISO_8601`);
  }
  return { name, date };
}

function parseAuthorizationHeader(authorization: string, headers: Record<string, string>): ParsedSigV4 {
  const trimmed = authorization.trim();
  const space = trimmed.indexOf(' ');
  const algorithm = space < 0 ? trimmed : trimmed.slice(0, space);
  const rest = space < 0 ? '' : trimmed.slice(space + 1);
  if (space >= 0 && algorithm !== SIGV4_ALGORITHM) {
    throw incomplete(`Unsupported AWS 'algorithm': '${algorithm}'`);
  }
  const params = new Map<string, string>();
  for (const piece of rest.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = piece.indexOf('=');
    if (eq < 0) {
      throw incomplete(`'${piece}' not a valid key=value pair (missing equal-sign) in Authorization header: '${trimmed}'.`);
    }
    params.set(piece.slice(0, eq).trim(), piece.slice(eq + 1).trim());
  }
  const problems: string[] = [];
  for (const name of ['Credential', 'Signature', 'SignedHeaders']) {
    if (!params.get(name)) problems.push(`Authorization header requires '${name}' parameter.`);
  }
  const dated = headerDate(headers);
  if (!dated) problems.push(`Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.`);
  if (problems.length > 0) throw incomplete(`${problems.join(' ')} Authorization=${trimmed}`);

  const credential = parseCredential(params.get('Credential')!);
  return {
    kind: 'header',
    ...credential,
    credentialScope: scopeOf(credential),
    signedHeaders: splitSignedHeaders(params.get('SignedHeaders')!),
    signature: params.get('Signature')!.toLowerCase(),
    amzDate: formatAmzDate(dated!.date),
    signingDate: dated!.date,
    securityToken: headers['x-amz-security-token'],
    headers,
    query: [],
  };
}

const QUERY_PARAMS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires'];

function parsePresigned(query: Array<[string, string]>, headers: Record<string, string>): ParsedSigV4 {
  const get = (name: string): string | undefined => query.find(([k]) => k === name)?.[1];
  const missing = QUERY_PARAMS.filter((name) => !get(name));
  if (missing.length > 0) {
    throw incomplete(`${missing.map((n) => `AWS query-string parameters must include '${n}'.`).join(' ')} Re-examine the query-string parameters.`);
  }
  const algorithm = get('X-Amz-Algorithm')!;
  if (algorithm !== SIGV4_ALGORITHM) throw incomplete(`Unsupported AWS 'algorithm': '${algorithm}'`);
  const amzDate = get('X-Amz-Date')!;
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate) {
    throw incomplete(`Date must be in ISO-8601 'basic format'. Got '${amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`);
  }
  const expiresRaw = get('X-Amz-Expires')!;
  if (!/^\d+$/.test(expiresRaw)) throw incomplete('X-Amz-Expires should be a number');
  const expiresSeconds = Number(expiresRaw);
  if (expiresSeconds < 1) throw incomplete('X-Amz-Expires must be non-negative');
  if (expiresSeconds > MAX_PRESIGNED_EXPIRES_SECONDS) {
    throw incomplete(`X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGNED_EXPIRES_SECONDS}`);
  }
  const credential = parseCredential(get('X-Amz-Credential')!);
  return {
    kind: 'query',
    ...credential,
    credentialScope: scopeOf(credential),
    signedHeaders: splitSignedHeaders(get('X-Amz-SignedHeaders')!),
    signature: get('X-Amz-Signature')!.toLowerCase(),
    amzDate,
    signingDate,
    expiresSeconds,
    securityToken: get('X-Amz-Security-Token') ?? headers['x-amz-security-token'],
    headers,
    query,
  };
}

function scopeOf(c: Credential): string {
  return `${c.scopeDate}/${c.region}/${c.service}/${c.terminator}`;
}

/**
 * Reads the SigV4 claim from a request without checking it against any secret.
 * Throws `MissingAuthenticationTokenException` when the request carries no SigV4 at all, and
 * `IncompleteSignatureException` when it is malformed or uses both header and query auth.
 */
export function parseSigV4(request: SigV4Request): ParsedSigV4 {
  const headers = normalizeHeaders(request.headers);
  const query = parseQueryString(request.query);
  const authorization = headers['authorization'];
  const presigned = query.some(([k]) => k === 'X-Amz-Algorithm' || k === 'X-Amz-Signature' || k === 'X-Amz-Credential');
  if (authorization !== undefined && authorization.trim() !== '' && presigned) {
    throw incomplete('Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified');
  }
  if (presigned) return parsePresigned(query, headers);
  if (authorization === undefined || authorization.trim() === '') {
    throw new AuthError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const parsed = parseAuthorizationHeader(authorization, headers);
  parsed.query = query;
  return parsed;
}
