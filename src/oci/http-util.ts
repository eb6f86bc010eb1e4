import type { IncomingMessage, ServerResponse } from 'node:http';
import { RegistryError } from '../core/errors.ts';
import type { ByteRange } from '../storage/blob-store.ts';
import type { ChunkRange } from '../registry/registry.ts';

export { readBody } from '../http/body.ts';

/** Content-Length as a number, or undefined; invalid values are a client error. */
export function contentLength(req: IncomingMessage): number | undefined {
  const v = req.headers['content-length'];
  if (v === undefined) return undefined;
  if (!/^\d{1,16}$/.test(v)) throw new RegistryError('SIZE_INVALID', `invalid Content-Length "${v.slice(0, 50)}"`);
  return Number(v);
}

/** Parses an upload chunk's `Content-Range: <start>-<end>` (also tolerates a `bytes ` prefix and `/total`). */
export function chunkRange(req: IncomingMessage): ChunkRange {
  const length = contentLength(req);
  const header = req.headers['content-range'];
  if (header === undefined) return { length };
  const m = /^(?:bytes[ =])?(\d{1,16})-(\d{1,16})(?:\/(?:\d{1,16}|\*))?$/.exec(header.trim());
  if (!m) throw new RegistryError('RANGE_INVALID', `invalid Content-Range "${header.slice(0, 80)}": expected <start>-<end>`);
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) throw new RegistryError('RANGE_INVALID', `invalid Content-Range "${header.slice(0, 80)}": end before start`);
  return { start, end, length };
}

/**
 * Parses a request `Range` header against a blob of `size` bytes (RFC 9110): undefined for no header or
 * a header we ignore (syntactically invalid, several ranges), 'unsatisfiable', or an inclusive range.
 */
export function parseRangeHeader(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  let end = m[2] === '' ? size - 1 : Number(m[2]);
  if (m[2] !== '' && end < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  if (end >= size) end = size - 1;
  return { start, end };
}

/** Parses `n` and `last` for tags list and catalog. */
export function pageParams(query: URLSearchParams): { n?: number; last?: string } {
  const nRaw = query.get('n');
  let n: number | undefined;
  if (nRaw !== null && nRaw !== '') {
    if (!/^\d{1,9}$/.test(nRaw)) throw new RegistryError('PAGINATION_INVALID', `invalid page size n="${nRaw.slice(0, 30)}": must be a non-negative integer`, { n: nRaw.slice(0, 30) });
    n = Number(nRaw);
  }
  const last = query.get('last') ?? undefined;
  return { n, last: last === '' ? undefined : last };
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string | number> = {}, head = false): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(head ? undefined : body);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string | number> = {}): void {
  res.writeHead(status, { 'Content-Length': 0, ...headers });
  res.end();
}
