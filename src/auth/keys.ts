/**
 * Server key material under DATA_DIR/keys/: random 32-byte keys, created on first start with mode 0600 and
 * reused afterwards, so registry tokens, page tokens and encrypted secrets survive restarts. Nodes that share
 * a database must share these files (copy DATA_DIR/keys/ to every node).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Key files cargohold keeps in DATA_DIR/keys/ (`session` seals the session tokens of temporary credentials). */
export type KeyName = 'token' | 'secrets' | 'pagination' | 'download' | 'session';

const KEY_BYTES = 32;

/** DATA_DIR/keys */
export function keysDir(dataDir: string): string {
  return join(dataDir, 'keys');
}

/**
 * Returns the key `<dataDir>/keys/<name>.key`, creating it when missing. Creation is atomic (written to a
 * temporary file, then hard-linked into place, so two processes starting at once agree on one key).
 * @throws when the file exists but is not a 32-byte key (base64 text).
 */
export function loadOrCreateKey(dataDir: string, name: KeyName): Buffer {
  const dir = keysDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${name}.key`);
  const existing = readKey(path);
  if (existing) return existing;
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    unlinkSync(tmp);
  }
  chmodSync(path, 0o600);
  const key = readKey(path);
  if (!key) throw new Error(`could not create ${path}`);
  return key;
}

function readKey(path: string): Buffer | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES) throw new Error(`${path} is not a ${KEY_BYTES}-byte base64 key`);
  return key;
}
