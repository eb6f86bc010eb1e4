/**
 * The scanner's metadata store (`meta.scan`, migration 0008): advisories indexed by (ecosystem, package),
 * the database's age, inventories (SBOMs) per image digest, scan results per (repository, image) and the
 * registry scanning configuration.
 */
import type { AdvisoryHeader, OsvAffected } from './vulndb/osv.ts';
import type { Inventory } from './types.ts';

/** One advisory as imported: its header and its affected entries (names normalised). */
export interface AdvisoryImport {
  header: AdvisoryHeader;
  withdrawn: boolean;
  affected: { ecosystem: string; name: string; entry: OsvAffected }[];
}

/** One affected entry as the matcher reads it, with its advisory. */
export interface AffectedMatchRow {
  ecosystem: string;
  name: string;
  entry: OsvAffected;
  advisory: AdvisoryHeader;
}

/** The database's state, shown by `cargohold vulndb status` and used to know when to re-match. */
export interface VulnDbState {
  /** Increases on every import that changed something; scans record the generation they matched against. */
  generation: number;
  /** When the last import finished (undefined: never imported). */
  updatedAt?: Date;
  /** Where the last import came from. */
  source?: string;
  advisories: number;
  withdrawn: number;
  /** Affected entries per ecosystem. */
  ecosystems: { ecosystem: string; entries: number }[];
}

/** ECR's scan statuses. */
export type ScanStatus = 'IN_PROGRESS' | 'COMPLETE' | 'FAILED' | 'UNSUPPORTED_IMAGE' | 'ACTIVE' | 'PENDING' | 'SCAN_ELIGIBILITY_EXPIRED' | 'FINDINGS_UNAVAILABLE';

/** A scan of one image in one repository. */
export interface ImageScanRecord {
  repositoryId: number;
  digest: string;
  status: ScanStatus;
  description: string;
  /** Last StartImageScan/scan-on-push request (ECR allows one per image per 24 h). */
  requestedAt: Date;
  completedAt?: Date;
  /** Database generation and age the findings were matched against. */
  dbGeneration?: number;
  vulnerabilitySourceUpdatedAt?: Date;
  /** Findings (JSON-serialisable, see scan/match) — present when COMPLETE. */
  findings?: unknown[];
}

/** A stored inventory with the images that use it, for re-matching. */
export interface RematchCandidate {
  repositoryId: number;
  digest: string;
  /** When the image's scan was last requested (kept by the re-match). */
  requestedAt: Date;
}

export interface ScanStore {
  /** Applies advisories: merged by id per ecosystem (an id's entries for other ecosystems stay); withdrawn ones drop their entries. */
  putAdvisories(batch: readonly AdvisoryImport[]): Promise<void>;
  /** Records a finished import: bumps the generation when `changed`, sets updatedAt and source. */
  recordImport(source: string, changed: boolean, at: Date): Promise<VulnDbState>;
  /** Affected entries for these (ecosystem, name) keys, non-withdrawn advisories only. */
  affected(keys: readonly { ecosystem: string; name: string }[]): Promise<AffectedMatchRow[]>;
  state(): Promise<VulnDbState>;
  /** Stores an image's inventory (content-addressed by manifest digest; replaces an older one). */
  putInventory(digest: string, inventory: Inventory, at: Date): Promise<void>;
  getInventory(digest: string): Promise<Inventory | undefined>;
  putScan(record: ImageScanRecord): Promise<void>;
  getScan(repositoryId: number, digest: string): Promise<ImageScanRecord | undefined>;
  /** Scan status/summary for several images of one repository (DescribeImages). */
  getScans(repositoryId: number, digests: readonly string[]): Promise<Map<string, ImageScanRecord>>;
  /**
   * Images with a COMPLETE scan matched before `generation`, pushed or pulled at/after `since`, in
   * (repository_id, digest) keyset order after `after`.
   */
  rematchCandidates(generation: number, since: Date, after: Pick<RematchCandidate, 'repositoryId' | 'digest'> | undefined, limit: number): Promise<RematchCandidate[]>;
  /** Advisory headers by id (findings are stored without their advisory's texts and read back with them). */
  advisoryHeaders(ids: readonly string[]): Promise<Map<string, AdvisoryHeader>>;
  getRegistryScanning(): Promise<unknown | undefined>;
  putRegistryScanning(config: unknown, at: Date): Promise<void>;
}
