// Raw HTTP for hardening tests: requests node's fetch would refuse to send (huge headers, lying Content-Length,
// truncated or stalled bodies, odd methods and paths), SigV4-signed ECR/STS calls with arbitrary bodies, and a
// snapshot of what a server stores (to prove abuse changed nothing).
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join, relative } from 'node:path';
import { signTestRequest, type TestCredentials } from '../../src/auth/sigv4/test-signer.ts';
import type { RunningServer } from './server.ts';

export const ECR_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface RawRequest {
  method: string;
  /** Sent exactly as given (no normalisation of `..` or percent escapes). */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  agent?: Agent;
  /** Give up after this long (the request is destroyed and the promise rejects). Default 30 s. */
  timeoutMs?: number;
}

/** One HTTP/1.1 request to the server's port with node:http (path and headers passed through as given). */
export function rawHttp(s: RunningServer, r: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: s.port, method: r.method, path: r.path, headers: r.headers, agent: r.agent, insecureHTTPParser: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(r.timeoutMs ?? 30_000, () => req.destroy(new Error(`no answer to ${r.method} ${r.path.slice(0, 100)} within ${r.timeoutMs ?? 30_000} ms`)));
    req.on('error', reject);
    req.end(r.body);
  });
}

/**
 * Writes `head` (request line + headers, CRLF-terminated) and `body` on a fresh TCP connection, optionally leaving
 * it open, and resolves with everything the server sent until it closed the connection (or `waitMs` passed).
 */
export function rawSocket(s: RunningServer, head: string, body: Buffer | string = '', options: { end?: boolean; waitMs?: number; stopAfterResponse?: boolean } = {}): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(s.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (closedByServer: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closedByServer });
    };
    const timer = setTimeout(() => finish(false), options.waitMs ?? 30_000);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (!options.stopAfterResponse) return;
      // Stop once one whole response (head + Content-Length bytes) has arrived.
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
      if (end !== -1 && length && text.length - end - 4 >= Number(length[1])) finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? finish(true) : reject(e)));
    socket.write(head);
    if (body.length) socket.write(body);
    if (options.end) socket.end();
  });
}

/** Headers of an ECR JSON 1.1 call `operation` with `body`, SigV4-signed with `key` (default: the administrator). */
export async function ecrHeaders(s: RunningServer, operation: string, body: string, key: TestCredentials = s.credentials!): Promise<Record<string, string>> {
  const signed = await signTestRequest(key, new Date(), { host: s.host, body, headers: { 'x-amz-target': `${ECR_PREFIX}${operation}` } }, { region: s.credentials!.region });
  const headers = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k, String(v)]));
  headers['content-length'] = String(Buffer.byteLength(body));
  return headers;
}

/** Sends a signed ECR call and parses the JSON answer. */
export async function ecrCall(s: RunningServer, operation: string, input: unknown, key?: TestCredentials): Promise<{ status: number; json: Record<string, any> }> {
  const body = typeof input === 'string' ? input : JSON.stringify(input);
  const r = await rawHttp(s, { method: 'POST', path: '/', headers: await ecrHeaders(s, operation, body, key), body });
  return { status: r.status, json: r.body.length ? JSON.parse(r.body.toString('utf8')) : {} };
}

/** Every regular file under `dir` (relative path → size and SHA-256), skipping names `skip` accepts. */
export async function fileTree(dir: string, skip: (rel: string) => boolean = () => false): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string) => {
    let entries;
    try { entries = await readdir(d, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const p = join(d, e.name);
      const rel = relative(dir, p);
      if (skip(rel)) continue;
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.set(rel, `${(await stat(p)).size}:${createHash('sha256').update(await readFile(p)).digest('hex')}`);
    }
  };
  await walk(dir);
  return out;
}

/**
 * What the registry stores, as clients see it: every repository, its tags and the digest each tag names (through
 * the /v2/ API with the administrator's credentials), plus every committed blob file under the data directory.
 */
export async function storedState(s: RunningServer): Promise<{ images: Record<string, Record<string, string>>; blobs: string[] }> {
  const auth = { authorization: s.authorization! };
  const catalog = JSON.parse((await rawHttp(s, { method: 'GET', path: '/v2/_catalog', headers: auth })).body.toString()) as { repositories: string[] };
  const images: Record<string, Record<string, string>> = {};
  for (const repo of catalog.repositories) {
    const tags = JSON.parse((await rawHttp(s, { method: 'GET', path: `/v2/${repo}/tags/list`, headers: auth })).body.toString()) as { tags: string[] | null };
    images[repo] = {};
    for (const tag of tags.tags ?? []) {
      const head = await rawHttp(s, { method: 'HEAD', path: `/v2/${repo}/manifests/${tag}`, headers: { ...auth, accept: '*/*' } });
      images[repo]![tag] = String(head.headers['docker-content-digest']);
    }
  }
  const blobs = [...(await fileTree(join(s.dataDir, 'blobs'), (rel) => rel.startsWith('uploads') || rel.startsWith('tmp'))).keys()].sort();
  return { images, blobs };
}
