/**
 * `node --import tsx bench/scale-out/digest-state.ts [--mib 64,256] [--chunk-mib 8]`
 *
 * The two ways an upload's SHA-256 can travel between nodes (issue 7, docs/deployment.md "The digest state"),
 * measured side by side against the real S3 server of the tests (Ceph RGW, started here) and the S3 driver:
 *
 * - **re-hash at commit** (what cargohold does): the node that receives the bytes keeps a native running hash;
 *   a commit on that node uses it, a commit on another node reads the assembled object back and hashes it.
 *   Measured: commit time (wall, and this process's CPU) on the same node and on another node.
 * - **persisted resumable state**: a SHA-256 whose state is saved with the session after every chunk and
 *   loaded by whichever node gets the next one (hash-wasm, the maintained WebAssembly hasher with
 *   save/load). Measured: the CPU to hash every byte of the upload that way, against Node's native SHA-256,
 *   since every push would pay it (the cross-node commit would then be free).
 */
import { randomBytes, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createSHA256 } from 'hash-wasm';
import { freshBucket, stopTestS3, testS3 } from '../../test/helpers/s3.ts';
import { createS3BlobStore } from '../../src/storage/drivers/s3.ts';
import type { Digest } from '../../src/core/digest.ts';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '64,256' }, 'chunk-mib': { type: 'string', default: '8' } } });
const SIZES = values.mib!.split(',').map(Number);
const CHUNK = Number(values['chunk-mib']) * 1024 * 1024;
const block = randomBytes(CHUNK);

function chunks(size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0, i = 0; off < size; off += CHUNK, i++) {
    const b = Buffer.from(block.subarray(0, Math.min(CHUNK, size - off)));
    b.writeUInt32BE(i, 0);
    out.push(b);
  }
  return out;
}

async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; cpuMs: number; value: T }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await f();
  const c = process.cpuUsage(c0);
  return { ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000, value };
}

async function main(): Promise<void> {
  const s3 = await testS3();
  const { client, bucket } = await freshBucket(s3);
  const nodeA = createS3BlobStore({ client, bucket, prefix: 'a/' });
  const nodeB = createS3BlobStore({ client, bucket, prefix: 'a/' });
  const rows: string[] = [];
  try {
    for (const mib of SIZES) {
      const parts = chunks(mib * 1024 * 1024);
      const h = createHash('sha256');
      for (const p of parts) h.update(p);
      const digest = `sha256:${h.digest('hex')}` as Digest;

      const commitOn = async (committer: typeof nodeA, id: string) => {
        await nodeA.createUpload(id);
        let off = 0;
        for (const p of parts) off = await nodeA.appendUpload(id, off, Readable.from([p]), { expectedLength: p.length });
        const r = await timed(() => committer.commitUpload(id, digest));
        await nodeA.delete(digest);
        return r;
      };
      const same = await commitOn(nodeA, `same${mib}`);
      const other = await commitOn(nodeB, `other${mib}`);

      // Persisted state: every chunk is hashed by a fresh hasher loaded from the saved state, then saved again.
      const native = await timed(async () => {
        const n = createHash('sha256');
        for (const p of parts) n.update(p);
        return n.digest('hex');
      });
      const persisted = await timed(async () => {
        let state: Uint8Array | undefined;
        let hex = '';
        for (let i = 0; i < parts.length; i++) {
          const w = await createSHA256();
          if (state) w.load(state);
          else w.init();
          w.update(parts[i]!);
          if (i === parts.length - 1) hex = w.digest('hex');
          else state = w.save();
        }
        return hex;
      });
      if (persisted.value !== native.value) throw new Error('hash-wasm and native SHA-256 disagree');
      const mbps = (ms: number) => `${((mib * 1.048576) / (ms / 1000)).toFixed(0)} MB/s`;
      rows.push(`| ${mib} MiB | ${same.ms.toFixed(0)} ms (${same.cpuMs.toFixed(0)} ms CPU) | ${other.ms.toFixed(0)} ms (${other.cpuMs.toFixed(0)} ms CPU) | ${native.cpuMs.toFixed(0)} ms CPU (${mbps(native.ms)}) | ${persisted.cpuMs.toFixed(0)} ms CPU (${mbps(persisted.ms)}), +${(persisted.cpuMs - native.cpuMs).toFixed(0)} ms on every push |`);
    }
  } finally {
    await nodeA.close();
    await nodeB.close();
    client.destroy();
    await stopTestS3();
  }
  console.log(`\ndigest state across nodes: ${CHUNK / 1024 / 1024} MiB chunks, S3 = Ceph RGW on loopback\n`);
  console.log('| upload | commit, same node (running hash) | commit, other node (re-hash) | hashing every byte, native | hashing every byte, persisted state (hash-wasm) |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

await main();
