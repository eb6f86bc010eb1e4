/**
 * Encryption at rest through the real server (docs/encryption.md): nothing pushed is readable in the data
 * directory, pulls (whole and ranged, across segment edges) return the original bytes, a changed stored byte
 * fails the pull, KMS-mode repositories get keys of their own (shared keys still deduplicate), deleting the
 * last repository of a key shreds it, `cargohold keys rotate` re-wraps without touching blobs, and data
 * written before encryption stays readable.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CreateRepositoryCommand, DeleteRepositoryCommand, DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { OciClient, digestOf, randomBlob } from '../helpers/oci-client.ts';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { motoServerPath, startMoto, type RunningMoto } from '../helpers/moto.ts';
import { startCargohold, type RunningServer } from '../helpers/server.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);
const SEGMENT = 256 * 1024;

/** Every regular file under `dir`. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((n) => join(dir, n)).filter((p) => statSync(p).isFile());
}

/** Files of the data directory that hold `needle` (every file: blobs, uploads, database, WAL, keys). */
function filesHolding(dataDir: string, needle: Buffer): string[] {
  return filesUnder(dataDir).filter((f) => readFileSync(f).includes(needle));
}

/** Stored encrypted parts (files that start with the part header). */
function storedParts(dataDir: string): string[] {
  return filesUnder(join(dataDir, 'blobs')).filter((f) => {
    const head = readFileSync(f).subarray(0, 4);
    return head.toString('latin1') === 'CHEB';
  });
}

function layerWithMarker(marker: string, size: number): Buffer {
  const body = randomBlob(size);
  // The marker straddles a segment edge and appears again near the end.
  Buffer.from(marker).copy(body, SEGMENT - 10);
  Buffer.from(marker).copy(body, size - marker.length - 3);
  return body;
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** An OCI image manifest over `layers` with a config blob; the manifest text carries `note` in a layer annotation. */
function imageOf(layers: Buffer[], note: string): { config: Buffer; manifest: Buffer } {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digestOf(l), size: l.length, annotations: { note } })),
  }));
  return { config, manifest };
}

async function pushManifest(oci: OciClient, repo: string, tag: string, manifest: Buffer): Promise<number> {
  return (await oci.request('PUT', `/v2/${repo}/manifests/${tag}`, { headers: { 'Content-Type': OCI_MANIFEST }, body: manifest })).status;
}

async function getManifest(s: RunningServer, repo: string, tag: string): Promise<Buffer> {
  const m = await fetch(`${s.url}/v2/${repo}/manifests/${tag}`, { headers: { authorization: s.authorization!, accept: OCI_MANIFEST } });
  return Buffer.from(await m.arrayBuffer());
}

async function getBlob(s: RunningServer, repo: string, digest: string, range?: string): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(`${s.url}/v2/${repo}/blobs/${digest}`, { headers: { authorization: s.authorization!, ...(range ? { range } : {}) } });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

async function cli(s: RunningServer, args: string[], extra: { config?: string; env?: Record<string, string> } = {}): Promise<string> {
  const { stdout } = await run(process.execPath, [join(ROOT, 'bin/cargohold.js'), ...args, '--data-dir', s.dataDir, ...(extra.config ? ['--config', extra.config] : [])], { cwd: ROOT, env: { ...process.env, CARGOHOLD_LOG_LEVEL: 'silent', ...extra.env } });
  return stdout;
}

function ecrClient(s: RunningServer): ECRClient {
  return new ECRClient({ endpoint: s.url, region: s.credentials!.region, credentials: s.credentials!, maxAttempts: 1 });
}

