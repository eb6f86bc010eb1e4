import { sql, type Kysely } from 'kysely';
import type { Inventory } from '../../scan/types.ts';
import type { AdvisoryHeader } from '../../scan/vulndb/osv.ts';
import type { AdvisoryImport, AffectedMatchRow, ImageScanRecord, RematchCandidate, ScanStatus, ScanStore, VulnDbState } from '../../scan/store.ts';
import { atomic, type StoreContext } from './context.ts';
import { chunks, IN_LIST_CHUNK } from './rows.ts';

type Int = number | bigint | string;

/** Migration 0008's tables (kept here: only this store reads them). */
interface ScanTables {
  vuln_advisories: { id: string; modified: string | null; withdrawn: number; header: string };
  vuln_affected: { advisory_id: string; ecosystem: string; seq: number; package: string; data: string };
  vuln_db_state: { id: number; generation: Int; updated_at: Int | null; source: string | null };
  scan_inventories: { digest: string; inventory: string; created_at: Int };
  image_scans: {
    repository_id: number;
    digest: string;
    status: string;
    description: string;
    requested_at: Int;
    completed_at: Int | null;
    db_generation: Int | null;
    source_updated_at: Int | null;
    findings: string | null;
  };
  scan_registry_config: { id: number; config: string; updated_at: Int };
  manifests: { repository_id: number; digest: string; pushed_at: Int; last_pulled_at: Int | null };
}

const date = (v: Int | null): Date | undefined => (v === null ? undefined : new Date(Number(v)));

