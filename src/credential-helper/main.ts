/**
 * The docker credential-helper protocol (https://github.com/docker/docker-credential-helpers), as
 * amazon-ecr-credential-helper implements it, for cargohold:
 *
 * - `get`: reads the registry (server URL) on stdin, calls GetAuthorizationToken on that registry's ECR API
 *   (SigV4 with the AWS profile/env credentials) and prints `{"ServerURL","Username":"AWS","Secret":<token>}`.
 * - `store`, `erase`: not implemented (docker logs in through `get`), like the ECR helper.
 * - `list`: `{}`.
 *
 * The API endpoint is the registry itself: `http://` for localhost/127.0.0.0/8/::1, else `https://`; an explicit
 * scheme in the server URL is kept. CARGOHOLD_ENDPOINT_URL or AWS_ENDPOINT_URL_ECR override it.
 * Errors are printed on stdout with exit status 1 (the protocol's convention).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../auth/sigv4/canonical.ts';
import { resolveAwsCredentials } from './aws-credentials.ts';

const TARGET = 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken';

/** The ECR API base URL for a server URL docker asks about. */
export function endpointFor(serverUrl: string, env: NodeJS.ProcessEnv = process.env): URL {
  const override = env.CARGOHOLD_ENDPOINT_URL || env.AWS_ENDPOINT_URL_ECR;
  if (override) return new URL(override);
  const raw = serverUrl.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `//${raw}`;
  const u = new URL(withScheme, 'https://placeholder.invalid');
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const local = host === 'localhost' || /^127\./.test(host) || host === '::1';
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? u.protocol : local ? 'http:' : 'https:';
  return new URL(`${scheme}//${u.host}/`);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8').trim();
}

/** Calls GetAuthorizationToken at `endpoint` and returns the docker password (the token after `AWS:`). */
export async function getRegistryPassword(endpoint: URL, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const { credentials, region } = resolveAwsCredentials(env);
  const body = '{}';
  const signer = new SignatureV4({ credentials, region, service: 'ecr', sha256: NodeSha256, applyChecksum: true });
  const port = endpoint.port ? Number(endpoint.port) : undefined;
  const signed = await signer.sign({
    method: 'POST',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    port,
    path: '/',
    query: {},
    headers: { host: endpoint.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': TARGET, 'content-length': String(body.length) },
    body,
  });
  const send = endpoint.protocol === 'https:' ? httpsRequest : httpRequest;
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = send({ host: endpoint.hostname.replace(/^\[|\]$/g, ''), port, method: 'POST', path: '/', headers: signed.headers, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${endpoint.origin} within 30s`)));
    req.on('error', reject);
    req.end(body);
  });
  let parsed: { authorizationData?: Array<{ authorizationToken?: string }>; __type?: string; message?: string };
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`GetAuthorizationToken at ${endpoint.origin} answered ${status} with a body that is not JSON`);
  }
  if (status !== 200) throw new Error(`GetAuthorizationToken at ${endpoint.origin} failed: ${parsed.__type ?? status}: ${parsed.message ?? ''}`);
  const token = parsed.authorizationData?.[0]?.authorizationToken;
  if (!token) throw new Error(`GetAuthorizationToken at ${endpoint.origin} returned no authorizationToken`);
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || decoded.slice(0, colon) !== 'AWS') throw new Error('authorizationToken is not AWS:<password>');
  return decoded.slice(colon + 1);
}

export async function main(args: string[]): Promise<void> {
  const command = args[0];
  try {
    switch (command) {
      case 'get': {
        const serverUrl = await readStdin();
        if (!serverUrl) throw new Error('no server URL on stdin');
        const secret = await getRegistryPassword(endpointFor(serverUrl));
        process.stdout.write(`${JSON.stringify({ ServerURL: serverUrl, Username: 'AWS', Secret: secret })}\n`);
        return;
      }
      case 'store':
      case 'erase':
        await readStdin();
        throw new Error('not implemented');
      case 'list':
        process.stdout.write('{}\n');
        return;
      case 'version':
      case '--version':
      case '-v':
        process.stdout.write('docker-credential-cargohold 0.1.0\n');
        return;
      default:
        process.stdout.write('Usage: docker-credential-cargohold <get|store|erase|list|version>\n');
        process.exitCode = 1;
    }
  } catch (e) {
    process.stdout.write(`${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
