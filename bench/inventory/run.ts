/**
 * `node --import tsx bench/inventory/run.ts [--mb 200] [--runs 3] [--compression gzip|zstd|none]`
 *
 * Package inventory of a synthetic Debian image of about `--mb` MB uncompressed (three layers: a Debian base
 * with dpkg status, shared libraries and ~300 executables; a Python + Node layer; an application layer with
 * a 40 MB Go binary, a Spring Boot jar and whiteouts). The layers are written to a temporary directory once
 * (untimed) and read back as files, as the filesystem blob store serves them. Prints the median wall time of
 * `readInventory`, throughput over the uncompressed bytes, the process CPU seconds per run (less sensitive to
 * other load on a shared machine than wall time), and the peak RSS growth.
 */
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { zipSync } from 'fflate';
import { readInventory } from '../../src/scan/inventory/index.ts';
import { buildTar, fakeGoBinary, groundTruthEntries, LAYER_MEDIA_TYPES, zstdStoredFrame, type LayerEntry } from '../../src/scan/inventory/test-layers.ts';
import { elf, filler } from './filler.ts';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '200' }, runs: { type: 'string', default: '3' }, compression: { type: 'string', default: 'gzip' } } });
const TOTAL = Number(values.mb) * 1e6;
const RUNS = Math.min(Math.max(Number(values.runs), 1), 20);
const compression = values.compression as 'gzip' | 'zstd' | 'none';
if (!['gzip', 'zstd', 'none'].includes(compression)) throw new Error('--compression must be gzip, zstd or none');

function dpkgStatus(n: number): string {
  const base = readFileSyncText(groundTruthEntries('debian-12').find((e) => 'path' in e && e.path === '/var/lib/dpkg/status'));
  let extra = '';
  for (let i = 0; i < n; i++) extra += `Package: pkg${i}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nSource: src${i % 40}\nVersion: 1.${i}-1\nDescription: synthetic\n long description line\n\n`;
  return `${base}\n${extra}`;
}
function readFileSyncText(e: LayerEntry | undefined): string {
  return e && 'content' in e ? e.content.toString() : '';
}

const budget = (share: number) => Math.floor(TOTAL * share);

function baseLayer(): LayerEntry[] {
  const e: LayerEntry[] = [...groundTruthEntries('debian-12').filter((x) => !('path' in x && x.path === '/var/lib/dpkg/status'))];
  e.push({ path: '/var/lib/dpkg/status', content: dpkgStatus(100) });
  for (let i = 0; i < 1000; i++) e.push({ path: `/var/lib/dpkg/info/pkg${i}.md5sums`, content: `${createHash('md5').update(String(i)).digest('hex')}  usr/share/doc/pkg${i}/copyright\n`.repeat(20) });
  const bins = 300, binSize = Math.floor(budget(0.2) / bins);
  for (let i = 0; i < bins; i++) e.push({ path: `/usr/bin/tool${i}`, content: elf(binSize), mode: 0o755 });
  const libs = 200, libSize = Math.floor(budget(0.2) / libs);
  for (let i = 0; i < libs; i++) e.push({ path: `/usr/lib/x86_64-linux-gnu/lib${i}.so.1`, content: elf(libSize) });
  const docs = 4000, docSize = Math.floor(budget(0.1) / docs);
  for (let i = 0; i < docs; i++) e.push({ path: `/usr/share/doc/pkg${i % 1000}/file${i}.txt`, content: filler(docSize) });
  return e;
}

function languageLayer(): LayerEntry[] {
  const e: LayerEntry[] = [...groundTruthEntries('pypi'), ...groundTruthEntries('npm')];
  const py = 2000, pySize = Math.floor(budget(0.1) / py);
  for (let i = 0; i < py; i++) e.push({ path: `/usr/local/lib/python3.11/site-packages/mod${i % 50}/f${i}.py`, content: filler(pySize) });
  const js = 3000, jsSize = Math.floor(budget(0.1) / js);
  for (let i = 0; i < js; i++) e.push({ path: `/app/node_modules/dep${i % 300}/lib/f${i}.js`, content: filler(jsSize) });
  for (let i = 0; i < 300; i++) e.push({ path: `/app/node_modules/dep${i}/package.json`, content: JSON.stringify({ name: `dep${i}`, version: `1.0.${i}` }) });
  return e;
}

