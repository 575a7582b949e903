/**
 * The snapshot file: one header and named sections, each checked by a CRC-32, and a CRC-32 of
 * the whole file at the end, so a truncated or corrupted file is refused before anything is
 * loaded into a machine.
 *
 *   "WEBHVMSS"            8-byte magic
 *   u32 format version    SNAPSHOT_FORMAT_VERSION; a reader accepts versions it knows (1: one
 *                         vCPU; 2: every vCPU's state block and the vCPU scheduler's place)
 *   u32 header length, header (UTF-8 JSON: build, compatibility, config hash, section list)
 *   per section: u32 name length, name (UTF-8), u32 flags (bit 0: gzip), u32 stored length,
 *                u32 raw length, u32 CRC-32 of the stored bytes, the stored bytes
 *   "END." u32 CRC-32 of every byte before it
 *
 * All integers little-endian. Portable: no Node APIs.
 */
import { gzip, gunzip } from './compression.ts';

export const SNAPSHOT_MAGIC = 'WEBHVMSS';
export const SNAPSHOT_FORMAT_VERSION = 2;
const END = 'END.';
const FLAG_GZIP = 1;

/** Thrown for any file that is not a snapshot this build can restore, with the reason. */
export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}

export interface SnapshotSectionInput {
  name: string;
  data: Uint8Array;
  compress?: boolean;
}

const crcTable = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const utf8 = new TextEncoder();

export async function writeSnapshotFile(header: Record<string, unknown>, sections: SnapshotSectionInput[]): Promise<Uint8Array> {
  const stored = await Promise.all(sections.map(async (s) => ({ ...s, stored: s.compress ? await gzip(s.data) : s.data })));
  const headerBytes = utf8.encode(JSON.stringify({ ...header, sections: sections.map((s) => s.name) }));
  const parts: Uint8Array[] = [utf8.encode(SNAPSHOT_MAGIC), u32(SNAPSHOT_FORMAT_VERSION), u32(headerBytes.length), headerBytes];
  for (const s of stored) {
    const name = utf8.encode(s.name);
    parts.push(u32(name.length), name, u32(s.compress ? FLAG_GZIP : 0), u32(s.stored.length), u32(s.data.length), u32(crc32(s.stored)), s.stored);
  }
  parts.push(utf8.encode(END));
  const body = concat(parts);
  return concat([body, u32(crc32(body))]);
}

export interface SnapshotFile {
  version: number;
  header: Record<string, unknown>;
  sections: Map<string, Uint8Array>;
}

/** Parse and check a snapshot file; every section comes back decompressed. */
export async function readSnapshotFile(file: Uint8Array): Promise<SnapshotFile> {
  const magic = utf8.encode(SNAPSHOT_MAGIC);
  if (file.length < magic.length || !magic.every((b, i) => file[i] === b)) {
    throw new SnapshotError('not a WebHVM snapshot (the file does not start with WEBHVMSS)');
  }
  if (file.length < magic.length + 12) throw new SnapshotError('snapshot is truncated (no header)');
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const version = view.getUint32(8, true);
  if (version > SNAPSHOT_FORMAT_VERSION || version < 1) {
    throw new SnapshotError(`snapshot format version ${version} is not supported by this build (it reads version 1 to ${SNAPSHOT_FORMAT_VERSION})`);
  }
  // The whole-file checksum first: a cut or damaged file is refused before anything is parsed.
  const endAt = file.length - 8;
  if (endAt < 16 || new TextDecoder().decode(file.subarray(endAt, endAt + 4)) !== END) {
    throw new SnapshotError('snapshot is truncated (the end marker is missing)');
  }
  if (crc32(file.subarray(0, endAt + 4)) !== view.getUint32(endAt + 4, true)) {
    throw new SnapshotError('snapshot is corrupt (file checksum mismatch)');
  }
  let at = 12;
  const take = (n: number, what: string): Uint8Array => {
    if (at + n > endAt) throw new SnapshotError(`snapshot is truncated (in ${what})`);
    const out = file.subarray(at, at + n);
    at += n;
    return out;
  };
  const num = (what: string) => new DataView(take(4, what).slice().buffer).getUint32(0, true);
  const headerBytes = take(num('header'), 'header');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes)) as Record<string, unknown>;
  } catch {
    throw new SnapshotError('snapshot header is corrupt');
  }
  const sections = new Map<string, Uint8Array>();
  while (at < endAt) {
    const name = new TextDecoder().decode(take(num('section name'), 'section name'));
    const flags = num(name);
    const storedLength = num(name);
    const rawLength = num(name);
    const crc = num(name);
    const stored = take(storedLength, `section ${name}`);
    if (crc32(stored) !== crc) throw new SnapshotError(`snapshot section ${name} is corrupt (checksum mismatch)`);
    let data = stored;
    if (flags & FLAG_GZIP) {
      try {
        data = await gunzip(stored);
      } catch (e) {
        throw new SnapshotError(`snapshot section ${name}: ${(e as Error).message}`);
      }
    }
    if (data.length !== rawLength) throw new SnapshotError(`snapshot section ${name} has ${data.length} bytes, the header says ${rawLength}`);
    sections.set(name, data);
  }
  const listed = header.sections;
  if (!Array.isArray(listed) || listed.some((n) => !sections.has(n as string))) throw new SnapshotError('snapshot is missing sections its header lists');
  return { version, header, sections };
}

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
