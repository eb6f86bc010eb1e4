/**
 * Rate limiting of failed authentication per client address, against credential guessing: each address has a
 * token bucket of `burst` failures refilled at `perMinute`. A failure takes a token; while an address has no
 * token left, every authentication attempt from it is refused with TOO_MANY_REQUESTS (429: OCI TOOMANYREQUESTS,
 * ECR ThrottlingException, STS Throttling) before any credential is checked. Successful and anonymous requests
 * take nothing. IPv6 clients are grouped by /64 (one host usually owns a whole /64).
 *
 * Hand-written rather than a library: a few lines over an injected Clock (tests move time; no timers), and
 * memory is bounded (least recently failing addresses are forgotten first).
 */
import type { IncomingMessage } from 'node:http';
import { isIPv6 } from 'node:net';
import type { Clock } from '../core/clock.ts';
import { RegistryError } from '../core/errors.ts';
import type { CargoholdAccessService } from './access-service.ts';
import { AuthError } from './sigv4/index.ts';

export interface FailureLimiterOptions {
  /** Failures an address may have in a row before it is throttled; 0 turns the limiter off. */
  burst: number;
  /** Tokens given back per minute. */
  perMinute: number;
  clock: Clock;
  /** Addresses remembered at most (default 10 000); past it the least recently failing one is forgotten. */
  maxAddresses?: number;
}

export interface FailureLimiter {
  /** Throws RegistryError TOO_MANY_REQUESTS (with Retry-After) when `address` has no failure left. */
  check(address: string | undefined): void;
  /** Records one failed authentication from `address`. */
  fail(address: string | undefined): void;
  /** Number of addresses currently tracked (for tests and metrics). */
  readonly size: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** The key an address is limited under: IPv4 (also IPv4-mapped IPv6) as is, IPv6 by its /64 prefix. */
export function limiterKey(address: string | undefined): string {
  if (!address) return '';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head, tail] = address.split('%')[0]!.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16)).join(':')}::/64`;
}

export function createFailureLimiter(options: FailureLimiterOptions): FailureLimiter {
  const { burst, clock } = options;
  const perMs = options.perMinute / 60_000;
  const maxAddresses = options.maxAddresses ?? 10_000;
  const buckets = new Map<string, Bucket>();

  /** Tokens `b` holds at `now` (refilled since its last update, capped at burst). */
  const level = (b: Bucket, now: number) => Math.min(burst, b.tokens + (now - b.at) * perMs);

  return {
    get size() { return buckets.size; },
    check(address) {
      if (burst <= 0 || buckets.size === 0) return;
      const b = buckets.get(limiterKey(address));
      if (!b) return;
      const now = clock.now().getTime();
      const tokens = level(b, now);
      if (tokens >= 1) return;
      const retryAfter = Math.max(1, Math.ceil((1 - tokens) / perMs / 1000));
      throw new RegistryError('TOO_MANY_REQUESTS', `too many failed authentication attempts from this address; retry in ${retryAfter} s`, { retryAfterSeconds: retryAfter }, { headers: { 'Retry-After': String(retryAfter) } });
    },
    fail(address) {
      if (burst <= 0) return;
      const key = limiterKey(address);
      const now = clock.now().getTime();
      const b = buckets.get(key);
      const tokens = b ? level(b, now) : burst;
      // Re-inserted so the map's order is least recently failing first.
      buckets.delete(key);
      buckets.set(key, { tokens: Math.max(0, tokens - 1), at: now });
      if (buckets.size > maxAddresses) buckets.delete(buckets.keys().next().value!);
    },
  };
}

/** Whether an authentication error is a failed attempt (wrong or expired credentials), not a missing one. */
function isFailure(e: unknown): boolean {
  if (e instanceof AuthError) return e.code !== 'MissingAuthenticationTokenException';
  return e instanceof RegistryError && e.kind === 'UNAUTHORIZED';
}

/**
 * The access service with failed-authentication limiting on both authentication paths (SigV4 for the ECR and STS
 * APIs, Basic for /v2/). Everything else is the service itself (the wrapper inherits from it).
 */
export function limitAuthFailures(access: CargoholdAccessService, limiter: FailureLimiter): CargoholdAccessService {
  const guard = async <T>(req: IncomingMessage, attempt: () => Promise<T>): Promise<T> => {
    const address = req.socket.remoteAddress;
    limiter.check(address);
    try {
      return await attempt();
    } catch (e) {
      if (isFailure(e)) limiter.fail(address);
      throw e;
    }
  };
  const limited = Object.create(access) as CargoholdAccessService;
  Object.defineProperties(limited, {
    authenticateSigV4: { value: (req: IncomingMessage, bodySha256Hex: string, opts?: { service?: string }) => guard(req, () => access.authenticateSigV4(req, bodySha256Hex, opts)) },
    authenticateBasic: {
      value: (req: IncomingMessage) => {
        // No credentials: anonymous, nothing to limit (docker's first probe of every push and pull).
        if (req.headers.authorization === undefined || req.headers.authorization === '') return access.authenticateBasic(req);
        return guard(req, () => access.authenticateBasic(req));
      },
    },
  });
  return limited;
}
