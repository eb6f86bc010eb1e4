import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import { isRegistryError, RegistryError } from '../core/errors.ts';
import type { JobRunner } from '../jobs/types.ts';
import type {
  ImageCursor,
  LifecycleEventRecord,
  LifecyclePreviewRecord,
  LifecyclePreviewResult,
  MetadataStore,
  RepositoryRecord,
  TagStatusFilter,
} from '../metadata/types.ts';
import type { Registry } from '../registry/registry.ts';
import { evaluateLifecyclePolicy, type Evaluation, type ImageDecision, type LifecycleImage } from './evaluate.ts';
import { parseLifecyclePolicy, validateLifecyclePolicyText } from './policy.ts';

/**
 * Lifecycle policies as a service: the ECR operations, the CLI and the background jobs all come here.
 * Preview and apply run the same pure evaluator over the same snapshot read (`meta.lifecycle.images`);
 * apply then deletes each expired image through the image service (the BatchDeleteImage path) with the
 * history row written in the deleting transaction. Reclaiming the bytes is garbage collection's job.
 */

/** Job kinds (src/jobs): the periodic sweep, one evaluation per repository, one preview per repository. */
export const JOB_SWEEP = 'lifecycle.sweep';
export const JOB_EVALUATE = 'lifecycle.evaluate';
export const JOB_PREVIEW = 'lifecycle.preview';

/** A preview still IN_PROGRESS after this long is taken as lost (its job failed for good) and may be restarted. */
export const PREVIEW_STALE_MS = 15 * 60_000;
const SWEEP_PAGE = 500;

export interface LifecycleServiceOptions {
  meta: MetadataStore;
  registry: Registry;
  clock: Clock;
  log: Logger;
  /** Registry (account) id in ECR-worded messages. */
  accountId: string;
  /** Where previews are queued (StartLifecyclePolicyPreview answers IN_PROGRESS; the job completes it). */
  jobs?: Pick<JobRunner, 'enqueue'>;
}

/** What an expiry run did. */
export interface ApplyResult {
  repositoryName: string;
  /** False when the repository has no policy (nothing evaluated). */
  evaluated: boolean;
  evaluatedAt: Date;
  /** Images deleted, in deletion order, each with the history id it got. */
  expired: Array<ImageDecision & { eventId: number }>;
  /** Images the evaluation expired but that changed since (retagged, listed by a new index, already gone). */
  skipped: Array<{ digest: string; reason: string }>;
}

export interface PreviewPage {
  preview: LifecyclePreviewRecord;
  results: LifecyclePreviewResult[];
  next?: ImageCursor;
}

export interface LifecycleService {
  /** Validates (ECR's rules) and stores the policy; returns the text stored. */
  putPolicy(name: string, policyText: string): Promise<{ policyText: string }>;
  /** LIFECYCLE_POLICY_NOT_FOUND when none. */
  getPolicy(name: string): Promise<{ policyText: string; lastEvaluatedAt: Date | null }>;
  /** Removes the policy and returns what it was; LIFECYCLE_POLICY_NOT_FOUND when none. */
  deletePolicy(name: string): Promise<{ policyText: string; lastEvaluatedAt: Date | null }>;
  /** The evaluation of `policyText` (or the stored policy) at `now`, without changing anything. */
  evaluate(name: string, policyText?: string): Promise<Evaluation & { policyText: string; evaluatedAt: Date }>;
  /**
   * Starts a preview (status IN_PROGRESS) of `policyText` or the stored policy and queues it as a job;
   * LIFECYCLE_PREVIEW_IN_PROGRESS while the previous one runs. Without a job runner it completes at once.
   */
  startPreview(name: string, policyText?: string): Promise<{ policyText: string; status: string }>;
  /** Runs the queued preview started at `startedAt` (the preview job's work). */
  runPreview(name: string, startedAt: Date): Promise<void>;
  /** The preview and a page of its results (or the results for `digests`); LIFECYCLE_PREVIEW_NOT_FOUND when none. */
  getPreview(name: string, query: { digests: string[] } | { after?: ImageCursor; limit: number; tagStatus: TagStatusFilter }): Promise<PreviewPage>;
  /** Evaluates the stored policy and expires what it says (the evaluation job's work). */
  apply(name: string): Promise<ApplyResult>;
  /** Queues an evaluation of every repository that has a policy (applies each now without a job runner); returns how many. */
  sweep(): Promise<number>;
  /** Evaluates and expires every repository that has a policy, now, one after the other. */
  applyAll(): Promise<ApplyResult[]>;
  /** The expiry history, oldest first, after `afterId`. */
  history(page: { afterId?: number; limit: number; repositoryName?: string }): Promise<LifecycleEventRecord[]>;
}

