// Distribution identity from os-release (freedesktop format: KEY=value, value optionally quoted).
import type { OsRelease } from '../../types.ts';
import type { FileAnalyzer } from '../analyzer.ts';

/** The os-release files, in order of preference. */
export const OS_RELEASE_PATHS = ['/etc/os-release', '/usr/lib/os-release'] as const;

/** Parses os-release text; undefined when it has no ID. A missing VERSION_ID (rolling releases) is ''. */
export function parseOsRelease(text: string): OsRelease | undefined {
  const v = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    let value = line.slice(eq + 1).trim();
    const q = value[0];
    if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) value = value.slice(1, -1);
    if (q === '"') value = value.replace(/\\(["\\$`])/g, '$1');
    v.set(line.slice(0, eq).trim(), value);
  }
  const id = v.get('ID');
  if (!id) return undefined;
  const os: OsRelease = { id: id.toLowerCase(), versionId: v.get('VERSION_ID') ?? '' };
  const pretty = v.get('PRETTY_NAME');
  const codename = v.get('VERSION_CODENAME');
  if (pretty) os.prettyName = pretty;
  if (codename) os.codename = codename;
  return os;
}

export const osReleaseAnalyzer: FileAnalyzer = {
  name: 'os-release',
  match: (file) => ((OS_RELEASE_PATHS as readonly string[]).includes(file.path) ? 'buffer' : undefined),
  analyze(file, data, ctx) {
    const os = parseOsRelease(data.toString('utf8'));
    if (!os) ctx.warn(file.path, 'os-release has no ID');
    return os ? { os } : undefined;
  },
};
