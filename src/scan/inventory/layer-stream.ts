// Opening a stored layer blob as a tar stream: gzip, zstd or plain tar, told apart by the bytes themselves
// (the media type is checked to be a layer type, but mislabelled compression is common and harmless).
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';

/** Why an image's layers could not be read; the scan service maps `unsupported` to UNSUPPORTED_IMAGE. */
export class InventoryError extends Error {
  constructor(readonly reason: 'unsupported' | 'corrupt', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InventoryError';
  }
}

const LAYER_MEDIA_TYPE = /^application\/vnd\.(?:oci\.image\.layer(?:\.nondistributable)?\.v1\.tar|docker\.image\.rootfs\.(?:foreign\.)?diff\.tar)(?:\+gzip|\+zstd|\.gzip|\.zstd)?$/;

/** Whether a layer media type is a (possibly compressed) tar this reader understands. */
export function isTarLayerMediaType(mediaType: string): boolean {
  return LAYER_MEDIA_TYPE.test(mediaType);
}

/** Streaming zstd decoder (fzstd: pure JavaScript, multi-frame, bounded by the frame's window size). */
export class ZstdDecompress extends Transform {
  private readonly decoder = new Decompress((data) => { if (data.length) this.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength)); });
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try { this.decoder.push(chunk); cb(); } catch (err) { cb(new InventoryError('corrupt', `zstd: ${(err as Error).message}`)); }
  }
  override _flush(cb: TransformCallback): void {
    try { this.decoder.push(new Uint8Array(0), true); cb(); } catch (err) { cb(new InventoryError('corrupt', `zstd: ${(err as Error).message}`)); }
  }
}

/** Reads the first bytes of a stream and returns them with a stream of the whole content. */
async function peek(source: Readable, bytes: number): Promise<{ head: Buffer; body: Readable }> {
  const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let size = 0;
  while (size < bytes) {
    const r = await it.next();
    if (r.done) break;
    chunks.push(r.value);
    size += r.value.length;
  }
  const head = Buffer.concat(chunks);
  async function* rest(): AsyncGenerator<Buffer> {
    try {
      if (head.length) yield head;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      await it.return?.(); // destroys the source when the consumer stops early
    }
  }
  return { head, body: Readable.from(rest(), { objectMode: false }) };
}

/** The uncompressed tar stream of a layer blob. */
export async function openTarStream(blob: Readable, mediaType: string): Promise<Readable> {
  if (!isTarLayerMediaType(mediaType)) throw new InventoryError('unsupported', `layer media type "${mediaType}" is not a tar layer`);
  const { head, body } = await peek(blob, 18);
  if (head[0] === 0x1f && head[1] === 0x8b) return pipe(body, createGunzip({ chunkSize: 256 * 1024 }));
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) {
    const window = zstdWindowSize(head);
    if (window === undefined || window > MAX_ZSTD_WINDOW) {
      body.destroy();
      throw new InventoryError('unsupported', `zstd layer needs a ${window ?? 'malformed'}-byte window; at most ${MAX_ZSTD_WINDOW} is decoded`);
    }
    return pipe(body, new ZstdDecompress());
  }
  return body;
}

/** zstd's own default decoder limit (windowLog 27): the decoder holds one window of output in memory. */
export const MAX_ZSTD_WINDOW = 128 * 1024 * 1024;

/** Window size a zstd frame header declares (RFC 8878 §3.1.1.1), or undefined when the header is cut short. */
export function zstdWindowSize(frame: Buffer): number | undefined {
  if (frame.length < 6) return undefined;
  const flags = frame[4];
  const singleSegment = (flags >> 5) & 1;
  if (!singleSegment) {
    const exponent = frame[5] >> 3, mantissa = frame[5] & 7;
    const base = 2 ** (10 + exponent);
    return base + (base / 8) * mantissa;
  }
  // Single segment: the window is the frame content size, after the dictionary id.
  const dictBytes = [0, 1, 2, 4][flags & 3];
  const sizeBytes = [1, 2, 4, 8][flags >> 6];
  const at = 5 + dictBytes;
  if (frame.length < at + sizeBytes) return undefined;
  let size = 0;
  for (let i = sizeBytes - 1; i >= 0; i--) size = size * 256 + frame[at + i];
  return sizeBytes === 2 ? size + 256 : size;
}

/** Pipes without losing errors of either side (the consumer sees the source's error too). */
function pipe(from: Readable, to: Transform): Readable {
  from.on('error', (err) => to.destroy(err));
  to.on('error', () => from.destroy());
  return from.pipe(to);
}

/**
 * Errors of reading a layer as the scan reports them: decompression and tar-format failures become
 * `InventoryError('corrupt')`; others (the blob store's own, an abort) pass through unchanged.
 */
export function layerError(err: unknown, layer: number): unknown {
  if (err instanceof InventoryError) return err;
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code === 'string' && e.code.startsWith('Z_')) return new InventoryError('corrupt', `layer ${layer}: gzip: ${e.message}`, { cause: err });
  if (/tar header|end of data|unexpected end/i.test(String(e?.message))) return new InventoryError('corrupt', `layer ${layer}: tar: ${e.message}`, { cause: err });
  return err;
}
