import type { ServerResponse } from 'node:http';
import { errorCatalogue, isRegistryError, RegistryError } from '../core/errors.ts';

/** Turns anything thrown into a RegistryError; unknown errors become INTERNAL (logged, never shown). */
export function toRegistryError(e: unknown): RegistryError {
  if (isRegistryError(e)) return e;
  return new RegistryError('INTERNAL', 'internal server error', undefined, { cause: e });
}

/**
 * True when the client's connection is gone (it disconnected mid-request, or was cut for stalling): there is nobody
 * to answer, and the failure that follows (an aborted body read) is not a server fault.
 */
export function clientGone(res: ServerResponse): boolean {
  // The request's socket, not res.socket: a pipelined response waiting its turn has no socket yet.
  return res.destroyed || res.req?.socket?.destroyed === true;
}

/** Writes the OCI error JSON for `err` (headers only for HEAD). */
export function writeOciError(res: ServerResponse, err: RegistryError, head: boolean): void {
  const spec = errorCatalogue[err.kind];
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ errors: [{ code: spec.oci, message: err.message, detail: err.detail ?? {} }] });
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    ...(err.headers ?? {}),
  };
  if (spec.status === 401 && !res.hasHeader('WWW-Authenticate') && headers['WWW-Authenticate'] === undefined) headers['WWW-Authenticate'] = 'Basic realm="cargohold"';
  res.writeHead(spec.status, headers);
  res.end(head ? undefined : body);
}
