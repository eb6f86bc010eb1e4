import type { EcrOperation } from '../context.ts';
import { validationError } from '../errors.ts';
import { createValidator } from '../validate.ts';
import type { RegistryScanningConfiguration, RepositoryFilter, ScanFrequency, ScanningRule } from '../../scan/scanning-config.ts';

const FREQUENCIES: readonly ScanFrequency[] = ['SCAN_ON_PUSH', 'CONTINUOUS_SCAN', 'MANUAL'];
const FILTER = /^[a-z0-9*](?:[._\-/a-z0-9*]?[a-z0-9*]+)*$/;

function record(value: unknown, where: string): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw validationError(`1 validation error detected: Value at '${where}' failed to satisfy constraint: Member must be a structure`);
  return value as Record<string, unknown>;
}

function filterInput(value: unknown, where: string): RepositoryFilter {
  const o = record(value, where);
  if (typeof o.filter !== 'string' || o.filter.length < 1 || o.filter.length > 256 || !FILTER.test(o.filter)) {
    throw validationError(`1 validation error detected: Value '${String(o.filter)}' at '${where}.filter' failed to satisfy constraint: Member must satisfy regular expression pattern: ${FILTER.source}`);
  }
  if (o.filterType !== 'WILDCARD') throw validationError(`1 validation error detected: Value '${String(o.filterType)}' at '${where}.filterType' failed to satisfy constraint: Member must satisfy enum value set: [WILDCARD]`);
  return { filter: o.filter, filterType: 'WILDCARD' };
}

function ruleInput(value: unknown, where: string): ScanningRule {
  const o = record(value, where);
  if (typeof o.scanFrequency !== 'string' || !(FREQUENCIES as readonly string[]).includes(o.scanFrequency)) {
    throw validationError(`1 validation error detected: Value '${String(o.scanFrequency)}' at '${where}.scanFrequency' failed to satisfy constraint: Member must satisfy enum value set: [${FREQUENCIES.join(', ')}]`);
  }
  if (!Array.isArray(o.repositoryFilters) || o.repositoryFilters.length < 1 || o.repositoryFilters.length > 100) {
    throw validationError(`1 validation error detected: Value at '${where}.repositoryFilters' failed to satisfy constraint: Member must have length between 1 and 100`);
  }
  return { scanFrequency: o.scanFrequency as ScanFrequency, repositoryFilters: o.repositoryFilters.map((f, i) => filterInput(f, `${where}.repositoryFilters.${i + 1}.member`)) };
}

/**
 * PutRegistryScanningConfiguration: scan type (BASIC/ENHANCED) and up to two rules of repository filters with
 * a scan frequency; BASIC scanning has no CONTINUOUS_SCAN (as in ECR). Scans on push follow these rules or the
 * repository's own scanOnPush flag.
 */
const putRegistryScanningConfiguration: EcrOperation = async (input, ctx) => {
  const v = createValidator(input, 'Validation');
  const scanType = v.enumValue('scanType', ['BASIC', 'ENHANCED'] as const) ?? 'BASIC';
  const rules = v.list('rules', ruleInput, { max: 2 }) ?? [];
  if (scanType === 'BASIC' && rules.some((r) => r.scanFrequency === 'CONTINUOUS_SCAN')) {
    throw validationError('CONTINUOUS_SCAN is not supported for the BASIC scan type. Use SCAN_ON_PUSH or MANUAL, or the ENHANCED scan type.');
  }
  await ctx.authorize('PutRegistryScanningConfiguration');
  const config: RegistryScanningConfiguration = { scanType, rules };
  await ctx.scans.putRegistryConfiguration(config);
  return { registryScanningConfiguration: config };
};

export default putRegistryScanningConfiguration;
