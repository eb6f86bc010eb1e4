import { runBlobStoreContract } from '../blob-store.contract.ts';
import { createMemoryBlobStore } from './memory.ts';

runBlobStoreContract('memory', async () => ({ store: createMemoryBlobStore(), cleanup: async () => {} }));
