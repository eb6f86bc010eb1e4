import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { KeyProviderError, type KeyProvider } from '../key-provider.ts';

export interface LocalKeyringOptions {
  /** The keyring file (DATA_DIR/keys/keyring.json); created with mode 0600 when missing. */
  path: string;
  /** For the ARN-shaped key ids. */
  region: string;
  accountId: string;
}

interface KeyEntry {
  description: string;
  createdAt: string;
  /** Key material by version, base64; the highest version wraps. */
  versions: Record<string, string>;
}

interface KeyringFile {
  format: 1;
  keys: Record<string, KeyEntry>;
}

const WRAP_MAGIC = Buffer.from('CHK1', 'latin1');

/**
 * The embedded KeyProvider: KEKs are random 256-bit keys in one JSON file (mode 0600) in the data directory,
 * each with numbered versions (rotation adds one). Wrapped data keys are
 * `"CHK1" | u32 version | nonce (12) | AES-256-GCM(dataKey) | tag (16)`, authenticated with the key id and
 * the context. The file is re-read before every change and on an unknown key or version (the CLI may have
 * rotated it while the server runs) and replaced atomically (temporary file + rename).
 */
export function createLocalKeyring(options: LocalKeyringOptions): KeyProvider {
  const { path } = options;
  let ring = load();

  function load(): KeyringFile {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      const empty: KeyringFile = { format: 1, keys: {} };
      save(empty);
      return empty;
    }
    const parsed = JSON.parse(text) as KeyringFile;
    if (parsed.format !== 1 || typeof parsed.keys !== 'object' || parsed.keys === null) throw new Error(`${path} is not a cargohold keyring`);
    return parsed;
  }

  function save(next: KeyringFile): void {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(next, null, 1)}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(tmp, 0o600);
    renameSync(tmp, path);
  }

  /** Applies a change to the freshest file contents. */
  function change(fn: (r: KeyringFile) => void): void {
    const fresh = load();
    fn(fresh);
    save(fresh);
    ring = fresh;
  }

  function entry(keyId: string, reload = true): KeyEntry {
    const e = ring.keys[keyId];
    if (e) return e;
    if (reload) {
      ring = load();
      return entry(keyId, false);
    }
    throw new KeyProviderError(`key ${keyId} does not exist in the local keyring`, 'KEY_UNKNOWN');
  }

  function aad(keyId: string, context: Record<string, string>): Buffer {
    const sorted = Object.keys(context).sort().map((k) => [k, context[k]]);
    return Buffer.from(JSON.stringify([keyId, sorted]), 'utf8');
  }

  function currentVersion(e: KeyEntry): number {
    return Math.max(...Object.keys(e.versions).map(Number));
  }

  const provider: KeyProvider = {
    kind: 'local',

    async generateDataKey(keyId, context) {
      const plaintext = randomBytes(32);
      return { plaintext, wrapped: await provider.wrap(keyId, plaintext, context) };
    },

    async create(description) {
      const keyId = `arn:aws:kms:${options.region}:${options.accountId}:key/${randomUUID()}`;
      change((r) => {
        r.keys[keyId] = { description, createdAt: new Date().toISOString(), versions: { 1: randomBytes(32).toString('base64') } };
      });
      return keyId;
    },

    async wrap(keyId, dataKey, context) {
      const e = entry(keyId);
      const version = currentVersion(e);
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', Buffer.from(e.versions[version]!, 'base64'), iv);
      c.setAAD(aad(keyId, context));
      const ct = Buffer.concat([c.update(dataKey), c.final()]);
      const v = Buffer.alloc(4);
      v.writeUInt32BE(version);
      return Buffer.concat([WRAP_MAGIC, v, iv, ct, c.getAuthTag()]);
    },

    async unwrap(keyId, wrapped, context) {
      if (wrapped.length < 4 + 4 + 12 + 16 || !wrapped.subarray(0, 4).equals(WRAP_MAGIC)) throw new KeyProviderError('wrapped key is malformed', 'UNWRAP_FAILED');
      const version = wrapped.readUInt32BE(4);
      let e = entry(keyId);
      if (!e.versions[version]) {
        ring = load();
        e = entry(keyId);
      }
      const material = e.versions[version];
      if (!material) throw new KeyProviderError(`key ${keyId} has no version ${version}`, 'UNWRAP_FAILED');
      const d = createDecipheriv('aes-256-gcm', Buffer.from(material, 'base64'), wrapped.subarray(8, 20));
      d.setAAD(aad(keyId, context));
      d.setAuthTag(wrapped.subarray(wrapped.length - 16));
      try {
        return Buffer.concat([d.update(wrapped.subarray(20, wrapped.length - 16)), d.final()]);
      } catch {
        throw new KeyProviderError(`wrapped key does not unwrap under ${keyId}`, 'UNWRAP_FAILED');
      }
    },

    async rotate(keyId) {
      entry(keyId);
      change((r) => {
        const e = r.keys[keyId];
        if (!e) throw new KeyProviderError(`key ${keyId} does not exist in the local keyring`, 'KEY_UNKNOWN');
        e.versions[currentVersion(e) + 1] = randomBytes(32).toString('base64');
      });
    },

    async destroy(keyId) {
      change((r) => {
        delete r.keys[keyId];
      });
    },

    async exists(keyId) {
      try {
        entry(keyId);
        return true;
      } catch {
        return false;
      }
    },
  };
  return provider;
}
