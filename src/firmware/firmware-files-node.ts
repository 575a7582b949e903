/**
 * Node-only: reads firmware files from bios/firmware/ with fs and verifies them against the
 * manifest. Only the command-line runner and Node tests import this file; the browser worker
 * fetches the bytes itself and calls verifyFirmware() from firmware-files.ts.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FirmwareManifest, firmwareManifest, missingFirmwareError, verifyFirmware } from './firmware-files.ts';

/** bios/firmware/ of this checkout. */
export const DEFAULT_FIRMWARE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../bios/firmware');

/** Read and verify one firmware file; throws FirmwareError if it is missing or wrong. */
export function loadFirmwareFile(name: string, dir: string = DEFAULT_FIRMWARE_DIR, manifest: FirmwareManifest = firmwareManifest): Uint8Array {
  const path = join(dir, name);
  let bytes: Uint8Array;
  try {
    const buf = readFileSync(path);
    bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw missingFirmwareError(name, path, manifest);
    throw e;
  }
  return verifyFirmware(name, bytes, manifest);
}

/** Read and verify several firmware files, by name. */
export function loadFirmwareFiles(names: readonly string[], dir: string = DEFAULT_FIRMWARE_DIR, manifest: FirmwareManifest = firmwareManifest): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const name of names) out.set(name, loadFirmwareFile(name, dir, manifest));
  return out;
}
