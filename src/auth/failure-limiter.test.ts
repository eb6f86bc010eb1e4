import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import { manualClock } from '../core/clock.ts';
import { isRegistryError, RegistryError } from '../core/errors.ts';
import type { CargoholdAccessService } from './access-service.ts';
import { createFailureLimiter, limitAuthFailures, limiterKey } from './failure-limiter.ts';
import { AuthError } from './sigv4/index.ts';

const throttled = (e: unknown) => isRegistryError(e) && e.kind === 'TOO_MANY_REQUESTS';

describe('failure limiter', () => {
  test('an address is refused after `burst` failures and allowed again as tokens refill', () => {
    const clock = manualClock();
    const limiter = createFailureLimiter({ burst: 3, perMinute: 6, clock });
    for (let i = 0; i < 3; i++) {
      limiter.check('10.0.0.1');
      limiter.fail('10.0.0.1');
    }
    assert.throws(() => limiter.check('10.0.0.1'), (e: unknown) => throttled(e) && (e as RegistryError).headers?.['Retry-After'] === '10');
    // Other addresses are unaffected.
    limiter.check('10.0.0.2');
    clock.advance(9_999);
    assert.throws(() => limiter.check('10.0.0.1'), throttled);
    clock.advance(1);
    limiter.check('10.0.0.1');
    limiter.fail('10.0.0.1');
    assert.throws(() => limiter.check('10.0.0.1'), throttled);
    // A long pause refills up to the burst, not beyond.
    clock.advance(3_600_000);
    for (let i = 0; i < 3; i++) {
      limiter.check('10.0.0.1');
      limiter.fail('10.0.0.1');
    }
    assert.throws(() => limiter.check('10.0.0.1'), throttled);
  });

  test('burst 0 turns the limiter off', () => {
    const limiter = createFailureLimiter({ burst: 0, perMinute: 1, clock: manualClock() });
    for (let i = 0; i < 100; i++) limiter.fail('10.0.0.1');
    limiter.check('10.0.0.1');
    assert.equal(limiter.size, 0);
  });

  test('memory is bounded: the least recently failing address is forgotten first', () => {
    const limiter = createFailureLimiter({ burst: 1, perMinute: 1, clock: manualClock(), maxAddresses: 3 });
    for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']) limiter.fail(a);
    assert.equal(limiter.size, 3);
    limiter.check('10.0.0.1');
    assert.throws(() => limiter.check('10.0.0.4'), throttled);
  });

  test('IPv4-mapped addresses are their IPv4 address; IPv6 addresses are grouped by /64', () => {
    assert.equal(limiterKey('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(limiterKey('127.0.0.1'), '127.0.0.1');
    assert.equal(limiterKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(limiterKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
    assert.equal(limiterKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(limiterKey('::1'), '0:0:0:0::/64');
    assert.equal(limiterKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  });
});

describe('limitAuthFailures', () => {
  function fakeService(outcome: () => Promise<unknown>): CargoholdAccessService {
    return {
      generation: 7,
      authenticateBasic: outcome,
      authenticateSigV4: outcome,
    } as unknown as CargoholdAccessService;
  }
  const req = (authorization?: string) => ({ socket: { remoteAddress: '192.0.2.9' }, headers: authorization === undefined ? {} : { authorization } }) as unknown as IncomingMessage;

  test('wrong credentials count; once throttled the service is not even asked', async () => {
    let calls = 0;
    const access = limitAuthFailures(fakeService(async () => { calls++; throw new RegistryError('UNAUTHORIZED', 'no'); }), createFailureLimiter({ burst: 2, perMinute: 1, clock: manualClock() }));
    assert.equal(access.generation, 7);
    await assert.rejects(access.authenticateBasic(req('Basic eDp5')), (e: unknown) => isRegistryError(e) && e.kind === 'UNAUTHORIZED');
    await assert.rejects(access.authenticateSigV4(req(), 'h'), (e: unknown) => isRegistryError(e) && e.kind === 'UNAUTHORIZED');
    await assert.rejects(access.authenticateBasic(req('Basic eDp5')), throttled);
    await assert.rejects(access.authenticateSigV4(req(), 'h'), throttled);
    assert.equal(calls, 2);
  });

  test('anonymous requests, missing SigV4 credentials and successes take nothing', async () => {
    let mode: 'ok' | 'missing' = 'missing';
    const limiter = createFailureLimiter({ burst: 1, perMinute: 1, clock: manualClock() });
    const access = limitAuthFailures(fakeService(async () => {
      if (mode === 'missing') throw new AuthError('MissingAuthenticationTokenException', 'missing');
      return { principal: {} };
    }), limiter);
    for (let i = 0; i < 5; i++) await assert.rejects(access.authenticateSigV4(req(), 'h'), AuthError);
    mode = 'ok';
    for (let i = 0; i < 5; i++) await access.authenticateSigV4(req(), 'h');
    for (let i = 0; i < 5; i++) await access.authenticateBasic(req());
    assert.equal(limiter.size, 0);
  });
});
