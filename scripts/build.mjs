#!/usr/bin/env node
// Builds the runnable server: one ESM file per entry point in dist/, bundled by esbuild from src/ (dependencies
// stay external). Plain JavaScript starts faster and serves requests markedly faster than running the
// TypeScript sources through tsx's loader (see docs/performance.md).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
export const ENTRIES = { cargohold: 'src/cli/main.ts', 'docker-credential-cargohold': 'src/credential-helper/main.ts' };

/** Newest modification time of any file under src/ (and this script), in ms. */
export function newestSource() {
  let newest = statSync(new URL(import.meta.url)).mtimeMs;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(join(root, 'src'));
  return newest;
}

/** Path of the built entry, rebuilding it when a source is newer. */
export async function ensureBuilt(entry) {
  const out = join(root, 'dist', `${entry}.mjs`);
  let built = 0;
  try { built = statSync(out).mtimeMs; } catch { /* not built yet */ }
  if (built < newestSource()) await build();
  return out;
}

export async function build() {
  const esbuild = await import('esbuild');
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(Object.entries(ENTRIES)),
    outdir: 'dist',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await build();
