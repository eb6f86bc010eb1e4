import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { parseDigest } from '../core/digest.ts';
import { RegistryError } from '../core/errors.ts';
import { MediaType } from '../core/media-types.ts';
import type { Handler, RequestContext } from '../http/context.ts';
import { sendBlob } from '../http/send-blob.ts';
import type { HttpMetrics } from '../http/metrics.ts';
import { manifestAcceptable } from '../registry/images.ts';
import type { Registry } from '../registry/registry.ts';
import type { OciAccess, OciAuthorizer } from './authorize.ts';
import { chunkRange, contentLength, pageParams, parseRangeHeader, readBody, sendEmpty, sendJson } from './http-util.ts';

export interface OciRoutesOptions {
  registry: Registry;
  metrics: HttpMetrics;
  maxManifestBytes: number;
  /** Authenticates and authorizes each matched request before its handler (auth/ via oci/authorize.ts); absent = open registry. */
  authorize?: OciAuthorizer;
  /**
   * When set, blob GETs (after the repository's access was checked) answer 307 with this URL instead of the
   * bytes (S3 presigned URLs: `storage.s3.redirect`). HEAD is always answered here.
   */
  blobRedirect?: (digest: string) => Promise<string>;
}

type OciHandler = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext, p: RouteParams) => Promise<void>;

interface RouteParams {
  name: string;
  ref: string;
  query: URLSearchParams;
  /** Set by the authorizer. */
  access?: OciAccess;
}

interface RouteDef {
  name: string;
  re: RegExp;
  methods: Record<string, OciHandler>;
}

/** The Accept header's types through the rule BatchGetImage's acceptedMediaTypes also uses. */
/** Accept negotiation results by (Accept header, media type): clients send the same few Accept headers. */
const acceptMemo = new Map<string, boolean>();

function acceptable(accept: string | string[] | undefined, mediaType: string): boolean {
  if (!accept) return true;
  const header = Array.isArray(accept) ? accept.join(',') : accept;
  const key = `${mediaType}\n${header}`;
  let ok = acceptMemo.get(key);
  if (ok === undefined) {
    ok = manifestAcceptable(header.split(','), mediaType);
    if (acceptMemo.size >= 1000) acceptMemo.clear();
    acceptMemo.set(key, ok);
  }
  return ok;
}

function uploadHeaders(name: string, id: string, size: number): Record<string, string | number> {
  return { Location: `/v2/${name}/blobs/uploads/${id}`, Range: `0-${Math.max(size - 1, 0)}`, 'Docker-Upload-UUID': id };
}

function blobCreatedHeaders(name: string, digest: string): Record<string, string> {
  return { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest };
}

function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  if (len !== undefined) return len !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

