import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AccessService } from '../auth/access.ts';
import { AuthError } from '../auth/sigv4/index.ts';
import type { Clock } from '../core/clock.ts';
import type { LifecycleService } from '../lifecycle/service.ts';
import { errorCatalogue, isRegistryError } from '../core/errors.ts';
import { parseBoundedJson } from '../core/json.ts';
import { readBody, sha256Hex } from '../http/body.ts';
import { clientGone } from '../http/errors.ts';
import type { Handler, RequestContext } from '../http/context.ts';
import type { Registry } from '../registry/registry.ts';
import type { ScanService } from '../scan/service.ts';
import { ECR_OPERATIONS, ECR_TARGET_PREFIX, operationModuleName } from './catalogue.ts';
import type { EcrContext, EcrOperation, EcrSettings } from './context.ts';
import { EcrError } from './errors.ts';
import type { TokenCodec } from './pagination.ts';

export interface EcrRoutesOptions {
  registry: Registry;
  /** Image scanning (StartImageScan, findings, scanning configuration). */
  scans: ScanService;
  lifecycle: LifecycleService;
  access: AccessService;
  clock: Clock;
  tokens: TokenCodec;
  settings: EcrSettings;
  log: Logger;
  /** Largest JSON body of an ordinary operation (default 1 MiB). */
  maxBodyBytes?: number;
  /** Largest manifest (default 4 MiB): PutImage bodies may be twice that (the manifest is a JSON string in the body). */
  maxManifestBytes?: number;
}

const KNOWN = new Set<string>(ECR_OPERATIONS);
/**
 * UploadLayerPart carries a part of up to 20 MiB (ECR's limit) base64-encoded: 4/3 of it plus the other fields.
 * PutImage carries a manifest as a JSON string (escaping may double it). Everything else is small.
 */
const MAX_PART_BODY = Math.ceil((20 * 1024 * 1024 * 4) / 3) + 64 * 1024;
const JSON_TYPE = 'application/x-amz-json-1.1';

/**
 * The ECR control plane: `POST /` with `X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Operation>`,
 * AWS JSON 1.1, every request SigV4-verified. Operation modules load on first use.
 */
export function createEcrRoutes(options: EcrRoutesOptions): (req: IncomingMessage, ctx: RequestContext) => Handler | undefined {
  const modules = new Map<string, Promise<EcrOperation>>();
  const load = (op: string) => {
    let m = modules.get(op);
    if (!m) {
      m = import(`./operations/${operationModuleName(op)}.ts`).then((mod: { default: EcrOperation }) => mod.default);
      modules.set(op, m);
    }
    return m;
  };

  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  const maxPutImageBody = 2 * (options.maxManifestBytes ?? 4 * 1024 * 1024) + 64 * 1024;
  const bodyLimit = (op: string) => (op === 'UploadLayerPart' ? MAX_PART_BODY : op === 'PutImage' ? Math.max(maxBody, maxPutImageBody) : maxBody);

  return (req, rctx) => {
    const target = req.headers['x-amz-target'];
    if (req.method !== 'POST' || (req.url !== '/' && !req.url?.startsWith('/?')) || typeof target !== 'string') return undefined;
    rctx.route = 'ecr';
    return async (_req, res) => {
      const op = target.startsWith(ECR_TARGET_PREFIX) ? target.slice(ECR_TARGET_PREFIX.length) : '';
      rctx.route = KNOWN.has(op) ? `ecr:${op}` : 'ecr';
      try {
        if (!KNOWN.has(op)) throw new EcrError('UnknownOperationException', `Unknown operation ${target.slice(0, 200)}`);
        const body = await readBody(req, bodyLimit(op)).catch((e) => {
          if (isRegistryError(e) && e.kind === 'BODY_TOO_LARGE') throw new EcrError('InvalidParameterException', `Request body too large: ${e.message}`);
          throw e;
        });
        const { principal, region } = await options.access.authenticateSigV4(req, sha256Hex(body));
        let input: unknown;
        try {
          input = body.length ? parseBoundedJson(body.toString('utf8')) : {};
        } catch {
          throw new EcrError('SerializationException', 'Request body is not valid JSON');
        }
        if (!input || typeof input !== 'object' || Array.isArray(input)) throw new EcrError('SerializationException', 'Request body must be a JSON object');
        const identity = options.access.identity;
        const ctx: EcrContext = {
          requestId: rctx.id,
          principal,
          region,
          accountId: identity.accountId,
          registry: options.registry,
          scans: options.scans,
          lifecycle: options.lifecycle,
          access: options.access,
          clock: options.clock,
          tokens: options.tokens,
          settings: options.settings,
          log: options.log,
          sourceIp: req.socket.remoteAddress,
          repositoryArn: (name) => identity.repositoryArn(name),
          repositoryUri: (name) => `${options.settings.registryHost}/${name}`,
          async authorize(action, repositoryName) {
            const decision = await options.access.authorize({
              principal,
              action: `ecr:${action}`,
              resource: repositoryName ? identity.repositoryArn(repositoryName) : '*',
              repositoryName,
              sourceIp: req.socket.remoteAddress,
              secure: (req.socket as { encrypted?: boolean }).encrypted === true,
            });
            if (!decision.allowed) throw new EcrError('AccessDeniedException', decision.message ?? `User: ${principal.arn} is not authorized to perform: ecr:${action}`);
          },
        };
        const operation = await load(op);
        const output = await operation(input as Record<string, unknown>, ctx);
        send(res, rctx.id, 200, output);
      } catch (e) {
        renderError(res, rctx, e, options.log);
      }
    };
  };
}

function send(res: ServerResponse, requestId: string, status: number, value: unknown, extraHeaders: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': JSON_TYPE, 'Content-Length': Buffer.byteLength(body), 'x-amzn-RequestId': requestId, ...extraHeaders });
  res.end(body);
}

/** Renders any failure as AWS JSON 1.1 (`__type`, `message`); only real faults are ServerException 500. */
export function renderError(res: ServerResponse, rctx: RequestContext, e: unknown, log: Logger): void {
  if (clientGone(res) && !(e instanceof EcrError) && !(e instanceof AuthError)) {
    log.info({ reqId: rctx.id, route: rctx.route, reason: (e as Error | undefined)?.message }, 'request aborted by the client');
    return;
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  let type: string;
  let message: string;
  let status = 400;
  let extra: Record<string, unknown> = {};
  if (e instanceof EcrError) {
    ({ type, message, status, extra } = e);
  } else if (e instanceof AuthError) {
    type = e.code;
    message = e.message;
    status = e.status;
  } else if (isRegistryError(e)) {
    const spec = errorCatalogue[e.kind];
    type = spec.ecr;
    message = e.message;
    status = 'ecrStatus' in spec ? spec.ecrStatus : 400;
    if (status >= 500) log.error({ reqId: rctx.id, route: rctx.route, err: e.cause ?? e }, 'request failed');
  } else {
    log.error({ reqId: rctx.id, route: rctx.route, err: e }, 'request failed');
    type = 'ServerException';
    message = 'An internal error occurred';
    status = 500;
  }
  send(res, rctx.id, status, { __type: type, message, ...extra }, { 'x-amzn-ErrorType': type });
}
