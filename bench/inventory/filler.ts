/** File contents for synthetic images in benchmarks: sizes and compressibility like a real root filesystem. */
import { randomBytes } from 'node:crypto';

const random = randomBytes(8 * 1024 * 1024);
let cursor = 0;

/** Half random, half repetitive text: compresses roughly like a real root filesystem (~2:1). */
export function filler(size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let at = 0; at < size; at += 8192) {
    const n = Math.min(4096, size - at);
    if (cursor + n > random.length) cursor = 0;
    random.copy(out, at, cursor, cursor + n);
    cursor += n;
    if (at + n < size) out.write('lorem ipsum dolor sit amet, consectetur adipiscing elit; '.repeat(72).slice(0, Math.min(4096, size - at - n)), at + n);
  }
  return out;
}

/** `filler` behind an ELF64 header: a file the inventory scans as an executable. */
export function elf(size: number): Buffer {
  const b = filler(size);
  b.writeUInt32BE(0x7f454c46, 0); b[4] = 2; b[5] = 1;
  return b;
}
