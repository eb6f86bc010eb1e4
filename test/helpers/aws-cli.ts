import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { RunningServer } from './server.ts';

const run = promisify(execFile);

/** Debian's AWS CLI v2 (an older v1 may come first on PATH). */
export const AWS_CLI = '/usr/bin/aws';

export type CliResult = { ok: true; json: any } | { ok: false; code: number; stderr: string };

/**
 * `aws ecr …` against a running server with its administrator's key (from the environment only: no config or
 * credentials files, no pager, one attempt). `server` is read at call time, so it can be set in a `before` hook.
 */
export function ecrCli(server: () => RunningServer): { cli(args: string[]): Promise<CliResult>; cliFails(args: string[], type: string): Promise<string> } {
  async function cli(args: string[]): Promise<CliResult> {
    const s = server();
    const c = s.credentials!;
    try {
      const { stdout } = await run(AWS_CLI, ['--endpoint-url', s.url, '--output', 'json', 'ecr', ...args], {
        env: {
          PATH: process.env.PATH, HOME: process.env.HOME, AWS_ACCESS_KEY_ID: c.accessKeyId, AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
          AWS_DEFAULT_REGION: c.region, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_PAGER: '', AWS_MAX_ATTEMPTS: '1',
        },
        maxBuffer: 16 << 20,
      });
      return { ok: true, json: stdout.trim() ? JSON.parse(stdout) : {} };
    } catch (e) {
      const err = e as { code?: number; stderr?: string };
      return { ok: false, code: Number(err.code), stderr: String(err.stderr ?? '') };
    }
  }

  /** Runs a command that must fail with the AWS CLI v2's service-error exit code (254) and `__type`. */
  async function cliFails(args: string[], type: string): Promise<string> {
    const r = await cli(args);
    assert.equal(r.ok, false, `aws ecr ${args.join(' ')} should fail`);
    if (r.ok) throw new Error('unreachable');
    assert.equal(r.code, 254, r.stderr);
    assert.match(r.stderr, new RegExp(`An error occurred \\(${type}\\) when calling the `), r.stderr);
    return r.stderr;
  }

  return { cli, cliFails };
}
