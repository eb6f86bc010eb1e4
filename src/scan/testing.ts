/** Test support: the shared vulnerability-database fixtures (`../shared/fixtures/vulndb` beside the checkout). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the fixtures folder (read only; the whole offline "advisory universe" for tests). */
export const VULNDB_FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/vulndb/', import.meta.url));

/** The expected findings file. */
export function expectedFindings(): any {
  return JSON.parse(readFileSync(join(VULNDB_FIXTURES, 'ground-truth', 'expected-findings.json'), 'utf8'));
}

/** Reads one ground-truth input file. */
export function groundTruthFile(name: string): string {
  return readFileSync(join(VULNDB_FIXTURES, 'ground-truth', name), 'utf8');
}
