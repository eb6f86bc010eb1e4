/**
 * `cargohold iam …`: users, access keys, inline policies and `explain`, operating directly on the data directory's
 * stores (like `serve`, it reads --config / --data-dir / CARGOHOLD_*). Safe while the server runs (SQLite WAL);
 * the server picks changes up within `auth.cacheTtlSeconds`. Heavy modules load only when a command runs.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';

interface Common {
  config?: string;
  dataDir?: string;
}

function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Opens the stores of the configured data directory for one command and closes them afterwards. */
async function withIdentity<T>(opts: Common, fn: (ctx: Awaited<ReturnType<typeof open>>) => Promise<T>): Promise<T> {
  const ctx = await open(opts);
  try {
    return await fn(ctx);
  } finally {
    await ctx.meta.close();
  }
}

async function open(opts: Common) {
  const [{ loadConfig }, { join, resolve }, { createSqliteMetadata }, { createIdentityService }, { loadOrCreateKey }, { createSecretBox }, { systemClock }] = await Promise.all([
    import('../config/load.ts'),
    import('node:path'),
    import('../metadata/dialects/sqlite.ts'),
    import('../auth/identity.ts'),
    import('../auth/keys.ts'),
    import('../auth/secrets.ts'),
    import('../core/clock.ts'),
  ]);
  const config = loadConfig({ file: opts.config, env: process.env, overrides: { dataDir: opts.dataDir } });
  const dataDir = resolve(config.dataDir);
  const meta = await createSqliteMetadata({ path: join(dataDir, 'metadata.sqlite') });
  const identity = createIdentityService({ iam: meta.iam, box: createSecretBox(loadOrCreateKey(dataDir, 'secrets')), accountId: config.identity.accountId, clock: systemClock });
  return { config, dataDir, meta, identity };
}

/** A policy given as a file path, `file://path`, `-` (stdin) or inline JSON. */
function readDocument(value: string): string {
  if (value === '-') return readFileSync(0, 'utf8');
  if (value.trimStart().startsWith('{')) return value;
  return readFileSync(value.startsWith('file://') ? value.slice(7) : value, 'utf8');
}

function withCommon(cmd: Command): Command {
  return cmd.option('-c, --config <file>', 'config file (YAML or JSON); also CARGOHOLD_CONFIG').option('-d, --data-dir <dir>', 'data directory; also CARGOHOLD_DATA_DIR');
}

