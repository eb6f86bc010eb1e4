// RPM header blobs as the rpm database stores them (no lead, no 8-byte header magic): big-endian
// `int32 il`, `int32 dl`, `il` index entries {tag, type, offset, count}, then `dl` bytes of data.

export const RPMTAG = {
  NAME: 1000, VERSION: 1001, RELEASE: 1002, EPOCH: 1003, VENDOR: 1011, ARCH: 1022, OLDFILENAMES: 1027, SOURCERPM: 1044,
  DIRINDEXES: 1116, BASENAMES: 1117, DIRNAMES: 1118, MODULARITYLABEL: 5096,
} as const;
const TYPE_INT32 = 4;
const TYPE_STRING = 6;
const TYPE_STRING_ARRAY = 8;
const TYPE_I18NSTRING = 9;

/** The fields of one installed RPM the inventory needs. */
export interface RpmHeaderInfo {
  name: string;
  version: string;
  release: string;
  epoch?: number;
  arch?: string;
  sourceRpm?: string;
  vendor?: string;
  modularityLabel?: string;
  /** Installed file paths (DIRNAMES[DIRINDEXES[i]] + BASENAMES[i], or OLDFILENAMES). */
  files?: string[];
}

/** Reads the string and int32 tags the inventory needs; throws on a blob that is not a header. */
export function parseRpmHeader(blob: Buffer): RpmHeaderInfo {
  if (blob.length < 8) throw new Error('rpm header shorter than 8 bytes');
  const il = blob.readUInt32BE(0);
  const dl = blob.readUInt32BE(4);
  const dataStart = 8 + il * 16;
  if (il > 100_000 || dataStart + dl > blob.length) throw new Error('rpm header index exceeds the blob');
  const strings = new Map<number, string[]>();
  const ints = new Map<number, number[]>();
  const wanted = new Set<number>(Object.values(RPMTAG));
  const end = dataStart + dl;
  for (let i = 0; i < il; i++) {
    const e = 8 + i * 16;
    const tag = blob.readInt32BE(e);
    if (!wanted.has(tag)) continue;
    const type = blob.readUInt32BE(e + 4);
    const offset = blob.readInt32BE(e + 8);
    const count = blob.readUInt32BE(e + 12);
    if (offset < 0 || offset >= dl || count > dl) continue;
    let at = dataStart + offset;
    if (type === TYPE_INT32) {
      if (at + 4 * count > end) continue;
      const values: number[] = [];
      for (let k = 0; k < count; k++) values.push(blob.readInt32BE(at + 4 * k));
      ints.set(tag, values);
    } else if (type === TYPE_STRING || type === TYPE_STRING_ARRAY || type === TYPE_I18NSTRING) {
      const values: string[] = [];
      for (let k = 0; k < (type === TYPE_STRING ? 1 : count); k++) {
        const z = blob.indexOf(0, at);
        if (z < 0 || z >= end) break;
        values.push(blob.toString('utf8', at, z));
        at = z + 1;
      }
      strings.set(tag, values);
    }
  }
  const name = strings.get(RPMTAG.NAME)?.[0];
  const version = strings.get(RPMTAG.VERSION)?.[0];
  if (!name || version === undefined) throw new Error('rpm header has no name or version');
  const info: RpmHeaderInfo = { name, version, release: strings.get(RPMTAG.RELEASE)?.[0] ?? '' };
  const epoch = ints.get(RPMTAG.EPOCH)?.[0];
  if (epoch !== undefined) info.epoch = epoch;
  const optional = [['arch', RPMTAG.ARCH], ['sourceRpm', RPMTAG.SOURCERPM], ['vendor', RPMTAG.VENDOR], ['modularityLabel', RPMTAG.MODULARITYLABEL]] as const;
  for (const [key, tag] of optional) {
    const v = strings.get(tag)?.[0];
    if (v) info[key] = v;
  }
  const base = strings.get(RPMTAG.BASENAMES), dirs = strings.get(RPMTAG.DIRNAMES), idx = ints.get(RPMTAG.DIRINDEXES);
  if (base && dirs && idx && idx.length === base.length) info.files = base.map((b, i) => `${dirs[idx[i]] ?? ''}${b}`);
  else if (strings.get(RPMTAG.OLDFILENAMES)) info.files = strings.get(RPMTAG.OLDFILENAMES);
  return info;
}

/** Encodes a header blob (used by tests to build rpm databases; the inverse of `parseRpmHeader`). */
export function encodeRpmHeader(tags: { tag: number; value: string | number | string[] | number[] }[]): Buffer {
  const index: Buffer[] = [];
  const data: Buffer[] = [];
  let size = 0;
  for (const { tag, value } of [...tags].sort((a, b) => a.tag - b.tag)) {
    const list = Array.isArray(value) ? value : [value];
    const isInt = typeof list[0] === 'number';
    let body: Buffer;
    if (isInt) {
      const pad = (4 - (size % 4)) % 4; // int32 data is 4-byte aligned
      if (pad) { data.push(Buffer.alloc(pad)); size += pad; }
      body = Buffer.alloc(4 * list.length);
      list.forEach((n, k) => body.writeInt32BE(n as number, 4 * k));
    } else body = Buffer.from(list.map((x) => `${x}\0`).join(''), 'utf8');
    const entry = Buffer.alloc(16);
    entry.writeInt32BE(tag, 0);
    entry.writeUInt32BE(isInt ? TYPE_INT32 : Array.isArray(value) ? TYPE_STRING_ARRAY : TYPE_STRING, 4);
    entry.writeInt32BE(size, 8);
    entry.writeUInt32BE(list.length, 12);
    index.push(entry);
    data.push(body);
    size += body.length;
  }
  const head = Buffer.alloc(8);
  head.writeUInt32BE(index.length, 0);
  head.writeUInt32BE(size, 4);
  return Buffer.concat([head, ...index, ...data]);
}
