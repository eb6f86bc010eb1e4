import { createHash, randomUUID, type Hash } from 'node:crypto';
import { close as closeCb, createReadStream, createWriteStream, fstat as fstatCb, open as openCb, type WriteStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { digestAlgorithm, digestHex, isDigest, type Digest, type DigestAlgorithm } from '../../core/digest.ts';
import { RegistryError, isRegistryError } from '../../core/errors.ts';
import { UPLOAD_ID_RE, type BlobStore, type ByteRange, type StoredBlob, type StoredUpload, type TemporaryObject } from '../blob-store.ts';
import { blobUnknown, checkExpectedLength, checkRange, digestMismatch, malformedDigest, offsetMismatch, uploadUnknown } from '../driver-support.ts';
import { STREAM_HIGH_WATER_MARK, checkLength, guardBody, tapBody } from '../body-tap.ts';
import { createKeyedMutex } from '../keyed-mutex.ts';

const openFd = promisify(openCb);
const fstatFd = promisify(fstatCb);
const closeFd = promisify(closeCb);

export interface FsBlobStoreOptions {
  /** Directory holding `blobs/`, `uploads/` and `tmp/`; created if missing. */
  root: string;
}

/** The running hash of an upload, valid only while it covers exactly the `hashed` bytes in the file. */
interface RunningHash {
  hash: Hash;
  hashed: number;
}

/** Uploads keep a sha256 running hash (the digest nearly every client uses); sha512 commits re-hash from disk. */
const RUNNING_ALGORITHM: DigestAlgorithm = 'sha256';

/**
 * A BlobStore on a local filesystem.
 *
 * Layout under `root`: `blobs/<alg>/<first 2 hex>/<hex>` (immutable blobs), `uploads/<uploadId>` (one data
 * file per session) and `tmp/` (in-flight `putBlob` bodies). A blob is written to `tmp/` (or lives in
 * `uploads/`), hashed while streaming, fsynced, verified, and only then renamed into `blobs/` (followed by a
 * best-effort fsync of the directory), so a visible blob is always complete and correct.
 *
 * Construction only creates the three directories: it never walks the store. Stale files in `tmp/` left
 * by a crash are reclaimed by GC's reconcile pass (`sweepTemporary`). Appends and commits on one upload are serialized by an
 * in-process mutex; the store assumes it is the only process writing under `root`.
 */
export async function createFsBlobStore(options: FsBlobStoreOptions): Promise<BlobStore> {
  const root = resolve(options.root);
  const blobsDir = join(root, 'blobs');
  const uploadsDir = join(root, 'uploads');
  const tmpDir = join(root, 'tmp');
  await Promise.all([blobsDir, uploadsDir, tmpDir].map((d) => fsp.mkdir(d, { recursive: true })));

  const withLock = createKeyedMutex();
  const running = new Map<string, RunningHash>();

  /** Path of a blob, or undefined for anything that is not a valid digest (no path from unvalidated input). */
  function blobPath(digest: string): string | undefined {
    if (!isDigest(digest)) return undefined;
    const hex = digestHex(digest);
    return join(blobsDir, digestAlgorithm(digest), hex.slice(0, 2), hex);
  }

  function uploadPath(uploadId: string): string | undefined {
    return typeof uploadId === 'string' && UPLOAD_ID_RE.test(uploadId) ? join(uploadsDir, uploadId) : undefined;
  }

  function requireUploadPath(uploadId: string): string {
    const path = uploadPath(uploadId);
    if (!path) throw uploadUnknown(uploadId);
    return path;
  }

  /** Moves a verified, fsynced file into place as blob `digest` (or drops it when the blob exists). */
  async function install(source: string, digest: Digest): Promise<void> {
    const dest = blobPath(digest)!;
    if (await fileSize(dest) !== undefined) {
      await fsp.rm(source, { force: true });
      return;
    }
    await fsp.mkdir(dirname(dest), { recursive: true });
    await fsp.rename(source, dest);
    await fsyncDir(dirname(dest));
  }

  const store: BlobStore = {
    driver: 'fs',

    async createUpload(uploadId) {
      const path = requireUploadPath(uploadId);
      await withLock(uploadId, async () => {
        try {
          await fsp.writeFile(path, '', { flag: 'wx' });
        } catch (err) {
          if (errno(err) === 'EEXIST') throw new RegistryError('CONFLICT', 'upload session already exists', { uploadId });
          throw err;
        }
        running.set(uploadId, { hash: createHash(RUNNING_ALGORITHM), hashed: 0 });
      });
    },

    async uploadSize(uploadId) {
      const path = uploadPath(uploadId);
      return path ? fileSize(path) : undefined;
    },

    async appendUpload(uploadId, offset, body, options) {
      const path = requireUploadPath(uploadId);
      const expectedLength = checkExpectedLength(options?.expectedLength);
      guardBody(body);
      return withLock(uploadId, async () => {
        const size = await fileSize(path);
        if (size === undefined) throw uploadUnknown(uploadId);
        if (offset !== size) {
          throw offsetMismatch(offset, size);
        }
        // Take the running hash out while writing: it is put back only if every byte hashed reached the file.
        const previous = running.get(uploadId);
        running.delete(uploadId);
        const hash = previous && previous.hashed === size ? previous.hash : undefined;
        const sink = createWriteStream(path, { flags: 'a', highWaterMark: STREAM_HIGH_WATER_MARK });
        const hasher = tapBody(body, { hash, maxLength: expectedLength });
        try {
          await pipeline(body, sink);
          checkLength(hasher.bytes, expectedLength);
        } catch (err) {
          await whenClosed(sink);
          // With an expected length nothing of a failed chunk is kept; without one, the bytes that reached
          // the file stay (uploadSize reports them and the client resumes from there).
          if (expectedLength !== undefined) await fsp.truncate(path, size).catch(ignoreMissing);
          throw err;
        }
        const newSize = size + hasher.bytes;
        if (hash) running.set(uploadId, { hash, hashed: newSize });
        return newSize;
      });
    },

    async commitUpload(uploadId, digest) {
      const path = requireUploadPath(uploadId);
      return withLock(uploadId, async () => {
        const size = await fileSize(path);
        if (size === undefined) throw uploadUnknown(uploadId);
        const held = running.get(uploadId);
        running.delete(uploadId);
        try {
          if (!isDigest(digest)) throw malformedDigest(digest);
          const alg = digestAlgorithm(digest);
          const hex = alg === RUNNING_ALGORITHM && held && held.hashed === size ? held.hash.digest('hex') : await hashFile(path, alg);
          if (`${alg}:${hex}` !== digest) throw digestMismatch(digest, `${alg}:${hex}`);
        } catch (err) {
          if (isRegistryError(err) && err.kind === 'DIGEST_INVALID') await fsp.rm(path, { force: true });
          throw err;
        }
        await fsyncFile(path);
        await install(path, digest);
        return { size };
      });
    },

    async deleteUpload(uploadId) {
      const path = uploadPath(uploadId);
      if (!path) return;
      await withLock(uploadId, async () => {
        running.delete(uploadId);
        await fsp.rm(path, { force: true });
      });
    },

    async *listUploads(): AsyncIterable<StoredUpload> {
      for await (const name of dirNames(uploadsDir)) {
        if (!UPLOAD_ID_RE.test(name)) continue;
        const st = await statOrUndefined(join(uploadsDir, name));
        if (st?.isFile()) yield { uploadId: name, size: st.size, modifiedAt: st.mtime };
      }
    },

    async putBlob(digest, body, options) {
      if (!isDigest(digest)) throw malformedDigest(digest);
      const expectedLength = checkExpectedLength(options?.expectedLength);
      const alg = digestAlgorithm(digest);
      const temp = join(tmpDir, randomUUID());
      // flush: the write stream fsyncs before closing, and pipeline resolves only after close.
      const sink = createWriteStream(temp, { flags: 'wx', highWaterMark: STREAM_HIGH_WATER_MARK, flush: true });
      const hasher = tapBody(body, { algorithm: alg, maxLength: expectedLength });
      try {
        await pipeline(body, sink);
        checkLength(hasher.bytes, expectedLength);
        const actual = `${alg}:${hasher.digestHex()}`;
        if (actual !== digest) throw digestMismatch(digest, actual);
        await install(temp, digest);
      } catch (err) {
        await whenClosed(sink);
        await fsp.rm(temp, { force: true });
        throw err;
      }
      return { size: hasher.bytes };
    },

    async stat(digest) {
      const path = blobPath(digest);
      if (!path) return undefined;
      const size = await fileSize(path);
      return size === undefined ? undefined : { size };
    },

    async openReader(digest) {
      const path = blobPath(digest);
      if (!path) throw blobUnknown(digest);
      let handle: fsp.FileHandle;
      try {
        handle = await fsp.open(path, 'r');
      } catch (err) {
        if (errno(err) === 'ENOENT') throw blobUnknown(digest);
        throw err;
      }
      try {
        const { size } = await handle.stat();
        return {
          size,
          read: async (buffer: Buffer, position: number, length: number) => (await handle.read(buffer, 0, length, position)).bytesRead,
          close: () => handle.close(),
        };
      } catch (err) {
        await handle.close().catch(() => undefined);
        throw err;
      }
    },

    async open(digest, range?: ByteRange) {
      const path = blobPath(digest);
      if (!path) throw blobUnknown(digest);
      let fd: number;
      try {
        fd = await openFd(path, 'r');
      } catch (err) {
        if (errno(err) === 'ENOENT') throw blobUnknown(digest);
        throw err;
      }
      // Size from the open descriptor: a concurrent delete cannot turn this read into a failure.
      let size: number;
      try {
        size = (await fstatFd(fd)).size;
        checkRange(range, size);
      } catch (err) {
        await closeFd(fd).catch(() => undefined);
        throw err;
      }
      return createReadStream(path, { fd, start: range?.start ?? 0, end: range?.end, highWaterMark: STREAM_HIGH_WATER_MARK, autoClose: true });
    },

    async delete(digest) {
      const path = blobPath(digest);
      if (path) await fsp.rm(path, { force: true });
    },

    async *list(): AsyncIterable<StoredBlob> {
      for (const alg of ['sha256', 'sha512'] as const) {
        const algDir = join(blobsDir, alg);
        for await (const prefix of dirNames(algDir)) {
          if (!/^[a-f0-9]{2}$/.test(prefix)) continue;
          for await (const hex of dirNames(join(algDir, prefix))) {
            const digest = `${alg}:${hex}`;
            if (!isDigest(digest) || !hex.startsWith(prefix)) continue;
            const st = await statOrUndefined(join(algDir, prefix, hex));
            if (st?.isFile()) yield { digest, size: st.size, modifiedAt: st.mtime };
          }
        }
      }
    },

    async sweepTemporary(olderThan, options) {
      const removed: TemporaryObject[] = [];
      for await (const name of dirNames(tmpDir)) {
        const path = join(tmpDir, name);
        const st = await statOrUndefined(path);
        if (!st?.isFile() || st.mtime.getTime() >= olderThan.getTime()) continue;
        if (!options?.dryRun) await fsp.rm(path, { force: true });
        removed.push({ name, size: st.size, modifiedAt: st.mtime });
      }
      return removed;
    },

    async close() {
      running.clear();
    },
  };
  return store;
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function ignoreMissing(err: unknown): void {
  if (errno(err) !== 'ENOENT') throw err;
}

async function statOrUndefined(path: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await fsp.stat(path);
  } catch (err) {
    if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return undefined;
    throw err;
  }
}

async function fileSize(path: string): Promise<number | undefined> {
  return (await statOrUndefined(path))?.size;
}

/** Names in a directory, streamed (no full listing in memory); nothing when the directory is missing. */
async function* dirNames(dir: string): AsyncGenerator<string> {
  let handle: import('node:fs').Dir;
  try {
    handle = await fsp.opendir(dir);
  } catch (err) {
    if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return;
    throw err;
  }
  for await (const entry of handle) yield entry.name;
}

/** Resolves once a write stream has released its descriptor (its in-flight write has landed). */
function whenClosed(stream: WriteStream): Promise<void> {
  return stream.closed ? Promise.resolve() : new Promise((done) => stream.once('close', () => done()));
}

async function hashFile(path: string, alg: DigestAlgorithm): Promise<string> {
  const hash = createHash(alg);
  for await (const chunk of createReadStream(path, { highWaterMark: STREAM_HIGH_WATER_MARK })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function fsyncFile(path: string): Promise<void> {
  const handle = await fsp.open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes a rename durable; best effort (some filesystems refuse fsync on directories). */
async function fsyncDir(dir: string): Promise<void> {
  try {
    const handle = await fsp.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort
  }
}
