// Alpine: /lib/apk/db/installed, one block of `X:value` lines per package; `o:` is the origin (source) package.
import { stanzas, type FileAnalyzer, type FoundPackage } from '../analyzer.ts';

/** Installed packages from an apk installed database, and the files they own (`F:` directory + `R:` name). */
export function parseApkInstalled(text: string, path: string, owned: string[] = []): FoundPackage[] {
  const out: FoundPackage[] = [];
  for (const lines of stanzas(text)) {
    const f = new Map<string, string>();
    let dir = '';
    for (const line of lines) {
      if (line[1] !== ':') continue;
      if (line[0] === 'F') dir = line.slice(2);
      else if (line[0] === 'R') owned.push(`/${dir ? `${dir}/` : ''}${line.slice(2)}`);
      if (!f.has(line[0])) f.set(line[0], line.slice(2));
    }
    const name = f.get('P');
    const version = f.get('V');
    if (!name || !version) continue;
    const arch = f.get('A');
    out.push({ ecosystem: 'apk', name, version, sourceName: f.get('o') || name, sourceVersion: version, ...(arch ? { arch } : {}), path });
  }
  return out;
}

export const apkAnalyzer: FileAnalyzer = {
  name: 'apk',
  match: (file) => (file.path === '/lib/apk/db/installed' || file.path === '/usr/lib/apk/db/installed' ? 'buffer' : undefined),
  analyze(file, data) {
    const ownedFiles: string[] = [];
    return { packages: parseApkInstalled(data.toString('utf8'), file.path, ownedFiles), ownedFiles };
  },
};
