import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { BlobReader } from '../blob-store.ts';

/**
 * Positional reads of one S3 object for blob GETs (docs/deployment.md, "Blob reads over S3").
 *
 * A pull reads a blob front to back in ~1 MiB positional reads. They are served by ranged GETs
 * (`Range: bytes=<start>-<end>`, presigned, HTTP/1.1) over consecutive 8 MiB windows of the object. Once a run of
 * reads has gone past half a window it is a pull, not a Range request, and the next windows' GETs are opened
 * ahead of the reader, three at a time: one S3 connection is limited to what a single stream can carry (on
 * AWS, some tens of MB/s), and byte-range GETs in parallel are how S3 is read fast. A Range request or a short
 * read stays on its one GET.
 *
 * Each GET's socket reads straight into the waiting read's buffer (net `onread` with a buffer function), or
 * into one reused 1 MiB staging buffer when no read waits: no stream, no body parser, no per-chunk
 * allocation. The SDK's GetObject stream costs ~1.8–2 s of CPU per GB here against ~0.4 for this path. A read
 * at another position (a Range request, a jump) starts over; a GET that is ahead or paused holds its unread
 * bytes in the kernel's socket buffer, so a slow client never makes this process buffer more than one staging
 * buffer per GET, and GETs opened ahead are capped across the process (`MAX_AHEAD_GETS`).
 *
 * Anything unusual — a status other than 206, no Content-Length, a Content-Range that names another size, a
 * connection that drops — ends the GET, and that read is retried once through `fallback` (the SDK's
 * GetObject, with its retries and error mapping), so a failure is reported exactly as the driver reports it.
 */

export interface S3ReaderOptions {
  /** Object size (from metadata or HEAD); every GET's Content-Range must agree. */
  size: number;
  /** A presigned GET URL for the object (no Range in its signature). */
  sign(): Promise<string>;
  /** Reads bytes the ordinary way (SDK GetObject with Range) when the lean GET cannot. */
  fallback(buffer: Buffer, position: number, length: number): Promise<number>;
  /** Bytes per ranged GET (default 8 MiB). */
  windowBytes?: number;
  /** GETs open at once for a read that runs in order: the one being read and the ones ahead (default 3). */
  parallel?: number;
  /** Clock for the URL's age (tests). */
  now?: () => number;
}

const STAGING_BYTES = 1024 * 1024;
const MAX_HEADER_BYTES = 64 * 1024;
/** A GET that moves no byte for this long (S3 stalled, or a client so slow the GET sat paused) is given up. */
const IDLE_TIMEOUT_MS = 30_000;
const WINDOW_BYTES = 8 * 1024 * 1024;
/** The URL is presigned once per reader and reused by its GETs until it is this old. */
const RESIGN_AFTER_MS = 15 * 60_000;
const PARALLEL_GETS = 3;
/** GETs opened ahead of their reader, across the process: beyond it, pulls read one window at a time. */
const MAX_AHEAD_GETS = 32;
let aheadOpen = 0;
const stagingPool: Buffer[] = [];

class TransferError extends Error {}

interface Waiter {
  buf: Buffer;
  len: number;
  /** Bytes of `buf` filled so far. */
  got: number;
  resolve(n: number): void;
  reject(e: Error): void;
}

/** One ranged GET being read in order. */
class RangeGet {
  /** Object position of the next body byte to hand out. */
  position: number;
  private readonly socket: Socket;
  private readonly staging: Buffer;
  private head: Buffer | null = Buffer.alloc(0);
  private bodyLeft = -1;
  /** Unread body bytes in `staging` [off, end): the socket is paused while there are any and no read waits. */
  private off = 0;
  private end = 0;
  private waiter: Waiter | null = null;
  /** Where the socket's next read lands: the waiting read's buffer (no copy) or `staging`. */
  private target: Buffer;
  private failure: Error | null = null;
  private paused = false;
  private closed = false;

