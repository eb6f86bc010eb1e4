// Test images built offline: a busybox rootfs imported into docker as a base image, OCI image layouts written
// byte-by-byte in Node (single image or multi-platform index), and isolated skopeo/podman wrappers.
import { createHash } from 'node:crypto';
import { accessSync, constants, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { runCommand, type CommandOptions, type CommandResult, type RunningDockerd, type ToolAvailability } from './dockerd.ts';

export const BUSYBOX_BIN = process.env.CARGOHOLD_BUSYBOX_BIN ?? '/bin/busybox';
export const SKOPEO_BIN = process.env.CARGOHOLD_SKOPEO_BIN ?? '/usr/bin/skopeo';
export const PODMAN_BIN = process.env.CARGOHOLD_PODMAN_BIN ?? '/usr/bin/podman';

const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** A fixed timestamp so every generated file, tar and config is byte-for-byte reproducible. */
const EPOCH = new Date('2024-01-01T00:00:00Z');

function executable(path: string): boolean {
  try { accessSync(path, constants.X_OK); return true; } catch { return false; }
}

/** sha256 digest string of some bytes. */
export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

// ---------------------------------------------------------------------------------------------------------
// busybox base image

/** Applets linked into the base image: enough for `RUN` lines and for printing files. */
const APPLETS = ['sh', 'cat', 'echo', 'ls', 'mkdir', 'cp', 'rm', 'mv', 'touch', 'sleep', 'true', 'false', 'test', 'env', 'sha256sum', 'wc', 'head', 'tail', 'grep'];

/** Whether an ELF binary has a PT_INTERP header (is dynamically linked). Busybox must be static: the image has no libc. */
function isDynamicElf(bin: Buffer): boolean {
  if (bin.length < 64 || bin.readUInt32BE(0) !== 0x7f454c46 || bin[4] !== 2 || bin[5] !== 1) return false; // only ELF64 LE checked
  const phoff = Number(bin.readBigUInt64LE(32));
  const phentsize = bin.readUInt16LE(54);
  const phnum = bin.readUInt16LE(56);
  for (let i = 0; i < phnum; i++) if (bin.readUInt32LE(phoff + i * phentsize) === 3) return true;
  return false;
}

/** Checks that a static busybox exists (Debian package busybox-static). */
export function hasBusybox(): ToolAvailability {
  if (!executable(BUSYBOX_BIN)) return { available: false, reason: `missing ${BUSYBOX_BIN}; install the Debian package busybox-static` };
  return { available: true, reason: '' };
}

/**
 * Writes a rootfs tarball: /bin/busybox plus applet symlinks, /tmp (1777), /etc with passwd/group, /root.
 * Throws if busybox is dynamically linked (the image would not run). Deterministic for a given busybox.
 */
export async function writeBusyboxRootfs(tarPath: string): Promise<void> {
  const bin = await readFile(BUSYBOX_BIN);
  if (isDynamicElf(bin)) throw new Error(`${BUSYBOX_BIN} is dynamically linked; install busybox-static (the base image has no libc)`);
  const pack = tarStream.pack();
  const done = pipeline(pack, createWriteStream(tarPath));
  const dir = (name: string, mode = 0o755) => pack.entry({ name, type: 'directory', mode, mtime: EPOCH, uid: 0, gid: 0 });
  const file = (name: string, body: Buffer | string, mode = 0o644) => pack.entry({ name, mode, mtime: EPOCH, uid: 0, gid: 0 }, body);
  dir('bin/');
  file('bin/busybox', bin, 0o755);
  for (const a of APPLETS) pack.entry({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox', mode: 0o777, mtime: EPOCH, uid: 0, gid: 0 });
  dir('etc/');
  file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  file('etc/group', 'root:x:0:\nnogroup:x:65534:\n');
  dir('root/', 0o700);
  dir('tmp/', 0o1777);
  pack.finalize();
  await done;
}

/**
 * Builds the busybox rootfs and `docker import`s it as `name` (e.g. cargohold-test/busybox:1). Returns the
 * image id. The image has `CMD ["/bin/sh"]` and PATH set, like the real busybox image.
 */
export async function importBusyboxImage(dockerd: RunningDockerd, name = 'cargohold-test/busybox:1'): Promise<string> {
  const tarPath = join(dockerd.dir, `busybox-rootfs-${Date.now()}.tar`);
  await writeBusyboxRootfs(tarPath);
  try {
    const res = await dockerd.docker(['import', '--change', 'ENV PATH=/bin', '--change', 'CMD ["/bin/sh"]', tarPath, name], { timeoutMs: 60_000 });
    return res.stdout.trim();
  } finally {
    await rm(tarPath, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------
// OCI image layouts

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ImageSpec {
  platform: Platform;
  /** Each layer is a map of file path → content (a tar of these files, gzip-compressed). */
  layers: Array<Record<string, string | Buffer>>;
  /** Config `config.Cmd` etc. (optional). */
  config?: Record<string, unknown>;
}

export interface WrittenImage {
  platform: Platform;
  manifestDigest: string;
  manifestSize: number;
  configDigest: string;
  layerDigests: string[];
}

export interface WrittenLayout {
  dir: string;
  tag: string;
  /** `oci:<dir>:<tag>`, what skopeo and podman take. */
  reference: string;
  /** Digest of the top-level manifest the tag points at (the index for a multi-platform layout). */
  digest: string;
  mediaType: string;
  images: WrittenImage[];
  /** Every blob digest written (manifests, configs, layers, index), sorted, deduplicated. */
  blobs: string[];
}

function layerTar(files: Record<string, string | Buffer>): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => { chunks.push(c as Buffer); });
  const ended = new Promise<void>((resolve, reject) => { pack.on('end', resolve); pack.on('error', reject); });
  for (const [name, body] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
    pack.entry({ name, mode: 0o644, mtime: EPOCH, uid: 0, gid: 0 }, typeof body === 'string' ? Buffer.from(body) : body);
  }
  pack.finalize();
  return ended.then(() => Buffer.concat(chunks));
}

/** Canonical-ish JSON (stable key order as written, no whitespace) — bytes are what get digested. */
function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

class LayoutWriter {
  readonly blobs = new Set<string>();
  constructor(readonly dir: string) {}

  async put(data: Buffer): Promise<{ digest: string; size: number }> {
    const digest = sha256(data);
    if (!this.blobs.has(digest)) {
      await writeFile(join(this.dir, 'blobs', 'sha256', digest.slice(7)), data);
      this.blobs.add(digest);
    }
    return { digest, size: data.length };
  }

  async image(spec: ImageSpec): Promise<WrittenImage> {
    const layers: Array<{ digest: string; size: number; diffId: string }> = [];
    for (const files of spec.layers) {
      const tar = await layerTar(files);
      const gz = gzipSync(tar, { level: 6 });
      layers.push({ ...(await this.put(gz)), diffId: sha256(tar) });
    }
    const config = json({
      created: EPOCH.toISOString(),
      architecture: spec.platform.architecture,
      os: spec.platform.os,
      ...(spec.platform.variant ? { variant: spec.platform.variant } : {}),
      config: { Env: ['PATH=/bin'], ...(spec.config ?? {}) },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layers.map(() => ({ created: EPOCH.toISOString(), created_by: 'cargohold test fixture' })),
    });
    const cfg = await this.put(config);
    const manifest = json({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.ociConfig, digest: cfg.digest, size: cfg.size },
      layers: layers.map((l) => ({ mediaType: MEDIA.ociLayerGzip, digest: l.digest, size: l.size })),
    });
    const m = await this.put(manifest);
    return { platform: spec.platform, manifestDigest: m.digest, manifestSize: m.size, configDigest: cfg.digest, layerDigests: layers.map((l) => l.digest) };
  }
}

/**
 * Writes an OCI image layout at `dir` (created if needed). One image → index.json points at its manifest; several
 * (or `asIndex`) → an image index blob holding one manifest per platform, and index.json points at that index.
 * The tag is recorded as `org.opencontainers.image.ref.name`.
 */
export async function writeOciLayout(dir: string, options: { tag: string; images: ImageSpec[]; asIndex?: boolean }): Promise<WrittenLayout> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), json({ imageLayoutVersion: '1.0.0' }));
  const w = new LayoutWriter(dir);
  const images: WrittenImage[] = [];
  for (const spec of options.images) images.push(await w.image(spec));
  let top: { mediaType: string; digest: string; size: number; platform?: Platform };
  if (images.length > 1 || options.asIndex) {
    const index = json({
      schemaVersion: 2,
      mediaType: MEDIA.ociIndex,
      manifests: images.map((i) => ({ mediaType: MEDIA.ociManifest, digest: i.manifestDigest, size: i.manifestSize, platform: i.platform })),
    });
    top = { mediaType: MEDIA.ociIndex, ...(await w.put(index)) };
  } else {
    const only = images[0];
    if (!only) throw new Error('writeOciLayout needs at least one image');
    top = { mediaType: MEDIA.ociManifest, digest: only.manifestDigest, size: only.manifestSize, platform: only.platform };
  }
  await writeFile(
    join(dir, 'index.json'),
    json({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': options.tag } }] }),
  );
  return { dir, tag: options.tag, reference: `oci:${dir}:${options.tag}`, digest: top.digest, mediaType: top.mediaType, images, blobs: [...w.blobs].sort() };
}

/**
 * A linux/amd64 + linux/arm64 index: each platform has a shared base layer (identical bytes, so one blob) and its
 * own small layer naming its platform.
 */
export function writeMultiPlatformLayout(dir: string, tag = 'multi'): Promise<WrittenLayout> {
  const shared = { 'etc/cargohold-fixture': 'shared base layer\n' };
  return writeOciLayout(dir, {
    tag,
    images: (['amd64', 'arm64'] as const).map((architecture) => ({
      platform: { os: 'linux', architecture },
      layers: [shared, { 'platform.txt': `linux/${architecture}\n`, [`bin/only-on-${architecture}`]: Buffer.alloc(4096, architecture.charCodeAt(0)) }],
      config: { Cmd: ['/bin/cat', '/platform.txt'] },
    })),
  });
}

/** A one-platform linux/amd64 image (two small layers) in an OCI layout. */
export function writeSingleImageLayout(dir: string, tag = 'single', content = 'hello from an OCI layout\n'): Promise<WrittenLayout> {
  return writeOciLayout(dir, {
    tag,
    images: [{
      platform: { os: 'linux', architecture: 'amd64' },
      layers: [{ 'etc/cargohold-fixture': 'single image base\n' }, { 'message.txt': content }],
      config: { Cmd: ['/bin/cat', '/message.txt'] },
    }],
  });
}

/**
 * Digests of the blobs present in a layout's blobs/sha256, sorted. Every file's content is re-hashed, so a
 * blob stored under the wrong name is an error.
 */
export async function listLayoutBlobs(dir: string): Promise<string[]> {
  const base = join(dir, 'blobs', 'sha256');
  const names = (await readdir(base)).sort();
  const out: string[] = [];
  for (const name of names) {
    const actual = sha256(await readFile(join(base, name)));
    if (actual !== `sha256:${name}`) throw new Error(`blob ${name} in ${dir} has content digest ${actual}`);
    out.push(actual);
  }
  return out;
}

/** The descriptor index.json holds for `tag` in a layout. */
export async function layoutDescriptor(dir: string, tag: string): Promise<{ mediaType: string; digest: string; size: number }> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: Array<{ mediaType: string; digest: string; size: number; annotations?: Record<string, string> }> };
  const d = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!d) throw new Error(`no tag ${tag} in ${dir}/index.json: ${JSON.stringify(index)}`);
  return d;
}

