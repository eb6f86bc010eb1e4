// Real clients against a real registry: docker (build/push/pull/run through a private dockerd), skopeo (OCI layout
// with a multi-platform index, there and back) and podman (push/pull). Runs against cargohold by default and
// against CNCF Distribution with CARGOHOLD_E2E_TARGET=distribution (the reference behaviour).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertAvailable, hasDocker, skipUnless, startDockerd, type RunningDockerd } from '../helpers/dockerd.ts';
import { startDistribution } from '../helpers/distribution.ts';
import {
  createPodman,
  createSkopeo,
  hasBusybox,
  hasPodman,
  hasSkopeo,
  importBusyboxImage,
  layoutDescriptor,
  listLayoutBlobs,
  sha256,
  writeMultiPlatformLayout,
  writeSingleImageLayout,
  type Podman,
  type Skopeo,
  type WrittenLayout,
} from '../helpers/images.ts';
import { startCargohold, type RunningServer } from '../helpers/server.ts';

const TARGET = process.env.CARGOHOLD_E2E_TARGET ?? 'cargohold';
if (TARGET !== 'cargohold' && TARGET !== 'distribution') throw new Error(`CARGOHOLD_E2E_TARGET must be cargohold or distribution, not ${TARGET}`);

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

let registry: RunningServer;
let work: string;

before(async () => {
  // Lower-case on purpose: podman names an image pulled from oci:DIR after DIR, and names must be lower-case.
  work = join(tmpdir(), `cargohold-e2e-clients-${randomBytes(6).toString('hex')}`);
  await mkdir(work);
  registry = TARGET === 'distribution' ? await startDistribution() : await startCargohold();
}, { timeout: 60_000 });

after(async () => {
  // CARGOHOLD_E2E_LOGS=FILE keeps the registry's log lines (JSON, one per line) for debugging a failure.
  if (process.env.CARGOHOLD_E2E_LOGS && registry) await writeFile(process.env.CARGOHOLD_E2E_LOGS, registry.logs.map((l) => JSON.stringify(l)).join('\n') + '\n');
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
}, { timeout: 60_000 });

