// npm: installed `node_modules/**/package.json` files, and `package-lock.json` (v1 `dependencies` tree,
// v2/v3 `packages` map). Lockfile entries whose installed package.json is also in the image are dropped later.
import { baseName, type FileAnalyzer, type FoundPackage } from '../analyzer.ts';

const INSTALLED = /\/node_modules\/(?:@[^/]+\/)?[^/]+\/package\.json$/;

interface LockV1Dep { version?: string; dev?: boolean; bundled?: boolean; dependencies?: Record<string, LockV1Dep> }
interface LockV2Entry { name?: string; version?: string; dev?: boolean; link?: boolean }

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}

/** The package name from a v2/v3 lock key (`node_modules/a/node_modules/@s/b` → `@s/b`). */
function nameFromKey(key: string): string | undefined {
  const i = key.lastIndexOf('node_modules/');
  return i < 0 ? undefined : key.slice(i + 'node_modules/'.length);
}

/** Production packages a package-lock.json pins (dev-only and linked workspace entries skipped). */
export function parsePackageLock(text: string, path: string): FoundPackage[] {
  const lock = JSON.parse(text) as { packages?: Record<string, LockV2Entry>; dependencies?: Record<string, LockV1Dep> };
  const dir = dirOf(path);
  const out: FoundPackage[] = [];
  if (lock.packages && typeof lock.packages === 'object') {
    for (const [key, e] of Object.entries(lock.packages)) {
      const name = e?.name ?? nameFromKey(key);
      if (!key || !name || typeof e.version !== 'string' || e.link || e.dev) continue;
      out.push({ ecosystem: 'npm', name, version: e.version, path, installedAt: `${dir}/${key}/package.json` });
    }
    return out;
  }
  const walk = (deps: Record<string, LockV1Dep> | undefined, prefix: string, depth: number): void => {
    if (!deps || depth > 64) return;
    for (const [name, d] of Object.entries(deps)) {
      const key = `${prefix}node_modules/${name}`;
      if (typeof d?.version === 'string' && !d.dev && !/^(file|link|git\+?|github|https?):/.test(d.version)) {
        out.push({ ecosystem: 'npm', name, version: d.version, path, installedAt: `${dir}/${key}/package.json` });
      }
      walk(d?.dependencies, `${key}/`, depth + 1);
    }
  };
  walk(lock.dependencies, '', 0);
  return out;
}

export const npmAnalyzer: FileAnalyzer = {
  name: 'npm',
  match(file) {
    if (INSTALLED.test(file.path)) return 'buffer';
    if (baseName(file.path) === 'package-lock.json' && !file.path.includes('/node_modules/')) return 'buffer';
    return undefined;
  },
  analyze(file, data, ctx) {
    try {
      if (baseName(file.path) === 'package-lock.json') return { packages: parsePackageLock(data.toString('utf8'), file.path) };
      const pkg = JSON.parse(data.toString('utf8')) as { name?: unknown; version?: unknown };
      if (typeof pkg.name !== 'string' || typeof pkg.version !== 'string' || !pkg.name || !pkg.version) return undefined;
      return { packages: [{ ecosystem: 'npm', name: pkg.name, version: pkg.version, path: file.path }] };
    } catch (err) {
      ctx.warn(file.path, `unreadable JSON: ${(err as Error).message}`);
      return undefined;
    }
  },
};