/** Adds `iam` and its subcommands to the program. */
export function registerIamCommands(program: Command): void {
  const iam = program.command('iam').description('manage users, access keys and inline policies; explain authorization decisions');

  const user = iam.command('user').description('IAM users');
  withCommon(user.command('create').argument('<name>').description('create a user (no permissions until a policy is put)')).action(async (name: string, opts: Common) => {
    await withIdentity(opts, async ({ identity }) => {
      const u = await identity.createUser(name);
      out(JSON.stringify({ User: { UserName: u.name, UserId: u.userId, Arn: u.arn, CreateDate: u.createdAt.toISOString() } }, null, 2));
    });
  });
  withCommon(user.command('list').description('list users')).action(async (opts: Common) => {
    await withIdentity(opts, async ({ identity }) => {
      for (const u of await identity.listUsers()) out(`${u.name}\t${u.arn}\t${u.createdAt.toISOString()}`);
    });
  });
  withCommon(user.command('delete').argument('<name>').description('delete a user with its access keys and policies')).action(async (name: string, opts: Common) => {
    await withIdentity(opts, async ({ identity }) => {
      if (!(await identity.deleteUser(name))) fail(`no user named ${name}`);
      out(`deleted user ${name}`);
    });
  });

  const key = iam.command('access-key').description('access keys (the secret is shown only when created)');
  withCommon(key.command('create').requiredOption('-u, --user <name>', 'owner').description('create an access key; prints the secret once')).action(async (opts: Common & { user: string }) => {
    await withIdentity(opts, async ({ identity, config }) => {
      const k = await identity.createAccessKey(opts.user);
      out(JSON.stringify({ AccessKey: { UserName: k.userName, AccessKeyId: k.accessKeyId, SecretAccessKey: k.secretAccessKey, Status: k.status, CreateDate: k.createdAt.toISOString() }, Region: config.identity.region }, null, 2));
    });
  });
  withCommon(key.command('list').requiredOption('-u, --user <name>', 'owner').description("list a user's access keys")).action(async (opts: Common & { user: string }) => {
    await withIdentity(opts, async ({ identity }) => {
      if (!(await identity.getUser(opts.user))) fail(`no user named ${opts.user}`);
      for (const k of await identity.listAccessKeys(opts.user)) out(`${k.accessKeyId}\t${k.status}\tcreated ${k.createdAt.toISOString()}\tlast used ${k.lastUsedAt?.toISOString() ?? 'never'}`);
    });
  });
  for (const [verb, status] of [['deactivate', 'Inactive'], ['activate', 'Active']] as const) {
    withCommon(key.command(verb).argument('<access-key-id>').description(`mark an access key ${status}`)).action(async (id: string, opts: Common) => {
      await withIdentity(opts, async ({ identity }) => {
        if (!(await identity.setAccessKeyStatus(id, status))) fail(`no access key ${id}`);
        out(`${id} is ${status}`);
      });
    });
  }
  withCommon(key.command('delete').argument('<access-key-id>').description('delete an access key')).action(async (id: string, opts: Common) => {
    await withIdentity(opts, async ({ identity }) => {
      if (!(await identity.deleteAccessKey(id))) fail(`no access key ${id}`);
      out(`deleted ${id}`);
    });
  });

  const policy = iam.command('policy').description('inline user policies (IAM JSON)');
  withCommon(policy.command('put').requiredOption('-u, --user <name>').requiredOption('-n, --name <policy>').requiredOption('--document <file|json|->', 'policy JSON: a file, file://path, - for stdin, or the JSON itself').description('create or replace an inline policy'))
    .action(async (opts: Common & { user: string; name: string; document: string }) => {
      const document = readDocument(opts.document);
      await withIdentity(opts, async ({ identity }) => {
        await identity.putUserPolicy(opts.user, opts.name, document);
        out(`put policy ${opts.name} on user ${opts.user}`);
      });
    });
  withCommon(policy.command('get').requiredOption('-u, --user <name>').requiredOption('-n, --name <policy>').description('print an inline policy')).action(async (opts: Common & { user: string; name: string }) => {
    await withIdentity(opts, async ({ identity }) => {
      const p = await identity.getUserPolicy(opts.user, opts.name);
      if (!p) fail(`user ${opts.user} has no policy ${opts.name}`);
      out(p!.document);
    });
  });
  withCommon(policy.command('list').requiredOption('-u, --user <name>').description("list a user's inline policies")).action(async (opts: Common & { user: string }) => {
    await withIdentity(opts, async ({ identity }) => {
      for (const p of await identity.listUserPolicies(opts.user)) out(`${p.policyName}\tupdated ${p.updatedAt.toISOString()}`);
    });
  });
  withCommon(policy.command('delete').requiredOption('-u, --user <name>').requiredOption('-n, --name <policy>').description('delete an inline policy')).action(async (opts: Common & { user: string; name: string }) => {
    await withIdentity(opts, async ({ identity }) => {
      if (!(await identity.deleteUserPolicy(opts.user, opts.name))) fail(`user ${opts.user} has no policy ${opts.name}`);
      out(`deleted policy ${opts.name} of user ${opts.user}`);
    });
  });

  withCommon(
    iam
      .command('explain')
      .description('evaluate identity, repository and registry policies for a request and say which statement decided')
      .requiredOption('-p, --principal <arn|user|anonymous>', 'IAM user ARN, user name, or "anonymous"')
      .requiredOption('-a, --action <ecr:Action>', 'e.g. ecr:PutImage')
      .requiredOption('-r, --resource <arn|*>', 'repository ARN, or * for registry-level actions')
      .option('--source-ip <ip>', 'aws:SourceIp')
      .option('--secure', 'aws:SecureTransport = true'),
  ).action(async (opts: Common & { principal: string; action: string; resource: string; sourceIp?: string; secure?: boolean }) => {
    const { explain } = await import('./iam-explain.ts');
    await withIdentity(opts, async (ctx) => {
      const { lines, allowed } = await explain(ctx, opts);
      for (const l of lines) out(l);
      process.exitCode = allowed ? 0 : 3;
    });
  });
}

function fail(message: string): never {
  const e = new Error(message);
  (e as Error & { userError?: boolean }).userError = true;
  throw e;
}