/** GET a manifest over plain HTTP, to check what clients saw against what the registry stores. */
async function getManifest(repo: string, reference: string): Promise<{ status: number; digest: string | null; contentType: string | null; body: Buffer }> {
  const headers: Record<string, string> = { accept: MANIFEST_ACCEPT, ...(registry.authorization ? { authorization: registry.authorization } : {}) };
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/${reference}`, { headers, signal: AbortSignal.timeout(10_000) });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, digest: res.headers.get('docker-content-digest'), contentType: res.headers.get('content-type'), body };
}

async function assertManifestStored(repo: string, reference: string, digest: string, what: string): Promise<Buffer> {
  const m = await getManifest(repo, reference);
  assert.equal(m.status, 200, `${what}: GET /v2/${repo}/manifests/${reference} returned ${m.status}: ${m.body.toString().slice(0, 500)}`);
  assert.equal(sha256(m.body), digest, `${what}: the stored manifest bytes hash to ${sha256(m.body)}, the client reported ${digest}`);
  assert.equal(m.digest, digest, `${what}: Docker-Content-Digest header is ${m.digest}, expected ${digest}`);
  return m.body;
}

/** Fails a step whose prerequisite step failed, naming it, instead of producing a confusing client error. */
function requireStep(done: Set<string>, step: string): void {
  if (!done.has(step)) throw new Error(`not run: the earlier step "${step}" did not succeed (see its failure above)`);
}

describe('docker', { skip: skipUnless(hasDocker()) || skipUnless(hasBusybox()), timeout: 600_000 }, () => {
  const BASE = 'cargohold-test/busybox:1';
  const nonce = randomBytes(6).toString('hex');
  const message = `built offline by stage one ${nonce}`;
  const done = new Set<string>();
  let dockerd: RunningDockerd;
  let image: string;
  let pushedDigest: string;

  before(async () => {
    assertAvailable(hasDocker());
    assertAvailable(hasBusybox());
    dockerd = await startDockerd();
    await importBusyboxImage(dockerd, BASE);
    // cargohold authenticates /v2/ (HTTP Basic with the administrator's access key); Distribution is open.
    if (registry.credentials) await dockerd.docker(['login', '--username', registry.credentials.accessKeyId, '--password-stdin', registry.host], { input: registry.credentials.secretAccessKey });
    image = `${registry.host}/e2e/app:v1`;
  }, { timeout: 120_000 });

  after(async () => {
    await dockerd?.stop();
  }, { timeout: 60_000 });

  it('builds a multi-stage image offline from the imported base', { timeout: 180_000 }, async () => {
    const ctx = join(work, 'docker-context');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), [
      `FROM ${BASE} AS build`,
      `RUN mkdir -p /out && echo '${message}' > /out/message.txt`,
      `FROM ${BASE}`,
      'COPY --from=build /out/message.txt /message.txt',
      'CMD ["/bin/cat", "/message.txt"]',
      '',
    ].join('\n'));
    const res = await dockerd.docker(['build', '--network', 'none', '-t', image, ctx], { timeoutMs: 170_000 });
    assert.match(res.stdout, /Successfully tagged/, `docker build did not tag the image:\n${res.stdout}\n${res.stderr}`);
    done.add('build');
  });

  it('pushes the image (every layer uploaded) and the registry serves the same manifest', { timeout: 120_000 }, async () => {
    requireStep(done, 'build');
    const res = await dockerd.docker(['push', image], { timeoutMs: 110_000 });
    const m = /v1: digest: (sha256:[0-9a-f]{64}) size: (\d+)/.exec(res.stdout);
    assert.ok(m, `docker push printed no digest line:\n${res.stdout}\n${res.stderr}`);
    pushedDigest = m[1]!;
    const pushedLayers = res.stdout.match(/: Pushed$/gm) ?? [];
    assert.equal(pushedLayers.length, 2, `expected 2 layers "Pushed" on a first push to a fresh registry:\n${res.stdout}`);
    const body = await assertManifestStored('e2e/app', 'v1', pushedDigest, 'after docker push');
    assert.equal(body.length, Number(m[2]), 'manifest size reported by docker differs from the stored manifest');
    const manifest = JSON.parse(body.toString()) as { mediaType: string };
    assert.equal(manifest.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    done.add('push');
  });

  it('removes every local image, pulls it back by tag with the same digest', { timeout: 120_000 }, async () => {
    requireStep(done, 'push');
    await dockerd.docker(['rmi', image, BASE]);
    await dockerd.docker(['image', 'prune', '--all', '--force']);
    const left = await dockerd.docker(['images', '--all', '--quiet']);
    assert.equal(left.stdout.trim(), '', `images left after rmi + prune: ${left.stdout}`);
    const res = await dockerd.docker(['pull', image], { timeoutMs: 110_000 });
    assert.match(res.stdout, new RegExp(`Digest: ${pushedDigest}`), `docker pull reported another digest:\n${res.stdout}`);
    assert.match(res.stdout, /Downloaded newer image/, res.stdout);
    const repoDigests = await dockerd.docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', image]);
    assert.deepEqual(JSON.parse(repoDigests.stdout), [`${registry.host}/e2e/app@${pushedDigest}`]);
    done.add('pull');
  });

  it('runs the pulled image and prints the file written by the first build stage', { timeout: 90_000 }, async () => {
    requireStep(done, 'pull');
    const res = await dockerd.docker(['run', '--rm', '--network', 'none', image], { timeoutMs: 80_000 });
    assert.equal(res.stdout.trim(), message, `container output:\n${res.stdout}\nstderr:\n${res.stderr}`);
  });

  it('re-push reports "Layer already exists" for every layer and the same digest', { timeout: 90_000 }, async () => {
    requireStep(done, 'pull');
    const res = await dockerd.docker(['push', image], { timeoutMs: 80_000 });
    const existing = res.stdout.match(/: Layer already exists$/gm) ?? [];
    assert.equal(existing.length, 2, `expected both layers to already exist:\n${res.stdout}`);
    assert.doesNotMatch(res.stdout, /: Pushed$/m, `a layer was uploaded again:\n${res.stdout}`);
    assert.match(res.stdout, new RegExp(`v1: digest: ${pushedDigest} `), res.stdout);
  });

  it('pulls by digest and pushes the same image to a second repository', { timeout: 120_000 }, async () => {
    requireStep(done, 'pull');
    const byDigest = `${registry.host}/e2e/app@${pushedDigest}`;
    const pulled = await dockerd.docker(['pull', byDigest], { timeoutMs: 60_000 });
    assert.match(pulled.stdout, new RegExp(`Digest: ${pushedDigest}`), pulled.stdout);
    // Docker knows the layers live in e2e/app on this registry, so it tries a cross-repository mount first;
    // a registry may answer the mount with a plain upload session instead, so both outcomes are fine.
    const other = `${registry.host}/e2e/copy:v2`;
    await dockerd.docker(['tag', image, other]);
    const res = await dockerd.docker(['push', other], { timeoutMs: 60_000 });
    assert.match(res.stdout, new RegExp(`v2: digest: ${pushedDigest} `), res.stdout);
    for (const line of res.stdout.split('\n').filter((l) => /^[0-9a-f]{12}: /.test(l) && !/Preparing|Waiting/.test(l))) {
      assert.match(line, /Mounted from e2e\/app|Pushed|Layer already exists/, `unexpected layer status: ${line}`);
    }
    await assertManifestStored('e2e/copy', 'v2', pushedDigest, 'after push to a second repository');
  });
});

describe('skopeo', { skip: skipUnless(hasSkopeo()), timeout: 300_000 }, () => {
  let skopeo: Skopeo;
  let layout: WrittenLayout;
  const done = new Set<string>();
  let ref: string;

  before(async () => {
    assertAvailable(hasSkopeo());
    skopeo = await createSkopeo();
    if (registry.credentials) await skopeo.run(['login', '--tls-verify=false', '--username', registry.credentials.accessKeyId, '--password-stdin', registry.host], { input: registry.credentials.secretAccessKey });
    layout = await writeMultiPlatformLayout(join(work, 'oci-multi'), 'multi');
    ref = `docker://${registry.host}/e2e/multi:v1`;
  }, { timeout: 60_000 });

  after(async () => {
    await skopeo?.stop();
  });

  it('copies a multi-platform OCI layout (--all) to the registry with every digest preserved', { timeout: 90_000 }, async () => {
    assert.equal(layout.images.length, 2);
    await skopeo.copy(layout.reference, ref, { all: true });
    const raw = await skopeo.inspectRaw(ref);
    const indexBlob = await readFile(join(layout.dir, 'blobs', 'sha256', layout.digest.slice(7)));
    assert.equal(sha256(raw), layout.digest, 'the index served for the tag is not the index that was pushed');
    assert.deepEqual(raw, indexBlob, 'index bytes changed on the way through the registry');
    const stored = await getManifest('e2e/multi', 'v1');
    assert.equal(stored.contentType, 'application/vnd.oci.image.index.v1+json', 'Content-Type of the tag must be the index media type');
    assert.equal(stored.digest, layout.digest);
    for (const img of layout.images) {
      const perPlatform = await skopeo.inspectRaw(`docker://${registry.host}/e2e/multi@${img.manifestDigest}`);
      assert.equal(sha256(perPlatform), img.manifestDigest, `${img.platform.architecture} manifest digest changed`);
    }
    done.add('push');
  });

  it('copies it back (--all) into a new layout holding exactly the same blobs', { timeout: 90_000 }, async () => {
    requireStep(done, 'push');
    const back = join(work, 'oci-multi-back');
    await skopeo.copy(ref, `oci:${back}:multi`, { all: true });
    assert.equal((await layoutDescriptor(back, 'multi')).digest, layout.digest, 'round-tripped index digest differs');
    assert.deepEqual(await listLayoutBlobs(back), await listLayoutBlobs(layout.dir), 'round-tripped layout has different blobs');
  });

  it('selects one platform from the index when copying without --all', { timeout: 60_000 }, async () => {
    requireStep(done, 'push');
    const arm = layout.images.find((i) => i.platform.architecture === 'arm64')!;
    const dest = join(work, 'oci-arm64');
    await skopeo.run(['--override-arch', 'arm64', '--override-os', 'linux', 'copy', '--src-tls-verify=false', '--preserve-digests', ref, `oci:${dest}:arm64`]);
    assert.equal((await layoutDescriptor(dest, 'arm64')).digest, arm.manifestDigest, 'skopeo picked the wrong platform manifest');
    const blobs = await listLayoutBlobs(dest);
    for (const d of [arm.manifestDigest, arm.configDigest, ...arm.layerDigests]) assert.ok(blobs.includes(d), `${d} missing from the arm64 copy`);
  });

  it('lists the pushed tag', { timeout: 30_000 }, async () => {
    requireStep(done, 'push');
    const res = await skopeo.run(['list-tags', '--tls-verify=false', `docker://${registry.host}/e2e/multi`]);
    const parsed = JSON.parse(res.stdout) as { Repository: string; Tags: string[] };
    assert.deepEqual(parsed.Tags, ['v1']);
  });
});

