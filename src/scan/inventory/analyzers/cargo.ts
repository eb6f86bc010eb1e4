// Rust: `Cargo.lock` ([[package]] tables). Binaries built with cargo-auditable are read by the binary analyzer.
import { parse } from 'smol-toml';
import { baseName, type FileAnalyzer, type FoundPackage } from '../analyzer.ts';

/** Every locked crate of a Cargo.lock (v1–v4). */
export function parseCargoLock(text: string, path: string): FoundPackage[] {
  const doc = parse(text) as { package?: { name?: unknown; version?: unknown }[] };
  const out: FoundPackage[] = [];
  for (const p of Array.isArray(doc.package) ? doc.package : []) {
    if (typeof p?.name === 'string' && typeof p.version === 'string') out.push({ ecosystem: 'cargo', name: p.name, version: p.version, path });
  }
  return out;
}

export const cargoLockAnalyzer: FileAnalyzer = {
  name: 'cargo-lock',
  match: (file) => (baseName(file.path) === 'Cargo.lock' ? 'buffer' : undefined),
  analyze(file, data, ctx) {
    try {
      return { packages: parseCargoLock(data.toString('utf8'), file.path) };
    } catch (err) {
      ctx.warn(file.path, `unreadable Cargo.lock: ${(err as Error).message}`);
      return undefined;
    }
  },
};
