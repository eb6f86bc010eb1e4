// `npx tsx src/auth/bench-access.ts` — per-request cost of /v2/ authentication + authorization (registry token,
// cached policies and decisions), to compare with the server CPU per manifest GET that `npm run bench` reports.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAccessService } from './access-service.ts';
import { bootstrapAdministrator, createIdentityService } from './identity.ts';
import { loadOrCreateKey } from './keys.ts';
import { createSecretBox } from './secrets.ts';
import { systemClock } from '../core/clock.ts';
import { createSqliteMetadata } from '../metadata/dialects/sqlite.ts';
import { createV2Authorizer } from '../oci/authorize.ts';

const dir = mkdtempSync(join(tmpdir(), 'authbench-'));
const meta = await createSqliteMetadata({ path: join(dir, 'm.sqlite') });
const ids = createIdentityService({ iam: meta.iam, box: createSecretBox(loadOrCreateKey(dir, 'secrets')), accountId: '123456789012', clock: systemClock });
const admin = (await bootstrapAdministrator(ids, meta.iam))!;
await ids.createUser('dev');
const dev = await ids.createAccessKey('dev');
await ids.putUserPolicy('dev', 'p', JSON.stringify({ Version: '2012-10-17', Statement: [
  { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
  { Effect: 'Allow', Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], Resource: 'arn:aws:ecr:us-east-1:123456789012:repository/bench/*' },
  { Effect: 'Deny', Action: 'ecr:BatchDeleteImage', Resource: '*' },
] }));
const repo = await meta.repositories.create('bench/manifest', new Date());
await meta.ecr.setRepositoryPolicy(repo.id, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '123456789012' }, Action: 'ecr:ListImages' }] }), new Date());
const access = createAccessService({ meta, identity: ids, accountId: '123456789012', region: 'us-east-1', tokenKey: loadOrCreateKey(dir, 'token'), clock: systemClock, cacheTtlMs: 5000 });
const auth = createV2Authorizer({ access, proxyEndpoint: () => 'http://x' });
const tokenFor = async (k: { accessKeyId: string; secretAccessKey: string }) => {
  const p = await access.authenticateBasic({ headers: { authorization: `Basic ${Buffer.from(`${k.accessKeyId}:${k.secretAccessKey}`).toString('base64')}` } } as any);
  return `Basic ${access.issueRegistryToken(p, new Date()).authorizationToken}`;
};
for (const [name, k] of [['admin', admin], ['dev', dev]] as const) {
  const header = await tokenFor(k);
  const req = { headers: { authorization: header }, socket: { remoteAddress: '127.0.0.1' }, method: 'GET' } as any;
  const route = { route: 'manifest', method: 'GET', name: 'bench/manifest', ref: 'latest', query: new URLSearchParams() };
  for (let i = 0; i < 20000; i++) await auth(req, {} as any, route);
  const n = 200000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await auth(req, {} as any, route);
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / n;
  console.log(`${name}: ${us.toFixed(2)} µs per /v2/ manifest GET authorization`);
}
await meta.close();
rmSync(dir, { recursive: true, force: true });
