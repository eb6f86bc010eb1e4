/**
 * Imports OSV advisories into the metadata database: a directory (walked recursively), one `.json` record,
 * a JSON array of records, an osv.dev per-ecosystem `all.zip` export, or an http(s) URL of any of those.
 * Records are validated one by one (a bad record is reported and skipped) and written in batches; the
 * database's generation moves only when something was imported, which is what triggers re-matching.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import yauzl from 'yauzl';
import type { Clock } from '../../core/clock.ts';
import type { AdvisoryImport, ScanStore, VulnDbState } from '../store.ts';
import { osvRecordSchema, splitRecord } from './osv.ts';

/** What an import did. */
export interface ImportReport {
  source: string;
  /** Records written (merged by id). */
  imported: number;
  /** Withdrawn records (their entries removed). */
  withdrawn: number;
  /** Files or zip entries that were not valid OSV, with why (at most 50 kept). */
  rejected: { name: string; reason: string }[];
  rejectedCount: number;
  state: VulnDbState;
}

export interface ImportOptions {
  store: ScanStore;
  clock: Clock;
  /** Largest accepted download or file, bytes (default 1 GiB). */
  maxBytes?: number;
  /** Download timeout, ms (default 10 min). */
  timeoutMs?: number;
  /** fetch to use (tests inject one). */
  fetch?: typeof fetch;
}

const BATCH = 500;
const MAX_ENTRY_BYTES = 32 * 1024 * 1024;

/** A user-facing import failure (missing path, bad URL, not a zip…). */
export class VulnDbImportError extends Error {
  readonly userError = true;
}

class Batcher {
  pending: AdvisoryImport[] = [];
  imported = 0;
  withdrawn = 0;
  rejected: { name: string; reason: string }[] = [];
  rejectedCount = 0;
  constructor(private readonly store: ScanStore) {}

  async add(name: string, text: string): Promise<void> {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      return this.reject(name, `not JSON: ${(e as Error).message}`);
    }
    for (const item of Array.isArray(json) ? json : [json]) {
      const parsed = osvRecordSchema.safeParse(item);
      if (!parsed.success) {
        this.reject(name, `not an OSV record: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? ''}`.trim());
        continue;
      }
      const { header, affected } = splitRecord(parsed.data);
      const withdrawn = parsed.data.withdrawn !== undefined;
      this.pending.push({ header, withdrawn, affected });
      if (withdrawn) this.withdrawn++;
      else this.imported++;
      if (this.pending.length >= BATCH) await this.flush();
    }
  }

  reject(name: string, reason: string): void {
    this.rejectedCount++;
    if (this.rejected.length < 50) this.rejected.push({ name, reason });
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    await this.store.putAdvisories(batch);
  }
}

/** Imports `source` (path or http(s) URL). */
export async function importVulnDb(source: string, options: ImportOptions): Promise<ImportReport> {
  const batcher = new Batcher(options.store);
  const maxBytes = options.maxBytes ?? 1024 * 1024 * 1024;
  if (/^https?:\/\//i.test(source)) {
    const body = await download(source, maxBytes, options);
    if (isZip(body)) await readZip(await zipFromBuffer(body), batcher);
    else await batcher.add(source, body.toString('utf8'));
  } else {
    let info;
    try {
      info = await stat(source);
    } catch {
      throw new VulnDbImportError(`${source}: no such file or directory`);
    }
    if (info.isDirectory()) await walk(source, batcher);
    else await importFile(source, batcher);
  }
  await batcher.flush();
  const state = await options.store.recordImport(source, batcher.imported + batcher.withdrawn > 0, options.clock.now());
  return { source, imported: batcher.imported, withdrawn: batcher.withdrawn, rejected: batcher.rejected, rejectedCount: batcher.rejectedCount, state };
}

async function walk(dir: string, batcher: Batcher): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, batcher);
    else if (e.isFile() && (e.name.endsWith('.json') || e.name.endsWith('.zip'))) await importFile(p, batcher);
  }
}

async function importFile(path: string, batcher: Batcher): Promise<void> {
  const head = await readHead(path);
  if (isZip(head)) {
    await readZip(await zipFromFile(path), batcher);
    return;
  }
  const info = await stat(path);
  if (info.size > MAX_ENTRY_BYTES) return batcher.reject(path, `larger than ${MAX_ENTRY_BYTES} bytes`);
  await batcher.add(path, await readFile(path, 'utf8'));
}

async function readHead(path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of createReadStream(path, { start: 0, end: 3 })) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function isZip(b: Buffer): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;
}

function zipFromFile(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => yauzl.open(path, { lazyEntries: true, autoClose: true }, (err, zip) => (err ? reject(new VulnDbImportError(`${path}: ${err.message}`)) : resolve(zip))));
}

function zipFromBuffer(b: Buffer): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => yauzl.fromBuffer(b, { lazyEntries: true }, (err, zip) => (err ? reject(new VulnDbImportError(`zip: ${err.message}`)) : resolve(zip))));
}

/** Reads every `.json` entry of a zip, one at a time (bounded memory: one entry at most). */
function readZip(zip: yauzl.ZipFile, batcher: Batcher): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (e: unknown) => {
      zip.close();
      reject(e);
    };
    zip.on('error', fail);
    zip.on('end', () => resolve());
    zip.on('entry', (entry: yauzl.Entry) => {
      if (entry.fileName.endsWith('/') || !entry.fileName.endsWith('.json')) return zip.readEntry();
      if (entry.uncompressedSize > MAX_ENTRY_BYTES) {
        batcher.reject(entry.fileName, `larger than ${MAX_ENTRY_BYTES} bytes`);
        return zip.readEntry();
      }
      zip.openReadStream(entry, (err, stream) => {
        if (err) return fail(err);
        const parts: Buffer[] = [];
        stream.on('data', (c: Buffer) => parts.push(c));
        stream.on('error', fail);
        stream.on('end', () => {
          batcher.add(entry.fileName, Buffer.concat(parts).toString('utf8')).then(() => zip.readEntry(), fail);
        });
      });
    });
    zip.readEntry();
  });
}

async function download(url: string, maxBytes: number, options: ImportOptions): Promise<Buffer> {
  const f = options.fetch ?? fetch;
  let res: Response;
  try {
    res = await f(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 600_000), redirect: 'follow' });
  } catch (e) {
    throw new VulnDbImportError(`${url}: ${(e as Error).message}`);
  }
  if (!res.ok || !res.body) throw new VulnDbImportError(`${url}: HTTP ${res.status}`);
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new VulnDbImportError(`${url}: larger than ${maxBytes} bytes`);
    parts.push(Buffer.from(chunk));
  }
  return Buffer.concat(parts);
}