describe('encryption at rest (real server, default config)', () => {
  let s: RunningServer;
  let oci: OciClient;
  before(async () => {
    s = await startCargohold();
    oci = new OciClient(s.url, { authorization: s.authorization });
  });
  after(async () => {
    await s?.stop();
  });

  it('no plaintext at rest: a pushed layer (monolithic and chunked) and its manifest are nowhere in the data directory; pulls return the bytes', async () => {
    const marker = `CARGOHOLD-MARKER-${Date.now()}-a81f`;
    const layer = layerWithMarker(marker, 3 * SEGMENT + 12345);
    const chunked = layerWithMarker(`${marker}-chunked`, 2 * SEGMENT + 999);
    const image = imageOf([layer, chunked], `${marker}-in-manifest`);
    await oci.pushBlob('enc/plain', layer);
    await oci.pushBlobChunked('enc/plain', chunked, 100_003); // chunk edges not on segment edges
    await oci.pushBlob('enc/plain', image.config);
    assert.equal(await pushManifest(oci, 'enc/plain', 'v1', image.manifest), 201);

    assert.deepEqual(filesHolding(s.dataDir, Buffer.from(marker)), []);
    assert.deepEqual(filesHolding(s.dataDir, Buffer.from(`${marker}-chunked`)), []);
    assert.deepEqual(filesHolding(s.dataDir, layer.subarray(100_000, 100_064)), [], 'no 64-byte run of the layer is stored');
    assert.deepEqual(filesHolding(s.dataDir, Buffer.from(`${marker}-in-manifest`)), [], 'the manifest body is not stored in clear');

    assert.deepEqual((await getBlob(s, 'enc/plain', digestOf(layer))).body, layer);
    assert.deepEqual((await getBlob(s, 'enc/plain', digestOf(chunked))).body, chunked);
    assert.deepEqual(await getManifest(s, 'enc/plain', 'v1'), image.manifest);
  });

  it('Range GETs across segment edges return exactly the requested bytes', async () => {
    const layer = layerWithMarker('range-marker', 4 * SEGMENT + 7);
    await oci.pushBlob('enc/range', layer);
    const d = digestOf(layer);
    const ranges: Array<[number, number]> = [[0, 0], [SEGMENT - 1, SEGMENT], [SEGMENT - 5, 3 * SEGMENT + 5], [2 * SEGMENT, 2 * SEGMENT + SEGMENT - 1], [layer.length - 10, layer.length - 1], [12345, 12345 + 1024 * 1024 - 1]];
    for (const [a, b] of ranges) {
      const r = await getBlob(s, 'enc/range', d, `bytes=${a}-${b}`);
      assert.equal(r.status, 206);
      assert.deepEqual(r.body, layer.subarray(a, b + 1), `range ${a}-${b}`);
    }
    const suffix = await getBlob(s, 'enc/range', d, 'bytes=-100');
    assert.deepEqual(suffix.body, layer.subarray(layer.length - 100));
  });

  it('tampering: one changed byte of a stored blob makes the pull fail; wrong bytes are never served', async () => {
    const layer = layerWithMarker('tamper-marker', 3 * SEGMENT);
    const before = new Set(storedParts(s.dataDir));
    await oci.pushBlob('enc/tamper', layer);
    const [part] = storedParts(s.dataDir).filter((f) => !before.has(f));
    assert.ok(part, 'the push stored one part');
    const bytes = readFileSync(part!);
    bytes[40 + SEGMENT + 16 + 100]! ^= 0x01; // inside the second segment
    writeFileSync(part!, bytes);

    const d = digestOf(layer);
    // The whole blob: headers go out, then the connection is cut at the damaged segment.
    await assert.rejects(getBlob(s, 'enc/tamper', d));
    // A range inside the damaged segment fails; the intact first segment still reads.
    await assert.rejects(getBlob(s, 'enc/tamper', d, `bytes=${SEGMENT + 10}-${SEGMENT + 20}`));
    assert.deepEqual((await getBlob(s, 'enc/tamper', d, 'bytes=0-99')).body, layer.subarray(0, 100));
    // The server keeps serving.
    assert.deepEqual((await getBlob(s, 'enc/range', digestOf(layerWithMarker('x', 10)))).status, 404);
  });

  it('KMS repositories: own key unless kmsKey names one; a shared key deduplicates; bad keys are KmsException', async () => {
    const ecr = ecrClient(s);
    const own = await ecr.send(new CreateRepositoryCommand({ repositoryName: 'kms/own', encryptionConfiguration: { encryptionType: 'KMS' } }));
    const keyId = own.repository!.encryptionConfiguration!.kmsKey!;
    assert.match(keyId, /^arn:aws:kms:us-east-1:123456789012:key\/[0-9a-f-]{36}$/);
    const shared = await ecr.send(new CreateRepositoryCommand({ repositoryName: 'kms/shared', encryptionConfiguration: { encryptionType: 'KMS', kmsKey: keyId } }));
    assert.equal(shared.repository!.encryptionConfiguration!.kmsKey, keyId);
    const described = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['kms/own'] }));
    assert.deepEqual(described.repositories![0]!.encryptionConfiguration, { encryptionType: 'KMS', kmsKey: keyId });
    await assert.rejects(ecr.send(new CreateRepositoryCommand({ repositoryName: 'kms/bad', encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000' } })), (e: Error) => e.name === 'KmsException');

    const blob = randomBlob(SEGMENT + 3);
    const parts0 = storedParts(s.dataDir).length;
    await oci.pushBlob('aes/one', blob);
    await oci.pushBlob('aes/two', blob);
    assert.equal(storedParts(s.dataDir).length, parts0 + 1, 'AES256 repositories share the registry key: stored once');
    await oci.pushBlob('kms/own', blob);
    assert.equal(storedParts(s.dataDir).length, parts0 + 2, 'a repository with its own key stores its own copy');
    await oci.pushBlob('kms/shared', blob);
    assert.equal(storedParts(s.dataDir).length, parts0 + 2, 'repositories sharing a key share the copy');
    assert.deepEqual((await getBlob(s, 'kms/shared', digestOf(blob))).body, blob);

    // Crypto-shredding: the key survives while a repository uses it, and goes with the last one.
    await ecr.send(new DeleteRepositoryCommand({ repositoryName: 'kms/own', force: true }));
    assert.match(await cli(s, ['keys', 'list']), new RegExp(keyId.replace(/[/.]/g, '\\$&')));
    assert.deepEqual((await getBlob(s, 'kms/shared', digestOf(blob))).body, blob);
    await ecr.send(new DeleteRepositoryCommand({ repositoryName: 'kms/shared', force: true }));
    assert.doesNotMatch(await cli(s, ['keys', 'list']), new RegExp(keyId.replace(/[/.]/g, '\\$&')));
    assert.ok(!readFileSync(join(s.dataDir, 'keys', 'keyring.json'), 'utf8').includes(keyId), 'the key is gone from the keyring');
    assert.equal(storedParts(s.dataDir).length, parts0 + 1, "the shredded key's copy is deleted");
    await assert.rejects(ecr.send(new CreateRepositoryCommand({ repositoryName: 'kms/again', encryptionConfiguration: { encryptionType: 'KMS', kmsKey: keyId } })), (e: Error) => e.name === 'KmsException');
    assert.deepEqual((await getBlob(s, 'aes/two', digestOf(blob))).body, blob);
  });

  it('keys rotate re-wraps every data key (no blob rewritten); after a restart everything still reads', async () => {
    const blob = randomBlob(2 * SEGMENT + 1);
    await oci.pushBlob('rot/a', blob);
    // A repository with its own key whose blobs are pushed now and whose manifest is pushed after the restart
    // (its data key is then first needed inside the manifest's transaction).
    await ecrClient(s).send(new CreateRepositoryCommand({ repositoryName: 'rot/kms', encryptionConfiguration: { encryptionType: 'KMS' } }));
    const image = imageOf([blob], 'after-restart');
    await oci.pushBlob('rot/kms', blob);
    await oci.pushBlob('rot/kms', image.config);
    const ring = () => JSON.parse(readFileSync(join(s.dataDir, 'keys', 'keyring.json'), 'utf8')) as { keys: Record<string, { versions: Record<string, string> }> };
    const versionsBefore = Object.values(ring().keys).map((k) => Object.keys(k.versions).length);
    const partsBefore = new Map(storedParts(s.dataDir).map((f) => [f, statSync(f).mtimeMs]));
    const out = await cli(s, ['keys', 'rotate']);
    assert.match(out, /re-wrapped the data keys of \d+ key scope/);
    const versionsAfter = Object.values(ring().keys).map((k) => Object.keys(k.versions).length);
    assert.deepEqual(versionsAfter, versionsBefore.map((n) => n + 1));
    assert.deepEqual(new Map(storedParts(s.dataDir).map((f) => [f, statSync(f).mtimeMs])), partsBefore, 'no stored part changed');
    assert.deepEqual((await getBlob(s, 'rot/a', digestOf(blob))).body, blob);

    await s.stop({ keepData: true });
    s = await startCargohold({ dataDir: s.dataDir });
    oci = new OciClient(s.url, { authorization: s.authorization });
    assert.equal(await pushManifest(oci, 'rot/kms', 'v1', image.manifest), 201);
    assert.deepEqual(await getManifest(s, 'rot/kms', 'v1'), image.manifest);
    assert.deepEqual((await getBlob(s, 'rot/a', digestOf(blob))).body, blob);
    assert.deepEqual((await getBlob(s, 'rot/kms', digestOf(blob))).body, blob);
    assert.equal((await getBlob(s, 'enc/range', digestOf(blob))).status, 404);
  });
});

describe('data written before encryption stays readable', () => {
  it('plaintext blobs and manifests pushed with encryption off are served after it is turned on; new pushes are encrypted', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cargohold-enc-legacy-'));
    let s = await startCargohold({ dataDir, env: { CARGOHOLD_ENCRYPTION: 'false' } });
    try {
      let oci = new OciClient(s.url, { authorization: s.authorization });
      const old = layerWithMarker('LEGACY-PLAINTEXT-MARKER', SEGMENT + 5);
      const image = imageOf([old], 'legacy');
      await oci.pushBlob('legacy/app', old);
      await oci.pushBlob('legacy/app', image.config);
      assert.equal(await pushManifest(oci, 'legacy/app', 'old', image.manifest), 201);
      assert.ok(filesHolding(dataDir, Buffer.from('LEGACY-PLAINTEXT-MARKER')).length > 0, 'stored in clear while encryption was off');

      await s.stop({ keepData: true });
      s = await startCargohold({ dataDir });
      oci = new OciClient(s.url, { authorization: s.authorization });
      assert.deepEqual((await getBlob(s, 'legacy/app', digestOf(old))).body, old);
      assert.deepEqual((await getBlob(s, 'legacy/app', digestOf(old), 'bytes=10-20')).body, old.subarray(10, 21));
      assert.deepEqual(await getManifest(s, 'legacy/app', 'old'), image.manifest);

      const fresh = layerWithMarker('NEW-ENCRYPTED-MARKER', SEGMENT + 5);
      await oci.pushBlob('legacy/app', fresh);
      assert.deepEqual(filesHolding(dataDir, Buffer.from('NEW-ENCRYPTED-MARKER')), []);
      assert.deepEqual((await getBlob(s, 'legacy/app', digestOf(fresh))).body, fresh);
    } finally {
      await s.stop();
    }
  });
});

