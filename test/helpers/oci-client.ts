/**
 * A small fetch-based client for the OCI Distribution API, used by the protocol tests.
 *
 * It deliberately does not hide the protocol: every call returns the raw status, headers and body so
 * tests can assert on them. The `push*` conveniences assert the happy path (they throw on an
 * unexpected status) and are meant for setting up state, not for testing the step they perform.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';

export const MT = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
} as const;

/** The OCI empty descriptor's content (`{}`), its digest and size. */
export const EMPTY_JSON = Buffer.from('{}');
export const EMPTY_JSON_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
/** Digest of the zero-length blob. */
export const EMPTY_BLOB_DIGEST = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Error codes listed by the OCI Distribution Spec v1.1 ("The code field MUST be one of the following"). */
export const SPEC_ERROR_CODES: readonly string[] = [
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'SIZE_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
  'TOOMANYREQUESTS',
];

export type Body = Buffer | Uint8Array | string | undefined;

export interface OciResponse {
  status: number;
  headers: Headers;
  body: Buffer;
  /** The request that produced this response, for assertion messages. */
  what: string;
  text(): string;
  json<T = any>(): T;
  header(name: string): string | null;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: Body;
  /** Query parameters appended to the URL (in addition to any already in it). */
  query?: Record<string, string>;
}

export function sha256(data: Buffer | Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function digestOf(data: Buffer | Uint8Array | string, alg: 'sha256' | 'sha512' = 'sha256'): string {
  return `${alg}:${createHash(alg).update(data).digest('hex')}`;
}

export function randomBlob(size: number): Buffer {
  return randomBytes(size);
}

let repoCounter = 0;
/** A fresh, valid repository name (lowercase, unique per process and run). */
export function uniqueRepo(prefix = 'repo'): string {
  repoCounter += 1;
  return `${prefix}-${process.pid}-${repoCounter}-${randomBytes(3).toString('hex')}`;
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string; variant?: string };
}

export interface BlobInfo extends Descriptor {
  data: Buffer;
}

export function descriptorOf(data: Buffer, mediaType: string): BlobInfo {
  return { mediaType, digest: sha256(data), size: data.length, data };
}

export interface ImageOptions {
  /** 'oci' (default) or 'docker' (schema2). */
  format?: 'oci' | 'docker';
  layers?: number;
  layerSize?: number;
  /** Config media type override (e.g. an artifact's config type or MT.ociEmpty). */
  configMediaType?: string;
  /** Use the OCI empty descriptor (`{}`) as config. */
  emptyConfig?: boolean;
  artifactType?: string;
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface Image {
  config: BlobInfo;
  layers: BlobInfo[];
  manifest: Record<string, unknown>;
  /** The exact bytes that are (or will be) PUT. */
  bytes: Buffer;
  mediaType: string;
  digest: string;
  /** Descriptor of this manifest (for indexes, subjects, referrers). */
  descriptor: Descriptor;
}

/** Builds (does not push) a random single-platform image or artifact manifest with its blobs. */
export function makeImage(opts: ImageOptions = {}): Image {
  const format = opts.format ?? 'oci';
  const configData = opts.emptyConfig
    ? EMPTY_JSON
    : Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(8).toString('hex') }));
  const configMediaType = opts.emptyConfig ? MT.ociEmpty : (opts.configMediaType ?? (format === 'docker' ? MT.dockerConfig : MT.ociConfig));
  const config = descriptorOf(configData, configMediaType);
  const layers: BlobInfo[] = [];
  for (let i = 0; i < (opts.layers ?? 1); i++) {
    layers.push(descriptorOf(randomBlob(opts.layerSize ?? 512 + i), format === 'docker' ? MT.dockerLayer : MT.ociLayer));
  }
  const mediaType = format === 'docker' ? MT.dockerManifest : MT.ociManifest;
  const manifest: Record<string, unknown> = { schemaVersion: 2, mediaType };
  if (opts.artifactType) manifest.artifactType = opts.artifactType;
  manifest.config = { mediaType: config.mediaType, digest: config.digest, size: config.size };
  manifest.layers = layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size }));
  if (opts.subject) manifest.subject = { mediaType: opts.subject.mediaType, digest: opts.subject.digest, size: opts.subject.size };
  if (opts.annotations) manifest.annotations = opts.annotations;
  const bytes = Buffer.from(JSON.stringify(manifest));
  const digest = sha256(bytes);
  return { config, layers, manifest, bytes, mediaType, digest, descriptor: { mediaType, digest, size: bytes.length } };
}