/** Portable (Kysely-only) ScanStore over migration 0008. */
export function createScanStore({ db: metaDb }: StoreContext): ScanStore {
  const db = metaDb as unknown as Kysely<ScanTables>;

  async function state(): Promise<VulnDbState> {
    // The row is written by the first import (a database that was never imported has none).
    const row = (await db.selectFrom('vuln_db_state').selectAll().where('id', '=', 1).executeTakeFirst()) ?? { generation: 0, updated_at: null, source: null };
    const counts = await db
      .selectFrom('vuln_advisories')
      .select([sql<Int>`count(*)`.as('n'), sql<Int>`sum(withdrawn)`.as('w')])
      .executeTakeFirstOrThrow();
    const eco = await db.selectFrom('vuln_affected').select(['ecosystem', sql<Int>`count(*)`.as('n')]).groupBy('ecosystem').orderBy('ecosystem').execute();
    return {
      generation: Number(row.generation),
      updatedAt: date(row.updated_at),
      source: row.source ?? undefined,
      advisories: Number(counts.n),
      withdrawn: Number(counts.w ?? 0),
      ecosystems: eco.map((e) => ({ ecosystem: e.ecosystem, entries: Number(e.n) })),
    };
  }

  function toScan(r: ScanTables['image_scans']): ImageScanRecord {
    return {
      repositoryId: Number(r.repository_id),
      digest: r.digest,
      status: r.status as ScanStatus,
      description: r.description,
      requestedAt: new Date(Number(r.requested_at)),
      completedAt: date(r.completed_at),
      dbGeneration: r.db_generation === null ? undefined : Number(r.db_generation),
      vulnerabilitySourceUpdatedAt: date(r.source_updated_at),
      findings: r.findings === null ? undefined : (JSON.parse(r.findings) as unknown[]),
    };
  }

  return {
    putAdvisories(batch) {
      return atomic(metaDb, async (m) => {
        const tx = m as unknown as Kysely<ScanTables>;
        for (const a of batch) {
          const header = JSON.stringify(a.header);
          const values = { modified: a.header.modified ?? null, withdrawn: a.withdrawn ? 1 : 0, header };
          await tx.insertInto('vuln_advisories').values({ id: a.header.id, ...values }).onConflict((oc) => oc.column('id').doUpdateSet(values)).execute();
          if (a.withdrawn) {
            await tx.deleteFrom('vuln_affected').where('advisory_id', '=', a.header.id).execute();
            continue;
          }
          const ecosystems = [...new Set(a.affected.map((x) => x.ecosystem))];
          if (ecosystems.length === 0) continue;
          await tx.deleteFrom('vuln_affected').where('advisory_id', '=', a.header.id).where('ecosystem', 'in', ecosystems).execute();
          const rows = a.affected.map((x, seq) => ({ advisory_id: a.header.id, ecosystem: x.ecosystem, seq, package: x.name, data: JSON.stringify(x.entry) }));
          for (const part of chunks(rows, 100)) await tx.insertInto('vuln_affected').values(part).execute();
        }
      });
    },

    async recordImport(source, changed, at) {
      await db
        .insertInto('vuln_db_state')
        .values({ id: 1, generation: changed ? 1 : 0, updated_at: at.getTime(), source })
        .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({ generation: changed ? eb('vuln_db_state.generation', '+', 1) : eb.ref('vuln_db_state.generation'), updated_at: at.getTime(), source })))
        .execute();
      return state();
    },

    async affected(keys) {
      const out: AffectedMatchRow[] = [];
      const byEcosystem = new Map<string, string[]>();
      for (const k of keys) byEcosystem.set(k.ecosystem, [...(byEcosystem.get(k.ecosystem) ?? []), k.name]);
      for (const [ecosystem, names] of byEcosystem) {
        for (const part of chunks([...new Set(names)], IN_LIST_CHUNK)) {
          const rows = await db
            .selectFrom('vuln_affected as f')
            .innerJoin('vuln_advisories as a', 'a.id', 'f.advisory_id')
            .select(['f.ecosystem', 'f.package', 'f.data', 'a.header'])
            .where('f.ecosystem', '=', ecosystem)
            .where('f.package', 'in', part)
            .where('a.withdrawn', '=', 0)
            .execute();
          for (const r of rows) out.push({ ecosystem: r.ecosystem, name: r.package, entry: JSON.parse(r.data), advisory: JSON.parse(r.header) });
        }
      }
      return out;
    },

    state,

    async putInventory(digest, inventory, at) {
      const values = { inventory: JSON.stringify(inventory), created_at: at.getTime() };
      await db.insertInto('scan_inventories').values({ digest, ...values }).onConflict((oc) => oc.column('digest').doUpdateSet(values)).execute();
    },

    async getInventory(digest) {
      const r = await db.selectFrom('scan_inventories').select('inventory').where('digest', '=', digest).executeTakeFirst();
      return r ? (JSON.parse(r.inventory) as Inventory) : undefined;
    },

    async putScan(s) {
      const values = {
        status: s.status,
        description: s.description,
        requested_at: s.requestedAt.getTime(),
        completed_at: s.completedAt?.getTime() ?? null,
        db_generation: s.dbGeneration ?? null,
        source_updated_at: s.vulnerabilitySourceUpdatedAt?.getTime() ?? null,
        findings: s.findings === undefined ? null : JSON.stringify(s.findings),
      };
      await db
        .insertInto('image_scans')
        .values({ repository_id: s.repositoryId, digest: s.digest, ...values })
        .onConflict((oc) => oc.columns(['repository_id', 'digest']).doUpdateSet(values))
        .execute();
    },

    async getScan(repositoryId, digest) {
      const r = await db.selectFrom('image_scans').selectAll().where('repository_id', '=', repositoryId).where('digest', '=', digest).executeTakeFirst();
      return r ? toScan(r) : undefined;
    },

    async getScans(repositoryId, digests) {
      const out = new Map<string, ImageScanRecord>();
      for (const part of chunks([...new Set(digests)], IN_LIST_CHUNK)) {
        if (part.length === 0) continue;
        const rows = await db.selectFrom('image_scans').selectAll().where('repository_id', '=', repositoryId).where('digest', 'in', part).execute();
        for (const r of rows) out.set(r.digest, toScan(r));
      }
      return out;
    },

    async rematchCandidates(generation, since, after, limit) {
      let q = db
        .selectFrom('image_scans as s')
        .innerJoin('manifests as m', (j) => j.onRef('m.repository_id', '=', 's.repository_id').onRef('m.digest', '=', 's.digest'))
        .select(['s.repository_id', 's.digest', 's.requested_at'])
        .where('s.status', '=', 'COMPLETE')
        .where('s.db_generation', '<', generation)
        .where((eb) => eb.or([eb('m.pushed_at', '>=', since.getTime()), eb('m.last_pulled_at', '>=', since.getTime())]));
      if (after) q = q.where((eb) => eb.or([eb('s.repository_id', '>', after.repositoryId), eb.and([eb('s.repository_id', '=', after.repositoryId), eb('s.digest', '>', after.digest)])]));
      const rows = await q.orderBy('s.repository_id').orderBy('s.digest').limit(limit).execute();
      return rows.map((r): RematchCandidate => ({ repositoryId: Number(r.repository_id), digest: r.digest, requestedAt: new Date(Number(r.requested_at)) }));
    },

    async advisoryHeaders(ids) {
      const out = new Map<string, AdvisoryHeader>();
      for (const part of chunks([...new Set(ids)], IN_LIST_CHUNK)) {
        if (part.length === 0) continue;
        const rows = await db.selectFrom('vuln_advisories').select(['id', 'header']).where('id', 'in', part).execute();
        for (const r of rows) out.set(r.id, JSON.parse(r.header) as AdvisoryHeader);
      }
      return out;
    },

    async getRegistryScanning() {
      const r = await db.selectFrom('scan_registry_config').select('config').where('id', '=', 1).executeTakeFirst();
      return r ? JSON.parse(r.config) : undefined;
    },

    async putRegistryScanning(config, at) {
      const values = { config: JSON.stringify(config), updated_at: at.getTime() };
      await db.insertInto('scan_registry_config').values({ id: 1, ...values }).onConflict((oc) => oc.column('id').doUpdateSet(values)).execute();
    },
  };
}