const MOTO = motoServerPath();

describe('keyProvider: kms (AWS KMS API, moto emulator)', { skip: MOTO ? undefined : 'moto_server is not installed' }, () => {
  let kms: RunningMoto;
  let s: RunningServer;
  let config: string;
  before(async () => {
    kms = await startMoto(MOTO!);
    const dir = await mkdtemp(join(tmpdir(), 'cargohold-enc-kms-'));
    config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ encryption: { keyProvider: 'kms', kms: { endpoint: kms.endpoint } } }));
    s = await startCargohold({ args: ['--config', config], env: kms.env });
  });
  after(async () => {
    await s?.stop();
    await kms?.stop();
  });

  it('the registry key and repository keys are KMS keys; data round-trips; deleting the repository schedules its key for deletion', async () => {
    assert.ok(!existsSync(join(s.dataDir, 'keys', 'keyring.json')) || !readFileSync(join(s.dataDir, 'keys', 'keyring.json'), 'utf8').includes('arn:'), 'no local key material');
    const oci = new OciClient(s.url, { authorization: s.authorization });
    const marker = 'KMS-PROVIDER-MARKER-5d1';
    const layer = layerWithMarker(marker, SEGMENT + 77);
    await oci.pushBlob('kmsprov/aes', layer);
    const ecr = ecrClient(s);
    const created = await ecr.send(new CreateRepositoryCommand({ repositoryName: 'kmsprov/own', encryptionConfiguration: { encryptionType: 'KMS' } }));
    const keyId = created.repository!.encryptionConfiguration!.kmsKey!;
    await oci.pushBlob('kmsprov/own', layer);
    assert.deepEqual(filesHolding(s.dataDir, Buffer.from(marker)), []);
    assert.deepEqual((await getBlob(s, 'kmsprov/own', digestOf(layer))).body, layer);
    assert.deepEqual((await getBlob(s, 'kmsprov/aes', digestOf(layer), 'bytes=5-50')).body, layer.subarray(5, 51));

    const client = new KMSClient({ endpoint: kms.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    assert.equal((await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState, 'Enabled');
    await ecr.send(new DeleteRepositoryCommand({ repositoryName: 'kmsprov/own', force: true }));
    assert.equal((await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState, 'PendingDeletion');
    assert.match(await cli(s, ['keys', 'rotate'], { config, env: kms.env }), /re-wrapped the data keys of 1 key scope/);
    assert.deepEqual((await getBlob(s, 'kmsprov/aes', digestOf(layer))).body, layer);
  });
});
