/**
 * `cargohold lifecycle …`: lifecycle policies on the data directory directly (like `iam` and `gc`): put / get /
 * delete a repository's policy, preview what it (or a candidate policy) expires now, run the expiry now, and
 * read or follow the expiry history. The same service the ECR API and the expiry job use, so a preview here
 * is the evaluation the server's job would make at this instant.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { LifecycleService } from '../lifecycle/service.ts';
import type { LifecycleEventRecord } from '../metadata/types.ts';
import type { DataOptions } from './open-data.ts';

interface JsonOption extends DataOptions {
  json?: boolean;
}

function userError(message: string): Error {
  return Object.assign(new Error(message), { userError: true });
}

function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** A policy given as a file path, `file://path`, `-` (stdin) or inline JSON. */
function readPolicy(value: string): string {
  if (value === '-') return readFileSync(0, 'utf8');
  if (value.trimStart().startsWith('{')) return value;
  return readFileSync(value.startsWith('file://') ? value.slice(7) : value, 'utf8');
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) out(row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}

function eventLine(e: LifecycleEventRecord, json: boolean): string {
  if (json) return JSON.stringify({ id: e.id, at: e.at.toISOString(), repository: e.repositoryName, imageDigest: e.digest, imageTags: e.tags, rulePriority: e.rulePriority, reason: e.reason });
  return `${e.at.toISOString()}  #${e.id}  ${e.repositoryName}  ${e.digest}  [${e.tags.join(',')}]  rule ${e.rulePriority}: ${e.reason}`;
}

/**
 * Opens the data directory and builds the lifecycle service over it with the server's layering (src/main.ts:
 * storage driver → encryption at rest → registry), with no job runner: previews and runs happen now.
 */
async function withLifecycle<T>(opts: DataOptions, fn: (service: LifecycleService, accountId: string) => Promise<T>): Promise<T> {
  const [{ withData }, { default: pino }, { openBlobStore }, { openEncryptionAtRest }, { createRegistry }, { createLifecycleService }, { systemClock }] = await Promise.all([
    import('./open-data.ts'), import('pino'), import('../storage/open.ts'), import('../storage/encryption/open.ts'), import('../registry/registry.ts'), import('../lifecycle/service.ts'), import('../core/clock.ts'),
  ]);
  return withData(opts, async ({ config, dataDir, meta }) => {
    const atRest = await openEncryptionAtRest({ config, dataDir, inner: await openBlobStore(config), meta, clock: systemClock });
    try {
      const log = pino({ level: 'warn' }, pino.destination(2));
      // Expiry deletes metadata rows only (the image service's delete); blob bytes are left to garbage collection.
      const registry = createRegistry({
        blobs: atRest.blobs,
        meta: atRest.meta,
        clock: systemClock,
        createRepositoryOnPush: false,
        maxManifestBytes: config.registry.maxManifestBytes,
        maxPageSize: config.registry.maxPageSize,
        accountId: config.identity.accountId,
        region: config.identity.region,
        encryption: atRest.service,
      });
      const service = createLifecycleService({ meta: atRest.meta, registry, clock: systemClock, log, accountId: config.identity.accountId });
      return await fn(service, config.identity.accountId);
    } finally {
      await atRest.blobs.close();
    }
  });
}

function common(cmd: Command): Command {
  return cmd.option('-c, --config <file>', 'config file (YAML or JSON); also CARGOHOLD_CONFIG').option('-d, --data-dir <dir>', 'data directory; also CARGOHOLD_DATA_DIR');
}

