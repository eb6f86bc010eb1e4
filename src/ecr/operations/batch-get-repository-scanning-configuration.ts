import type { EcrOperation } from '../context.ts';
import { createValidator } from '../validate.ts';
import { isRegistryError } from '../../core/errors.ts';
import { appliedRules, scanFrequencyFor } from '../../scan/scanning-config.ts';

/**
 * BatchGetRepositoryScanningConfiguration: per repository, the frequency that applies (registry rule, else its
 * own scanOnPush flag) and the registry filters that matched; missing repositories are failures.
 */
const batchGetRepositoryScanningConfiguration: EcrOperation = async (input, ctx) => {
  const v = createValidator(input, 'Validation');
  const names = v.list('repositoryNames', (x, where) => {
    if (typeof x !== 'string' || x.length < 2 || x.length > 256) v.fail(where, 'Member must have length between 2 and 256');
    return x as string;
  }, { required: true, min: 1, max: 25 });
  const config = await ctx.scans.registryConfiguration();
  const scanningConfigurations: Record<string, unknown>[] = [];
  const failures: Record<string, unknown>[] = [];
  for (const name of [...new Set(names)]) {
    await ctx.authorize('BatchGetRepositoryScanningConfiguration', name);
    try {
      const view = await ctx.registry.repositories.get(name);
      const scanOnPush = view.settings.scanOnPush;
      const frequency = scanFrequencyFor(config, name, scanOnPush);
      scanningConfigurations.push({
        repositoryArn: ctx.repositoryArn(name),
        repositoryName: name,
        scanOnPush: frequency !== 'MANUAL',
        scanFrequency: frequency,
        appliedScanFilters: appliedRules(config, name).flatMap((r) => r.repositoryFilters),
      });
    } catch (e) {
      if (!isRegistryError(e) || e.kind !== 'NAME_UNKNOWN') throw e;
      failures.push({ repositoryName: name, failureCode: 'REPOSITORY_NOT_FOUND', failureReason: 'REPOSITORY_NOT_FOUND' });
    }
  }
  return { scanningConfigurations, failures };
};

export default batchGetRepositoryScanningConfiguration;
