import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseIni, resolveAwsCredentials } from './aws-credentials.ts';
import { endpointFor } from './main.ts';

describe('credential helper: endpoint for a server URL', () => {
  const table: Array<[string, string]> = [
    ['127.0.0.1:5000', 'http://127.0.0.1:5000/'],
    ['localhost:5000', 'http://localhost:5000/'],
    ['[::1]:5000', 'http://[::1]:5000/'],
    ['registry.example.com', 'https://registry.example.com/'],
    ['registry.example.com:8443', 'https://registry.example.com:8443/'],
    ['http://registry.internal:5000', 'http://registry.internal:5000/'],
    ['https://127.0.0.1:5443/v2/', 'https://127.0.0.1:5443/'],
  ];
  for (const [server, endpoint] of table) it(`${server} → ${endpoint}`, () => assert.equal(endpointFor(server, {}).href, endpoint));
  it('CARGOHOLD_ENDPOINT_URL and AWS_ENDPOINT_URL_ECR override', () => {
    assert.equal(endpointFor('x:1', { CARGOHOLD_ENDPOINT_URL: 'http://api.local:9000' }).href, 'http://api.local:9000/');
    assert.equal(endpointFor('x:1', { AWS_ENDPOINT_URL_ECR: 'https://ecr.local' }).href, 'https://ecr.local/');
  });
});

describe('credential helper: AWS credentials like the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cargohold-awscreds-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const creds = join(dir, 'credentials');
  const config = join(dir, 'config');
  writeFileSync(creds, '# comment\n[default]\naws_access_key_id = AKIADEFAULT000000000\naws_secret_access_key=secretdefault\nregion=eu-west-1\n\n[ci]\naws_access_key_id=AKIACI00000000000000\naws_secret_access_key=secretci\n');
  writeFileSync(config, '[profile ci]\nregion = ap-south-1\n[default]\nregion = us-west-2\n');

  it('parses INI sections', () => {
    assert.equal(parseIni('[a]\nx = 1\n; c\n[b]\ny=2=3\n').get('b')?.get('y'), '2=3');
  });
  it('reads the default profile with its region', () => {
    const r = resolveAwsCredentials({ AWS_SHARED_CREDENTIALS_FILE: creds, AWS_CONFIG_FILE: config });
    assert.deepEqual(r.credentials, { accessKeyId: 'AKIADEFAULT000000000', secretAccessKey: 'secretdefault' });
    assert.equal(r.region, 'eu-west-1');
  });
  it('AWS_PROFILE picks another profile; region from the config file', () => {
    const r = resolveAwsCredentials({ AWS_SHARED_CREDENTIALS_FILE: creds, AWS_CONFIG_FILE: config, AWS_PROFILE: 'ci' });
    assert.equal(r.credentials.accessKeyId, 'AKIACI00000000000000');
    assert.equal(r.region, 'ap-south-1');
  });
  it('environment keys and region win', () => {
    const r = resolveAwsCredentials({ AWS_SHARED_CREDENTIALS_FILE: creds, AWS_ACCESS_KEY_ID: 'AKIAENV0000000000000', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 't', AWS_REGION: 'sa-east-1' });
    assert.deepEqual(r.credentials, { accessKeyId: 'AKIAENV0000000000000', secretAccessKey: 's', sessionToken: 't' });
    assert.equal(r.region, 'sa-east-1');
  });
  it('no credentials anywhere is an error', () => {
    assert.throws(() => resolveAwsCredentials({ AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'), AWS_CONFIG_FILE: join(dir, 'none'), HOME: dir }), /no AWS credentials/);
  });
});
