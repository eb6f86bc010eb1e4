/**
 * Helpers for the auth end-to-end tests: an ECR SDK client for a running server, direct access to its
 * identity store (the same stores `cargohold iam` uses, opened from the test process), and registry tokens.
 */
import { join } from 'node:path';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { createIdentityService, type IdentityService } from '../../src/auth/identity.ts';
import { loadOrCreateKey } from '../../src/auth/keys.ts';
import { createSecretBox } from '../../src/auth/secrets.ts';
import { systemClock } from '../../src/core/clock.ts';
import { createSqliteMetadata } from '../../src/metadata/dialects/sqlite.ts';
import type { MetadataStore } from '../../src/metadata/types.ts';
import { basicAuth, type RunningServer } from './server.ts';

export interface Key {
  accessKeyId: string;
  secretAccessKey: string;
}

/** An ECR client for the server (admin credentials unless others are given). */
export function ecrClient(s: RunningServer, key: Key = s.credentials!, region = s.credentials!.region): ECRClient {
  return new ECRClient({ endpoint: s.url, region, credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }, maxAttempts: 1 });
}

/** The server's identity store, opened from the test process (like `cargohold iam`). */
export async function openIdentity(s: RunningServer, accountId = '123456789012'): Promise<{ identity: IdentityService; meta: MetadataStore; close(): Promise<void> }> {
  const meta = await createSqliteMetadata({ path: join(s.dataDir, 'metadata.sqlite') });
  const identity = createIdentityService({ iam: meta.iam, box: createSecretBox(loadOrCreateKey(s.dataDir, 'secrets')), accountId, clock: systemClock });
  return { identity, meta, close: () => meta.close() };
}

/** Creates a user with one access key and (optionally) one inline policy. */
export async function createUser(identity: IdentityService, name: string, policy?: object): Promise<Key> {
  await identity.createUser(name);
  if (policy) await identity.putUserPolicy(name, `${name}-policy`, JSON.stringify(policy));
  const k = await identity.createAccessKey(name);
  return { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey };
}

/** An identity policy document. */
export function policy(...Statement: object[]): object {
  return { Version: '2012-10-17', Statement };
}

/** The docker password from GetAuthorizationToken (SDK), for `key`. */
export async function registryPassword(s: RunningServer, key: Key): Promise<string> {
  const out = await ecrClient(s, key).send(new GetAuthorizationTokenCommand({}));
  const decoded = Buffer.from(out.authorizationData![0]!.authorizationToken!, 'base64').toString();
  return decoded.slice(decoded.indexOf(':') + 1);
}

/** `Basic AWS:<token>` for `key`. */
export async function tokenAuthorization(s: RunningServer, key: Key): Promise<string> {
  return basicAuth('AWS', await registryPassword(s, key));
}

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const repoArn = (name: string) => `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/${name}`;
