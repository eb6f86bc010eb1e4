import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';

/** A certificate chain and its key, read and checked at startup. */
export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

/** A TLS file that cannot be used; the message names the file and the reason (a configuration error). */
export class TlsConfigError extends Error {
  readonly userError = true;
  constructor(message: string) {
    super(message);
    this.name = 'TlsConfigError';
  }
}

/**
 * Reads the PEM certificate chain and private key and checks that Node can use them together (parsable, key
 * matches the certificate), so a bad pair fails at startup with a clear message instead of at the first handshake.
 */
export function loadTlsFiles(certPath: string, keyPath: string): TlsFiles {
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new TlsConfigError(`cannot read the TLS ${what} ${path}: ${(e as Error).message}`);
    }
  };
  const cert = read(certPath, 'certificate');
  const key = read(keyPath, 'key');
  try {
    createSecureContext({ cert, key });
  } catch (e) {
    throw new TlsConfigError(`TLS certificate ${certPath} and key ${keyPath} cannot be used together: ${(e as Error).message}`);
  }
  return { cert, key };
}

/** True for an address only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  return mapped !== null && mapped[1]!.startsWith('127.');
}
