import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { test } from 'node:test';
import { checkHost, createSelfSigned } from './self-signed.ts';

/** Handshakes with `servername` against a server using the bundle; resolves with the authorization error (null = trusted). */
async function handshake(bundle: { serverCert: string; serverKey: string }, ca: string, servername: string, host = '127.0.0.1'): Promise<string | null> {
  const server = createServer({ cert: bundle.serverCert, key: bundle.serverKey }, (_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise((resolve, reject) => {
      const socket = connect({ host, port, ca, servername: servername.includes(':') || /^\d/.test(servername) ? undefined : servername, rejectUnauthorized: false, checkServerIdentity: () => undefined }, () => {
        const cert = socket.getPeerX509Certificate();
        let error: string | null = socket.authorized ? null : String(socket.authorizationError);
        if (!error && cert) {
          const ok = servername.includes(':') || /^\d+\.\d+\.\d+\.\d+$/.test(servername) ? cert.checkIP(servername) : cert.checkHost(servername);
          if (!ok) error = `certificate does not name ${servername}`;
        }
        socket.end();
        resolve(error);
      });
      socket.on('error', reject);
    });
  } finally {
    server.close();
  }
}

test('the server certificate is trusted through the CA for the host, localhost, 127.0.0.1 and ::1', async () => {
  const bundle = await createSelfSigned({ host: 'registry.example.test' });
  for (const name of ['registry.example.test', 'localhost', '127.0.0.1', '::1']) {
    assert.equal(await handshake(bundle, bundle.caCert, name), null, name);
  }
  // Not for other names, and not without the CA.
  assert.match(String(await handshake(bundle, bundle.caCert, 'other.example.test')), /does not name/);
  const other = await createSelfSigned({ host: 'registry.example.test' });
  assert.notEqual(await handshake(bundle, other.caCert, 'registry.example.test'), null);
  assert.deepEqual(bundle.names, ['DNS:registry.example.test', 'DNS:localhost', 'IP:127.0.0.1', 'IP:::1']);
});

test('the CA is a CA limited to signing leaf certificates; the server certificate is not a CA', async () => {
  const now = new Date('2026-03-01T00:00:00Z');
  const bundle = await createSelfSigned({ host: '10.1.2.3', days: 30, now });
  const ca = new X509Certificate(bundle.caCert);
  const server = new X509Certificate(bundle.serverCert);
  assert.equal(ca.ca, true);
  assert.equal(server.ca, false);
  assert.equal(server.checkIP('10.1.2.3'), '10.1.2.3');
  assert.equal(new Date(server.validTo).getTime() - new Date(server.validFrom).getTime(), 30 * 24 * 3600 * 1000);
  assert.equal(new Date(server.validFrom).getTime(), now.getTime() - 3600_000);
  assert.ok(server.keyUsage === undefined || server.keyUsage.includes('1.3.6.1.5.5.7.3.1'), String(server.keyUsage));
  assert.match(bundle.serverKey, /^-----BEGIN PRIVATE KEY-----/);
});

test('host names are checked', () => {
  assert.equal(checkHost('Registry.Example.TEST'), 'registry.example.test');
  assert.equal(checkHost('[::1]'), '::1');
  for (const bad of ['https://x', 'x:5000', '*.example.com', '', 'a..b', '-x']) assert.throws(() => checkHost(bad), /is not a host name/, bad);
});
