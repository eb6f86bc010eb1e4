import { createHash, type Hash } from 'node:crypto';
import { RegistryError } from './errors.ts';

/** A content digest such as `sha256:<64 hex>`. Only sha256 and sha512 are accepted. */
export type Digest = string & { readonly __digest?: never };
export type DigestAlgorithm = 'sha256' | 'sha512';

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const DIGEST_RE = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
/** The OCI grammar for a digest (any algorithm); used to tell "malformed" from "unsupported". */
const DIGEST_GRAMMAR_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export function isDigest(value: string): value is Digest {
  return DIGEST_RE.test(value);
}

/** True when the string has the general `algorithm:encoded` shape of a digest. */
export function looksLikeDigest(value: string): boolean {
  return value.includes(':') && DIGEST_GRAMMAR_RE.test(value);
}

/** Validates a digest supplied by a client; throws DIGEST_INVALID with a clear message. */
export function parseDigest(value: string | null | undefined, what = 'digest'): Digest {
  if (!value) throw new RegistryError('DIGEST_INVALID', `${what} is required`);
  if (!isDigest(value)) {
    const alg = value.split(':', 1)[0];
    if (looksLikeDigest(value) && alg !== 'sha256' && alg !== 'sha512') {
      throw new RegistryError('DIGEST_INVALID', `unsupported digest algorithm "${alg}" (sha256 and sha512 are supported)`, { digest: value });
    }
    throw new RegistryError('DIGEST_INVALID', `invalid ${what} "${truncate(value)}"`, { digest: truncate(value) });
  }
  return value;
}

export function digestAlgorithm(digest: Digest): DigestAlgorithm {
  return digest.startsWith('sha512:') ? 'sha512' : 'sha256';
}

export function digestHex(digest: Digest): string {
  return digest.slice(digest.indexOf(':') + 1);
}

export function hexLength(alg: DigestAlgorithm): number {
  return HEX_LENGTH[alg];
}

export function newHash(alg: DigestAlgorithm = 'sha256'): Hash {
  return createHash(alg);
}

export function sha256Digest(data: Buffer | Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function digestOf(data: Buffer | Uint8Array | string, alg: DigestAlgorithm = 'sha256'): Digest {
  return `${alg}:${createHash(alg).update(data).digest('hex')}`;
}

function truncate(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
