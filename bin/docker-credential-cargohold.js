#!/usr/bin/env node
// docker-credential-cargohold: a Docker credential helper (like docker-credential-ecr-login) that logs docker in
// to a cargohold registry with a fresh GetAuthorizationToken, signed with the AWS profile's credentials.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../src/credential-helper/main.ts');
await main(process.argv.slice(2));