// ---------------------------------------------------------------------------------------------------------
// skopeo and podman, isolated from host configuration

/** Private config for containers/image tools: an accept-anything policy, no registries.conf mirrors, own auth file, own TMPDIR. */
interface ContainersEnv {
  dir: string;
  env: Record<string, string>;
  policy: string;
}

async function containersEnv(prefix: string): Promise<ContainersEnv> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const policy = join(dir, 'policy.json');
  await writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  await writeFile(join(dir, 'registries.conf'), 'unqualified-search-registries = []\nshort-name-mode = "disabled"\n');
  await writeFile(join(dir, 'auth.json'), '{}\n');
  await mkdir(join(dir, 'tmp'));
  return {
    dir,
    policy,
    env: {
      CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf'),
      REGISTRY_AUTH_FILE: join(dir, 'auth.json'),
      TMPDIR: join(dir, 'tmp'),
    },
  };
}

export function hasSkopeo(): ToolAvailability {
  return executable(SKOPEO_BIN) ? { available: true, reason: '' } : { available: false, reason: `skopeo is not installed (missing ${SKOPEO_BIN}); install the Debian package skopeo` };
}

export function hasPodman(): ToolAvailability {
  if (!executable(PODMAN_BIN)) return { available: false, reason: `podman is not installed (missing ${PODMAN_BIN}); install the Debian package podman` };
  if (process.getuid?.() !== 0) return { available: false, reason: 'the podman tests run podman as root with a private --root' };
  return { available: true, reason: '' };
}

