import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { runKeyProviderContract } from '../key-provider.contract.ts';
import { createLocalKeyring } from './local-keyring.ts';

const options = () => ({ path: join(mkdtempSync(join(tmpdir(), 'keyring-')), 'keys', 'keyring.json'), region: 'us-east-1', accountId: '123456789012' });

runKeyProviderContract('local keyring', async () => createLocalKeyring(options()));

test('the keyring file is created on first use with mode 0600 and never holds a data key', async () => {
  const o = options();
  const p = createLocalKeyring(o);
  assert.equal(statSync(o.path).mode & 0o777, 0o600);
  const keyId = await p.create('t');
  assert.match(keyId, /^arn:aws:kms:us-east-1:123456789012:key\/[0-9a-f-]{36}$/);
  const dataKey = randomBytes(32);
  await p.wrap(keyId, dataKey, {});
  assert.equal(statSync(o.path).mode & 0o777, 0o600);
  assert.ok(!readFileSync(o.path, 'utf8').includes(dataKey.toString('base64')));
});

test('a second process sees keys and versions the first one added (the CLI rotating under a running server)', async () => {
  const o = options();
  const server = createLocalKeyring(o);
  const cli = createLocalKeyring(o);
  const keyId = await cli.create('t');
  await cli.rotate(keyId);
  const wrapped = await cli.wrap(keyId, Buffer.alloc(32, 7), { a: 'b' });
  assert.deepEqual(await server.unwrap(keyId, wrapped, { a: 'b' }), Buffer.alloc(32, 7));
});