export interface IndexOptions {
  format?: 'oci' | 'docker';
  artifactType?: string;
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface Index {
  manifest: Record<string, unknown>;
  bytes: Buffer;
  mediaType: string;
  digest: string;
  descriptor: Descriptor;
}

/** Builds (does not push) an OCI index or Docker manifest list over the given child descriptors. */
export function makeIndex(children: Descriptor[], opts: IndexOptions = {}): Index {
  const mediaType = opts.format === 'docker' ? MT.dockerManifestList : MT.ociIndex;
  const manifest: Record<string, unknown> = { schemaVersion: 2, mediaType };
  if (opts.artifactType) manifest.artifactType = opts.artifactType;
  manifest.manifests = children.map((c, i) => ({
    mediaType: c.mediaType,
    digest: c.digest,
    size: c.size,
    platform: c.platform ?? { architecture: i % 2 === 0 ? 'amd64' : 'arm64', os: 'linux' },
  }));
  if (opts.subject) manifest.subject = { mediaType: opts.subject.mediaType, digest: opts.subject.digest, size: opts.subject.size };
  if (opts.annotations) manifest.annotations = opts.annotations;
  const bytes = Buffer.from(JSON.stringify(manifest));
  const digest = sha256(bytes);
  return { manifest, bytes, mediaType, digest, descriptor: { mediaType, digest, size: bytes.length } };
}

function wrap(what: string, status: number, headers: Headers, body: Buffer): OciResponse {
  return {
    status,
    headers,
    body,
    what,
    text: () => body.toString('utf8'),
    json: () => JSON.parse(body.toString('utf8')),
    header: (name) => headers.get(name),
  };
}

export class OciClient {
  readonly baseUrl: string;
  /** Sent as Authorization on every request that does not set its own (cargohold: the admin's Basic credentials). */
  readonly authorization?: string;

  constructor(baseUrl: string, options: { authorization?: string } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.authorization = options.authorization;
  }

  /** Resolves a path or a (relative or absolute) Location header against the registry URL. */
  url(pathOrLocation: string, query?: Record<string, string>): URL {
    const u = new URL(pathOrLocation, `${this.baseUrl}/`);
    for (const [k, v] of Object.entries(query ?? {})) u.searchParams.append(k, v);
    return u;
  }

  async request(method: string, pathOrLocation: string, opts: RequestOptions = {}): Promise<OciResponse> {
    const u = this.url(pathOrLocation, opts.query);
    const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? Buffer.from(opts.body) : opts.body;
    // Methods that carry a payload get an explicit (possibly empty) body so that Content-Length is sent.
    const payload = body ?? (method === 'POST' || method === 'PUT' || method === 'PATCH' ? Buffer.alloc(0) : undefined);
    const what = `${method} ${u.pathname}${u.search}`;
    const headers = { ...opts.headers };
    if (this.authorization && !Object.keys(headers).some((k) => k.toLowerCase() === 'authorization')) headers.Authorization = this.authorization;
    try {
      const res = await fetch(u, { method, headers, body: payload, redirect: 'manual' });
      const buf = Buffer.from(await res.arrayBuffer());
      return wrap(what, res.status, res.headers, buf);
    } catch (e) {
      const err = e as Error & { cause?: Error };
      throw new Error(`${what}: request failed: ${err.message}${err.cause ? ` (${err.cause.message})` : ''}`, { cause: e });
    }
  }

  get(path: string, opts?: RequestOptions) {
    return this.request('GET', path, opts);
  }
  head(path: string, opts?: RequestOptions) {
    return this.request('HEAD', path, opts);
  }
  delete(path: string, opts?: RequestOptions) {
    return this.request('DELETE', path, opts);
  }

