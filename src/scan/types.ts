/**
 * The scanner's vocabulary, shared by inventory (what is installed in an image) and matching (which
 * advisories affect it). Inventories are stored per image (an SBOM) so a database update re-matches
 * without reading layers again.
 */

/** Package ecosystems cargohold inventories; distro ecosystems are matched only against their distro's advisories. */
export type PackageEcosystem = 'deb' | 'apk' | 'rpm' | 'npm' | 'pypi' | 'go' | 'maven' | 'gem' | 'cargo';

/** One installed package found in an image. */
export interface InstalledPackage {
  ecosystem: PackageEcosystem;
  /** Binary/package name as installed (dpkg Package, apk P, rpm Name, npm name, Maven `group:artifact`, Go module path). */
  name: string;
  /** Version as installed, in the ecosystem's own syntax (dpkg with epoch, apk, rpm `[epoch:]version-release`). */
  version: string;
  /** Source package (dpkg `Source:`) or origin (apk `o:`) or source RPM name, when it differs or is known. */
  sourceName?: string;
  /** Source version when the distro records a different one (dpkg `Source: name (version)`). */
  sourceVersion?: string;
  /** Architecture when recorded (amd64, x86_64, noarch…). */
  arch?: string;
  /** Path in the image of the file that declared it (status file, lockfile, binary, jar). */
  path: string;
  /** Package URL (purl spec), e.g. `pkg:deb/debian/openssl@3.0.15-1~deb12u1?arch=amd64&distro=debian-12`. */
  purl: string;
}

/** Distribution of the image, from /etc/os-release (or /usr/lib/os-release). */
export interface OsRelease {
  /** `ID` (debian, ubuntu, alpine, fedora, rhel, rocky, almalinux, amzn…). */
  id: string;
  /** `VERSION_ID` (12, 3.20.3, 9.4, 2023…). */
  versionId: string;
  prettyName?: string;
  /** `VERSION_CODENAME` when present (bookworm). */
  codename?: string;
}

/** Everything installed in one image (one platform). */
export interface Inventory {
  os?: OsRelease;
  packages: InstalledPackage[];
}