/** Builds the /v2/ router. Returns undefined for paths outside /v2/. */
export function createOciRoutes(options: OciRoutesOptions): (req: IncomingMessage, ctx: RequestContext) => Handler | undefined {
  const { registry, metrics } = options;

  const getManifest: OciHandler = async (req, res, _ctx, p) => {
    const head = req.method === 'HEAD';
    const m = await registry.getManifest(p.name, p.ref, { recordPull: !head });
    if (!acceptable(req.headers.accept, m.mediaType)) {
      throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${p.name}:${p.ref} is a ${m.mediaType}, which the Accept header does not allow`, { mediaType: m.mediaType });
    }
    res.writeHead(200, { 'Content-Type': m.mediaType, 'Content-Length': m.size, 'Docker-Content-Digest': m.digest, ETag: `"${m.digest}"` });
    res.end(head ? undefined : m.body);
  };

  const putManifest: OciHandler = async (req, res, _ctx, p) => {
    const body = await readBody(req, options.maxManifestBytes, 'MANIFEST_TOO_LARGE');
    const r = await registry.putManifest(p.name, p.ref, req.headers['content-type'], body);
    const headers: Record<string, string | number> = { Location: `/v2/${p.name}/manifests/${r.digest}`, 'Docker-Content-Digest': r.digest };
    if (r.subject) headers['OCI-Subject'] = r.subject;
    sendEmpty(res, 201, headers);
  };

  const deleteManifest: OciHandler = async (_req, res, _ctx, p) => {
    await registry.deleteManifest(p.name, p.ref);
    sendEmpty(res, 202);
  };

  const getBlob: OciHandler = async (req, res, _ctx, p) => {
    const head = req.method === 'HEAD';
    const blob = await registry.statBlob(p.name, p.ref, { head });
    const base = { 'Docker-Content-Digest': blob.digest, 'Accept-Ranges': 'bytes', ETag: `"${blob.digest}"`, 'Cache-Control': 'max-age=31536000' };
    const range = head ? undefined : parseRangeHeader(req.headers.range, blob.size);
    if (range === 'unsatisfiable') {
      throw new RegistryError('RANGE_NOT_SATISFIABLE', `range ${req.headers.range} is outside the blob (${blob.size} bytes)`, { size: blob.size }, { headers: { 'Content-Range': `bytes */${blob.size}` } });
    }
    if (head) {
      res.writeHead(200, { ...base, 'Content-Type': 'application/octet-stream', 'Content-Length': blob.size });
      res.end();
      return;
    }
    if (options.blobRedirect) {
      // The client repeats the request (Range included) against the object store.
      sendEmpty(res, 307, { Location: await options.blobRedirect(blob.digest), 'Docker-Content-Digest': blob.digest, 'Cache-Control': 'no-store' });
      return;
    }
    const reader = await registry.openBlobReader(blob.digest);
    if (reader && range === undefined && reader.size !== blob.size) {
      await reader.close();
      throw new RegistryError('INTERNAL', `stored blob ${blob.digest} has ${reader.size} bytes, metadata says ${blob.size}`);
    }
    const stream = reader ? undefined : await registry.openBlob(p.name, blob.digest, range);
    if (range) {
      res.writeHead(206, { ...base, 'Content-Type': 'application/octet-stream', 'Content-Length': range.end - range.start + 1, 'Content-Range': `bytes ${range.start}-${range.end}/${blob.size}` });
    } else {
      res.writeHead(200, { ...base, 'Content-Type': 'application/octet-stream', 'Content-Length': blob.size });
    }
    if (reader) {
      await sendBlob(reader, res, range?.start ?? 0, range ? range.end - range.start + 1 : blob.size);
      return;
    }
    try {
      await pipeline(stream!, res);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw e;
    }
  };

  const deleteBlob: OciHandler = async (_req, res, _ctx, p) => {
    await registry.deleteBlob(p.name, p.ref);
    sendEmpty(res, 202);
  };

  /** Runs an upload body through the registry while counting it as an upload in progress. */
  async function receiving<T>(fn: () => Promise<T>): Promise<T> {
    metrics.uploadsInProgress.inc();
    try {
      return await fn();
    } finally {
      metrics.uploadsInProgress.dec();
    }
  }

  const startUpload: OciHandler = async (req, res, _ctx, p) => {
    const mount = p.query.get('mount');
    const digestParam = p.query.get('digest');
    if (mount !== null) {
      const digest = parseDigest(mount, 'mount digest');
      const from = p.query.get('from');
      const mounted = from ? await registry.mountBlob(p.name, digest, from) : undefined;
      if (mounted) {
        req.resume();
        sendEmpty(res, 201, blobCreatedHeaders(p.name, mounted.digest));
        return;
      }
    } else if (digestParam !== null) {
      const length = contentLength(req);
      const blob = await receiving(() => registry.putBlob(p.name, digestParam, req, length));
      sendEmpty(res, 201, blobCreatedHeaders(p.name, blob.digest));
      return;
    }
    req.resume();
    const up = await registry.startUpload(p.name);
    sendEmpty(res, 202, uploadHeaders(p.name, up.id, up.size));
  };

  const uploadStatus: OciHandler = async (_req, res, _ctx, p) => {
    const up = await registry.uploadStatus(p.name, p.ref);
    sendEmpty(res, 204, uploadHeaders(p.name, up.id, up.size));
  };

  const patchUpload: OciHandler = async (req, res, _ctx, p) => {
    const range = chunkRange(req);
    const up = await receiving(() => registry.appendUpload(p.name, p.ref, req, range));
    sendEmpty(res, 202, uploadHeaders(p.name, up.id, up.size));
  };

  const putUpload: OciHandler = async (req, res, _ctx, p) => {
    const digest = p.query.get('digest');
    const withBody = hasBody(req);
    const range = withBody ? chunkRange(req) : undefined;
    const blob = await receiving(() => registry.completeUpload(p.name, p.ref, digest, withBody ? req : undefined, range));
    sendEmpty(res, 201, blobCreatedHeaders(p.name, blob.digest));
  };

  const cancelUpload: OciHandler = async (_req, res, _ctx, p) => {
    await registry.cancelUpload(p.name, p.ref);
    sendEmpty(res, 204);
  };

  const listTags: OciHandler = async (req, res, _ctx, p) => {
    const page = pageParams(p.query);
    const r = await registry.listTags(p.name, page);
    const headers: Record<string, string> = {};
    if (r.next !== undefined) headers.Link = `</v2/${p.name}/tags/list?n=${page.n ?? r.items.length}&last=${encodeURIComponent(r.next)}>; rel="next"`;
    sendJson(res, 200, { name: p.name, tags: r.items }, headers, req.method === 'HEAD');
  };

  const catalog: OciHandler = async (req, res, _ctx, p) => {
    const page = pageParams(p.query);
    const r = await registry.catalog(page);
    const headers: Record<string, string> = {};
    if (r.next !== undefined) headers.Link = `</v2/_catalog?n=${page.n ?? r.items.length}&last=${encodeURIComponent(r.next)}>; rel="next"`;
    const repositories = p.access?.visibleRepositories ? await p.access.visibleRepositories(r.items) : r.items;
    sendJson(res, 200, { repositories }, headers, req.method === 'HEAD');
  };

  const referrers: OciHandler = async (req, res, _ctx, p) => {
    const artifactType = p.query.get('artifactType') || undefined;
    const list = await registry.referrers(p.name, p.ref, artifactType);
    const manifests = list.map((r) => ({
      mediaType: r.mediaType,
      digest: r.digest,
      size: r.size,
      ...(r.artifactType ? { artifactType: r.artifactType } : {}),
      ...(r.annotations ? { annotations: JSON.parse(r.annotations) } : {}),
    }));
    const headers: Record<string, string> = { 'Content-Type': MediaType.ociIndex };
    if (artifactType) headers['OCI-Filters-Applied'] = 'artifactType';
    sendJson(res, 200, { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }, headers, req.method === 'HEAD');
  };

  const base: OciHandler = async (req, res) => {
    sendJson(res, 200, {}, {}, req.method === 'HEAD');
  };

  const routes: RouteDef[] = [
    { name: 'base', re: /^\/v2\/?$/, methods: { GET: base, HEAD: base } },
    { name: 'catalog', re: /^\/v2\/_catalog$/, methods: { GET: catalog, HEAD: catalog } },
    { name: 'tags', re: /^\/v2\/(.+)\/tags\/list$/, methods: { GET: listTags, HEAD: listTags } },
    { name: 'manifest', re: /^\/v2\/(.+)\/manifests\/([^/]+)$/, methods: { GET: getManifest, HEAD: getManifest, PUT: putManifest, DELETE: deleteManifest } },
    { name: 'upload-start', re: /^\/v2\/(.+)\/blobs\/uploads\/?$/, methods: { POST: startUpload } },
    { name: 'upload', re: /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, methods: { GET: uploadStatus, PATCH: patchUpload, PUT: putUpload, DELETE: cancelUpload } },
    { name: 'blob', re: /^\/v2\/(.+)\/blobs\/([^/]+)$/, methods: { GET: getBlob, HEAD: getBlob, DELETE: deleteBlob } },
    { name: 'referrers', re: /^\/v2\/(.+)\/referrers\/([^/]+)$/, methods: { GET: referrers, HEAD: referrers } },
  ];

  return (req, ctx) => {
    const url = req.url ?? '/';
    if (!url.startsWith('/v2')) return undefined;
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    for (const r of routes) {
      const m = r.re.exec(path);
      if (!m) continue;
      ctx.route = r.name;
      const params: RouteParams = { name: m[1] ?? '', ref: m[2] ?? '', query: new URLSearchParams(q === -1 ? '' : url.slice(q + 1)) };
      if (params.name) ctx.repository = params.name;
      const h = r.methods[req.method ?? ''];
      if (!h) {
        return async (_req, res) => {
          res.setHeader('Allow', Object.keys(r.methods).join(', '));
          throw new RegistryError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${r.name}; allowed: ${Object.keys(r.methods).join(', ')}`);
        };
      }
      const authorize = options.authorize;
      if (!authorize) return (rq, rs, c) => h(rq, rs, c, params);
      return async (rq, rs, c) => {
        params.access = await authorize(rq, c, { route: r.name, method: rq.method ?? '', name: params.name, ref: params.ref, query: params.query });
        return h(rq, rs, c, params);
      };
    }
    return undefined;
  };
}
