/**
 * Rebuilds the canonical request and string to sign with @smithy/signature-v4 (the AWS SDK's own signer, so
 * canonicalisation matches what clients do byte for byte), then derives the signature with cached signing keys.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { ALGORITHM_IDENTIFIER, SignatureV4, getCanonicalHeaders } from '@smithy/signature-v4';
import type { Checksum, HttpRequest, QueryParameterBag, SourceData } from '@smithy/types';
import type { ParsedSigV4 } from './parse.ts';

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** SHA-256 / HMAC-SHA-256 over node:crypto in the shape smithy's signer expects (also usable to sign in tests). */
export class NodeSha256 implements Checksum {
  private readonly secret?: Buffer;
  private state: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : toBuffer(secret);
    this.state = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret ? createHmac('sha256', this.secret) : createHash('sha256');
  }

  update(chunk: Uint8Array): void {
    this.state.update(chunk);
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.state.digest());
  }

  reset(): void {
    this.state = this.fresh();
  }
}

/** Exposes the protected canonicalisation steps of smithy's signer; it never signs, so it holds no credentials. */
class CanonicalSigner extends SignatureV4 {
  constructor(uriEscapePath: boolean) {
    super({
      service: 'unused',
      region: 'unused',
      credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' },
      sha256: NodeSha256,
      uriEscapePath,
      applyChecksum: false,
    });
  }

  canonicalRequest(request: HttpRequest, signedHeaders: ReadonlySet<string>, payloadHash: string): string {
    const canonicalHeaders = getCanonicalHeaders(request, undefined, new Set(signedHeaders));
    return this.createCanonicalRequest(request, canonicalHeaders, payloadHash);
  }

  stringToSign(amzDate: string, credentialScope: string, canonicalRequest: string): Promise<string> {
    return this.createStringToSign(amzDate, credentialScope, canonicalRequest, ALGORITHM_IDENTIFIER);
  }
}

// Every AWS service except S3 normalises the path and URI-encodes each (already client-encoded) segment once more.
const escapingSigner = new CanonicalSigner(true);
const s3Signer = new CanonicalSigner(false);

/** Derives `kSigning` = HMAC chain over date, region, service and `aws4_request`. */
export function deriveSigningKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  const kDate = createHmac('sha256', `AWS4${secretAccessKey}`).update(date).digest();
  const kRegion = createHmac('sha256', kDate).update(region).digest();
  const kService = createHmac('sha256', kRegion).update(service).digest();
  return createHmac('sha256', kService).update('aws4_request').digest();
}

/** A bounded cache of derived signing keys, keyed by (secret, date, region, service). */
export interface SigningKeyCache {
  get(secretAccessKey: string, date: string, region: string, service: string): Buffer;
  readonly size: number;
}

/**
 * Creates an LRU cache of signing keys. Keys are indexed by a hash of the secret, never the secret itself;
 * a rotated secret simply misses. Derived keys are valid for one day, so entries age out naturally.
 */
export function createSigningKeyCache(maxEntries = 1024): SigningKeyCache {
  const entries = new Map<string, Buffer>();
  return {
    get(secretAccessKey, date, region, service) {
      const id = `${createHash('sha256').update(secretAccessKey).digest('base64')}\n${date}\n${region}\n${service}`;
      const hit = entries.get(id);
      if (hit) {
        entries.delete(id);
        entries.set(id, hit);
        return hit;
      }
      const key = deriveSigningKey(secretAccessKey, date, region, service);
      entries.set(id, key);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      return key;
    },
    get size() {
      return entries.size;
    },
  };
}

/** The process-wide cache {@link verifySigV4} uses unless given another. */
export const defaultSigningKeyCache: SigningKeyCache = createSigningKeyCache();

/** The three SigV4 stages for one request. */
export interface SigV4Stages {
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
}

/** Input to {@link computeSignature}. */
export interface ComputeSignatureInput {
  parsed: ParsedSigV4;
  method: string;
  /** Raw path as received. */
  path: string;
  /** Payload hash that enters the canonical request (body hash, or UNSIGNED-PAYLOAD for presigned URLs). */
  payloadHash: string;
  secretAccessKey: string;
  keyCache?: SigningKeyCache;
}

/**
 * Computes canonical request, string to sign and signature exactly as the client should have, using only the
 * headers named in SignedHeaders and every query parameter except X-Amz-Signature.
 */
export async function computeSignature(input: ComputeSignatureInput): Promise<SigV4Stages> {
  const { parsed } = input;
  const headers: Record<string, string> = Object.create(null);
  for (const name of parsed.signedHeaders) headers[name] = parsed.headers[name] ?? '';
  const query: QueryParameterBag = Object.create(null);
  for (const [key, value] of parsed.query) {
    if (key === 'X-Amz-Signature') continue;
    const prev = query[key];
    query[key] = prev === undefined || prev === null ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  const request: HttpRequest = {
    method: input.method,
    protocol: 'https:',
    hostname: parsed.headers['host'] ?? '',
    path: input.path === '' ? '/' : input.path,
    query,
    headers,
  };
  const signer = parsed.service === 's3' ? s3Signer : escapingSigner;
  const canonicalRequest = signer.canonicalRequest(request, new Set(parsed.signedHeaders), input.payloadHash);
  const stringToSign = await signer.stringToSign(parsed.amzDate, parsed.credentialScope, canonicalRequest);
  const key = (input.keyCache ?? defaultSigningKeyCache).get(input.secretAccessKey, parsed.scopeDate, parsed.region, parsed.service);
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
  return { canonicalRequest, stringToSign, signature };
}
