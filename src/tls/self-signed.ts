/**
 * `cargohold tls self-signed`: a private certificate authority and a server certificate it signs, for trying
 * cargohold over HTTPS (docker's certs.d, `aws --ca-bundle`, curl --cacert) without a public CA. Built with
 * @peculiar/x509 over Node's WebCrypto: ECDSA P-256 keys, SHA-256 signatures, the extensions strict verifiers
 * (OpenSSL 3 with X509_STRICT, Go's crypto/x509) require — CA: critical basicConstraints (pathLen 0), keyCertSign,
 * SKI; server: SANs, serverAuth, SKI + AKI.
 */
import 'reflect-metadata';
import { webcrypto, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600 * 1000;

export interface SelfSignedOptions {
  /** Host name (or IP address) clients use for the registry. localhost, 127.0.0.1 and ::1 are always added. */
  host: string;
  /** Certificate lifetime in days (server certificate; the CA lives ten times as long). Default 397. */
  days?: number;
  /** Start of validity (default: now, minus an hour for clock skew). */
  now?: Date;
}

/** PEM texts of the generated pair of certificates and keys. */
export interface SelfSignedBundle {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  /** Subject alternative names of the server certificate, as `DNS:x` / `IP:x`. */
  names: string[];
}

/** Validates a host name or IP address for a certificate (no wildcards, no ports). */
export function checkHost(host: string): string {
  const h = host.trim().replace(/^\[|\]$/g, '');
  if (isIP(h)) return h;
  if (!/^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(h)) {
    throw Object.assign(new Error(`--host "${host}" is not a host name or IP address (no port, no scheme)`), { userError: true });
  }
  return h.toLowerCase();
}

async function exportKey(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** Generates a CA and a server certificate for `host` signed by it. */
export async function createSelfSigned(options: SelfSignedOptions): Promise<SelfSignedBundle> {
  const host = checkHost(options.host);
  const days = options.days ?? 397;
  const notBefore = new Date((options.now ?? new Date()).getTime() - 3600_000);
  const subtle = webcrypto.subtle;

  const caKeys = (await subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const caName = `CN=cargohold local CA for ${host}, O=cargohold`;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: caName,
    keys: caKeys,
    notBefore,
    notAfter: new Date(notBefore.getTime() + days * 10 * DAY_MS),
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const names = new Map<string, x509.JsonGeneralName>();
  for (const n of [host, 'localhost', '127.0.0.1', '::1']) {
    const type = isIP(n) ? 'ip' : 'dns';
    names.set(`${type === 'ip' ? 'IP' : 'DNS'}:${n}`, { type, value: n });
  }
  const serverKeys = (await subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const server = await x509.X509CertificateGenerator.create({
    subject: `CN=${host}, O=cargohold`,
    issuer: ca.subject,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    notBefore,
    notAfter: new Date(notBefore.getTime() + days * DAY_MS),
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([...names.values()]),
      await x509.SubjectKeyIdentifierExtension.create(serverKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const bundle: SelfSignedBundle = {
    caCert: ca.toString('pem') + '\n',
    caKey: await exportKey(caKeys.privateKey) + '\n',
    serverCert: server.toString('pem') + '\n',
    serverKey: await exportKey(serverKeys.privateKey) + '\n',
    names: [...names.keys()],
  };
  // Self-check with Node's own X.509 (OpenSSL): the server certificate verifies against the CA and names the host.
  const nodeCa = new NodeX509Certificate(bundle.caCert);
  const nodeServer = new NodeX509Certificate(bundle.serverCert);
  if (!nodeServer.verify(nodeCa.publicKey) || !nodeServer.checkIssued(nodeCa)) throw new Error('generated server certificate does not verify against the generated CA');
  return bundle;
}
