// End to end with the real client: @aws-sdk/client-ecr signs ECR calls, a capturing request handler takes the
// wire request, and verifySigV4 must accept it exactly as the server would receive it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { DescribeRepositoriesCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import type { HttpRequest } from '@smithy/types';
import { AuthError, parseAmzDate, verifySigV4, type SigV4Request, type SigV4Secret } from './index.ts';
import { encodeQuery } from './test-signer.ts';

interface Creds { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

async function captureSigned(creds: Creds, command: DescribeRepositoriesCommand | GetAuthorizationTokenCommand): Promise<SigV4Request> {
  let captured: HttpRequest | undefined;
  const client = new ECRClient({
    region: 'ap-southeast-2',
    endpoint: 'http://127.0.0.1:5123',
    credentials: creds,
    requestHandler: {
      handle: async (request: HttpRequest) => {
        captured = request;
        const body = new TextEncoder().encode('{}');
        return { response: { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body } };
      },
    } as never,
  });
  await client.send(command as never);
  client.destroy();
  const req = captured!;
  // Take the raw bytes (the SDK's body adapter warns on string-style access).
  const body = req.body instanceof Uint8Array ? Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength) : Buffer.from(String(req.body ?? ''));
  return {
    method: req.method,
    path: req.path,
    query: encodeQuery(req.query),
    headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v])),
    bodySha256Hex: createHash('sha256').update(body).digest('hex'),
  };
}

function options(secret: SigV4Secret & { id: string }, req: SigV4Request) {
  return {
    now: parseAmzDate(String(req.headers['x-amz-date']))!,
    service: 'ecr',
    lookupSecret: async (id: string) => (id === secret.id ? secret : undefined),
  };
}

describe('verifySigV4 with @aws-sdk/client-ecr', () => {
  const creds = { accessKeyId: 'AKIASDKTEST00EXAMPLE', secretAccessKey: 'sdk/secret+key' };

  it('accepts DescribeRepositories as signed by the SDK, region from the credential scope', async () => {
    const req = await captureSigned(creds, new DescribeRepositoriesCommand({ repositoryNames: ['team/app'] }));
    assert.match(String(req.headers['authorization']), /\/ap-southeast-2\/ecr\/aws4_request/);
    const result = await verifySigV4(req, options({ id: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, active: true }, req));
    assert.equal(result.accessKeyId, creds.accessKeyId);
    assert.equal(result.region, 'ap-southeast-2');
    assert.ok(result.signedHeaders.includes('x-amz-target'));
  });

  it('accepts GetAuthorizationToken with session credentials and checks the token', async () => {
    const temp = { ...creds, accessKeyId: 'ASIASDKTEST00EXAMPLE', sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE' };
    const req = await captureSigned(temp, new GetAuthorizationTokenCommand({}));
    const secret = { id: temp.accessKeyId, secretAccessKey: temp.secretAccessKey, sessionToken: temp.sessionToken, active: true };
    await verifySigV4(req, options(secret, req));
    await assert.rejects(
      verifySigV4(req, options({ ...secret, sessionToken: 'rotated' }, req)),
      (e: unknown) => e instanceof AuthError && e.code === 'UnrecognizedClientException',
    );
  });

  it('rejects the SDK request when the body was swapped', async () => {
    const req = await captureSigned(creds, new DescribeRepositoriesCommand({ repositoryNames: ['app'] }));
    const swapped = { ...req, bodySha256Hex: createHash('sha256').update('{"repositoryNames":["other"]}').digest('hex') };
    await assert.rejects(
      verifySigV4(swapped, options({ id: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, active: true }, req)),
      (e: unknown) => e instanceof AuthError && e.code === 'InvalidSignatureException',
    );
  });
});
