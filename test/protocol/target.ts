/**
 * Which registry the protocol tests run against.
 *
 * Default: the real cargohold server (`startCargohold()`).
 * CARGOHOLD_E2E_TARGET=distribution: CNCF Distribution 2.8.2 (/usr/bin/docker-registry) as a reference,
 * to check that the tests themselves encode real registry behaviour. Tests that assert OCI 1.1 features
 * or deliberate cargohold choices that Distribution 2.8 lacks are marked `todo` on that target (they still
 * run and report, but do not fail the run) via `distTodo(reason)`.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startCargohold } from '../helpers/server.ts';
import { OciClient } from '../helpers/oci-client.ts';

export type TargetKind = 'cargohold' | 'distribution';
export const TARGET: TargetKind = process.env.CARGOHOLD_E2E_TARGET === 'distribution' ? 'distribution' : 'cargohold';
export const onDistribution = TARGET === 'distribution';

/** `todo` option for a test that Distribution 2.8.2 is known not to satisfy (reason says why). */
export function distTodo(reason: string): { todo?: string } {
  return onDistribution ? { todo: `Distribution 2.8.2: ${reason}` } : {};
}

export interface Target {
  kind: TargetKind;
  url: string;
  client: OciClient;
  stop(): Promise<void>;
}

export async function startTarget(): Promise<Target> {
  if (onDistribution) {
    const d = await startDistributionTarget();
    return { kind: 'distribution', url: d.url, client: new OciClient(d.url), stop: d.stop };
  }
  const s = await startCargohold({ env: { CARGOHOLD_LOG_LEVEL: process.env.CARGOHOLD_LOG_LEVEL ?? 'warn' } });
  // The administrator's key as HTTP Basic: on the client, and as user:password in `url` (for rawRequest).
  const url = `http://${encodeURIComponent(s.credentials!.accessKeyId)}:${encodeURIComponent(s.credentials!.secretAccessKey)}@${s.host}`;
  return { kind: 'cargohold', url, client: new OciClient(s.url, { authorization: s.authorization }), stop: () => s.stop() };
}

async function startDistributionTarget(): Promise<{ url: string; stop(): Promise<void> }> {
  const helper = new URL('../helpers/distribution.ts', import.meta.url);
  if (existsSync(helper) && process.env.CARGOHOLD_E2E_OWN_DISTRIBUTION !== '1') {
    const mod = await import(helper.href);
    const d = await mod.startDistribution();
    return { url: d.url, stop: () => d.stop() };
  }
  return startOwnDistribution();
}

/** Fallback launcher used until test/helpers/distribution.ts exists (delete enabled, port 0). */
async function startOwnDistribution(): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'cargohold-dist-'));
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      '  addr: 127.0.0.1:0',
      '  secret: protocol-tests',
      '',
    ].join('\n'),
  );
  const child = spawn('/usr/bin/docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('docker-registry did not start')), 20_000);
    child.once('exit', (code) => reject(new Error(`docker-registry exited with ${code}`)));
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        const m = /listening on ([0-9.]+:\d+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(`http://${m[1]}`);
        }
      });
    }
  });
  return {
    url,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
