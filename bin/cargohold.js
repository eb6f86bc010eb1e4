#!/usr/bin/env node
// Entry point for `cargohold` (npx cargohold, npm start). Loads the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