describe('podman', { skip: skipUnless(hasPodman()), timeout: 300_000 }, () => {
  let podman: Podman;
  let layout: WrittenLayout;
  let imageId: string;
  let pushedDigest: string;
  const done = new Set<string>();
  let dest: string;

  before(async () => {
    assertAvailable(hasPodman());
    podman = await createPodman();
    if (registry.credentials) await podman.run(['login', '--tls-verify=false', '--username', registry.credentials.accessKeyId, '--password-stdin', registry.host], { input: registry.credentials.secretAccessKey });
    layout = await writeSingleImageLayout(join(work, 'oci-single'), 'single', `podman ${randomBytes(6).toString('hex')}\n`);
    imageId = await podman.pull(layout.reference);
    dest = `${registry.host}/e2e/podman:v1`;
  }, { timeout: 90_000 });

  after(async () => {
    await podman?.stop();
  });

  it('loads an image from an OCI layout with its config digest as the image id', { timeout: 30_000 }, async () => {
    assert.equal(`sha256:${imageId}`, layout.images[0]!.configDigest);
  });

  it('pushes the image and the registry stores the manifest podman reports', { timeout: 90_000 }, async () => {
    const { digest } = await podman.push(imageId, `docker://${dest}`);
    assert.match(digest, /^sha256:[0-9a-f]{64}$/, `podman wrote no digest: ${digest}`);
    pushedDigest = digest;
    const body = await assertManifestStored('e2e/podman', 'v1', digest, 'after podman push');
    const manifest = JSON.parse(body.toString()) as { config: { digest: string } };
    assert.equal(manifest.config.digest, layout.images[0]!.configDigest, 'pushed manifest points at another config');
    done.add('push');
  });

  it('removes the local image and pulls it back with the same id and digest', { timeout: 90_000 }, async () => {
    requireStep(done, 'push');
    await podman.run(['rmi', '--force', imageId]);
    assert.equal(await podman.imageId(imageId), undefined, 'image still present after rmi');
    const pulled = await podman.pull(dest);
    assert.equal(pulled, imageId, 'pulled image has a different id (config digest)');
    const digest = await podman.run(['image', 'inspect', '--format', '{{.Digest}}', dest]);
    assert.equal(digest.stdout.trim(), pushedDigest);
    done.add('pull');
  });

  it('pushes in Docker schema 2 format (--format v2s2) to a second tag', { timeout: 90_000 }, async () => {
    requireStep(done, 'pull');
    const v2 = `${registry.host}/e2e/podman:v2s2`;
    const { digest } = await podman.push(imageId, `docker://${v2}`, { extra: ['--format', 'v2s2'] });
    const body = await assertManifestStored('e2e/podman', 'v2s2', digest, 'after podman push --format v2s2');
    assert.equal((JSON.parse(body.toString()) as { mediaType: string }).mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  });
});
