// RPM distributions: the package database in its three formats — SQLite `rpmdb.sqlite` (Fedora 33+, RHEL 9,
// Rocky/Alma 9, Amazon Linux 2023), Berkeley DB hash `Packages` (RHEL ≤ 8, CentOS, Amazon Linux 2) and NDB
// `Packages.db` (SUSE). Each holds one header blob per installed package.
import Database from 'better-sqlite3';
import type { FileAnalyzer, FoundPackage } from '../analyzer.ts';
import { parseRpmHeader } from './rpm-header.ts';

const DIRS = ['/var/lib/rpm/', '/usr/lib/sysimage/rpm/', '/usr/share/rpm/'];

/** Header blobs of a SQLite rpmdb, opened in memory from its bytes (never written to disk). */
export function sqliteRpmBlobs(data: Buffer): Buffer[] {
  const copy = Buffer.from(data);
  // A WAL-mode file (format bytes 18/19 = 2) cannot be deserialized; as a plain copy it reads as rollback mode.
  if (copy.length > 20 && copy[18] === 2 && copy[19] === 2) { copy[18] = 1; copy[19] = 1; }
  const db = new Database(copy, { readonly: true });
  try {
    return db.prepare('SELECT blob FROM Packages ORDER BY hnum').all().map((r) => (r as { blob: Buffer }).blob);
  } finally {
    db.close();
  }
}

/**
 * Header blobs of a Berkeley DB hash database: every hash page's values that live on overflow pages
 * (rpm's headers always do; the small inline values are bookkeeping). Either byte order.
 */
export function bdbRpmBlobs(data: Buffer): Buffer[] {
  if (data.length < 512) throw new Error('not a Berkeley DB file');
  let le: boolean;
  if (data.readUInt32LE(12) === 0x061561) le = true;
  else if (data.readUInt32BE(12) === 0x061561) le = false;
  else throw new Error('not a Berkeley DB hash database');
  const u32 = (o: number) => (le ? data.readUInt32LE(o) : data.readUInt32BE(o));
  const u16 = (o: number) => (le ? data.readUInt16LE(o) : data.readUInt16BE(o));
  const pageSize = u32(20);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1))) throw new Error('bad Berkeley DB page size');
  const lastPage = Math.min(u32(32), Math.floor(data.length / pageSize) - 1);
  const blobs: Buffer[] = [];
  for (let pg = 1; pg <= lastPage; pg++) {
    const p = pg * pageSize;
    const type = data[p + 25];
    if (type !== 13 && type !== 2) continue; // P_HASH, P_HASH_UNSORTED
    const entries = u16(p + 20);
    for (let i = 1; i < entries; i += 2) { // odd indexes are values
      const item = p + u16(p + 26 + i * 2);
      if (item + 12 > p + pageSize || data[item] !== 3) continue; // H_OFFPAGE
      const total = u32(item + 8);
      let next = u32(item + 4);
      const parts: Buffer[] = [];
      let got = 0;
      for (let hops = 0; next !== 0 && got < total && hops <= lastPage; hops++) {
        const op = next * pageSize;
        if (op + pageSize > data.length) throw new Error('overflow page beyond the file');
        const len = Math.min(u16(op + 22), pageSize - 26, total - got); // hf_offset holds the bytes used
        parts.push(data.subarray(op + 26, op + 26 + len));
        got += len;
        next = u32(op + 16);
      }
      if (got === total) blobs.push(Buffer.concat(parts));
    }
  }
  return blobs;
}

const NDB_MAGIC = 0x506d7052; // "RpmP" little-endian
const SLOT_MAGIC = 0x746f6c53; // "Slot"
const BLOB_MAGIC = 0x53626c42; // "BlbS"

/** Header blobs of an NDB `Packages.db`: slot pages of 16-byte slots pointing at 16-byte-block blobs. */
export function ndbRpmBlobs(data: Buffer): Buffer[] {
  if (data.length < 16 || data.readUInt32LE(0) !== NDB_MAGIC) throw new Error('not an NDB rpm database');
  const slotPages = data.readUInt32LE(12);
  const slotsEnd = Math.min(slotPages * 4096, data.length);
  const blobs: Buffer[] = [];
  for (let s = 16; s + 16 <= slotsEnd; s += 16) { // slot 0 is the database header
    if (data.readUInt32LE(s) !== SLOT_MAGIC) continue;
    const pkgIdx = data.readUInt32LE(s + 4);
    const at = data.readUInt32LE(s + 8) * 16;
    if (pkgIdx === 0 || at + 16 > data.length) continue;
    if (data.readUInt32LE(at) !== BLOB_MAGIC || data.readUInt32LE(at + 4) !== pkgIdx) continue;
    const len = data.readUInt32LE(at + 12);
    if (at + 16 + len <= data.length) blobs.push(data.subarray(at + 16, at + 16 + len));
  }
  return blobs;
}

/** `openssl-3.0.7-27.el9.src.rpm` → name and version-release. */
function splitSourceRpm(srpm: string): { name: string; version: string } | undefined {
  const m = /^(.+)-([^-]+)-([^-]+)\.(?:no)?src\.rpm$/.exec(srpm);
  return m ? { name: m[1], version: `${m[2]}-${m[3]}` } : undefined;
}

/** Installed packages from header blobs (`gpg-pubkey` pseudo-packages skipped), collecting owned files. */
export function rpmPackages(blobs: Buffer[], path: string, warn: (message: string) => void, owned: string[] = []): FoundPackage[] {
  const out: FoundPackage[] = [];
  for (const blob of blobs) {
    let h;
    try { h = parseRpmHeader(blob); } catch (err) { warn((err as Error).message); continue; }
    if (h.name === 'gpg-pubkey') continue;
    if (h.files) owned.push(...h.files);
    const version = `${h.epoch !== undefined ? `${h.epoch}:` : ''}${h.version}-${h.release}`;
    const src = h.sourceRpm ? splitSourceRpm(h.sourceRpm) : undefined;
    out.push({
      ecosystem: 'rpm',
      name: h.name,
      version,
      ...(src ? { sourceName: src.name, sourceVersion: src.version } : {}),
      ...(h.arch ? { arch: h.arch } : {}),
      path,
    });
  }
  return out;
}

export const rpmAnalyzer: FileAnalyzer = {
  name: 'rpm',
  match(file) {
    const dir = DIRS.find((d) => file.path.startsWith(d));
    if (!dir) return undefined;
    const rest = file.path.slice(dir.length);
    return rest === 'rpmdb.sqlite' || rest === 'Packages' || rest === 'Packages.db' ? 'buffer' : undefined;
  },
  analyze(file, data, ctx) {
    const warn = (m: string) => ctx.warn(file.path, m);
    try {
      const blobs = file.path.endsWith('.sqlite') ? sqliteRpmBlobs(data) : file.path.endsWith('.db') ? ndbRpmBlobs(data) : bdbRpmBlobs(data);
      const ownedFiles: string[] = [];
      return { packages: rpmPackages(blobs, file.path, warn, ownedFiles), ownedFiles };
    } catch (err) {
      warn(`unreadable rpm database: ${(err as Error).message}`);
      return undefined;
    }
  },
};