function appLayer(): LayerEntry[] {
  const goSize = budget(0.2);
  const go = fakeGoBinary('go\tgo1.21.0\npath\texample.com/app\nmod\texample.com/app\tv1.0.0\t\ndep\tgolang.org/x/net\tv0.17.0\t\n', Math.floor(goSize / 3));
  const goBin = Buffer.concat([go, filler(Math.max(0, goSize - go.length))]);
  const inner = zipSync({ 'META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties': new TextEncoder().encode('groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n'), 'big.bin': filler(2_000_000) });
  const jar = zipSync({ 'META-INF/maven/com.example/app/pom.properties': new TextEncoder().encode('groupId=com.example\nartifactId=app\nversion=1.0.0\n'), 'BOOT-INF/lib/log4j-core-2.14.1.jar': inner, 'BOOT-INF/classes/blob.bin': filler(budget(0.05)) }, { level: 1 });
  return [
    { path: '/usr/local/bin/app', content: goBin, mode: 0o755 },
    { path: '/app/app.jar', content: Buffer.from(jar) },
    { whiteout: '/usr/share/doc/pkg1' },
    { opaque: '/app/node_modules/dep7' },
  ];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'inventory-bench-'));
  try {
    process.stderr.write('building layers (untimed)...\n');
    const layers: { path: string; mediaType: string; tarBytes: number; blobBytes: number }[] = [];
    for (const [i, entries] of [baseLayer(), languageLayer(), appLayer()].entries()) {
      const tar = await buildTar(entries);
      const blob = compression === 'gzip' ? gzipSync(tar) : compression === 'zstd' ? zstdCompress(tar) : tar;
      const path = join(dir, `layer${i}`);
      writeFileSync(path, blob);
      layers.push({ path, mediaType: LAYER_MEDIA_TYPES[compression], tarBytes: tar.length, blobBytes: blob.length });
    }
    const tarBytes = layers.reduce((s, l) => s + l.tarBytes, 0);
    const blobBytes = layers.reduce((s, l) => s + l.blobBytes, 0);
    const sources = layers.map((l) => ({ mediaType: l.mediaType, open: () => createReadStream(l.path, { highWaterMark: 256 * 1024 }) }));
    const times: number[] = [];
    const cpu: number[] = [];
    let peak = 0, packages = 0;
    for (let r = 0; r < RUNS; r++) {
      globalThis.gc?.();
      const rss0 = process.memoryUsage().rss;
      let max = rss0;
      const timer = setInterval(() => { max = Math.max(max, process.memoryUsage().rss); }, 20);
      const t0 = process.hrtime.bigint();
      const c0 = process.cpuUsage();
      const inv = await readInventory(sources);
      times.push(Number(process.hrtime.bigint() - t0) / 1e9);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1e6);
      clearInterval(timer);
      peak = Math.max(peak, max - rss0);
      packages = inv.packages.length;
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    console.log(JSON.stringify({
      compression, layers: layers.length, uncompressedMB: +(tarBytes / 1e6).toFixed(1), storedMB: +(blobBytes / 1e6).toFixed(1), packages,
      medianSeconds: +median.toFixed(2), runs: times.map((t) => +t.toFixed(2)), cpuSeconds: cpu.map((t) => +t.toFixed(2)), loadAverage1m: +loadavg()[0].toFixed(1), MBps: +(tarBytes / 1e6 / median).toFixed(0), peakRssGrowthMiB: +(peak / 2 ** 20).toFixed(0),
    }, null, 1));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** zstd via the `zstd` tool when installed (real entropy-coded frames), else stored blocks. */
function zstdCompress(tar: Buffer): Buffer {
  try { return execFileSync('zstd', ['-q', '-3', '-T0', '-c'], { input: tar, maxBuffer: 2 ** 31 - 1 }); } catch { return zstdStoredFrame(tar); }
}

await main();
