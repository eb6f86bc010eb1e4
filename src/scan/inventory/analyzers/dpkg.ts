// Debian/Ubuntu: /var/lib/dpkg/status (one deb822 stanza per package) and the distroless layout
// /var/lib/dpkg/status.d/<name> (one file per package, usually without a Status field).
import { stanzas, type FileAnalyzer, type FoundPackage } from '../analyzer.ts';

const STATUS_D = /^\/(?:usr\/)?var\/lib\/dpkg\/status\.d\/[^/]+$/;
const INFO_LIST = /^\/var\/lib\/dpkg\/info\/[^/]+\.list$/;
const SOURCE_RE = /^(\S+)(?:\s+\((.+)\))?$/;

/** Parses deb822 stanzas into field maps; continuation lines (leading space) are folded into the field. */
export function parseDeb822(text: string): Map<string, string>[] {
  return stanzas(text).map((lines) => {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of lines) {
      if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
        fields.set(last, `${fields.get(last)}\n${line.trim()}`);
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      last = line.slice(0, colon).trim();
      fields.set(last, line.slice(colon + 1).trim());
    }
    return fields;
  });
}

/**
 * Installed packages from dpkg status text. A stanza counts when its Status state word is `installed`
 * (so `deinstall ok config-files` and `not-installed` are skipped) or when it has no Status (status.d).
 * The source name and version come from `Source: name (version)`, defaulting to the binary's own.
 */
export function parseDpkgStatus(text: string, path: string): FoundPackage[] {
  const out: FoundPackage[] = [];
  for (const f of parseDeb822(text)) {
    const name = f.get('Package');
    const version = f.get('Version');
    if (!name || !version) continue;
    const status = f.get('Status');
    if (status !== undefined && status.split(/\s+/)[2] !== 'installed') continue;
    const src = SOURCE_RE.exec(f.get('Source') ?? '');
    const arch = f.get('Architecture');
    out.push({
      ecosystem: 'deb',
      name,
      version,
      sourceName: src?.[1] ?? name,
      sourceVersion: src?.[2] ?? version,
      ...(arch ? { arch } : {}),
      path,
    });
  }
  return out;
}

export const dpkgAnalyzer: FileAnalyzer = {
  name: 'dpkg',
  match(file) {
    if (file.path === '/var/lib/dpkg/status') return 'buffer';
    if (STATUS_D.test(file.path) && !file.path.endsWith('.md5sums')) return 'buffer';
    if (INFO_LIST.test(file.path)) return 'buffer';
    return undefined;
  },
  analyze(file, data) {
    // `info/<pkg>.list`: one absolute path per line, directories included.
    if (INFO_LIST.test(file.path)) return { ownedFiles: data.toString('utf8').split('\n').filter((l) => l.startsWith('/') && l !== '/.') };
    return { packages: parseDpkgStatus(data.toString('utf8'), file.path) };
  },
};
