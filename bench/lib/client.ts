import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import { MEDIA, type SmallBlob, type SmallImage } from './data.ts';
import { rawGet } from './raw-get.ts';

type Body = Buffer | AsyncIterable<Uint8Array> | null;
type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface TimedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * A minimal OCI Distribution client over undici (keep-alive connections, no pipelining). Every call checks
 * the status it expects and throws with the server's error body otherwise, so a benchmark never reports the
 * speed of failing requests.
 */
export class RegistryClient {
  readonly agent: Agent;

  /** `authorization` is sent on every request (cargohold: the administrator's Basic credentials). */
  constructor(readonly baseUrl: string, connections = 128, readonly authorization?: string) {
    this.agent = new Agent({ connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 120_000, bodyTimeout: 120_000 });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** Resolves a Location header against the registry URL. */
  resolve(location: string): URL {
    return new URL(location, this.baseUrl);
  }

  private async send(method: Method, url: string | URL, expect: number[], opts: { headers?: Record<string, string>; body?: Body; signal?: AbortSignal } = {}): Promise<Dispatcher.ResponseData> {
    // undici streams (async) iterables as request bodies (documented), though its typings list only Readable.
    const body = (opts.body ?? undefined) as Buffer | Readable | undefined;
    const headers = this.authorization ? { authorization: this.authorization, ...opts.headers } : opts.headers;
    const res = await request(url, { method, headers, body, dispatcher: this.agent, signal: opts.signal });
    if (!expect.includes(res.statusCode)) {
      const text = (await res.body.text().catch(() => '')).slice(0, 500);
      throw new Error(`${method} ${new URL(url).pathname} → ${res.statusCode} (expected ${expect.join('/')}): ${text}`);
    }
    return res;
  }

  private static header(res: Dispatcher.ResponseData, name: string): string | undefined {
    const v = res.headers[name];
    return Array.isArray(v) ? v[0] : v;
  }

  /** POST /v2/<repo>/blobs/uploads/ → absolute upload URL. */
  async startUpload(repo: string, signal?: AbortSignal): Promise<URL> {
    const res = await this.send('POST', `${this.baseUrl}/v2/${repo}/blobs/uploads/`, [202], { headers: { 'content-length': '0' }, signal });
    await res.body.dump();
    const location = RegistryClient.header(res, 'location');
    if (!location) throw new Error('POST blobs/uploads/ without Location');
    return this.resolve(location);
  }

  /** PUT <upload>?digest= with the whole body (monolithic) or none (after PATCHes); expects 201. */
  async finishUpload(upload: URL, digest: string, body: Body, size: number, signal?: AbortSignal): Promise<void> {
    const url = new URL(upload);
    url.searchParams.set('digest', digest);
    const res = await this.send('PUT', url, [201], {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body,
      signal,
    });
    await res.body.dump();
    const got = RegistryClient.header(res, 'docker-content-digest');
    if (got && got !== digest) throw new Error(`upload committed as ${got}, expected ${digest}`);
  }

  /** POST + PUT ?digest= (the two-request monolithic upload). */
  async pushBlob(repo: string, digest: string, body: Body, size: number, signal?: AbortSignal): Promise<void> {
    const upload = await this.startUpload(repo, signal);
    await this.finishUpload(upload, digest, body, size, signal);
  }

  async pushSmallBlob(repo: string, blob: SmallBlob, signal?: AbortSignal): Promise<void> {
    await this.pushBlob(repo, blob.digest, blob.data, blob.data.length, signal);
  }

  /** PATCH one chunk with Content-Range; returns the next upload URL (the Location the server answered). */
  async patchChunk(upload: URL, start: number, length: number, body: Body, signal?: AbortSignal): Promise<URL> {
    const res = await this.send('PATCH', upload, [202], {
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(length),
        'content-range': `${start}-${start + length - 1}`,
      },
      body,
      signal,
    });
    await res.body.dump();
    const location = RegistryClient.header(res, 'location');
    if (!location) throw new Error('PATCH without Location');
    const range = RegistryClient.header(res, 'range');
    if (range && range !== `0-${start + length - 1}`) throw new Error(`PATCH answered Range ${range}, expected 0-${start + length - 1}`);
    return this.resolve(location);
  }

  async putManifest(repo: string, reference: string, manifest: SmallBlob, signal?: AbortSignal): Promise<void> {
    const res = await this.send('PUT', `${this.baseUrl}/v2/${repo}/manifests/${reference}`, [201], {
      headers: { 'content-type': MEDIA.ociManifest },
      body: manifest.data,
      signal,
    });
    await res.body.dump();
    const got = RegistryClient.header(res, 'docker-content-digest');
    if (got && got !== manifest.digest) throw new Error(`manifest stored as ${got}, expected ${manifest.digest}`);
  }

  /** Pushes config and layers (sequentially) then the manifest by tag. */
  async pushImage(repo: string, tag: string, image: SmallImage, signal?: AbortSignal): Promise<void> {
    await this.pushSmallBlob(repo, image.config, signal);
    for (const layer of image.layers) await this.pushSmallBlob(repo, layer, signal);
    await this.putManifest(repo, tag, image.manifest, signal);
  }

  /** GET a manifest with the standard Accept header; returns its body, Content-Type and digest header. */
  async getManifest(repo: string, reference: string): Promise<{ body: Buffer; contentType?: string; digest?: string }> {
    const res = await this.send('GET', `${this.baseUrl}/v2/${repo}/manifests/${reference}`, [200], { headers: { accept: MEDIA.manifestAccept } });
    const body = Buffer.from(await res.body.arrayBuffer());
    return { body, contentType: RegistryClient.header(res, 'content-type'), digest: RegistryClient.header(res, 'docker-content-digest') };
  }

  /** GET a blob (or a Range of it), streaming the body through sha256; returns the byte count and hex hash. */
  async getBlob(repo: string, digest: string, range?: { start: number; length: number }, signal?: AbortSignal): Promise<{ bytes: number; hex: string }> {
    const headers: Record<string, string> = {};
    if (range) headers.range = `bytes=${range.start}-${range.start + range.length - 1}`;
    const res = await this.send('GET', `${this.baseUrl}/v2/${repo}/blobs/${digest}`, [range ? 206 : 200], { headers, signal });
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of res.body) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    return { bytes, hex: hash.digest('hex') };
  }

  /**
   * GET a whole blob over a dedicated socket with the lean reader in raw-get.ts, hashing as it arrives. For the
   * big pull, where undici's own CPU per byte would otherwise be the bottleneck on a shared 2-core machine.
   */
  async pullBlobFast(repo: string, digest: string, signal?: AbortSignal): Promise<{ bytes: number; hex: string }> {
    const hash = createHash('sha256');
    const res = await rawGet(new URL(`${this.baseUrl}/v2/${repo}/blobs/${digest}`), this.authorization ? { Authorization: this.authorization } : {}, (chunk) => hash.update(chunk), signal);
    if (res.status !== 200) throw new Error(`GET /v2/${repo}/blobs/${digest} → ${res.status} (expected 200)`);
    return { bytes: res.bodyBytes, hex: hash.digest('hex') };
  }

  /** GET a tag list page; returns the tags and the next page's URL from the Link header, if any. */
  async listTags(url: string | URL): Promise<{ tags: string[]; next?: URL }> {
    const res = await this.send('GET', url, [200]);
    const json = (await res.body.json()) as { tags?: string[] | null };
    const link = RegistryClient.header(res, 'link');
    const m = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
    return { tags: json.tags ?? [], next: m ? this.resolve(m[1]) : undefined };
  }
}
