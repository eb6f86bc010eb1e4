import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';

/** Per-request state shared by the HTTP layer and handlers. */
export interface RequestContext {
  readonly id: string;
  readonly log: Logger;
  /** Route name for logs and metrics (low cardinality), set by the router. */
  route: string;
  /** Repository name when the route has one. */
  repository?: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext) => Promise<void>;
