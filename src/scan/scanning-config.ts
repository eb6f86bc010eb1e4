/**
 * The registry scanning configuration (ECR Put/GetRegistryScanningConfiguration) and the rule that decides
 * whether a push is scanned: the repository's own scanOnPush flag, or a registry rule with frequency
 * SCAN_ON_PUSH or CONTINUOUS_SCAN whose WILDCARD filter matches the repository name.
 */

export type ScanType = 'BASIC' | 'ENHANCED';
export type ScanFrequency = 'SCAN_ON_PUSH' | 'CONTINUOUS_SCAN' | 'MANUAL';

export interface RepositoryFilter {
  filter: string;
  filterType: 'WILDCARD';
}

export interface ScanningRule {
  scanFrequency: ScanFrequency;
  repositoryFilters: RepositoryFilter[];
}

export interface RegistryScanningConfiguration {
  scanType: ScanType;
  rules: ScanningRule[];
}

export const DEFAULT_REGISTRY_SCANNING: RegistryScanningConfiguration = { scanType: 'BASIC', rules: [] };

/** ECR wildcard filters: `*` matches any run of characters; everything else literally. */
export function wildcardMatches(filter: string, name: string): boolean {
  const re = new RegExp(`^${filter.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(name);
}

/** The rules whose filters match `repositoryName` (a rule without filters matches none, as in ECR). */
export function appliedRules(config: RegistryScanningConfiguration, repositoryName: string): ScanningRule[] {
  return config.rules.filter((r) => r.repositoryFilters.some((f) => wildcardMatches(f.filter, repositoryName)));
}

/** The frequency that applies to a repository: the registry rule's, else SCAN_ON_PUSH when its own flag is set, else MANUAL. */
export function scanFrequencyFor(config: RegistryScanningConfiguration, repositoryName: string, scanOnPush: boolean): ScanFrequency {
  const rules = appliedRules(config, repositoryName);
  if (rules.some((r) => r.scanFrequency === 'CONTINUOUS_SCAN')) return 'CONTINUOUS_SCAN';
  if (rules.some((r) => r.scanFrequency === 'SCAN_ON_PUSH') || scanOnPush) return 'SCAN_ON_PUSH';
  return 'MANUAL';
}
