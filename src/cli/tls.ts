/**
 * `cargohold tls self-signed --host NAME [--out DIR]`: writes a private CA and a server certificate for trying
 * HTTPS (see docs/security.md). The generator loads only when the command runs.
 */
import type { Command } from 'commander';

export const TLS_FILES = { caCert: 'ca.crt', caKey: 'ca.key', serverCert: 'server.crt', serverKey: 'server.key' } as const;

export function registerTlsCommands(program: Command): void {
  const tls = program.command('tls').description('TLS certificates for serving HTTPS');
  tls
    .command('self-signed')
    .description('write a private CA (ca.crt, ca.key) and a server certificate it signs (server.crt, server.key) for HOST, localhost, 127.0.0.1 and ::1')
    .requiredOption('--host <name>', 'host name or IP address clients use for the registry')
    .option('--out <dir>', 'directory to write the files to', './tls')
    .option('--days <n>', 'server certificate lifetime in days (the CA lives ten times as long)', '397')
    .option('--force', 'overwrite existing files')
    .action(async (opts: { host: string; out: string; days: string; force?: boolean }) => {
      const [{ createSelfSigned }, { mkdirSync, writeFileSync, existsSync }, { join, resolve }] = await Promise.all([
        import('../tls/self-signed.ts'),
        import('node:fs'),
        import('node:path'),
      ]);
      const days = Number(opts.days);
      if (!Number.isInteger(days) || days < 1 || days > 3650) throw Object.assign(new Error('--days must be a whole number from 1 to 3650'), { userError: true });
      const dir = resolve(opts.out);
      const paths = Object.fromEntries(Object.entries(TLS_FILES).map(([k, f]) => [k, join(dir, f)])) as Record<keyof typeof TLS_FILES, string>;
      const existing = Object.values(paths).filter((p) => existsSync(p));
      if (existing.length && !opts.force) throw Object.assign(new Error(`${existing.join(', ')} already exist(s); pass --force to replace`), { userError: true });
      const bundle = await createSelfSigned({ host: opts.host, days });
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // Keys are private to the owner; certificates are public.
      writeFileSync(paths.caKey, bundle.caKey, { mode: 0o600 });
      writeFileSync(paths.serverKey, bundle.serverKey, { mode: 0o600 });
      writeFileSync(paths.caCert, bundle.caCert, { mode: 0o644 });
      writeFileSync(paths.serverCert, bundle.serverCert, { mode: 0o644 });
      process.stdout.write([
        `wrote ${paths.caCert}, ${paths.caKey} (the CA) and ${paths.serverCert}, ${paths.serverKey} (names: ${bundle.names.join(', ')})`,
        'serve HTTPS with:',
        `  cargohold serve --tls-cert ${paths.serverCert} --tls-key ${paths.serverKey} --listen 0.0.0.0:5000`,
        'trust the CA:',
        `  docker:  sudo mkdir -p /etc/docker/certs.d/${opts.host}:5000 && sudo cp ${paths.caCert} /etc/docker/certs.d/${opts.host}:5000/ca.crt`,
        `  aws:     aws ecr describe-repositories --endpoint-url https://${opts.host}:5000 --ca-bundle ${paths.caCert}`,
        `  curl:    curl --cacert ${paths.caCert} https://${opts.host}:5000/v2/`,
        '',
      ].join('\n'));
    });
}
