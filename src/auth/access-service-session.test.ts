// Temporary credentials in the access service: GetSessionToken's credentials authenticate SigV4 as the parent
// user until they expire (manual clock), and stop when the parent key is deactivated or deleted; forged tokens
// and mismatched key ids are UnrecognizedClientException.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { manualClock } from '../core/clock.ts';
import { createSqliteMetadata } from '../metadata/dialects/sqlite.ts';
import type { MetadataStore } from '../metadata/types.ts';
import { createAccessService, type CargoholdAccessService } from './access-service.ts';
import { createIdentityService, type IdentityService } from './identity.ts';
import { loadOrCreateKey } from './keys.ts';
import { createSecretBox } from './secrets.ts';
import { createSessionTokenCodec } from './session-token.ts';
import { AuthError, type AuthErrorCode } from './sigv4/index.ts';
import { signTestRequest, type TestCredentials } from './sigv4/test-signer.ts';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';

function req(headers: Record<string, string>, extra: Partial<IncomingMessage> = {}): IncomingMessage {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { headers: lower, headersDistinct: Object.fromEntries(Object.entries(lower).map(([k, v]) => [k, [v]])), method: 'POST', url: '/', socket: {}, ...extra } as unknown as IncomingMessage;
}
/** The token with one base64url character in the middle changed. */
const flip = (t: string, i: number) => t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1);
const basic = (u: string, p: string) => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });

describe('access service: temporary credentials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cargohold-session-'));
  const clock = manualClock(new Date('2026-03-01T10:00:00Z'));
  let meta: MetadataStore;
  let ids: IdentityService;
  let access: CargoholdAccessService;
  let dev: { accessKeyId: string; secretAccessKey: string };

  before(async () => {
    meta = await createSqliteMetadata({ path: ':memory:' });
    ids = createIdentityService({ iam: meta.iam, box: createSecretBox(loadOrCreateKey(dir, 'secrets')), accountId: ACCOUNT, clock });
    await ids.createUser('dev');
    dev = await ids.createAccessKey('dev');
    access = createAccessService({ meta, identity: ids, accountId: ACCOUNT, region: REGION, tokenKey: loadOrCreateKey(dir, 'token'), sessionKey: loadOrCreateKey(dir, 'session'), clock, cacheTtlMs: 0 });
  });
  after(async () => {
    await meta.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function authenticate(creds: TestCredentials, options: { service?: string; via?: CargoholdAccessService } = {}) {
    const signed = await signTestRequest(creds, clock.now(), { host: 'localhost:5000' }, { region: REGION, service: options.service ?? 'ecr' });
    return (options.via ?? access).authenticateSigV4(req(signed.headers as Record<string, string>), signed.bodySha256Hex, options.service ? { service: options.service } : undefined);
  }
  const failsWith = (p: Promise<unknown>, code: AuthErrorCode, message?: string) =>
    assert.rejects(p, (e: unknown) => e instanceof AuthError && e.code === code && (message === undefined || e.message === message));

  async function issue(key = dev, seconds = 900) {
    const { principal, temporary } = await authenticate(key, { service: 'sts' });
    assert.equal(temporary, false);
    return access.issueSessionCredentials(principal, seconds, clock.now());
  }

  it('issues ASIA credentials that authenticate as the parent user (ecr and sts scopes)', async () => {
    const c = await issue();
    assert.match(c.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
    assert.equal(c.expiration.getTime(), clock.now().getTime() + 900_000);
    const creds = { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken };
    const { principal, temporary } = await authenticate(creds);
    assert.equal(temporary, true);
    assert.equal(principal.arn, `arn:aws:iam::${ACCOUNT}:user/dev`);
    assert.equal(principal.username, 'dev');
    assert.equal(principal.accessKeyId, c.accessKeyId);
    assert.equal((await authenticate(creds, { service: 'sts' })).temporary, true);
    // Another node with the same DATA_DIR/keys accepts them too (stateless).
    const other = createAccessService({ meta, identity: ids, accountId: ACCOUNT, region: REGION, tokenKey: loadOrCreateKey(dir, 'token'), sessionKey: loadOrCreateKey(dir, 'session'), clock });
    assert.equal((await authenticate(creds, { via: other })).principal.username, 'dev');
  });

  it('registry tokens from temporary credentials carry the parent principal', async () => {
    const c = await issue();
    const { principal } = await authenticate({ accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken });
    const { authorizationToken } = access.issueRegistryToken(principal, clock.now());
    const password = Buffer.from(authorizationToken, 'base64').toString().slice(4);
    const basicPrincipal = await access.authenticateBasic(req(basic('AWS', password)));
    assert.equal(basicPrincipal.arn, `arn:aws:iam::${ACCOUNT}:user/dev`);
  });

  it('expired → ExpiredTokenException (manual clock)', async () => {
    const c = await issue();
    const creds = { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken };
    clock.advance(899_000);
    assert.equal((await authenticate(creds)).temporary, true);
    clock.advance(1_000);
    await failsWith(authenticate(creds), 'ExpiredTokenException', 'The security token included in the request is expired');
  });

  it('forged, garbled, mismatched or missing tokens → UnrecognizedClientException', async () => {
    const c = await issue();
    const invalid = 'The security token included in the request is invalid.';
    await failsWith(authenticate({ accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: flip(c.sessionToken, 30) }), 'UnrecognizedClientException', invalid);
    await failsWith(authenticate({ accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: 'FwoGZXIvYXdzEBYaDAbogus' }), 'UnrecognizedClientException', invalid);
    await failsWith(authenticate({ accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey }), 'UnrecognizedClientException', invalid);
    const d = await issue();
    await failsWith(authenticate({ accessKeyId: d.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken }), 'UnrecognizedClientException', invalid);
    // A token sealed with another key (another installation).
    const foreign = createSessionTokenCodec(Buffer.alloc(32, 7), { accountId: ACCOUNT }).seal({ accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, username: 'dev', parentAccessKeyId: dev.accessKeyId, accountId: ACCOUNT, issuedAt: 0, expiresAt: clock.now().getTime() + 1e6 });
    await failsWith(authenticate({ accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: foreign }), 'UnrecognizedClientException', invalid);
    // A long-term key with a session token attached.
    await failsWith(authenticate({ ...dev, sessionToken: c.sessionToken }), 'UnrecognizedClientException', invalid);
    // Right token, wrong secret.
    await failsWith(authenticate({ accessKeyId: c.accessKeyId, secretAccessKey: dev.secretAccessKey, sessionToken: c.sessionToken }), 'InvalidSignatureException');
  });

  it('stop working when the parent key is deactivated or deleted, and again when reactivated', async () => {
    const k = await ids.createAccessKey('dev');
    const c = await issue(k);
    const creds = { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken };
    assert.equal((await authenticate(creds)).principal.username, 'dev');
    await ids.setAccessKeyStatus(k.accessKeyId, 'Inactive');
    await failsWith(authenticate(creds), 'UnrecognizedClientException');
    await ids.setAccessKeyStatus(k.accessKeyId, 'Active');
    assert.equal((await authenticate(creds)).principal.username, 'dev');
    await ids.deleteAccessKey(k.accessKeyId);
    await failsWith(authenticate(creds), 'UnrecognizedClientException');
  });

  it('refuses to issue for anonymous callers', () => {
    assert.throws(() => access.issueSessionCredentials({ arn: 'anonymous', accountId: '', isAnonymous: true }, 900, clock.now()));
  });
});
