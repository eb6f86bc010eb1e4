/**
 * Which registry the protocol tests run against.
 *
 * Default: the real cargohold server (`startCargohold()`).
 * CARGOHOLD_E2E_TARGET=distribution: CNCF Distribution 2.8.2 (/usr/bin/docker-registry) as a reference,
 * to check that the tests themselves encode real registry behaviour. Tests that assert OCI 1.1 features
 * or deliberate cargohold choices that Distribution 2.8 lacks are marked `todo` on that target (they still
 * run and report, but do not fail the run) via `distTodo(reason)`.
 */
import { startDistribution } from '../helpers/distribution.ts';
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
  const d = await startDistribution();
  return { url: d.url, stop: () => d.stop() };
}
