// Package URLs (github.com/package-url/purl-spec) for inventoried packages, built with packageurl-js.
import { PackageURL } from 'packageurl-js';
import type { InstalledPackage, OsRelease } from '../types.ts';
import type { FoundPackage } from './analyzer.ts';

const DEFAULT_NAMESPACE: Partial<Record<InstalledPackage['ecosystem'], string>> = { deb: 'debian', apk: 'alpine', rpm: 'redhat' };

/** Splits `a/b/c` at its last slash: namespace `a/b`, name `c` (Go modules, npm scopes). */
function splitLast(path: string): [string | undefined, string] {
  const i = path.lastIndexOf('/');
  return i < 0 ? [undefined, path] : [path.slice(0, i), path.slice(i + 1)];
}

/**
 * The purl of a package. OS packages carry the distribution (`distro=debian-12`), arch, and `upstream`
 * (source package, with `@version` when it differs); rpm versions drop the epoch into `epoch=`.
 */
export function purlFor(pkg: FoundPackage, os: OsRelease | undefined): string {
  const q: Record<string, string> = {};
  let type: string = pkg.ecosystem;
  let namespace: string | undefined;
  let name = pkg.name;
  let version = pkg.version;
  switch (pkg.ecosystem) {
    case 'deb':
    case 'apk':
    case 'rpm': {
      namespace = os?.id ?? DEFAULT_NAMESPACE[pkg.ecosystem];
      if (pkg.arch) q.arch = pkg.arch;
      if (os) q.distro = `${os.id}-${os.versionId}`;
      if (pkg.ecosystem === 'rpm') {
        const m = /^(\d+):(.*)$/.exec(version);
        if (m) { q.epoch = m[1]; version = m[2]; }
      }
      if (pkg.sourceName && (pkg.sourceName !== pkg.name || (pkg.sourceVersion && pkg.sourceVersion !== pkg.version))) {
        q.upstream = pkg.sourceVersion && pkg.sourceVersion !== pkg.version && pkg.ecosystem === 'deb' ? `${pkg.sourceName}@${pkg.sourceVersion}` : pkg.sourceName;
      }
      break;
    }
    case 'go': type = 'golang'; [namespace, name] = splitLast(pkg.name); break;
    case 'npm': if (pkg.name.startsWith('@')) [namespace, name] = splitLast(pkg.name); break;
    case 'maven': { const i = pkg.name.indexOf(':'); namespace = pkg.name.slice(0, i); name = pkg.name.slice(i + 1); break; }
    default: break;
  }
  try {
    return new PackageURL(type, namespace, name, version, Object.keys(q).length ? q : undefined, undefined).toString();
  } catch {
    // A name packageurl-js rejects (it validates some types strictly) still gets an unambiguous, encoded purl.
    const ns = namespace ? `${namespace.split('/').map(encodeURIComponent).join('/')}/` : '';
    return `pkg:${type}/${ns}${encodeURIComponent(name)}@${encodeURIComponent(version)}`;
  }
}
