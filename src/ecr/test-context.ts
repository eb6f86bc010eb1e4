import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import type { AccessService, Principal } from '../auth/access.ts';
import { manualClock } from '../core/clock.ts';
import { errorCatalogue, isRegistryError } from '../core/errors.ts';
import { createSqliteMetadata } from '../metadata/dialects/sqlite.ts';
import type { MetadataStore } from '../metadata/types.ts';
import { createJobRunner } from '../jobs/runner.ts';
import type { JobRunner } from '../jobs/types.ts';
import { createRegistry, type Registry } from '../registry/registry.ts';
import { createScanService } from '../scan/service.ts';
import { createLifecycleService } from '../lifecycle/service.ts';
import { createMemoryBlobStore } from '../storage/drivers/memory.ts';
import { operationModuleName } from './catalogue.ts';
import type { EcrContext, EcrOperation } from './context.ts';
import { EcrError } from './errors.ts';
import { createTokenCodec } from './pagination.ts';

/**
 * An in-process ECR context for operation unit tests: a real registry over in-memory SQLite and memory blobs,
 * an access layer that allows everything except the actions listed in `denied`, and `call(op, input)` that
 * runs the operation module the router would load. Failures come back as `{ type, message }` like `__type`.
 */
export interface TestEcr {
  ctx: EcrContext;
  registry: Registry;
  meta: MetadataStore;
  clock: ReturnType<typeof manualClock>;
  /** The job runner scans use (not started: tests `drain()` it). */
  jobs: JobRunner;
  /** `ecr:<Action>` (optionally `ecr:<Action>@<repositoryName>`) the fake access layer denies. */
  denied: Set<string>;
  /** Every authorize() call, as `<Action>` or `<Action>@<repositoryName>`. */
  authorized: string[];
  call(op: string, input?: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Runs the operation expecting a failure; returns its ECR type and message. */
  fail(op: string, input?: Record<string, unknown>): Promise<{ type: string; message: string }>;
  close(): Promise<void>;
}

export const TEST_ACCOUNT = '123456789012';
export const TEST_REGION = 'us-east-1';

export async function createTestEcr(options: { createRepositoryOnPush?: boolean } = {}): Promise<TestEcr> {
  const meta = await createSqliteMetadata({ path: ':memory:' });
  const clock = manualClock(new Date('2026-03-01T12:00:00.500Z'));
  const blobs = createMemoryBlobStore();
  const registry = createRegistry({
    blobs,
    meta,
    clock,
    createRepositoryOnPush: options.createRepositoryOnPush ?? false,
    maxManifestBytes: 4 << 20,
    maxPageSize: 1000,
    accountId: TEST_ACCOUNT,
    region: TEST_REGION,
    onImagePut: (tx, put) => scans.onImagePut(tx, put),
  });
  const silent = pino({ level: 'silent' });
  const jobs = createJobRunner({ meta, clock, log: silent });
  const scans = createScanService({ meta, blobs, clock, log: silent, jobs, settings: { refreshIntervalMs: 86_400_000, rematchWindowMs: 30 * 86_400_000, startScanIntervalMs: 86_400_000 } });
  await scans.register();
  const principal: Principal = { arn: `arn:aws:iam::${TEST_ACCOUNT}:user/tester`, accountId: TEST_ACCOUNT, username: 'tester', isAnonymous: false };
  const repositoryArn = (name: string) => `arn:aws:ecr:${TEST_REGION}:${TEST_ACCOUNT}:repository/${name}`;
  const denied = new Set<string>();
  const authorized: string[] = [];
  const access = {
    identity: { accountId: TEST_ACCOUNT, region: TEST_REGION, repositoryArn },
  } as unknown as AccessService;
  // No job runner here: a preview completes within StartLifecyclePolicyPreview (the e2e tests cover the job).
  const lifecycle = createLifecycleService({ meta, registry, clock, log: pino({ level: 'silent' }), accountId: TEST_ACCOUNT });
  const ctx: EcrContext = {
    requestId: 'test',
    principal,
    region: TEST_REGION,
    accountId: TEST_ACCOUNT,
    registry,
    scans,
    lifecycle,
    access,
    clock,
    tokens: createTokenCodec(randomBytes(32)),
    settings: { registryHost: 'localhost:5000', proxyEndpoint: 'http://localhost:5000' },
    log: pino({ level: 'silent' }),
    async authorize(action, repositoryName) {
      authorized.push(repositoryName ? `${action}@${repositoryName}` : action);
      if (denied.has(`ecr:${action}`) || (repositoryName && denied.has(`ecr:${action}@${repositoryName}`))) {
        throw new EcrError('AccessDeniedException', `User: ${principal.arn} is not authorized to perform: ecr:${action} on resource: ${repositoryName ? repositoryArn(repositoryName) : '*'}`);
      }
    },
    repositoryArn,
    repositoryUri: (name) => `localhost:5000/${name}`,
  };
  const call = async (op: string, input: Record<string, unknown> = {}) => {
    const mod = (await import(`./operations/${operationModuleName(op)}.ts`)) as { default: EcrOperation };
    // Round-trip through JSON as the wire does (drops undefined, rejects non-JSON values).
    return JSON.parse(JSON.stringify(await mod.default(JSON.parse(JSON.stringify(input)), ctx))) as Record<string, unknown>;
  };
  return {
    ctx,
    registry,
    meta,
    clock,
    jobs,
    denied,
    authorized,
    call,
    async fail(op, input = {}) {
      try {
        await call(op, input);
      } catch (e) {
        return ecrFailure(e);
      }
      throw new Error(`${op} succeeded but a failure was expected`);
    },
    close: () => meta.close(),
  };
}

/** What the router would send as `__type` and `message` for a thrown value (ServerException for anything unknown). */
export function ecrFailure(e: unknown): { type: string; message: string } {
  if (e instanceof EcrError) return { type: e.type, message: e.message };
  if (isRegistryError(e)) return { type: errorCatalogue[e.kind].ecr, message: e.message };
  return { type: 'ServerException', message: String(e) };
}

/** Asserts that `op` fails with ECR error `type` (and, when given, exactly that message or one matching it). */
export async function expectEcrFailure(t: TestEcr, op: string, input: Record<string, unknown>, type: string, message?: string | RegExp): Promise<void> {
  const f = await t.fail(op, input);
  assert.equal(f.type, type, `${op}: ${f.message}`);
  if (typeof message === 'string') assert.equal(f.message, message);
  else if (message) assert.match(f.message, message);
}
