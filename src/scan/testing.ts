/** Test support: where the shared vulnerability-database fixtures live (`../shared/fixtures/vulndb` beside the checkout). */
import { fileURLToPath } from 'node:url';

/** Absolute path of the fixtures folder (read only; the whole offline "advisory universe" for tests). */
export const VULNDB_FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/vulndb/', import.meta.url));
