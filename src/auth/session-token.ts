/**
 * Temporary credentials (STS GetSessionToken) without server state: the session token is an AES-256-GCM sealed
 * blob under DATA_DIR/keys/session.key holding the temporary key id and secret, the parent user and access key
 * and the expiry. Any node sharing DATA_DIR/keys/ can open it; nothing is written to the database.
 * Format: `CHS1` + base64url(iv ‖ ciphertext ‖ tag) — only base64url characters (safe in headers and XML).
 */
import { createCipheriv, createDecipheriv, randomBytes, randomInt } from 'node:crypto';

/** What a session token holds. */
export interface SessionClaims {
  /** The temporary access key id (`ASIA…`). */
  accessKeyId: string;
  secretAccessKey: string;
  /** IAM user the credentials act as. */
  username: string;
  /** The long-term key GetSessionToken was signed with (must stay Active). */
  parentAccessKeyId: string;
  accountId: string;
  /** Epoch milliseconds. */
  issuedAt: number;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export type SessionCheck = { ok: true; claims: SessionClaims } | { ok: false; reason: 'malformed' | 'expired' | 'scope' };

export interface SessionTokenCodec {
  seal(claims: SessionClaims): string;
  /** Opens a token (authenticity via GCM), checks the account and the expiry against `now` (epoch ms). */
  open(token: string, now: number): SessionCheck;
}

const PREFIX = 'CHS1';
const AAD = Buffer.from('cargohold session token v1', 'utf8');
/** Longest token accepted (a real one is ~300 characters). */
const MAX_TOKEN = 4096;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** `ASIA` + 16 random base32 characters, like AWS temporary key ids. */
export function generateTemporaryAccessKeyId(): string {
  let s = 'ASIA';
  for (let i = 0; i < 16; i++) s += BASE32[randomInt(32)];
  return s;
}

/** True for ids of the `ASIA…` temporary-credential form. */
export function isTemporaryAccessKeyId(id: string): boolean {
  return /^ASIA[A-Z0-9]{12,124}$/.test(id);
}

export function createSessionTokenCodec(key: Buffer, scope: { accountId: string }): SessionTokenCodec {
  if (key.length !== 32) throw new Error('session token key must be 32 bytes');
  return {
    seal(c) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(AAD);
      const plain = JSON.stringify({ k: c.accessKeyId, s: c.secretAccessKey, u: c.username, p: c.parentAccessKeyId, a: c.accountId, i: Math.floor(c.issuedAt), x: Math.floor(c.expiresAt) });
      const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return PREFIX + Buffer.concat([iv, ct, cipher.getAuthTag()]).toString('base64url');
    },
    open(token, now) {
      if (token.length > MAX_TOKEN || !token.startsWith(PREFIX) || !/^[A-Za-z0-9_-]+$/.test(token.slice(PREFIX.length))) return { ok: false, reason: 'malformed' };
      const raw = Buffer.from(token.slice(PREFIX.length), 'base64url');
      if (raw.length < 12 + 16 + 2) return { ok: false, reason: 'malformed' };
      let p: { k?: unknown; s?: unknown; u?: unknown; p?: unknown; a?: unknown; i?: unknown; x?: unknown };
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        decipher.setAAD(AAD);
        decipher.setAuthTag(raw.subarray(raw.length - 16));
        const plain = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
        p = JSON.parse(plain.toString('utf8'));
      } catch {
        return { ok: false, reason: 'malformed' };
      }
      if (!p || typeof p.k !== 'string' || typeof p.s !== 'string' || typeof p.u !== 'string' || typeof p.p !== 'string' || typeof p.a !== 'string' || typeof p.i !== 'number' || typeof p.x !== 'number') {
        return { ok: false, reason: 'malformed' };
      }
      if (p.a !== scope.accountId) return { ok: false, reason: 'scope' };
      const claims: SessionClaims = { accessKeyId: p.k, secretAccessKey: p.s, username: p.u, parentAccessKeyId: p.p, accountId: p.a, issuedAt: p.i, expiresAt: p.x };
      if (now >= p.x) return { ok: false, reason: 'expired' };
      return { ok: true, claims };
    },
  };
}
