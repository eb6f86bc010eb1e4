import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { BlobReader } from '../blob-store.ts';

/**
 * Positional reads of one S3 object for blob GETs (docs/deployment.md, "Blob reads over S3").
 *
 * A pull reads a blob front to back in ~1 MiB positional reads. Each run of consecutive reads is served by one
 * ranged GET (`Range: bytes=<position>-<end>`, presigned, HTTP/1.1) whose socket reads straight into one
 * reused 1 MiB buffer (`onread`), from which each read copies into the caller's buffer: no stream, no body
 * parser, no per-chunk allocation. The SDK's GetObject stream costs ~1.8–2 s of CPU per GB here against ~0.4
 * for this path, which is what bounded pulls over S3 on a small machine. A read at another position (a Range
 * request, a jump) starts a new GET; a paused GET holds its unread bytes in the kernel's socket buffer, so a
 * slow client never makes this process buffer more than the one staging buffer.
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
}

const STAGING_BYTES = 1024 * 1024;
const MAX_HEADER_BYTES = 64 * 1024;
/** A GET that moves no byte for this long (S3 stalled, or a client so slow the GET sat paused) is given up. */
const IDLE_TIMEOUT_MS = 30_000;
const stagingPool: Buffer[] = [];

class TransferError extends Error {}

/** One ranged GET being read in order. */
class RangeGet {
  /** Object position of the next body byte to hand out. */
  position: number;
  private readonly socket: Socket;
  private readonly staging: Buffer;
  private head: Buffer | null = Buffer.alloc(0);
  private bodyLeft = -1;
  /** Unread body bytes in `staging` [off, end): the socket is paused while there are any. */
  private off = 0;
  private end = 0;
  private waiter: { buf: Buffer; len: number; resolve(n: number): void; reject(e: Error): void } | null = null;
  private failure: Error | null = null;
  private closed = false;

  constructor(url: URL, start: number, private readonly last: number, private readonly size: number) {
    this.position = start;
    this.staging = stagingPool.pop() ?? Buffer.allocUnsafeSlow(STAGING_BYTES);
    const secure = url.protocol === 'https:';
    const port = Number(url.port || (secure ? 443 : 80));
    const onread = { buffer: this.staging, callback: (n: number) => this.onData(n) };
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
    if (this.end > this.off) return Promise.resolve(this.take(buf, len));
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { buf, len, resolve, reject };
      if (this.socket.isPaused()) this.socket.resume();
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy(); // stops reading at once: nothing writes into the staging buffer after this
    if (this.failure === null) this.failure = new TransferError('closed');
    if (stagingPool.length < 16) stagingPool.push(this.staging);
  }

  private take(buf: Buffer, len: number): number {
    const n = Math.min(len, this.end - this.off);
    this.staging.copy(buf, 0, this.off, this.off + n);
    this.off += n;
    this.position += n;
    if (this.off === this.end && this.bodyLeft > 0 && !this.socket.destroyed) this.socket.resume();
    return n;
  }

  private fail(e: Error): void {
    if (this.failure === null && this.bodyLeft !== 0) this.failure = e;
    if (!this.socket.destroyed) this.socket.destroy();
    const w = this.waiter;
    this.waiter = null;
    if (w) {
      if (this.end > this.off) w.resolve(this.take(w.buf, w.len));
      else w.reject(this.failure ?? e);
    }
  }

  /** `onread` callback: `n` new bytes at the start of `staging`. Returns false to pause the socket. */
  private onData(n: number): boolean {
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
        return false;
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
      this.waiter = null;
      w.resolve(this.take(w.buf, w.len));
    }
    return this.end === this.off; // pause while unread bytes sit in the staging buffer
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
  let current: RangeGet | undefined;
  let url: URL | undefined;
  const drop = () => {
    current?.close();
    current = undefined;
  };
  return {
    size,
    async read(buffer, position, length) {
      if (!Number.isSafeInteger(position) || position < 0) throw new RangeError('position must be a non-negative integer');
      const len = Math.min(length, buffer.length, size - position);
      if (len <= 0) return 0;
      if (!current || current.position !== position) {
        drop();
        url ??= new URL(await options.sign());
        current = new RangeGet(url, position, size - 1, size);
      }
      try {
        return await current.read(buffer, len);
      } catch (e) {
        if (!(e instanceof TransferError)) throw e;
        drop();
        return options.fallback(buffer, position, len);
      }
    },
    async close() {
      drop();
    },
  };
}
