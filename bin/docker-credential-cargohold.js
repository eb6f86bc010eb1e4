#!/usr/bin/env node
// docker-credential-cargohold: a Docker credential helper (like docker-credential-ecr-login) that logs docker in
// to a cargohold registry with a fresh GetAuthorizationToken, signed with the AWS profile's credentials.
const { ensureBuilt } = await import('../scripts/build.mjs');
const { main } = await import(await ensureBuilt('docker-credential-cargohold'));
await main(process.argv.slice(2));
