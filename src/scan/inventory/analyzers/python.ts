// PyPI: installed distribution metadata — `*.dist-info/METADATA` (wheels) and `*.egg-info/PKG-INFO` or a
// `*.egg-info` file (setuptools), `EGG-INFO/PKG-INFO`. Names are normalised per PEP 503.
import type { FileAnalyzer, FoundPackage } from '../analyzer.ts';

const METADATA = /\/[^/]+\.dist-info\/METADATA$|\/[^/]+\.egg-info\/PKG-INFO$|\/[^/]+\.egg-info$|\/EGG-INFO\/PKG-INFO$/;

/** PEP 503 normalisation: lower case, runs of `-`, `_`, `.` become one `-`. */
export function normalizePythonName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** Name and version from core metadata (the RFC 822 header block before the first blank line). */
export function parsePythonMetadata(text: string, path: string): FoundPackage | undefined {
  let name: string | undefined;
  let version: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') break;
    const m = /^(Name|Version):\s*(.*?)\s*$/i.exec(line);
    if (!m) continue;
    if (m[1].toLowerCase() === 'name') name ??= m[2];
    else version ??= m[2];
  }
  return name && version ? { ecosystem: 'pypi', name: normalizePythonName(name), version, path } : undefined;
}

export const pythonAnalyzer: FileAnalyzer = {
  name: 'python',
  match: (file) => (METADATA.test(file.path) ? 'buffer' : undefined),
  analyze(file, data) {
    const pkg = parsePythonMetadata(data.toString('utf8'), file.path);
    return pkg ? { packages: [pkg] } : undefined;
  },
};