  constructor(url: URL, start: number, readonly last: number, private readonly size: number, private readonly ahead: boolean) {
    this.position = start;
    if (ahead) aheadOpen++;
    this.staging = stagingPool.pop() ?? Buffer.allocUnsafeSlow(STAGING_BYTES);
    this.target = this.staging;
    const secure = url.protocol === 'https:';
    const port = Number(url.port || (secure ? 443 : 80));
    // `buffer` as a function is asked for the next read's buffer after every callback.
    const onread = { buffer: () => this.nextTarget(), callback: (n: number, buf: Buffer) => this.onData(n, buf) };
    // tls.connect takes `onread` like net.connect (the typings only declare it for net).
    this.socket = secure ? tlsConnect({ host: url.hostname, port, servername: isIP(url.hostname) ? undefined : url.hostname, onread } as ConnectionOptions) : netConnect({ host: url.hostname, port, onread });
    this.socket.setNoDelay(true);
    this.socket.setTimeout(IDLE_TIMEOUT_MS, () => this.fail(new TransferError('S3 GET idle for too long')));
    this.socket.on('error', (e) => this.fail(new TransferError(e.message)));
    this.socket.on('end', () => this.fail(new TransferError('S3 closed the connection before the end of the range')));
    this.socket.on('close', () => this.fail(new TransferError('S3 connection closed')));
    this.socket.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nRange: bytes=${start}-${last}\r\nConnection: close\r\n\r\n`);
  }

  /** Reads up to `len` bytes at `position` into `buf`; resolves with the count (≥ 1). */
  read(buf: Buffer, len: number): Promise<number> {
    if (this.end > this.off) {
      const n = this.copyOut(buf, 0, len);
      // What staging held may be only the start of what the caller asked for: the rest can come straight in.
      if (n === len || this.bodyLeft === 0 || this.socket.destroyed) return Promise.resolve(n);
      return this.wait(buf, len, n);
    }
    if (this.failure) return Promise.reject(this.failure);
    return this.wait(buf, len, 0);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy(); // stops reading at once: nothing writes into a buffer of ours after this
    if (this.failure === null) this.failure = new TransferError('closed');
    if (this.ahead) aheadOpen--;
    if (stagingPool.length < MAX_AHEAD_GETS + 16) stagingPool.push(this.staging);
  }

  private wait(buf: Buffer, len: number, got: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiter = { buf, len, got, resolve, reject };
      this.unpause();
    });
  }

  /** Starts reading again after onData returned false (which stops the handle without marking the stream paused). */
  private unpause(): void {
    if (!this.paused || this.socket.destroyed) return;
    this.paused = false;
    this.socket.resume();
  }

  /** Copies unread staging bytes into `buf` at `at` (up to `len` in all); returns the new fill. */
  private copyOut(buf: Buffer, at: number, len: number): number {
    const n = Math.min(len - at, this.end - this.off);
    this.staging.copy(buf, at, this.off, this.off + n);
    this.off += n;
    this.position += n;
    if (this.off === this.end && this.bodyLeft > 0) this.unpause();
    return at + n;
  }

  private settle(): void {
    const w = this.waiter!;
    this.waiter = null;
    w.resolve(w.got);
  }

  private fail(e: Error): void {
    if (this.failure === null && this.bodyLeft !== 0) this.failure = e;
    if (!this.socket.destroyed) this.socket.destroy();
    const w = this.waiter;
    if (!w) return;
    if (this.end > this.off) w.got = this.copyOut(w.buf, w.got, w.len);
    if (w.got > 0) this.settle();
    else {
      this.waiter = null;
      w.reject(this.failure ?? e);
    }
  }

  /** The buffer for the socket's next read: the rest of the waiting read's buffer once the body has begun. */
  private nextTarget(): Buffer {
    const w = this.waiter;
    const room = w ? Math.min(w.len - w.got, this.bodyLeft) : 0;
    this.target = w && this.head === null && this.end === this.off && room > 0 ? w.buf.subarray(w.got, w.got + room) : this.staging;
    return this.target;
  }

  /** `onread` callback: `n` new bytes at the start of `buf` (the last `target`). Returns false to pause. */
  private onData(n: number, buf: Buffer): boolean {
    if (buf !== this.staging) {
      // Straight into the waiting read's buffer (nextTarget sized it within the body).
      const w = this.waiter!;
      w.got += n;
      this.position += n;
      this.bodyLeft -= n;
      if (this.bodyLeft === 0) this.socket.destroy();
      if (w.got === w.len || this.bodyLeft === 0) this.settle();
      return true;
    }
    let start = 0;
    if (this.head) {
      const seen = this.head.length;
      this.head = Buffer.concat([this.head, this.staging.subarray(0, n)]);
      const at = this.head.indexOf('\r\n\r\n');
      if (at < 0) {
        if (this.head.length > MAX_HEADER_BYTES) this.fail(new TransferError('S3 response headers too large'));
        return true;
      }
      const error = this.parseHead(this.head.subarray(0, at).toString('latin1'));
      this.head = null;
      if (error) {
        this.fail(new TransferError(error));
        return true;
      }
      start = at + 4 - seen;
    }
    const body = Math.min(n - start, this.bodyLeft);
    this.bodyLeft -= body;
    this.off = start;
    this.end = start + body;
    if (this.bodyLeft === 0) this.socket.destroy(); // Connection: close; the bytes in staging stay valid (no more reads into it)
    const w = this.waiter;
    if (w && this.end > this.off) {
      w.got = this.copyOut(w.buf, w.got, w.len);
      if (w.got === w.len || this.bodyLeft === 0) this.settle();
    }
    // Pause while unread bytes sit in staging and no read waits.
    this.paused = this.end > this.off && this.waiter === null;
    return !this.paused;
  }

  /** Checks the status line and headers; returns what is wrong, or undefined. */
  private parseHead(text: string): string | undefined {
    const lines = text.split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1];
    if (status !== '206') return `S3 answered ${status ?? 'an unreadable status line'} to a ranged GET`;
    const headers = new Map<string, string>();
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
    }
    const length = Number(headers.get('content-length'));
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(headers.get('content-range') ?? '');
    if (!Number.isSafeInteger(length) || headers.has('transfer-encoding')) return 'S3 answered without a Content-Length';
    if (!range || Number(range[1]) !== this.position || Number(range[2]) !== this.last || Number(range[3]) !== this.size || length !== this.last - this.position + 1) {
      return `S3 answered Content-Range ${headers.get('content-range') ?? '(none)'} for bytes ${this.position}-${this.last}/${this.size}`;
    }
    this.bodyLeft = length;
    return undefined;
  }
}

export function createS3Reader(options: S3ReaderOptions): BlobReader {
  const { size } = options;
  const windowBytes = options.windowBytes ?? WINDOW_BYTES;
  const parallel = Math.max(1, options.parallel ?? PARALLEL_GETS);
  /** Open GETs over consecutive windows; the first is the one being read. */
  const gets: RangeGet[] = [];
  /** Object position just past the last window opened. */
  let next = 0;
  /** Bytes read in order since the current run of reads began. */
  let streak = 0;
  let url: URL | undefined;
  let signedAt = 0;
  const now = options.now ?? Date.now;
  const open = (start: number, ahead: boolean): void => {
    const last = Math.min(size, start + windowBytes) - 1;
    gets.push(new RangeGet(url!, start, last, size, ahead));
    next = last + 1;
  };
  const drop = () => {
    for (const g of gets.splice(0)) g.close();
  };
  /** Closes the windows the reader has read to their end. */
  const dropFinished = () => {
    while (gets.length > 0 && gets[0]!.position > gets[0]!.last) gets.shift()!.close();
  };
  return {
    size,
    async read(buffer, position, length) {
      if (!Number.isSafeInteger(position) || position < 0) throw new RangeError('position must be a non-negative integer');
      const len = Math.min(length, buffer.length, size - position);
      if (len <= 0) return 0;
      dropFinished();
      if (gets[0]?.position !== position) {
        const continues = gets.length === 0 && position === next;
        drop();
        if (!continues) streak = 0;
        // A long pull outlives a presigned URL (the driver signs for an hour): sign afresh well before that; GETs
        // ahead are opened only with a fresh one, so the next window after it ages comes here.
        if (!url || now() - signedAt > RESIGN_AFTER_MS) {
          url = new URL(await options.sign());
          signedAt = now();
        }
        open(position, false);
      }
      let n: number;
      try {
        n = await gets[0]!.read(buffer, len);
      } catch (e) {
        if (!(e instanceof TransferError)) throw e;
        drop();
        return options.fallback(buffer, position, len);
      }
      streak += n;
      dropFinished();
      // A read that has run on past half a window is a pull, not a Range request: keep the next windows coming.
      if (streak >= windowBytes / 2 && now() - signedAt <= RESIGN_AFTER_MS) {
        while (gets.length < parallel && next < size && aheadOpen < MAX_AHEAD_GETS) open(next, true);
      }
      return n;
    },
    async close() {
      drop();
    },
  };
}
