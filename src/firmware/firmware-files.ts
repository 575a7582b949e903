/**
 * The firmware files WebHVM loads (SeaBIOS, SeaVGABIOS, the iPXE RTL8139 ROM), as listed in
 * bios/manifest.json, and their verification. This module takes bytes, wherever they came from
 * (a fetch in the browser, fs under Node: see firmware-files-node.ts), and refuses any file whose
 * SHA-256 differs from the manifest, with an error that names the file, the expected hash and the
 * command that installs the right one. SHA-256 is computed here in plain TypeScript so the check
 * is synchronous and works in a worker without a secure context (crypto.subtle needs one).
 */
import manifestJson from '../../bios/manifest.json' with { type: 'json' };

export interface FirmwareFileEntry {
  /** File name in bios/firmware/, e.g. `bios-256k.bin`. */
  name: string;
  /** What the machine uses it for. */
  role: string;
  /** Debian package that ships it. */
  package: string;
  /** Path inside the package (no leading slash). */
  path: string;
  size: number;
  /** Lower-case hex SHA-256. */
  sha256: string;
}

export interface FirmwareManifest {
  packages: Record<string, string>;
  files: FirmwareFileEntry[];
}

export const firmwareManifest: FirmwareManifest = manifestJson as FirmwareManifest;

/** The command that installs or repairs bios/firmware/, run from the project root. */
export const INSTALL_COMMAND = 'node bios/install-firmware.mjs';

/** Names of the files the machine knows how to use. */
export const SYSTEM_BIOS = 'bios-256k.bin';
export const VGA_BIOS_STDVGA = 'vgabios-stdvga.bin';
export const RTL8139_ROM = 'pxe-rtl8139.rom';

/** A firmware file is missing, unknown or not the one the manifest names. */
export class FirmwareError extends Error {
  constructor(
    readonly file: string,
    message: string,
    readonly expectedSha256?: string,
    readonly actualSha256?: string,
  ) {
    super(message);
    this.name = 'FirmwareError';
  }
}

/** The manifest entry for `name`; throws FirmwareError for a name the manifest does not list. */
export function firmwareEntry(name: string, manifest: FirmwareManifest = firmwareManifest): FirmwareFileEntry {
  const entry = manifest.files.find((f) => f.name === name);
  if (!entry) {
    const known = manifest.files.map((f) => f.name).join(', ');
    throw new FirmwareError(name, `firmware file ${name} is not in bios/manifest.json (known: ${known})`);
  }
  return entry;
}

/** The error for a file that could not be found at all (used by loaders). */
export function missingFirmwareError(name: string, where: string, manifest: FirmwareManifest = firmwareManifest): FirmwareError {
  const entry = firmwareEntry(name, manifest);
  return new FirmwareError(
    name,
    `firmware file ${name} (${entry.role}; from the Debian package ${entry.package}) is missing at ${where}. ` +
      `Install it with: ${INSTALL_COMMAND}`,
    entry.sha256,
  );
}

/**
 * Check `bytes` against the manifest entry for `name` and return them. Throws FirmwareError
 * naming the file, the expected and actual SHA-256 and the command that fixes it.
 */
export function verifyFirmware(name: string, bytes: Uint8Array, manifest: FirmwareManifest = firmwareManifest): Uint8Array {
  const entry = firmwareEntry(name, manifest);
  const actual = sha256Hex(bytes);
  if (actual !== entry.sha256) {
    const version = manifest.packages[entry.package];
    throw new FirmwareError(
      name,
      `firmware file ${name} has SHA-256 ${actual} (${bytes.length} bytes), but bios/manifest.json expects ` +
        `${entry.sha256} (${entry.size} bytes, /${entry.path} from ${entry.package}${version ? ' ' + version : ''}). ` +
        `Reinstall it with: ${INSTALL_COMMAND}`,
      entry.sha256,
      actual,
    );
  }
  return bytes;
}

// SHA-256 (FIPS 180-4).
const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** Lower-case hex SHA-256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  // Padding: 0x80, zeros, then the bit length as a 64-bit big-endian number.
  const total = Math.ceil((bytes.length + 9) / 64) * 64;
  const tail = new Uint8Array(total - (bytes.length & ~63));
  tail.set(bytes.subarray(bytes.length & ~63));
  tail[bytes.length & 63] = 0x80;
  const bits = bytes.length * 8;
  const tv = new DataView(tail.buffer);
  tv.setUint32(tail.length - 8, Math.floor(bits / 2 ** 32));
  tv.setUint32(tail.length - 4, bits >>> 0);
  const full = bytes.length & ~63;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let off = 0; off < total; off += 64) {
    const src = off < full ? dv : tv;
    const base = off < full ? off : off - full;
    for (let i = 0; i < 16; i++) w[i] = src.getUint32(base + i * 4);
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15], b = w[i - 2];
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + K[i] + w[i]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  let out = '';
  for (let i = 0; i < 8; i++) out += h[i].toString(16).padStart(8, '0');
  return out;
}
