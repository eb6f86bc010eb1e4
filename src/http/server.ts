import { randomUUID } from 'node:crypto';
import { createServer, ServerResponse, type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders, type Server, type ServerOptions } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Logger } from 'pino';
import { RegistryError } from '../core/errors.ts';
import type { Handler, RequestContext } from './context.ts';
import { clientGone, toRegistryError, writeOciError } from './errors.ts';
import type { HttpMetrics } from './metrics.ts';

export interface HttpServerOptions {
  log: Logger;
  metrics: HttpMetrics;
  /** Picks the handler for a request; sets ctx.route. Returns undefined for an unknown path. */
  route(req: IncomingMessage, ctx: RequestContext): Handler | undefined;
  /** Renders an error thrown by a handler (default: OCI error JSON). */
  renderError?(req: IncomingMessage, res: ServerResponse, err: RegistryError, ctx: RequestContext): void;
  logRequests: boolean;
  keepAliveTimeoutSeconds: number;
  headersTimeoutSeconds: number;
  /** Whole-request receive limit in seconds (0 = none). */
  requestTimeoutSeconds?: number;
  /** A request body idle (no byte received) this long cuts the connection. Default 60. */
  bodyIdleTimeoutSeconds?: number;
  /** Largest request line + headers (Node's maxHeaderSize; 431 past it). Default 32 KiB. */
  maxHeaderBytes?: number;
  /** Longest request target; 414 past it. Default 8 KiB. */
  maxUrlBytes?: number;
  /** Serve HTTPS with this certificate and key (PEM); every response then carries Strict-Transport-Security. */
  tls?: { cert: string | Buffer; key: string | Buffer; hstsMaxAgeSeconds: number };
}

const REQUEST_ID_RE = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Adds the headers every response carries (X-Request-Id, Docker-Distribution-API-Version) when the head is
 * written, instead of through setHeader per request: a response whose handler passes all its headers to
 * writeHead then takes Node's fast path (no per-header setHeader validation). Implicit heads (res.end without
 * writeHead) go through writeHead too.
 */
class RegistryResponse extends ServerResponse {
  requestId = '';
  /** Strict-Transport-Security value on a TLS server, else undefined. */
  hsts: string | undefined;

