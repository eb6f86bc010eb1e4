/**
 * Registry tokens (the password of `docker login -u AWS`): base64url(JSON payload) + '.' + base64url(HMAC-SHA256),
 * keyed by DATA_DIR/keys/token.key. Verification is a pure HMAC check (no database). The token contains only
 * base64url characters and one '.', never ':' (`aws ecr get-login-password` splits the decoded
 * authorizationToken at ':').
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a token says. */
export interface RegistryTokenClaims {
  /** IAM user name the token was issued to. */
  username: string;
  /** Access key the GetAuthorizationToken request was signed with. */
  accessKeyId: string;
  accountId: string;
  region: string;
  /** Expiry, epoch milliseconds. */
  expiresAt: number;
  /** Issue time, epoch milliseconds. */
  issuedAt: number;
}

export type TokenCheck = { ok: true; claims: RegistryTokenClaims } | { ok: false; reason: 'malformed' | 'signature' | 'expired' | 'scope' };

export interface RegistryTokenCodec {
  issue(claims: RegistryTokenClaims): string;
  /** Checks signature, expiry (against `now`) and that account and region are this registry's. */
  verify(token: string, now: number): TokenCheck;
}

const CONTEXT = 'cargohold registry token v1\n';

export function createRegistryTokenCodec(key: Buffer, scope: { accountId: string; region: string }): RegistryTokenCodec {
  const mac = (body: string) => createHmac('sha256', key).update(CONTEXT).update(body).digest();
  return {
    issue(c) {
      const body = Buffer.from(JSON.stringify({ v: 1, u: c.username, k: c.accessKeyId, a: c.accountId, r: c.region, i: Math.floor(c.issuedAt), x: Math.floor(c.expiresAt) })).toString('base64url');
      return `${body}.${mac(body).toString('base64url')}`;
    },
    verify(token, now) {
      const dot = token.indexOf('.');
      if (dot <= 0 || dot !== token.lastIndexOf('.') || token.length > 4096) return { ok: false, reason: 'malformed' };
      const body = token.slice(0, dot);
      const sig = Buffer.from(token.slice(dot + 1), 'base64url');
      const expected = mac(body);
      if (sig.length !== expected.length || !timingSafeEqual(sig, expected)) return { ok: false, reason: 'signature' };
      let p: { v?: unknown; u?: unknown; k?: unknown; a?: unknown; r?: unknown; i?: unknown; x?: unknown };
      try {
        p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      } catch {
        return { ok: false, reason: 'malformed' };
      }
      if (p.v !== 1 || typeof p.u !== 'string' || typeof p.k !== 'string' || typeof p.a !== 'string' || typeof p.r !== 'string' || typeof p.x !== 'number' || typeof p.i !== 'number') {
        return { ok: false, reason: 'malformed' };
      }
      if (p.a !== scope.accountId || p.r !== scope.region) return { ok: false, reason: 'scope' };
      if (now >= p.x) return { ok: false, reason: 'expired' };
      return { ok: true, claims: { username: p.u, accessKeyId: p.k, accountId: p.a, region: p.r, expiresAt: p.x, issuedAt: p.i } };
    },
  };
}
