import type { Logger } from 'pino';
import type { AccessService, Principal } from '../auth/access.ts';
import type { Clock } from '../core/clock.ts';
import type { LifecycleService } from '../lifecycle/service.ts';
import type { Registry } from '../registry/registry.ts';
import type { ScanService } from '../scan/service.ts';
import type { TokenCodec } from './pagination.ts';

/** Settings the ECR front end needs from config. */
export interface EcrSettings {
  /** Host[:port] clients use for docker (repositoryUri = `<registryHost>/<name>`). */
  registryHost: string;
  /** proxyEndpoint in GetAuthorizationToken (scheme + host). */
  proxyEndpoint: string;
}

/** What an ECR operation receives besides its input. */
export interface EcrContext {
  readonly requestId: string;
  readonly principal: Principal;
  /** Region from the request's SigV4 credential scope. */
  readonly region: string;
  readonly accountId: string;
  readonly registry: Registry;
  /** Image scanning: scan requests, results, registry scanning configuration. */
  readonly scans: ScanService;
  /** Lifecycle policies and previews (src/lifecycle/). */
  readonly lifecycle: LifecycleService;
  readonly access: AccessService;
  readonly clock: Clock;
  readonly tokens: TokenCodec;
  readonly settings: EcrSettings;
  readonly log: Logger;
  /** Client address (for aws:SourceIp). */
  readonly sourceIp?: string;
  /**
   * Authorizes `ecr:<action>` on a repository (by name) or, without a name, on `*`. Throws
   * AccessDeniedException with ECR's wording when denied.
   */
  authorize(action: string, repositoryName?: string): Promise<void>;
  repositoryArn(name: string): string;
  repositoryUri(name: string): string;
}

/** An ECR operation: validated input in, output members out (JSON-serialisable; omit absent members). */
export type EcrOperation = (input: Record<string, unknown>, ctx: EcrContext) => Promise<Record<string, unknown>>;
