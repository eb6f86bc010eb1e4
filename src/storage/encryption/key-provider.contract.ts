import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { KeyProviderError, type KeyProvider } from './key-provider.ts';

/**
 * The KeyProvider contract, run against every provider: `make` returns a fresh provider (and a way to
 * clean up). `skip` (a reason) skips every case, e.g. when no AWS credentials are configured; `skipDestroy`
 * skips only the destroy case (an emulator that does not refuse keys pending deletion).
 */
export function runKeyProviderContract(name: string, make: () => Promise<KeyProvider>, options: { skip?: string; skipDestroy?: string } = {}): void {
  const t = (title: string, fn: (p: KeyProvider) => Promise<void>, skip = options.skip) => test(`${name}: ${title}`, { skip }, async () => fn(await make()));
  const ctx = { scope: 'registry', purpose: 'contract-test' };

  t('create → wrap → unwrap returns the data key; generateDataKey gives 32 bytes that unwrap', async (p) => {
    const keyId = await p.create('cargohold contract test');
    assert.equal(await p.exists(keyId), true);
    const dataKey = randomBytes(32);
    const wrapped = await p.wrap(keyId, dataKey, ctx);
    assert.ok(!wrapped.includes(dataKey), 'a wrapped key does not contain the key');
    assert.deepEqual(await p.unwrap(keyId, wrapped, ctx), dataKey);
    const g = await p.generateDataKey(keyId, ctx);
    assert.equal(g.plaintext.length, 32);
    assert.deepEqual(await p.unwrap(keyId, g.wrapped, ctx), g.plaintext);
    await p.destroy(keyId);
  });

  t('unwrap fails with another context, another key, or a changed byte', async (p) => {
    const a = await p.create('cargohold contract test a');
    const b = await p.create('cargohold contract test b');
    const wrapped = await p.wrap(a, randomBytes(32), ctx);
    await assert.rejects(p.unwrap(a, wrapped, { ...ctx, scope: 'other' }), KeyProviderError);
    await assert.rejects(p.unwrap(b, wrapped, ctx), KeyProviderError);
    const bad = Buffer.from(wrapped);
    bad[bad.length - 1]! ^= 1;
    await assert.rejects(p.unwrap(a, bad, ctx), KeyProviderError);
    await p.destroy(a);
    await p.destroy(b);
  });

  t('rotate: keys wrapped before still unwrap, new wraps unwrap too', async (p) => {
    const keyId = await p.create('cargohold contract test rotate');
    const dataKey = randomBytes(32);
    const before = await p.wrap(keyId, dataKey, ctx);
    await p.rotate(keyId);
    const after = await p.wrap(keyId, dataKey, ctx);
    assert.deepEqual(await p.unwrap(keyId, before, ctx), dataKey);
    assert.deepEqual(await p.unwrap(keyId, after, ctx), dataKey);
    await p.destroy(keyId);
  });

  t('destroy: nothing wrapped under the key unwraps any more; unknown keys are KeyProviderErrors', async (p) => {
    const keyId = await p.create('cargohold contract test destroy');
    const wrapped = await p.wrap(keyId, randomBytes(32), ctx);
    await p.destroy(keyId);
    assert.equal(await p.exists(keyId), false);
    await assert.rejects(p.unwrap(keyId, wrapped, ctx), KeyProviderError);
    await assert.rejects(p.wrap(keyId, randomBytes(32), ctx), KeyProviderError);
  }, options.skip ?? options.skipDestroy);
}
