/**
 * Test-only client side: signs or presigns requests with @smithy/signature-v4 exactly as the AWS SDK does, and
 * turns the result into the {@link SigV4Request} the server would see.
 */
import { createHash } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest } from '@smithy/types';
import { NodeSha256 } from './canonical.ts';
import type { SigV4Request } from './parse.ts';

/** Credentials the test client signs with. */
export interface TestCredentials { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

/** Request shape for the test client; defaults to an ECR JSON POST to localhost:5000. */
export interface TestRequestInput {
  method?: string;
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
  host?: string;
}

/** X-Amz-Target sent by default. */
export const ECR_TARGET = 'AmazonEC2ContainerRegistry_V20150921.DescribeRepositories';

function httpRequest(input: TestRequestInput): HttpRequest {
  const host = input.host ?? 'localhost:5000';
  return {
    method: input.method ?? 'POST',
    protocol: 'http:',
    hostname: host.split(':')[0]!,
    port: host.includes(':') ? Number(host.split(':')[1]) : undefined,
    path: input.path ?? '/',
    query: { ...(input.query ?? {}) },
    headers: {
      host,
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': ECR_TARGET,
      ...(input.headers ?? {}),
    },
    body: input.body ?? '{}',
  };
}

function signer(credentials: TestCredentials, service: string, region: string, applyChecksum: boolean): SignatureV4 {
  return new SignatureV4({ credentials, service, region, sha256: NodeSha256, applyChecksum });
}

/** Encodes a query bag the way the SDK's HTTP handlers put it on the wire. */
export function encodeQuery(query: HttpRequest['query']): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return Object.entries(query ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => (x === null ? enc(k) : `${enc(k)}=${enc(x)}`)))
    .join('&');
}

/** Converts a signed smithy request into what the HTTP layer hands to verifySigV4. */
export function toSigV4Request(request: HttpRequest): SigV4Request {
  const body = typeof request.body === 'string' ? request.body : '';
  return {
    method: request.method,
    path: request.path,
    query: encodeQuery(request.query),
    headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v])),
    bodySha256Hex: createHash('sha256').update(body).digest('hex'),
  };
}

/** Signs with the Authorization header, as the JS SDK (checksum header on) or botocore (off) would. */
export async function signTestRequest(
  credentials: TestCredentials,
  signingDate: Date,
  input: TestRequestInput = {},
  options: { service?: string; region?: string; applyChecksum?: boolean } = {},
): Promise<SigV4Request> {
  const s = signer(credentials, options.service ?? 'ecr', options.region ?? 'us-east-1', options.applyChecksum ?? true);
  const signed = await s.sign(httpRequest(input), { signingDate });
  return toSigV4Request(signed);
}

/** Presigns (query-string auth), as a download link generator would. */
export async function presignTestRequest(
  credentials: TestCredentials,
  signingDate: Date,
  expiresIn: number,
  input: TestRequestInput = {},
  options: { service?: string; region?: string } = {},
): Promise<SigV4Request> {
  const s = signer(credentials, options.service ?? 'ecr', options.region ?? 'us-east-1', false);
  const req = httpRequest({ method: 'GET', body: '', ...input, headers: { ...(input.headers ?? {}) } });
  delete req.headers['content-type'];
  delete req.headers['x-amz-target'];
  const signed = await s.presign(req, { signingDate, expiresIn });
  return toSigV4Request(signed);
}
