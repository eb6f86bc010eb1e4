import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { RegistryError } from '../core/errors.ts';

/** Reads a whole request body up to `limit` bytes (413 past it). Only for bounded bodies (manifests, JSON APIs). */
export async function readBody(req: IncomingMessage, limit: number, kind: 'MANIFEST_TOO_LARGE' | 'BODY_TOO_LARGE' = 'BODY_TOO_LARGE'): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    throw new RegistryError(kind, `body of ${declared} bytes exceeds the limit of ${limit} bytes`, { size: Number(declared), limit });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new RegistryError(kind, `body exceeds the limit of ${limit} bytes`, { limit });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

export function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
