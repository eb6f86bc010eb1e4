// RubyGems: installed gem specifications (`specifications/<name>-<version>.gemspec`, Ruby source written by
// rubygems) — the name and version assignments are read, the code is never evaluated.
import type { FileAnalyzer, FoundPackage } from '../analyzer.ts';

const GEMSPEC = /\/specifications\/(?:[^/]+\/)*[^/]+\.gemspec$/;
const FIELD = (field: string) => new RegExp(`\\.${field}\\s*=\\s*(?:"([^"]+)"|'([^']+)')`);

/** Name and version from a gemspec (`s.name = "rake".freeze`, `s.version = "13.0.6"`). */
export function parseGemspec(text: string, path: string): FoundPackage | undefined {
  const n = FIELD('name').exec(text);
  const v = FIELD('version').exec(text) ?? /Gem::Version\.new\(\s*["']([^"']+)["']/.exec(text);
  const name = n?.[1] ?? n?.[2];
  const version = v?.[1] ?? v?.[2];
  return name && version ? { ecosystem: 'gem', name, version, path } : undefined;
}

export const rubyAnalyzer: FileAnalyzer = {
  name: 'ruby',
  match: (file) => (GEMSPEC.test(file.path) ? 'buffer' : undefined),
  analyze(file, data) {
    const pkg = parseGemspec(data.toString('utf8'), file.path);
    return pkg ? { packages: [pkg] } : undefined;
  },
};
