import type { IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { RegistryError } from '../core/errors.ts';
import type { Handler, RequestContext } from '../http/context.ts';
import { DOWNLOAD_PATH_PREFIX } from '../registry/download-links.ts';
import { parseDownloadPath } from '../registry/images.ts';
import type { Registry } from '../registry/registry.ts';
import { parseRangeHeader } from './http-util.ts';

/**
 * `GET|HEAD /_cargohold/download/<name>/<digest>?expires=…&signature=…`: the signed layer links
 * GetDownloadUrlForLayer hands out (ECR's presigned S3 URLs). The signature is the authorization, so this
 * route needs no credentials; it streams the blob with Range support while the link is valid and the
 * repository still holds the blob. Returns undefined for other paths.
 */
export function createDownloadRoute(options: { registry: Registry }): (req: IncomingMessage, ctx: RequestContext) => Handler | undefined {
  return (req, ctx) => {
    const url = req.url ?? '/';
    if (!url.startsWith(DOWNLOAD_PATH_PREFIX)) return undefined;
    ctx.route = 'download';
    return async (_req, res) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', 'GET, HEAD');
        throw new RegistryError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on a download link; allowed: GET, HEAD`);
      }
      const q = url.indexOf('?');
      const parts = parseDownloadPath(q === -1 ? url : url.slice(0, q));
      if (!parts) throw new RegistryError('NOT_FOUND', 'not a download link');
      ctx.repository = parts.name;
      const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
      const blob = await options.registry.images.openDownload(parts.name, parts.digest, query.get('expires'), query.get('signature'));
      const head = req.method === 'HEAD';
      const base = { 'Docker-Content-Digest': blob.digest, 'Accept-Ranges': 'bytes', ETag: `"${blob.digest}"`, 'Content-Type': 'application/octet-stream' };
      const range = head ? undefined : parseRangeHeader(req.headers.range, blob.size);
      if (range === 'unsatisfiable') {
        throw new RegistryError('RANGE_NOT_SATISFIABLE', `range ${req.headers.range} is outside the blob (${blob.size} bytes)`, { size: blob.size }, { headers: { 'Content-Range': `bytes */${blob.size}` } });
      }
      if (head) {
        res.writeHead(200, { ...base, 'Content-Length': blob.size });
        res.end();
        return;
      }
      const stream = await options.registry.openBlob(parts.name, blob.digest, range);
      if (range) res.writeHead(206, { ...base, 'Content-Length': range.end - range.start + 1, 'Content-Range': `bytes ${range.start}-${range.end}/${blob.size}` });
      else res.writeHead(200, { ...base, 'Content-Length': blob.size });
      try {
        await pipeline(stream, res);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw e;
      }
    };
  };
}