/** Adds `lifecycle` and its subcommands to the program. */
export function registerLifecycleCommands(program: Command): void {
  const lc = program.command('lifecycle').description('lifecycle policies: put/get/delete a policy, preview or run the expiry now, and the expiry history');

  common(lc.command('put').argument('<repository>').argument('<policy>', 'policy JSON: a file, file://path, - (stdin) or inline').description('validate (as ECR does) and set a repository\'s lifecycle policy'))
    .action(async (repository: string, policy: string, opts: DataOptions) => {
      await withLifecycle(opts, async (service, accountId) => {
        const r = await service.putPolicy(repository, readPolicy(policy));
        out(JSON.stringify({ registryId: accountId, repositoryName: repository, lifecyclePolicyText: r.policyText }, null, 2));
      });
    });

  common(lc.command('get').argument('<repository>').description('print a repository\'s lifecycle policy and when it was last evaluated'))
    .action(async (repository: string, opts: DataOptions) => {
      await withLifecycle(opts, async (service, accountId) => {
        const p = await service.getPolicy(repository);
        out(JSON.stringify({ registryId: accountId, repositoryName: repository, lifecyclePolicyText: p.policyText, lastEvaluatedAt: p.lastEvaluatedAt?.toISOString() ?? null }, null, 2));
      });
    });

  common(lc.command('delete').argument('<repository>').description('remove a repository\'s lifecycle policy'))
    .action(async (repository: string, opts: DataOptions) => {
      await withLifecycle(opts, async (service) => {
        await service.deletePolicy(repository);
        out(`deleted the lifecycle policy of ${repository}`);
      });
    });

  common(lc.command('preview').argument('<repository>').description('show what the policy (or --policy) would expire now, with the rule and the reason; changes nothing'))
    .option('-p, --policy <policy>', 'preview this policy instead of the stored one (file, file://path, - or inline JSON)')
    .option('--all', 'also list the images kept, with why')
    .option('--json', 'one JSON object per line')
    .action(async (repository: string, opts: JsonOption & { policy?: string; all?: boolean }) => {
      await withLifecycle(opts, async (service) => {
        const e = await service.evaluate(repository, opts.policy === undefined ? undefined : readPolicy(opts.policy));
        const shown = opts.all ? e.decisions : e.expired;
        if (opts.json) {
          for (const d of shown) out(JSON.stringify({ imageDigest: d.digest, imageTags: d.tags, imagePushedAt: d.pushedAt.toISOString(), action: d.action, rulePriority: d.rulePriority, reason: d.reason }));
          out(JSON.stringify({ summary: { evaluatedAt: e.evaluatedAt.toISOString(), images: e.decisions.length, expiringImageTotalCount: e.expired.length } }));
          return;
        }
        if (shown.length) printTable([['ACTION', 'RULE', 'DIGEST', 'TAGS', 'PUSHED', 'REASON'], ...shown.map((d) => [d.action, d.rulePriority === null ? '-' : String(d.rulePriority), d.digest, d.tags.join(',') || '<untagged>', d.pushedAt.toISOString(), d.reason])]);
        out(`${e.expired.length} of ${e.decisions.length} images would expire (evaluated at ${e.evaluatedAt.toISOString()})`);
      });
    });

  common(lc.command('run').argument('[repository]', 'one repository (default: every repository with a policy)').description('evaluate and expire now, as the scheduled job does; each expiry is recorded in the history'))
    .option('--json', 'one JSON object per line')
    .action(async (repository: string | undefined, opts: JsonOption) => {
      await withLifecycle(opts, async (service) => {
        const results = repository !== undefined ? [await service.apply(repository)] : await service.applyAll();
        let expired = 0;
        for (const r of results) {
          if (repository !== undefined && !r.evaluated) throw userError(`repository ${repository} has no lifecycle policy`);
          for (const d of r.expired) {
            expired++;
            if (opts.json) out(JSON.stringify({ id: d.eventId, repository: r.repositoryName, imageDigest: d.digest, imageTags: d.tags, rulePriority: d.rulePriority, reason: d.reason }));
            else out(`expired ${r.repositoryName}@${d.digest} [${d.tags.join(',')}] rule ${d.rulePriority}: ${d.reason}`);
          }
          for (const s of r.skipped) if (!opts.json) out(`skipped ${r.repositoryName}@${s.digest}: ${s.reason}`);
        }
        if (!opts.json) out(`${expired} image(s) expired in ${results.filter((r) => r.evaluated).length} repository(ies)`);
      });
    });

  common(lc.command('history').description('list expiries (oldest first); --follow keeps printing new ones as they happen'))
    .option('-r, --repository <name>', 'only this repository')
    .option('--after <id>', 'only events after this id')
    .option('--limit <n>', 'at most this many (default 1000; without --follow)')
    .option('-f, --follow', 'keep running and print new expiries as they are recorded (Ctrl-C to stop)')
    .option('--json', 'one JSON object per line (NDJSON)')
    .action(async (opts: JsonOption & { repository?: string; after?: string; limit?: string; follow?: boolean }) => {
      const limit = opts.limit === undefined ? 1000 : Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw userError('--limit must be an integer from 1 to 100000');
      let afterId = opts.after === undefined ? undefined : Number(opts.after);
      if (afterId !== undefined && !Number.isInteger(afterId)) throw userError('--after must be an event id');
      await withLifecycle(opts, async (service) => {
        const page = async (n: number) => {
          const rows = await service.history({ afterId, limit: n, repositoryName: opts.repository });
          for (const e of rows) out(eventLine(e, !!opts.json));
          if (rows.length) afterId = rows[rows.length - 1]!.id;
          return rows.length;
        };
        if (!opts.follow) {
          await page(limit);
          return;
        }
        const stop = new AbortController();
        process.once('SIGINT', () => stop.abort());
        process.once('SIGTERM', () => stop.abort());
        while (!stop.signal.aborted) {
          if ((await page(1000)) === 1000) continue;
          await new Promise<void>((r) => {
            const t = setTimeout(r, 1000);
            stop.signal.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
          });
        }
      });
    });
}