  override writeHead(statusCode: number, reasonOrHeaders?: string | OutgoingHttpHeaders | OutgoingHttpHeader[], maybeHeaders?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this {
    const reason = typeof reasonOrHeaders === 'string' ? reasonOrHeaders : undefined;
    const given = reason === undefined ? reasonOrHeaders as OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined : maybeHeaders;
    const headers = Array.isArray(given)
      ? [...given, 'X-Request-Id', this.requestId, 'Docker-Distribution-API-Version', 'registry/2.0', ...(this.hsts ? ['Strict-Transport-Security', this.hsts] : [])]
      : { 'X-Request-Id': this.requestId, 'Docker-Distribution-API-Version': 'registry/2.0', ...(this.hsts ? { 'Strict-Transport-Security': this.hsts } : {}), ...given };
    return reason === undefined ? super.writeHead(statusCode, headers as OutgoingHttpHeaders) : super.writeHead(statusCode, reason, headers as OutgoingHttpHeaders);
  }
}
/**
 * A refused body up to this size (declared by Content-Length) is read and discarded so the client finishes
 * writing and reads the error; closing under a client still writing makes it fail with EPIPE instead.
 */
const DRAIN_REFUSED_BODY_BYTES = 16 * 1024 * 1024;

/** The HTTP front door: request ids, access logs, metrics, error rendering, graceful shutdown. */
export interface HttpServer {
  server: Server;
  listen(host: string, port: number): Promise<{ host: string; port: number }>;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then closes what is left. */
  shutdown(graceMs: number): Promise<void>;
}

export function createHttpServer(options: HttpServerOptions): HttpServer {
  const { log, metrics } = options;
  let inflight = 0;
  metrics.setInflightSource(() => inflight);
  let idle: (() => void) | undefined;

  const maxUrlBytes = options.maxUrlBytes ?? 8 * 1024;
  const bodyIdleMs = (options.bodyIdleTimeoutSeconds ?? 60) * 1000;
  const hsts = options.tls && options.tls.hstsMaxAgeSeconds > 0 ? `max-age=${options.tls.hstsMaxAgeSeconds}` : undefined;
  const serverOptions: ServerOptions = {
    ServerResponse: RegistryResponse as unknown as typeof ServerResponse,
    keepAliveTimeout: options.keepAliveTimeoutSeconds * 1000,
    headersTimeout: options.headersTimeoutSeconds * 1000,
    requestTimeout: (options.requestTimeoutSeconds ?? 0) * 1000,
    maxHeaderSize: options.maxHeaderBytes ?? 32 * 1024,
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    inflight++;
    const started = process.hrtime.bigint();
    const socket = req.socket;
    const remote = socket.remoteAddress;
    const readStart = socket.bytesRead;
    const writeStart = socket.bytesWritten;
    const hdrId = req.headers['x-request-id'];
    const id = typeof hdrId === 'string' && REQUEST_ID_RE.test(hdrId) ? hdrId : randomUUID();
    const ctx: RequestContext = { id, log, route: 'unknown' };
    (res as RegistryResponse).requestId = id;
    (res as RegistryResponse).hsts = hsts;
    if (!req.complete && hasBody(req)) watchBodyIdle(req, res, id);

    let finished = false;
    let completed = false;
    res.once('finish', () => { completed = true; });
    const done = () => {
      if (finished) return;
      finished = true;
      inflight--;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const status = completed ? res.statusCode : 499;
      metrics.record(ctx.route, req.method ?? 'UNKNOWN', status, seconds, Math.max(0, socket.bytesRead - readStart), Math.max(0, socket.bytesWritten - writeStart));
      if (options.logRequests) {
        log.info({ reqId: id, method: req.method, route: ctx.route, repository: ctx.repository, status, ms: Math.round(seconds * 1e5) / 100, remote }, 'request');
      }
      if (inflight === 0 && idle) idle();
    };
    res.once('close', done);

    let handler: Handler | undefined;
    if ((req.url ?? '').length > maxUrlBytes) {
      fail(req, res, ctx, new RegistryError('URI_TOO_LONG', `request target of ${(req.url ?? '').length} bytes exceeds the limit of ${maxUrlBytes} bytes`, { limit: maxUrlBytes }));
      return;
    }
    try {
      handler = options.route(req, ctx);
    } catch (e) {
      fail(req, res, ctx, e);
      return;
    }
    if (!handler) {
      fail(req, res, ctx, new RegistryError('NOT_FOUND', `no route for ${req.method} ${truncate(req.url ?? '')}`));
      return;
    }
    handler(req, res, ctx).catch((e) => fail(req, res, ctx, e));
  };
  // HTTP/1.1 over TLS on the same port for both APIs; keep-alive connections amortise the handshake (and Node's
  // TLS session tickets let a reconnecting client resume without a full one).
  const server = options.tls
    ? createHttpsServer({ ...serverOptions, cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' }, listener)
    : createServer(serverOptions, listener);

  /**
   * Cuts a request whose body stops arriving: while the body is being received, the socket's inactivity timeout
   * is the body idle limit (Node destroys a socket that times out with no 'timeout' listener on the request,
   * response or server). Once the body has arrived the timeout is cleared, unless the response already finished
   * (Node then owns the socket's timeout for keep-alive).
   */
  function watchBodyIdle(req: IncomingMessage, res: ServerResponse, id: string): void {
    const socket = req.socket;
    const onIdle = () => log.warn({ reqId: id, remote: socket.remoteAddress, idleSeconds: bodyIdleMs / 1000 }, 'request body stalled; closing the connection');
    socket.setTimeout(bodyIdleMs);
    socket.once('timeout', onIdle);
    const clear = () => {
      socket.off('timeout', onIdle);
      if (!res.writableFinished && !socket.destroyed) socket.setTimeout(0);
    };
    req.once('end', clear);
    req.once('close', clear);
  }

  function fail(req: IncomingMessage, res: ServerResponse, ctx: RequestContext, e: unknown): void {
    const err = toRegistryError(e);
    if (err.kind === 'INTERNAL' && clientGone(res)) {
      // The client went away (or was cut for stalling) mid-request: nothing to answer, not a server fault.
      ctx.log.info({ reqId: ctx.id, route: ctx.route, reason: (err.cause as Error | undefined)?.message }, 'request aborted by the client');
      res.destroy();
      return;
    }
    if (err.kind === 'INTERNAL' || err.kind === 'UNAVAILABLE') {
      ctx.log.error({ reqId: ctx.id, route: ctx.route, err: err.cause ?? err }, 'request failed');
    }
    if (res.headersSent) {
      // Mid-stream failure (e.g. storage error while sending a blob): cut the connection so the client sees a short body.
      res.destroy();
      return;
    }
    // Don't read the rest of a large body we're refusing; ask the client to close the connection. A small
    // one (a manifest, an API call) is drained instead, so the client sees the error rather than EPIPE.
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (!req.complete && !(declared <= DRAIN_REFUSED_BODY_BYTES)) res.setHeader('Connection', 'close');
    if (options.renderError) options.renderError(req, res, err, ctx);
    else writeOciError(res, err, req.method === 'HEAD');
    if (!req.complete) req.resume();
  }

  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (socket.writable) {
      // A request Node could not parse (or took too long to send): answered in the OCI error format, then closed.
      const [status, code] = err.code === 'HPE_HEADER_OVERFLOW' ? ['431 Request Header Fields Too Large', 'UNSUPPORTED'] : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? ['408 Request Timeout', 'UNSUPPORTED'] : ['400 Bad Request', 'UNSUPPORTED'];
      const body = JSON.stringify({ errors: [{ code, message: status.slice(4).toLowerCase(), detail: {} }] });
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${body.length}\r\n${hsts ? `Strict-Transport-Security: ${hsts}\r\n` : ''}\r\n${body}`);
    } else socket.destroy();
  });

  return {
    server: server as unknown as Server,
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const addr = server.address();
          if (addr && typeof addr === 'object') resolve({ host: addr.address, port: addr.port });
          else resolve({ host, port });
        });
      });
    },
    async shutdown(graceMs) {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      if (inflight > 0) {
        await Promise.race([new Promise<void>((r) => { idle = r; }), new Promise((r) => setTimeout(r, graceMs).unref())]);
      }
      server.closeAllConnections();
      await closed;
    },
  };
}

function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  if (len !== undefined) return len !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

function truncate(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
