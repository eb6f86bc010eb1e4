// The access service over a real (in-memory) metadata store: registry tokens, HTTP Basic, SigV4 with region
// scoping, and authorization through identity, repository and registry policies.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { manualClock } from '../core/clock.ts';
import { isRegistryError } from '../core/errors.ts';
import { createSqliteMetadata } from '../metadata/dialects/sqlite.ts';
import type { MetadataStore } from '../metadata/types.ts';
import { ANONYMOUS, createAccessService, type CargoholdAccessService } from './access-service.ts';
import { ADMINISTRATOR_POLICY, bootstrapAdministrator, createIdentityService, type IdentityService } from './identity.ts';
import { loadOrCreateKey } from './keys.ts';
import { createRegistryTokenCodec } from './registry-token.ts';
import { createSecretBox } from './secrets.ts';
import { AuthError } from './sigv4/index.ts';
import { signTestRequest } from './sigv4/test-signer.ts';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const arn = (name: string) => `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/${name}`;

/** A fake IncomingMessage with what the service reads. */
function req(headers: Record<string, string>, extra: Partial<IncomingMessage> = {}): IncomingMessage {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { headers: lower, headersDistinct: Object.fromEntries(Object.entries(lower).map(([k, v]) => [k, [v]])), method: 'POST', url: '/', socket: {}, ...extra } as unknown as IncomingMessage;
}
const basic = (u: string, p: string) => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });

