import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig, validateConfig } from '../config/load.ts';
import { createSelfSigned } from '../tls/self-signed.ts';
import { isLoopbackHost, loadTlsFiles, TlsConfigError } from './tls.ts';

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'cargohold-tls-files-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

test('loadTlsFiles accepts a matching pair and explains what is wrong with anything else', async () => {
  const a = await createSelfSigned({ host: 'a.test' });
  const b = await createSelfSigned({ host: 'b.test' });
  const file = async (name: string, text: string) => { const p = join(dir, name); await writeFile(p, text); return p; };
  const cert = await file('a.crt', a.serverCert);
  const key = await file('a.key', a.serverKey);
  const otherKey = await file('b.key', b.serverKey);
  const junk = await file('junk.crt', 'not a certificate');
  assert.equal(loadTlsFiles(cert, key).cert.toString(), a.serverCert);
  assert.throws(() => loadTlsFiles(cert, join(dir, 'missing.key')), (e: unknown) => e instanceof TlsConfigError && /cannot read the TLS key .*missing\.key/.test(e.message));
  assert.throws(() => loadTlsFiles(cert, otherKey), (e: unknown) => e instanceof TlsConfigError && /cannot be used together/.test(e.message));
  assert.throws(() => loadTlsFiles(junk, key), TlsConfigError);
});

test('only loopback addresses count as local for plain HTTP', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) assert.equal(isLoopbackHost(h), true, h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.5', 'registry.example.com', '::ffff:10.0.0.1', '128.0.0.1']) assert.equal(isLoopbackHost(h), false, h);
});

test('config: tls needs both cert and key; limits have their documented defaults', () => {
  assert.throws(() => validateConfig({ tls: { cert: '/x.crt' } }), /set both cert and key/);
  const c = validateConfig({});
  assert.deepEqual(c.tls, { hstsMaxAgeSeconds: 31_536_000 });
  assert.equal(c.http.maxHeaderBytes, 32 * 1024);
  assert.equal(c.http.maxUrlBytes, 8 * 1024);
  assert.equal(c.http.bodyIdleTimeoutSeconds, 60);
  assert.equal(c.http.requestTimeoutSeconds, 0);
  assert.equal(c.http.maxApiBodyBytes, 1024 * 1024);
  assert.deepEqual(c.auth.failureLimit, { burst: 30, perMinute: 30 });
  assert.throws(() => validateConfig({ http: { requestTimeoutSeconds: 10, headersTimeoutSeconds: 60 } }), /headersTimeoutSeconds must not exceed requestTimeoutSeconds/);
});

test('config: TLS files from the environment, overridden by flags', () => {
  const env = { CARGOHOLD_TLS_CERT: '/env/server.crt', CARGOHOLD_TLS_KEY: '/env/server.key' };
  assert.deepEqual(loadConfig({ env }).tls, { cert: '/env/server.crt', key: '/env/server.key', hstsMaxAgeSeconds: 31_536_000 });
  const flagged = loadConfig({ env, overrides: { tlsCert: '/flag/a.crt', tlsKey: '/flag/a.key' } });
  assert.equal(flagged.tls.cert, '/flag/a.crt');
  assert.equal(flagged.tls.key, '/flag/a.key');
});
