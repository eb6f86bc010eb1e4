/**
 * Test-only loader for the AWS SigV4 test-suite files under fixtures/ (`.req` raw request, `.creq` canonical
 * request, `.sts` string to sign, `.authz` Authorization header).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { SigV4Request } from './parse.ts';

/** Root of the committed AWS test-suite vectors. */
export const SUITE_DIR = new URL('./fixtures/aws-sig-v4-test-suite/', import.meta.url).pathname;
/** The suite's example secret key (public test data). */
export const SUITE_SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
/** The suite's example access key id. */
export const SUITE_ACCESS_KEY = 'AKIDEXAMPLE';

/** One vector: the request as the server would see it plus the expected stages. */
export interface SuiteVector {
  name: string;
  request: SigV4Request;
  body: string;
  creq: string;
  sts: string;
  authz: string;
  service: string;
  signature: string;
}

/** Parses a `.req` file: request line, `Name:value` header lines (repeats become arrays), blank line, body. */
export function parseRawRequest(text: string): { request: Omit<SigV4Request, 'bodySha256Hex'>; body: string } {
  const blank = text.indexOf('\n\n');
  const head = blank < 0 ? text : text.slice(0, blank);
  const body = blank < 0 ? '' : text.slice(blank + 2);
  const [requestLine, ...headerLines] = head.split('\n');
  const first = requestLine!.indexOf(' ');
  const last = requestLine!.lastIndexOf(' ');
  const method = requestLine!.slice(0, first);
  const uri = requestLine!.slice(first + 1, last);
  const q = uri.indexOf('?');
  const headers: Record<string, string | string[]> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1);
    const prev = headers[name];
    headers[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return { request: { method, path: q < 0 ? uri : uri.slice(0, q), query: q < 0 ? '' : uri.slice(q + 1), headers }, body };
}

/** Lower-case hex SHA-256 of a UTF-8 string. */
export const sha256Hex = (data: string): string => createHash('sha256').update(data).digest('hex');

/** Loads every vector directory below the suite root. */
export function loadSuite(dir = SUITE_DIR): SuiteVector[] {
  const out: SuiteVector[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (!statSync(path).isDirectory()) continue;
    const files = readdirSync(path);
    if (!files.some((f) => f.endsWith('.req'))) {
      out.push(...loadSuite(path));
      continue;
    }
    const read = (ext: string) => readFileSync(join(path, `${entry}${ext}`), 'utf8');
    const { request, body } = parseRawRequest(read('.req'));
    const authz = read('.authz');
    request.headers = { ...request.headers, authorization: authz };
    const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(authz)!;
    out.push({
      name: path.slice(SUITE_DIR.length),
      request: { ...request, bodySha256Hex: sha256Hex(body) },
      body,
      creq: read('.creq'),
      sts: read('.sts'),
      authz,
      service: scope[1]!,
      signature: /Signature=([0-9a-f]{64})/.exec(authz)![1]!,
    });
  }
  return out;
}
