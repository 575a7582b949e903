import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FirmwareError,
  type FirmwareManifest,
  INSTALL_COMMAND,
  RTL8139_ROM,
  SYSTEM_BIOS,
  VGA_BIOS_STDVGA,
  firmwareEntry,
  firmwareManifest,
  sha256Hex,
  verifyFirmware,
} from '../../src/firmware/firmware-files.ts';
import { DEFAULT_FIRMWARE_DIR, loadFirmwareFile, loadFirmwareFiles } from '../../src/firmware/firmware-files-node.ts';

function pattern(length: number, seed: number): Uint8Array {
  const b = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function nodeSha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

const fake = pattern(4096, 7);
const testManifest: FirmwareManifest = {
  packages: { seabios: '9.9-1' },
  files: [{ name: 'test.bin', role: 'a test ROM', package: 'seabios', path: 'usr/share/seabios/test.bin', size: fake.length, sha256: nodeSha(fake) }],
};

describe('sha256Hex', () => {
  it('matches the FIPS 180-4 examples', () => {
    expect(sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex(new Uint8Array(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('agrees with node:crypto across the padding boundaries', () => {
    for (const n of [1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 65537]) {
      const b = pattern(n, n);
      expect(sha256Hex(b), `length ${n}`).toBe(nodeSha(b));
    }
  });

  it('hashes a view into a larger buffer by its own bytes only', () => {
    const big = pattern(300, 3);
    const view = big.subarray(17, 217);
    expect(sha256Hex(view)).toBe(nodeSha(Uint8Array.from(view)));
  });
});

describe('manifest', () => {
  it('lists the BIOS, the VGA BIOS and the RTL8139 ROM with well-formed hashes', () => {
    for (const name of [SYSTEM_BIOS, 'bios.bin', VGA_BIOS_STDVGA, RTL8139_ROM]) {
      const e = firmwareEntry(name);
      expect(e.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(firmwareManifest.packages[e.package]).toBeTruthy();
      expect(e.path.startsWith('/')).toBe(false);
    }
    expect(firmwareEntry(SYSTEM_BIOS).size).toBe(256 * 1024);
  });
});

describe('verifyFirmware', () => {
  it('returns the bytes when the hash matches', () => {
    expect(verifyFirmware('test.bin', fake, testManifest)).toBe(fake);
  });

  it('names the file, both hashes and the fix when the hash differs', () => {
    const bad = fake.slice();
    bad[100] ^= 1;
    let err: unknown;
    try {
      verifyFirmware('test.bin', bad, testManifest);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FirmwareError);
    const fe = err as FirmwareError;
    expect(fe.file).toBe('test.bin');
    expect(fe.expectedSha256).toBe(nodeSha(fake));
    expect(fe.actualSha256).toBe(nodeSha(bad));
    expect(fe.message).toContain('test.bin');
    expect(fe.message).toContain(nodeSha(fake));
    expect(fe.message).toContain(nodeSha(bad));
    expect(fe.message).toContain('seabios 9.9-1');
    expect(fe.message).toContain(INSTALL_COMMAND);
  });

  it('refuses a name the manifest does not list', () => {
    expect(() => verifyFirmware('nope.bin', fake, testManifest)).toThrow(/nope\.bin is not in bios\/manifest\.json.*test\.bin/);
  });
});

describe('Node loader', () => {
  it('reads and verifies a file, and reports a missing one with the install command', () => {
    const dir = mkdtempSync(join(tmpdir(), 'webhvm-fw-test-'));
    try {
      writeFileSync(join(dir, 'test.bin'), fake);
      expect(Array.from(loadFirmwareFile('test.bin', dir, testManifest))).toEqual(Array.from(fake));
      rmSync(join(dir, 'test.bin'));
      expect(() => loadFirmwareFile('test.bin', dir, testManifest)).toThrow(FirmwareError);
      expect(() => loadFirmwareFile('test.bin', dir, testManifest)).toThrow(new RegExp(`missing at .*test\\.bin.*${INSTALL_COMMAND}`));
      writeFileSync(join(dir, 'test.bin'), fake.subarray(0, 100));
      expect(() => loadFirmwareFile('test.bin', dir, testManifest)).toThrow(/SHA-256/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // The firmware is installed by bios/install-firmware.mjs, not committed; check it when present.
  it.skipIf(!existsSync(join(DEFAULT_FIRMWARE_DIR, SYSTEM_BIOS)))('verifies the installed firmware', () => {
    const files = loadFirmwareFiles(firmwareManifest.files.map((f) => f.name));
    const bios = files.get(SYSTEM_BIOS)!;
    expect(bios.length).toBe(256 * 1024);
    // The reset vector at the top of the BIOS is a far jump (EA) into the F000 segment.
    expect(bios[bios.length - 16]).toBe(0xea);
    const vga = files.get(VGA_BIOS_STDVGA)!;
    expect([vga[0], vga[1]]).toEqual([0x55, 0xaa]);
  });
});