  // ---- blobs -------------------------------------------------------------------------------------

  /** POST /v2/<name>/blobs/uploads/ (optionally with query, e.g. digest or mount/from). */
  startUpload(repo: string, opts: RequestOptions = {}): Promise<OciResponse> {
    return this.request('POST', `/v2/${repo}/blobs/uploads/`, opts);
  }

  /** Starts an upload session and returns its Location (asserts 202). */
  async openSession(repo: string): Promise<string> {
    const res = await this.startUpload(repo, { headers: { 'Content-Length': '0' } });
    assert.equal(res.status, 202, `${res.what}: expected 202, got ${res.status} ${res.text()}`);
    const loc = res.header('location');
    assert.ok(loc, `${res.what}: no Location`);
    return loc;
  }

  /** PATCH a chunk to an upload location. */
  patchChunk(location: string, data: Buffer, start?: number, extraHeaders: Record<string, string> = {}): Promise<OciResponse> {
    const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream', ...extraHeaders };
    if (start !== undefined) headers['Content-Range'] = `${start}-${start + data.length - 1}`;
    return this.request('PATCH', location, { headers, body: data });
  }

  /** PUT <location>?digest=<digest>, optionally with a final chunk. */
  completeUpload(location: string, digest: string | undefined, data?: Buffer, headers: Record<string, string> = {}): Promise<OciResponse> {
    const h: Record<string, string> = { 'Content-Type': 'application/octet-stream', ...headers };
    return this.request('PUT', location, { headers: h, body: data ?? Buffer.alloc(0), query: digest === undefined ? undefined : { digest } });
  }

  /** Monolithic POST + PUT; asserts 201 and returns the digest. */
  async pushBlob(repo: string, data: Buffer, alg: 'sha256' | 'sha512' = 'sha256'): Promise<string> {
    const digest = digestOf(data, alg);
    const loc = await this.openSession(repo);
    const res = await this.completeUpload(loc, digest, data);
    assert.equal(res.status, 201, `${res.what}: expected 201, got ${res.status} ${res.text()}`);
    return digest;
  }

  /** Chunked POST + PATCH* + PUT; asserts every step and returns the digest. */
  async pushBlobChunked(repo: string, data: Buffer, chunkSize: number): Promise<string> {
    const digest = sha256(data);
    let loc = await this.openSession(repo);
    for (let off = 0; off < data.length; off += chunkSize) {
      const res = await this.patchChunk(loc, data.subarray(off, off + chunkSize), off);
      assert.equal(res.status, 202, `${res.what}: expected 202, got ${res.status} ${res.text()}`);
      loc = res.header('location') ?? loc;
    }
    const res = await this.completeUpload(loc, digest);
    assert.equal(res.status, 201, `${res.what}: expected 201, got ${res.status} ${res.text()}`);
    return digest;
  }

  getBlob(repo: string, digest: string, headers?: Record<string, string>) {
    return this.get(`/v2/${repo}/blobs/${digest}`, { headers });
  }
  headBlob(repo: string, digest: string) {
    return this.head(`/v2/${repo}/blobs/${digest}`);
  }

  // ---- manifests ---------------------------------------------------------------------------------

  putManifest(repo: string, reference: string, bytes: Buffer | string, contentType: string): Promise<OciResponse> {
    return this.request('PUT', `/v2/${repo}/manifests/${reference}`, { headers: { 'Content-Type': contentType }, body: bytes });
  }

  /** GET a manifest with the given Accept (default: every manifest type). Note fetch itself sends `Accept: *\/*` when none is given. */
  getManifest(repo: string, reference: string, accept: string = ALL_MANIFEST_TYPES): Promise<OciResponse> {
    return this.get(`/v2/${repo}/manifests/${reference}`, { headers: { Accept: accept } });
  }

  headManifest(repo: string, reference: string, accept: string = ALL_MANIFEST_TYPES): Promise<OciResponse> {
    return this.head(`/v2/${repo}/manifests/${reference}`, { headers: { Accept: accept } });
  }

