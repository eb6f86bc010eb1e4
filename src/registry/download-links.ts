import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.ts';

/** URL path prefix of signed layer downloads (GetDownloadUrlForLayer). */
export const DOWNLOAD_PATH_PREFIX = '/_cargohold/download/';

/**
 * Short-lived signed links to a repository's blob, served by cargohold itself (ECR hands out presigned S3
 * URLs). A link names the repository and digest and carries `expires` (epoch seconds) and an HMAC-SHA256
 * over `name \n digest \n expires`. The link authorises only that read: whoever holds it may fetch the blob
 * until it expires, and only while the repository still holds the blob.
 */
export interface DownloadLinks {
  /** Path and query (`/_cargohold/download/<name>/<digest>?expires=…&signature=…`), relative to the registry base URL. */
  sign(name: string, digest: string): string;
  /** 'ok', 'expired' or 'invalid' (bad or missing signature). */
  verify(name: string, digest: string, expires: string | null, signature: string | null): 'ok' | 'expired' | 'invalid';
}

export interface DownloadLinkOptions {
  /** HMAC key (≥ 32 bytes). */
  key: Buffer;
  clock: Clock;
  /** Lifetime of a link in seconds (default 600). */
  ttlSeconds?: number;
}

export function createDownloadLinks(options: DownloadLinkOptions): DownloadLinks {
  if (options.key.length < 32) throw new Error('download link key must be at least 32 bytes');
  const ttl = options.ttlSeconds ?? 600;
  const mac = (name: string, digest: string, expires: string) =>
    createHmac('sha256', options.key).update(`${name}\n${digest}\n${expires}`).digest('hex');
  return {
    sign(name, digest) {
      const expires = String(Math.floor(options.clock.now().getTime() / 1000) + ttl);
      return `${DOWNLOAD_PATH_PREFIX}${name}/${digest}?expires=${expires}&signature=${mac(name, digest, expires)}`;
    },
    verify(name, digest, expires, signature) {
      if (!expires || !signature || !/^\d{1,12}$/.test(expires) || !/^[a-f0-9]{64}$/.test(signature)) return 'invalid';
      const expected = Buffer.from(mac(name, digest, expires), 'hex');
      if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) return 'invalid';
      return Number(expires) * 1000 < options.clock.now().getTime() ? 'expired' : 'ok';
    },
  };
}
