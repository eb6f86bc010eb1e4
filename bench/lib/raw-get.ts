import { connect } from 'node:net';

const READ_BUFFER = 1024 * 1024;
const MAX_HEADER = 64 * 1024;

export interface RawGetResult {
  status: number;
  headers: Map<string, string>;
  bodyBytes: number;
}

/**
 * A single HTTP/1.1 GET over a fresh socket that hands every body byte to `onBody` straight from one reused
 * 1 MiB read buffer (net `onread`), with no parser or stream in between. Used for the big pull, where a
 * general-purpose client (undici, node:http) costs the shared machine more CPU than the server under test
 * and caps the measurement at a few hundred MB/s. Only Content-Length bodies are supported (the OCI spec
 * requires Content-Length on blob GETs); anything else is rejected so the caller can tell.
 *
 * `onBody` gets a view into the read buffer that is only valid during the call.
 */
export function rawGet(url: URL, headers: Record<string, string>, onBody: (chunk: Buffer) => void, signal?: AbortSignal): Promise<RawGetResult> {
  return new Promise((resolve, reject) => {
    let head: Buffer | null = Buffer.alloc(0);
    let status = 0;
    const parsed = new Map<string, string>();
    let remaining = -1;
    let bodyBytes = 0;
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve({ status, headers: parsed, bodyBytes });
    };
    const onAbort = (): void => finish(new Error('aborted'));
    const body = (chunk: Buffer): void => {
      const take = Math.min(chunk.length, remaining);
      if (take > 0) onBody(chunk.subarray(0, take));
      bodyBytes += take;
      remaining -= take;
      if (remaining === 0) finish();
    };
    const socket = connect({
      host: url.hostname,
      port: Number(url.port || 80),
      onread: {
        buffer: Buffer.allocUnsafe(READ_BUFFER),
        callback: (nread: number, buf: Uint8Array): boolean => {
          const data = Buffer.from(buf.buffer, buf.byteOffset, nread);
          if (head === null) {
            body(data);
            return true;
          }
          head = Buffer.concat([head, data]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) {
            if (head.length > MAX_HEADER) finish(new Error('response header too large'));
            return true;
          }
          const lines = head.subarray(0, end).toString('latin1').split('\r\n');
          const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
          if (!m) return (finish(new Error(`bad status line: ${lines[0]}`)), false);
          status = Number(m[1]);
          for (const line of lines.slice(1)) {
            const i = line.indexOf(':');
            if (i > 0) parsed.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
          }
          const rest = head.subarray(end + 4);
          head = null;
          const length = parsed.get('content-length');
          if (length === undefined || parsed.has('transfer-encoding')) return (finish(new Error(`GET ${url.pathname}: ${status} without Content-Length`)), false);
          remaining = Number(length);
          if (remaining === 0) finish();
          else if (rest.length) body(rest);
          return true;
        },
      },
    });
    socket.setNoDelay(true);
    socket.once('error', (err) => finish(err));
    socket.once('end', () => finish(remaining === 0 ? undefined : new Error(`connection closed with ${remaining} body bytes missing`)));
    signal?.addEventListener('abort', onAbort);
    const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''];
    socket.write(lines.join('\r\n'));
  });
}