function toImage(r: { digest: string; tags: string[]; pushedAt: Date; lastPulledAt: Date | null; mediaType: string; subjectDigest: string | null; children: string[] }): LifecycleImage {
  return { digest: r.digest, tags: r.tags, pushedAt: r.pushedAt, lastPulledAt: r.lastPulledAt, mediaType: r.mediaType, subject: r.subjectDigest, children: r.children };
}

export function createLifecycleService(options: LifecycleServiceOptions): LifecycleService {
  const { meta, registry, clock, log, accountId } = options;

  const notFound = (name: string) =>
    new RegistryError('LIFECYCLE_POLICY_NOT_FOUND', `Lifecycle policy does not exist for the repository with name '${name}' in the registry with id '${accountId}'`, { name });

  async function stored(repo: RepositoryRecord) {
    const p = await meta.lifecycle.getPolicy(repo.id);
    if (!p) throw notFound(repo.name);
    return p;
  }

  async function evaluateRepo(repo: RepositoryRecord, policyText: string): Promise<Evaluation & { evaluatedAt: Date }> {
    const policy = parseLifecyclePolicy(policyText);
    const images = (await meta.lifecycle.images(repo.id)).map(toImage);
    const evaluatedAt = clock.now();
    return { ...evaluateLifecyclePolicy(policy, images, evaluatedAt), evaluatedAt };
  }

  /** Every repository that has a policy, in id order; bounded: each page moves strictly forward. */
  async function eachRepositoryWithPolicy(fn: (name: string) => Promise<void>): Promise<void> {
    let afterId: number | undefined;
    for (;;) {
      const page = await meta.lifecycle.listPolicies({ afterId, limit: SWEEP_PAGE });
      for (const p of page) await fn(p.repositoryName);
      if (page.length < SWEEP_PAGE) return;
      afterId = page[page.length - 1]!.repositoryId;
    }
  }

  const service: LifecycleService = {
    async putPolicy(name, policyText) {
      const repo = await registry.getRepository(name);
      validateLifecyclePolicyText(policyText);
      await meta.lifecycle.putPolicy(repo.id, policyText, clock.now());
      return { policyText };
    },

    async getPolicy(name) {
      const p = await stored(await registry.getRepository(name));
      return { policyText: p.policyText, lastEvaluatedAt: p.lastEvaluatedAt };
    },

    async deletePolicy(name) {
      const repo = await registry.getRepository(name);
      const p = await meta.lifecycle.deletePolicy(repo.id);
      if (!p) throw notFound(name);
      return { policyText: p.policyText, lastEvaluatedAt: p.lastEvaluatedAt };
    },

    async evaluate(name, policyText) {
      const repo = await registry.getRepository(name);
      const text = policyText ?? (await stored(repo)).policyText;
      if (policyText !== undefined) validateLifecyclePolicyText(policyText);
      return { ...(await evaluateRepo(repo, text)), policyText: text };
    },

    async startPreview(name, policyText) {
      const repo = await registry.getRepository(name);
      if (policyText !== undefined) validateLifecyclePolicyText(policyText);
      const text = policyText ?? (await stored(repo)).policyText;
      const now = clock.now();
      const started = await meta.lifecycle.startPreview(repo.id, text, now, new Date(now.getTime() - PREVIEW_STALE_MS));
      if (!started) throw new RegistryError('LIFECYCLE_PREVIEW_IN_PROGRESS', 'The previous lifecycle policy preview request has not completed. Wait and try again.', { name });
      if (options.jobs) await options.jobs.enqueue(JOB_PREVIEW, name, { startedAt: now.getTime() });
      else await service.runPreview(name, now);
      return { policyText: text, status: 'IN_PROGRESS' };
    },

    async runPreview(name, startedAt) {
      const repo = await meta.repositories.get(name);
      if (!repo) return; // deleted meanwhile: its preview went with it
      const preview = await meta.lifecycle.getPreview(repo.id);
      if (!preview || preview.status !== 'IN_PROGRESS' || preview.startedAt.getTime() !== startedAt.getTime()) return;
      try {
        const result = await evaluateRepo(repo, preview.policyText);
        const rows = result.expired.map((d) => ({ digest: d.digest, tags: [...d.tags].sort(), pushedAt: d.pushedAt, rulePriority: d.rulePriority!, reason: d.reason }));
        await meta.lifecycle.completePreview(repo.id, startedAt, rows, clock.now());
      } catch (e) {
        log.warn({ repository: name, err: e }, 'lifecycle preview failed');
        await meta.lifecycle.failPreview(repo.id, startedAt, e instanceof Error ? e.message : String(e), clock.now());
      }
    },

    async getPreview(name, query) {
      const repo = await registry.getRepository(name);
      const preview = await meta.lifecycle.getPreview(repo.id);
      if (!preview) throw new RegistryError('LIFECYCLE_PREVIEW_NOT_FOUND', 'There is no dry run for this repository.', { name });
      if (preview.status !== 'COMPLETE') return { preview, results: [] };
      if ('digests' in query) return { preview, results: await meta.lifecycle.previewResultsFor(repo.id, query.digests) };
      const rows = await meta.lifecycle.previewResults(repo.id, { after: query.after, limit: query.limit + 1, tagStatus: query.tagStatus });
      const results = rows.slice(0, query.limit);
      const last = results[results.length - 1];
      return { preview, results, ...(rows.length > query.limit && last ? { next: { pushedAt: last.pushedAt.getTime(), digest: last.digest } } : {}) };
    },

    async apply(name) {
      const repo = await meta.repositories.get(name);
      const at = clock.now();
      const policy = repo ? await meta.lifecycle.getPolicy(repo.id) : undefined;
      if (!repo || !policy) return { repositoryName: name, evaluated: false, evaluatedAt: at, expired: [], skipped: [] };
      let evaluation: Awaited<ReturnType<typeof evaluateRepo>>;
      try {
        evaluation = await evaluateRepo(repo, policy.policyText);
      } catch (e) {
        // A policy stored before today's validation (e.g. copied from an old creation template): never guess.
        if (!isRegistryError(e) || e.kind !== 'POLICY_INVALID') throw e;
        log.warn({ repository: name, reason: e.message }, 'stored lifecycle policy is not valid; not evaluated');
        return { repositoryName: name, evaluated: false, evaluatedAt: at, expired: [], skipped: [] };
      }
      const expired: ApplyResult['expired'] = [];
      const skipped: ApplyResult['skipped'] = [];
      for (const d of evaluation.expired) {
        try {
          let eventId = 0;
          await registry.images.deleteByDigest(repo, d.digest, {
            expectTags: d.tags,
            within: async (tx, removed) => {
              [eventId] = await tx.lifecycle.appendEvents([{ repositoryName: name, digest: d.digest, tags: [...removed.tags].sort(), rulePriority: d.rulePriority!, reason: d.reason, at: clock.now() }]);
            },
          });
          expired.push({ ...d, eventId });
        } catch (e) {
          if (!isRegistryError(e) || !['CONFLICT', 'IMAGE_REFERENCED_BY_INDEX', 'MANIFEST_UNKNOWN'].includes(e.kind)) throw e;
          skipped.push({ digest: d.digest, reason: e.message });
        }
      }
      await meta.lifecycle.markEvaluated(repo.id, evaluation.evaluatedAt);
      if (expired.length || skipped.length) log.info({ repository: name, expired: expired.length, skipped: skipped.length }, 'lifecycle expiry');
      return { repositoryName: name, evaluated: true, evaluatedAt: evaluation.evaluatedAt, expired, skipped };
    },

    async sweep() {
      let queued = 0;
      await eachRepositoryWithPolicy(async (name) => {
        if (options.jobs) await options.jobs.enqueue(JOB_EVALUATE, name, {});
        else await service.apply(name);
        queued++;
      });
      return queued;
    },

    async applyAll() {
      const results: ApplyResult[] = [];
      await eachRepositoryWithPolicy(async (name) => {
        results.push(await service.apply(name));
      });
      return results;
    },

    history(page) {
      return meta.lifecycle.events(page);
    },
  };
  return service;
}

