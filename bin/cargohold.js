#!/usr/bin/env node
// Entry point for `cargohold` (npx cargohold, npm start): runs the bundled build in dist/, rebuilding it first
// when a source file is newer. Set CARGOHOLD_FROM_SOURCE=1 to run the TypeScript sources through tsx instead.
let main;
if (process.env.CARGOHOLD_FROM_SOURCE === '1') {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
} else {
  const { ensureBuilt } = await import('../scripts/build.mjs');
  ({ main } = await import(await ensureBuilt('cargohold')));
}
await main(process.argv);