  /** Pushes the image's blobs (monolithic) and its manifest under `reference` (default: its digest). */
  async pushImage(repo: string, image: Image, reference: string = image.digest): Promise<OciResponse> {
    await this.pushBlob(repo, image.config.data);
    for (const l of image.layers) await this.pushBlob(repo, l.data);
    const res = await this.putManifest(repo, reference, image.bytes, image.mediaType);
    assert.equal(res.status, 201, `${res.what}: expected 201, got ${res.status} ${res.text()}`);
    return res;
  }

  /** Pushes an index/list manifest (children must already exist). */
  async pushIndex(repo: string, index: Index, reference: string = index.digest): Promise<OciResponse> {
    const res = await this.putManifest(repo, reference, index.bytes, index.mediaType);
    assert.equal(res.status, 201, `${res.what}: expected 201, got ${res.status} ${res.text()}`);
    return res;
  }
}

/** Accept header listing every manifest type the registry stores. */
export const ALL_MANIFEST_TYPES = [MT.ociManifest, MT.ociIndex, MT.dockerManifest, MT.dockerManifestList].join(', ');

// ---- assertions ----------------------------------------------------------------------------------

export interface ErrorEntry {
  code: string;
  message: string;
  detail?: unknown;
}

/**
 * Asserts an OCI error response: the given status (or one of them), a JSON body of the form
 * {"errors":[{"code","message","detail"}]} with a non-empty message, and `errors[0].code` in `codes`
 * (default: any code listed by the spec; 'any' accepts any well-formed code).
 * Returns the parsed errors.
 */
export function expectError(res: OciResponse, status: number | number[], codes?: string[] | 'any'): ErrorEntry[] {
  const statuses = Array.isArray(status) ? status : [status];
  const ctx = `${res.what} -> ${res.status} ${res.text().slice(0, 400)}`;
  assert.ok(statuses.includes(res.status), `expected status ${statuses.join('|')}: ${ctx}`);
  assert.ok(res.status >= 400 && res.status < 500, `expected a 4xx: ${ctx}`);
  const ct = res.header('content-type') ?? '';
  assert.match(ct, /^application\/json\b/, `error Content-Type should be application/json, got "${ct}": ${ctx}`);
  let parsed: { errors?: unknown };
  try {
    parsed = res.json();
  } catch {
    assert.fail(`error body is not JSON: ${ctx}`);
  }
  assert.ok(parsed && Array.isArray(parsed.errors) && parsed.errors.length > 0, `error body has no errors[]: ${ctx}`);
  const errors = parsed.errors as ErrorEntry[];
  for (const e of errors) {
    assert.equal(typeof e.code, 'string', `errors[].code must be a string: ${ctx}`);
    assert.match(e.code, /^[A-Z_]+$/, `errors[].code must be upper-case letters and underscores: ${ctx}`);
    assert.equal(typeof e.message, 'string', `errors[].message must be a string: ${ctx}`);
    assert.ok(e.message.trim().length > 0, `errors[].message must not be empty: ${ctx}`);
  }
  const allowed = codes === 'any' ? undefined : (codes ?? SPEC_ERROR_CODES);
  if (allowed) assert.ok(allowed.includes(errors[0].code), `expected code ${allowed.join('|')}, got ${errors[0].code}: ${ctx}`);
  return errors;
}

/** Asserts a status with a readable message. */
export function expectStatus(res: OciResponse, status: number | number[]): void {
  const statuses = Array.isArray(status) ? status : [status];
  assert.ok(statuses.includes(res.status), `${res.what}: expected ${statuses.join('|')}, got ${res.status} ${res.text().slice(0, 400)}`);
}

/** Asserts that a resolved Location has exactly the given path. */
export function expectLocationPath(client: OciClient, res: OciResponse, path: string): void {
  const loc = res.header('location');
  assert.ok(loc, `${res.what}: missing Location header`);
  assert.equal(decodeURIComponent(client.url(loc).pathname), path, `${res.what}: Location "${loc}"`);
}

/** Parses `Range: 0-<end>` (as sent by upload responses); returns the end offset. */
export function parseUploadRange(value: string | null): number {
  assert.ok(value, 'missing Range header');
  const m = /^0-(\d+)$/.exec(value);
  assert.ok(m, `Range header "${value}" does not match 0-<end>`);
  return Number(m[1]);
}

/** Parses a `Link: <url>; rel="next"` header; returns the URL or undefined when absent. */
export function parseNextLink(value: string | null): string | undefined {
  if (value === null) return undefined;
  const m = /^<([^>]+)>\s*;\s*rel="?next"?$/.exec(value.trim());
  assert.ok(m, `Link header "${value}" is not <url>; rel="next"`);
  return m[1];
}

// ---- raw HTTP (things fetch cannot do) -----------------------------------------------------------

export interface RawResponse {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** The bytes after the header block, as received (chunked framing removed when `decode`). */
  body: Buffer;
  head: string;
}

/**
 * Sends a raw HTTP/1.1 request over a fresh socket with `Connection: close` and only the given headers
 * (fetch always adds `Accept: *\/*`), and returns every byte received after the header block.
 * With `decode`, a chunked body is de-chunked. Credentials in `baseUrl` (`http://user:pass@host`) are sent as
 * HTTP Basic.
 */
export function rawRequest(baseUrl: string, method: string, path: string, headers: Record<string, string> = {}, decode = false): Promise<RawResponse> {
  const u = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname);
    const chunks: Buffer[] = [];
    sock.setTimeout(10_000, () => sock.destroy(new Error('raw request timed out')));
    sock.on('connect', () => {
      const auth = u.username ? [`Authorization: Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`] : [];
      const lines = [`${method} ${path} HTTP/1.1`, `Host: ${u.host}`, 'Connection: close', ...auth, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      sock.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('error', reject);
    sock.on('close', () => {
      const all = Buffer.concat(chunks);
      const sep = all.indexOf('\r\n\r\n');
      if (sep < 0) return reject(new Error(`no HTTP head in ${JSON.stringify(all.toString('latin1').slice(0, 200))}`));
      const head = all.subarray(0, sep).toString('latin1');
      const [statusLine, ...headerLines] = head.split('\r\n');
      const hdrs: Record<string, string> = {};
      for (const line of headerLines) {
        const i = line.indexOf(':');
        if (i > 0) hdrs[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      let body: Buffer = all.subarray(sep + 4);
      if (decode && /chunked/i.test(hdrs['transfer-encoding'] ?? '')) body = dechunk(body);
      resolve({ status: Number(statusLine.split(' ')[1]), headers: hdrs, body, head });
    });
  });
}

function dechunk(buf: Buffer): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const eol = buf.indexOf('\r\n', pos);
    if (eol < 0) break;
    const size = parseInt(buf.subarray(pos, eol).toString('latin1'), 16);
    if (!size) break;
    out.push(buf.subarray(eol + 2, eol + 2 + size));
    pos = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/**
 * Starts a PATCH to `location` declaring `declared` bytes (Content-Length and Content-Range from
 * `start`), writes only `send` bytes of `data`, waits `pauseMs` so the server can consume them, then
 * destroys the socket mid-body — a dropped connection. Resolves once the socket is closed; if the
 * server answered before the drop, that status is returned (the caller decides whether it matters).
 */
export function patchAndDrop(client: OciClient, location: string, data: Buffer, start: number, send: number, pauseMs = 300): Promise<{ answeredWith?: number }> {
  const u = client.url(location);
  return new Promise((resolve) => {
    let answeredWith: number | undefined;
    const req = httpRequest(
      {
        host: u.hostname,
        port: Number(u.port),
        method: 'PATCH',
        path: `${u.pathname}${u.search}`,
        headers: {
          'Content-Type': 'application/octet-stream',
          'Content-Length': String(data.length),
          'Content-Range': `${start}-${start + data.length - 1}`,
          Connection: 'close',
          ...(client.authorization ? { Authorization: client.authorization } : {}),
        },
      },
      (res) => {
        answeredWith = res.statusCode;
        res.resume();
      },
    );
    req.on('error', () => {
      /* expected: we destroy the socket */
    });
    req.on('close', () => resolve({ answeredWith }));
    req.write(data.subarray(0, send), () => {
      setTimeout(() => req.destroy(), pauseMs);
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