describe('access service', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cargohold-access-'));
  const clock = manualClock(new Date('2026-03-01T10:00:00Z'));
  let meta: MetadataStore;
  let ids: IdentityService;
  let access: CargoholdAccessService;
  let admin: { accessKeyId: string; secretAccessKey: string };
  let dev: { accessKeyId: string; secretAccessKey: string };

  before(async () => {
    meta = await createSqliteMetadata({ path: ':memory:' });
    ids = createIdentityService({ iam: meta.iam, box: createSecretBox(loadOrCreateKey(dir, 'secrets')), accountId: ACCOUNT, clock });
    admin = (await bootstrapAdministrator(ids, meta.iam))!;
    await ids.createUser('dev');
    dev = await ids.createAccessKey('dev');
    await ids.putUserPolicy('dev', 'dev-only', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:*', Resource: `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/dev/*` }] }));
    access = createAccessService({ meta, identity: ids, accountId: ACCOUNT, region: REGION, tokenKey: loadOrCreateKey(dir, 'token'), clock, cacheTtlMs: 0 });
  });
  after(async () => {
    await meta.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps keys in DATA_DIR/keys with mode 0600 and reuses them', () => {
    const k1 = loadOrCreateKey(dir, 'token');
    assert.deepEqual(loadOrCreateKey(dir, 'token'), k1);
    assert.equal(statSync(join(dir, 'keys', 'token.key')).mode & 0o777, 0o600);
    assert.equal(k1.length, 32);
  });

  it('bootstraps the administrator once, with AdministratorAccess and a sealed secret', async () => {
    assert.equal(await bootstrapAdministrator(ids, meta.iam), undefined, 'users exist: no second bootstrap');
    assert.equal((await ids.getUserPolicy('admin', 'AdministratorAccess'))?.document, ADMINISTRATOR_POLICY);
    const key = (await meta.iam.getAccessKey(admin.accessKeyId))!;
    assert.ok(!key.secretCiphertext.includes(admin.secretAccessKey), 'the secret is not stored in clear');
    assert.equal(ids.revealSecret(key), admin.secretAccessKey);
    assert.throws(() => createSecretBox(loadOrCreateKey(dir, 'secrets')).open('AKIAOTHERKEY00000000', key.secretCiphertext), 'bound to its key id');
    assert.match(admin.accessKeyId, /^AKIA[A-Z2-7]{16}$/);
    assert.equal(admin.secretAccessKey.length, 40);
  });

  it('no Authorization header is the anonymous principal', async () => {
    assert.equal(await access.authenticateBasic(req({})), ANONYMOUS);
  });

  it('issues a registry token that authenticates as its user, contains no ":" and lasts 12 hours', async () => {
    const principal = await access.authenticateBasic(req(basic(admin.accessKeyId, admin.secretAccessKey)));
    assert.equal(principal.arn, `arn:aws:iam::${ACCOUNT}:user/admin`);
    const { authorizationToken, expiresAt } = access.issueRegistryToken(principal, clock.now());
    assert.equal(expiresAt.getTime() - clock.now().getTime(), 12 * 3600 * 1000);
    const decoded = Buffer.from(authorizationToken, 'base64').toString();
    assert.ok(decoded.startsWith('AWS:'));
    const token = decoded.slice(4);
    assert.ok(!token.includes(':'));
    const again = await access.authenticateBasic(req(basic('AWS', token)));
    assert.deepEqual(again, { ...principal, accessKeyId: admin.accessKeyId });
  });

  it('rejects forged, tampered, expired and other-region tokens with 401', async () => {
    const principal = (await access.principalForUser('dev'))!;
    const token = Buffer.from(access.issueRegistryToken(principal, clock.now()).authorizationToken, 'base64').toString().slice(4);
    const unauthorized = async (header: Record<string, string>, message?: RegExp) => {
      await assert.rejects(access.authenticateBasic(req(header)), (e: unknown) => isRegistryError(e) && e.kind === 'UNAUTHORIZED' && (!message || message.test(e.message)));
    };
    const [body, sig] = token.split('.');
    const other = JSON.parse(Buffer.from(body!, 'base64url').toString());
    other.u = 'admin';
    await unauthorized(basic('AWS', `${Buffer.from(JSON.stringify(other)).toString('base64url')}.${sig}`));
    await unauthorized(basic('AWS', `${token}x`));
    await unauthorized(basic('AWS', 'not-a-token'));
    const foreign = createRegistryTokenCodec(loadOrCreateKey(dir, 'token'), { accountId: ACCOUNT, region: 'us-east-1' }).issue({ username: 'dev', accessKeyId: dev.accessKeyId, accountId: ACCOUNT, region: 'us-east-1', issuedAt: clock.now().getTime(), expiresAt: clock.now().getTime() + 1000 });
    await unauthorized(basic('AWS', foreign), /another registry or region/);
    await unauthorized(basic(dev.accessKeyId, 'wrong-secret'));
    await unauthorized({ Authorization: 'Bearer abc' });
    const later = createAccessService({ meta, identity: ids, accountId: ACCOUNT, region: REGION, tokenKey: loadOrCreateKey(dir, 'token'), clock: { now: () => new Date(clock.now().getTime() + 12 * 3600 * 1000 + 1) } });
    await assert.rejects(later.authenticateBasic(req(basic('AWS', token))), /expired/);
  });

  it('a deactivated key no longer authenticates (Basic and SigV4)', async () => {
    const k = await ids.createAccessKey('dev');
    assert.equal((await access.authenticateBasic(req(basic(k.accessKeyId, k.secretAccessKey)))).username, 'dev');
    await ids.setAccessKeyStatus(k.accessKeyId, 'Inactive');
    await assert.rejects(access.authenticateBasic(req(basic(k.accessKeyId, k.secretAccessKey))), (e: unknown) => isRegistryError(e) && e.kind === 'UNAUTHORIZED');
    const signed = await signTestRequest({ accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey }, clock.now(), { host: 'localhost:5000' }, { region: REGION });
    await assert.rejects(access.authenticateSigV4(req(signed.headers as Record<string, string>), signed.bodySha256Hex), (e: unknown) => e instanceof AuthError && e.code === 'UnrecognizedClientException');
  });

  it('verifies SigV4 and insists on the configured region', async () => {
    const good = await signTestRequest(admin, clock.now(), { host: 'localhost:5000' }, { region: REGION });
    const { principal, region } = await access.authenticateSigV4(req(good.headers as Record<string, string>), good.bodySha256Hex);
    assert.equal(principal.username, 'admin');
    assert.equal(region, REGION);
    const wrong = await signTestRequest(admin, clock.now(), { host: 'localhost:5000' }, { region: 'us-west-2' });
    await assert.rejects(access.authenticateSigV4(req(wrong.headers as Record<string, string>), wrong.bodySha256Hex), (e: unknown) => e instanceof AuthError && e.code === 'InvalidSignatureException' && e.message === "Credential should be scoped to a valid region, not 'us-west-2'. ");
  });

  it('authorizes through identity policies with ECR denial wording', async () => {
    const devP = (await access.principalForUser('dev'))!;
    const ok = await access.authorize({ principal: devP, action: 'ecr:PutImage', resource: arn('dev/app'), repositoryName: 'dev/app' });
    assert.equal(ok.allowed, true);
    const no = await access.authorize({ principal: devP, action: 'ecr:PutImage', resource: arn('prod/app'), repositoryName: 'prod/app' });
    assert.equal(no.allowed, false);
    assert.equal(no.message, `User: arn:aws:iam::${ACCOUNT}:user/dev is not authorized to perform: ecr:PutImage on resource: ${arn('prod/app')} because no identity-based policy allows the ecr:PutImage action`);
    const adminP = (await access.principalForUser('admin'))!;
    assert.equal((await access.authorize({ principal: adminP, action: 'ecr:DeleteRepository', resource: arn('x'), repositoryName: 'x' })).allowed, true);
    assert.equal((await access.authorize({ principal: ANONYMOUS, action: 'ecr:BatchGetImage', resource: arn('x'), repositoryName: 'x' })).allowed, false);
  });

  it('applies repository policies (anonymous pull, explicit deny), resource tags and the registry policy', async () => {
    const repo = await meta.repositories.create('public/app', clock.now());
    await meta.ecr.setRepositoryPolicy(repo.id, JSON.stringify({ Version: '2012-10-17', Statement: [
      { Sid: 'AnonymousPull', Effect: 'Allow', Principal: '*', Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] },
      { Sid: 'NoDeletes', Effect: 'Deny', Principal: '*', Action: 'ecr:BatchDeleteImage' },
    ] }), clock.now());
    access.invalidate();
    const anon = await access.authorize({ principal: ANONYMOUS, action: 'ecr:BatchGetImage', resource: arn('public/app'), repositoryName: 'public/app' });
    assert.equal(anon.allowed, true);
    assert.equal(anon.decidedBy?.sid, 'AnonymousPull');
    const adminP = (await access.principalForUser('admin'))!;
    const del = await access.authorize({ principal: adminP, action: 'ecr:BatchDeleteImage', resource: arn('public/app'), repositoryName: 'public/app' });
    assert.equal(del.reason, 'explicit-deny');
    assert.match(del.message!, /with an explicit deny in a resource-based policy$/);

    await ids.createUser('tagged');
    await ids.putUserPolicy('tagged', 'by-tag', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:ListImages', Resource: '*', Condition: { StringEquals: { 'ecr:ResourceTag/team': 'blue' } } }] }));
    const taggedP = (await access.principalForUser('tagged'))!;
    const list = () => access.authorize({ principal: taggedP, action: 'ecr:ListImages', resource: arn('public/app'), repositoryName: 'public/app' });
    assert.equal((await list()).allowed, false);
    await meta.ecr.putTags(repo.id, [{ key: 'team', value: 'blue' }], 50);
    assert.equal((await list()).allowed, true);

    await meta.ecr.setRegistryPolicy(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: { AWS: ACCOUNT }, Action: 'ecr:ListImages', Resource: '*' }] }), clock.now());
    assert.equal((await list()).reason, 'explicit-deny');
    await meta.ecr.deleteRegistryPolicy();
  });

  it('caches within the TTL and invalidate() drops the cache', async () => {
    const cached = createAccessService({ meta, identity: ids, accountId: ACCOUNT, region: REGION, tokenKey: loadOrCreateKey(dir, 'token'), clock, cacheTtlMs: 60_000 });
    await ids.createUser('cachey');
    const p = (await cached.principalForUser('cachey'))!;
    const ask = () => cached.authorize({ principal: p, action: 'ecr:ListImages', resource: arn('dev/x'), repositoryName: 'dev/x' });
    assert.equal((await ask()).allowed, false);
    await ids.putUserPolicy('cachey', 'p', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:ListImages', Resource: '*' }] }));
    assert.equal((await ask()).allowed, false, 'still cached');
    cached.invalidate();
    assert.equal((await ask()).allowed, true);
  });
});