export interface Skopeo {
  /** Runs skopeo with the private policy/registries/auth (global flags are added before the subcommand). */
  run(args: string[], opts?: CommandOptions): Promise<CommandResult>;
  /**
   * `skopeo copy` with TLS verification off on both sides (127.0.0.1 registries speak plain HTTP) and
   * `--preserve-digests` so a conversion fails instead of silently changing digests.
   */
  copy(src: string, dest: string, opts?: { all?: boolean; extra?: string[] } & CommandOptions): Promise<CommandResult>;
  /** The exact manifest bytes at a reference (`skopeo inspect --raw`). */
  inspectRaw(ref: string, opts?: { extra?: string[] } & CommandOptions): Promise<Buffer>;
  stop(): Promise<void>;
}

export async function createSkopeo(): Promise<Skopeo> {
  const ce = await containersEnv('cargohold-skopeo-');
  const run = (args: string[], opts: CommandOptions = {}) =>
    runCommand(SKOPEO_BIN, ['--policy', ce.policy, '--tmpdir', join(ce.dir, 'tmp'), ...args], { timeoutMs: 60_000, ...opts, env: { ...ce.env, ...opts.env } });
  return {
    run,
    copy(src, dest, opts = {}) {
      const args = ['copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--preserve-digests', ...(opts.all ? ['--all'] : []), ...(opts.extra ?? []), src, dest];
      return run(args, opts);
    },
    async inspectRaw(ref, opts = {}) {
      const res = await run([...(opts.extra ?? []), 'inspect', '--tls-verify=false', '--raw', ref], opts);
      // --raw prints the manifest bytes untouched (no trailing newline is added by skopeo 1.9).
      return Buffer.from(res.stdout, 'utf8');
    },
    stop: () => rm(ce.dir, { recursive: true, force: true }),
  };
}

