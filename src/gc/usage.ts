import type { MetadataStore } from '../metadata/types.ts';
import type { RegistryUsage, RepositoryUsage } from './types.ts';

/** Bytes in a GB-month as AWS bills storage (2^30). */
export const BYTES_PER_GB = 2 ** 30;

/** Estimated monthly storage cost of `bytes` at `pricePerGbMonth` (USD), rounded to the cent. */
export function monthlyCost(bytes: number, pricePerGbMonth: number): number {
  return Math.round((bytes / BYTES_PER_GB) * pricePerGbMonth * 100) / 100;
}

export interface CostedRepositoryUsage extends RepositoryUsage {
  storedBytes: number;
  /** What the repository's bytes would cost on their own (shared layers count in every repository that links them). */
  estimatedMonthlyCost: number;
}

export interface UsageReport {
  currency: 'USD';
  pricePerGbMonth: number;
  /** Deduplicated: a blob shared by repositories counts once. */
  registry: RegistryUsage & { storedBytes: number; estimatedMonthlyCost: number };
  repositories: CostedRepositoryUsage[];
  /** `last` for the next page of repositories, when more remain. */
  next?: string;
}

/**
 * Stored bytes and estimated monthly cost, registry-wide and per repository (one page, by name): what
 * `cargohold usage` prints and what a console can call. Stored bytes are blob bytes plus manifest bytes.
 */
export async function usageReport(meta: MetadataStore, options: { pricePerGbMonth: number; last?: string; limit?: number }): Promise<UsageReport> {
  const price = options.pricePerGbMonth;
  const limit = options.limit ?? 1000;
  const registry = await meta.gc.registryUsage();
  const rows = await meta.gc.repositoryUsage({ last: options.last, limit: limit + 1 });
  const page = rows.slice(0, limit);
  const registryBytes = registry.blobBytes + registry.manifestBytes;
  return {
    currency: 'USD',
    pricePerGbMonth: price,
    registry: { ...registry, storedBytes: registryBytes, estimatedMonthlyCost: monthlyCost(registryBytes, price) },
    repositories: page.map((r) => {
      const storedBytes = r.blobBytes + r.manifestBytes;
      return { ...r, storedBytes, estimatedMonthlyCost: monthlyCost(storedBytes, price) };
    }),
    ...(rows.length > limit ? { next: page[page.length - 1].repository } : {}),
  };
}
