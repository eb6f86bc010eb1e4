// The scan inventory over layers written by a real client: docker builds an image from the ground-truth
// package files (COPY, then a RUN that deletes and recreates directories, so the layer carries docker's own
// whiteouts), pushes it to cargohold, and the inventory is read from the blobs the registry serves.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { readImageInventory } from '../../src/scan/inventory/index.ts';
import { groundTruthEntries, type LayerEntry } from '../../src/scan/inventory/test-layers.ts';
import { assertAvailable, hasDocker, skipUnless, startDockerd, type RunningDockerd } from '../helpers/dockerd.ts';
import { hasBusybox, importBusyboxImage } from '../helpers/images.ts';
import { startCargohold, type RunningServer } from '../helpers/server.ts';

const BASE = 'cargohold-test/busybox:1';

/** Writes layer entries as files of a build context (symlinks as symlinks, modes kept). */
async function materialize(root: string, entries: LayerEntry[]): Promise<void> {
  for (const e of entries) {
    if (!('path' in e)) continue;
    const target = join(root, e.path);
    await mkdir(dirname(target), { recursive: true });
    if ('symlink' in e) await symlink(e.symlink, target);
    else if ('content' in e) { await writeFile(target, e.content); await chmod(target, e.mode ?? 0o644); }
  }
}

describe('inventory of an image built and pushed by docker', { skip: skipUnless(hasDocker()) || skipUnless(hasBusybox()), timeout: 600_000 }, () => {
  let registry: RunningServer;
  let dockerd: RunningDockerd;
  let work: string;

  before(async () => {
    assertAvailable(hasDocker());
    work = join(tmpdir(), `cargohold-e2e-inventory-${randomBytes(6).toString('hex')}`);
    await mkdir(work);
    registry = await startCargohold();
    dockerd = await startDockerd();
    await importBusyboxImage(dockerd, BASE);
    if (registry.credentials) await dockerd.docker(['login', '--username', registry.credentials.accessKeyId, '--password-stdin', registry.host], { input: registry.credentials.secretAccessKey });
  }, { timeout: 180_000 });

  after(async () => {
    await dockerd?.stop();
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  }, { timeout: 60_000 });

  it('reads OS and language packages through docker-made layers and whiteouts', { timeout: 400_000 }, async () => {
    const ctx = join(work, 'ctx');
    await materialize(join(ctx, 'rootfs'), [...groundTruthEntries('debian-12'), ...groundTruthEntries('pypi'), ...groundTruthEntries('npm'), ...groundTruthEntries('go')]);
    await writeFile(join(ctx, 'Dockerfile'), [
      `FROM ${BASE}`,
      'COPY rootfs/ /',
      // Deleting a directory from a lower layer, and replacing node_modules wholesale (an opaque directory on overlayfs).
      'RUN rm -r /usr/local/lib/python3.11/site-packages/flask-2.2.4.dist-info && rm -r /app/node_modules && mkdir -p /app/node_modules/left-pad && echo \'{"name":"left-pad","version":"1.3.0"}\' > /app/node_modules/left-pad/package.json',
      '',
    ].join('\n'));
    const image = `${registry.host}/scan/inventory:v1`;
    await dockerd.docker(['build', '--network', 'none', '-t', image, ctx], { timeoutMs: 170_000 });
    await dockerd.docker(['push', image], { timeoutMs: 110_000 });

    const auth: Record<string, string> = registry.authorization ? { authorization: registry.authorization } : {};
    const res = await fetch(`${registry.url}/v2/scan/inventory/manifests/v1`, { headers: { ...auth, accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(res.status, 200);
    const manifest = (await res.json()) as { layers: { mediaType: string; digest: string }[] };
    assert.equal(manifest.layers.length, 3);
    const blobs = {
      open: async (digest: string) => {
        const r = await fetch(`${registry.url}/v2/scan/inventory/blobs/${digest}`, { headers: auth });
        assert.equal(r.status, 200);
        return Readable.fromWeb(r.body as import('node:stream/web').ReadableStream<Uint8Array>);
      },
    };
    const warnings: unknown[] = [];
    const inv = await readImageInventory(blobs, manifest, { onWarning: (w) => warnings.push(w) });
    assert.deepEqual(warnings, []);
    assert.equal(inv.os?.id, 'debian');
    assert.equal(inv.os?.versionId, '12');
    const by = (eco: string) => inv.packages.filter((p) => p.ecosystem === eco).map((p) => `${p.name}@${p.version}`).sort();
    assert.equal(by('deb').length, 20);
    assert.ok(by('deb').includes('bsdutils@1:2.38.1-5+b1'));
    assert.equal(by('pypi').length, 9);
    assert.ok(!by('pypi').includes('flask@2.2.4'));
    // node_modules was replaced: left-pad is installed; the lockfile's packages are reported from the lockfile.
    assert.ok(by('npm').includes('left-pad@1.3.0'));
    assert.equal(inv.packages.filter((p) => p.ecosystem === 'npm' && p.path === '/app/package-lock.json').length, 14);
    assert.deepEqual(by('go'), ['github.com/opencontainers/runc@v1.1.11', 'golang.org/x/crypto@v0.16.0', 'golang.org/x/net@v0.17.0', 'google.golang.org/grpc@v1.58.2', 'google.golang.org/protobuf@v1.32.0', 'stdlib@v1.21.0']);
  });
});
