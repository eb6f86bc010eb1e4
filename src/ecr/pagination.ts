import { createHmac, timingSafeEqual } from 'node:crypto';
import { invalidParameter } from './errors.ts';

/**
 * Opaque, tamper-evident `nextToken`s: base64url(JSON state) + '.' + HMAC. A token is bound to the operation
 * and repository it was issued for, so it cannot be replayed elsewhere.
 */
export interface TokenCodec {
  encode(scope: string, state: unknown): string;
  decode<T>(scope: string, token: string): T;
}

export function createTokenCodec(key: Buffer): TokenCodec {
  const mac = (scope: string, body: string) => createHmac('sha256', key).update(scope).update('\n').update(body).digest('base64url').slice(0, 22);
  return {
    encode(scope, state) {
      const body = Buffer.from(JSON.stringify(state)).toString('base64url');
      return `${body}.${mac(scope, body)}`;
    },
    decode<T>(scope: string, token: string): T {
      const dot = token.lastIndexOf('.');
      const body = token.slice(0, dot);
      const sig = Buffer.from(token.slice(dot + 1));
      const expected = Buffer.from(mac(scope, body));
      if (dot <= 0 || sig.length !== expected.length || !timingSafeEqual(sig, expected)) throw invalidParameter('nextToken', 'Invalid NextToken provided');
      try {
        return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as T;
      } catch {
        throw invalidParameter('nextToken', 'Invalid NextToken provided');
      }
    },
  };
}