/** Settings of the automatic expiry (config section `lifecycle`). */
export interface LifecycleJobSettings {
  enabled: boolean;
  intervalSeconds: number;
}

/**
 * Registers the lifecycle job kinds on the process's runner and keeps the periodic sweep scheduled: every
 * `intervalSeconds` the sweep queues one evaluation per repository with a policy (deduplicated by the job
 * store, so several nodes never evaluate one repository twice at once). Previews always run as jobs.
 */
export async function registerLifecycleJobs(jobs: JobRunner, service: LifecycleService, settings: LifecycleJobSettings): Promise<void> {
  jobs.register(JOB_PREVIEW, async (job) => {
    const { startedAt } = (job.payload ?? {}) as { startedAt?: number };
    if (typeof startedAt === 'number') await service.runPreview(job.key, new Date(startedAt));
  });
  jobs.register(JOB_EVALUATE, async (job) => {
    await service.apply(job.key);
  }, { leaseMs: 5 * 60_000 });
  jobs.register(JOB_SWEEP, async () => {
    // A schedule left from a run with expiry enabled stays a row; with it disabled now, the sweep does nothing.
    if (settings.enabled) await service.sweep();
  });
  if (settings.enabled) await jobs.schedule(JOB_SWEEP, 'registry', settings.intervalSeconds * 1000);
}