export interface Podman {
  /** Runs podman as root on a private storage root (vfs driver, cgroupfs, file events): host images are never seen. */
  run(args: string[], opts?: CommandOptions): Promise<CommandResult>;
  /** `podman pull --tls-verify=false REF` (REF may be a transport reference such as oci:DIR:TAG). Returns the image id. */
  pull(ref: string, opts?: CommandOptions): Promise<string>;
  /** `podman push --tls-verify=false IMAGE DEST`; returns the pushed manifest digest (from --digestfile). */
  push(image: string, dest: string, opts?: { extra?: string[] } & CommandOptions): Promise<{ digest: string; result: CommandResult }>;
  /** `podman image inspect --format {{.Id}}`; undefined if the image is absent. */
  imageId(ref: string): Promise<string | undefined>;
  stop(): Promise<void>;
}

export async function createPodman(): Promise<Podman> {
  const ce = await containersEnv('cargohold-podman-');
  const storageConf = join(ce.dir, 'storage.conf');
  await writeFile(storageConf, `[storage]\ndriver = "vfs"\nrunroot = "${join(ce.dir, 'runroot')}"\ngraphroot = "${join(ce.dir, 'root')}"\n`);
  const containersConf = join(ce.dir, 'containers.conf');
  await writeFile(containersConf, '[engine]\nevents_logger = "file"\ncgroup_manager = "cgroupfs"\n');
  const globals = [
    '--root', join(ce.dir, 'root'),
    '--runroot', join(ce.dir, 'runroot'),
    '--tmpdir', join(ce.dir, 'libpod-tmp'),
    '--storage-driver', 'vfs',
    '--events-backend', 'file',
    '--cgroup-manager', 'cgroupfs',
  ];
  const env = { ...ce.env, CONTAINERS_STORAGE_CONF: storageConf, CONTAINERS_CONF: containersConf };
  const run = (args: string[], opts: CommandOptions = {}) =>
    runCommand(PODMAN_BIN, [...globals, ...args], { timeoutMs: 90_000, ...opts, env: { ...env, ...opts.env } });
  const imageId = async (ref: string) => {
    const res = await run(['image', 'inspect', '--format', '{{.Id}}', ref], { allowFailure: true });
    return res.code === 0 ? res.stdout.trim() : undefined;
  };
  return {
    run,
    imageId,
    async pull(ref, opts = {}) {
      // --signature-policy is a hidden flag of pull/push: keeps the host's /etc/containers/policy.json out of it.
      const res = await run(['pull', '--tls-verify=false', '--signature-policy', ce.policy, '--quiet', ref], opts);
      return res.stdout.trim().split('\n').pop() ?? '';
    },
    async push(image, dest, opts = {}) {
      const digestFile = join(ce.dir, `digest-${Date.now()}`);
      const result = await run(['push', '--tls-verify=false', '--signature-policy', ce.policy, '--digestfile', digestFile, ...(opts.extra ?? []), image, dest], opts);
      const digest = (await readFile(digestFile, 'utf8')).trim();
      return { digest, result };
    },
    async stop() {
      // vfs has no mounts; `podman system reset` would also work but is slower and chattier.
      await rm(ce.dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}
