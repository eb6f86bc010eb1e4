import { afterEach, beforeEach, describe } from 'node:test';
import { blobCases } from './contract/blobs.ts';
import { ecrCases } from './contract/ecr.ts';
import { encryptionCases } from './contract/encryption.ts';
import { gcCases } from './contract/gc.ts';
import { iamCases } from './contract/iam.ts';
import { imageCases } from './contract/images.ts';
import { jobCases } from './contract/jobs.ts';
import { lifecycleCases } from './contract/lifecycle.ts';
import { manifestCases } from './contract/manifests.ts';
import { repositoryCases } from './contract/repositories.ts';
import { scanCases } from './contract/scan.ts';
import { tagCases } from './contract/tags.ts';
import { transactionCases } from './contract/transactions.ts';
import { uploadCases } from './contract/uploads.ts';
import type { MetadataStore } from './types.ts';

/** A fresh, empty, migrated store and how to dispose of it. */
export interface ContractSubject {
  store: MetadataStore;
  cleanup(): Promise<void>;
}

/**
 * The metadata contract: every clause of `types.ts`, exercised through the MetadataStore interface only,
 * so every dialect (SQLite now, PostgreSQL later) runs the identical suite. `factory` is called before
 * each case and must return an empty store; `cleanup` runs after it (close the store, drop files/schemas).
 */
export function runMetadataContract(name: string, factory: () => Promise<ContractSubject>): void {
  describe(`metadata contract: ${name}`, () => {
    let subject: ContractSubject | undefined;
    const store = (): MetadataStore => {
      if (!subject) throw new Error('no store: factory did not run');
      return subject.store;
    };
    beforeEach(async () => {
      subject = await factory();
    });
    afterEach(async () => {
      const s = subject;
      subject = undefined;
      await s?.cleanup();
    });

    repositoryCases(store);
    blobCases(store);
    manifestCases(store);
    tagCases(store);
    uploadCases(store);
    transactionCases(store);
    ecrCases(store);
    iamCases(store);
    imageCases(store);
    jobCases(store);
    encryptionCases(store);
    lifecycleCases(store);
    gcCases(store);
    scanCases(store);
  });
}
