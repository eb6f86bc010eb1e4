import { createHash, randomBytes } from 'node:crypto';

export const KiB = 1024;
export const MiB = 1024 * 1024;

const BLOCK = MiB;
const POOL = 16;

/**
 * A large blob that is never held in memory: its bytes are a sequence of 1 MiB blocks drawn from a pool of 16
 * random blocks, in an order that depends on the seed. Streams of it are generated on demand (the same
 * immutable pool buffers are yielded, so nothing is copied), which keeps the client's memory and CPU out of
 * the measurement.
 */
export class PatternData {
  private readonly pool: Buffer[];
  private digestCache: string | undefined;

  constructor(readonly size: number, readonly seed: number) {
    this.pool = Array.from({ length: POOL }, () => randomBytes(BLOCK));
  }

  private block(index: number): Buffer {
    return this.pool[(index * 7 + this.seed) % POOL];
  }

  /** Synchronous slices covering [offset, offset + length). */
  *slices(offset = 0, length = this.size - offset): Generator<Buffer> {
    const end = Math.min(this.size, offset + length);
    let pos = offset;
    while (pos < end) {
      const index = Math.floor(pos / BLOCK);
      const inBlock = pos - index * BLOCK;
      const take = Math.min(BLOCK - inBlock, end - pos);
      yield this.block(index).subarray(inBlock, inBlock + take);
      pos += take;
    }
  }

  /** The same bytes as an async generator, for streaming request bodies. */
  async *stream(offset = 0, length = this.size - offset): AsyncGenerator<Buffer> {
    yield* this.slices(offset, length);
  }

  /** sha256 digest of the whole blob, computed by one streaming pass (then cached). */
  digest(): string {
    if (!this.digestCache) this.digestCache = sha256Of(this.slices());
    return this.digestCache;
  }

  /** sha256 hex of a sub-range (for checking Range responses). */
  rangeHex(offset: number, length: number): string {
    const h = createHash('sha256');
    for (const s of this.slices(offset, length)) h.update(s);
    return h.digest('hex');
  }
}

export function sha256Of(chunks: Iterable<Uint8Array>): string {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return `sha256:${h.digest('hex')}`;
}

export function sha256Digest(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A small in-memory blob with its digest (for scenarios 4, 5, 6, 8). */
export interface SmallBlob {
  data: Buffer;
  digest: string;
}

export function randomBlob(minBytes: number, maxBytes: number): SmallBlob {
  const size = minBytes + Math.floor(Math.random() * (maxBytes - minBytes + 1));
  const data = randomBytes(size);
  return { data, digest: sha256Digest(data) };
}

export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  /** The Accept header every manifest GET sends. */
  manifestAccept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
} as const;

/** A small image: config + layers + an OCI manifest that references them. */
export interface SmallImage {
  config: SmallBlob;
  layers: SmallBlob[];
  manifest: SmallBlob;
}

export function makeImage(index: number, layerCount: number, minBytes: number, maxBytes: number): SmallImage {
  const layers = Array.from({ length: layerCount }, () => randomBlob(minBytes, maxBytes));
  const configJson = {
    architecture: 'amd64',
    os: 'linux',
    created: new Date(0).toISOString(),
    config: { Env: [`BENCH_INDEX=${index}`, `BENCH_NONCE=${randomBytes(8).toString('hex')}`] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
  };
  const configData = Buffer.from(JSON.stringify(configJson));
  const config = { data: configData, digest: sha256Digest(configData) };
  const manifestJson = {
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: { mediaType: MEDIA.ociConfig, digest: config.digest, size: config.data.length },
    layers: layers.map((l) => ({ mediaType: MEDIA.ociLayerGzip, digest: l.digest, size: l.data.length })),
  };
  const manifestData = Buffer.from(JSON.stringify(manifestJson));
  return { config, layers, manifest: { data: manifestData, digest: sha256Digest(manifestData) } };
}
