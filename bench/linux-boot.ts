/**
 * Boot-to-shell time of the project's Linux CD (test/images/out/linux.iso): wall-clock time from
 * power-on until the guest prints its marker on COM1, in WebHVM (the full Machine, headless, as
 * `webhvm run` runs it) and in the v86 npm package with the same SeaBIOS and ISO.
 */
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Machine } from '../src/machine/machine.ts';
import { loadCoreModule } from '../src/cpu/load-core-node.ts';
import { NodeFileBackend } from '../src/storage/node-file-backend.ts';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const firmware = join(root, 'bios/firmware');
export const BOOT_ISO = join(root, 'test/images/out/linux.iso');
const MARKER = 'WEBHVM-GUEST-READY';

export interface BootResult {
  side: string;
  seconds: number;
}

export function bootIsoAvailable(): string | undefined {
  return existsSync(BOOT_ISO) ? undefined : `${BOOT_ISO} is missing: run "bash test/images/build-guests.sh"`;
}

export async function bootWebhvm(timeoutMs = 600_000): Promise<BootResult> {
  const iso = await NodeFileBackend.open(BOOT_ISO);
  let serial = '';
  const fw = (n: string) => new Uint8Array(readFileSync(join(firmware, n)));
  const start = performance.now();
  const machine = new Machine({
    name: 'bench', ramMiB: 128, cpuCount: 1, acpi: false, apic: false, pae: false, boot: ['cdrom'],
    ide: [undefined, undefined, { kind: 'cdrom', backend: iso }], floppies: [], rtcStartSeconds: 1_700_000_000,
    firmware: { bios: fw('bios-256k.bin'), vgaBios: fw('vgabios-stdvga.bin') },
    serialOutput: (port, b) => { if (port === 0) serial += String.fromCharCode(b); },
  }, loadCoreModule());
  try {
    while (!serial.includes(MARKER)) {
      if (performance.now() - start > timeoutMs) throw new Error('WebHVM boot timed out');
      const end = performance.now() + 20;
      do machine.runSlice(); while (!serial.includes(MARKER) && !machine.idle && performance.now() < end);
      await new Promise((r) => setTimeout(r, 0));
    }
    return { side: 'webhvm', seconds: (performance.now() - start) / 1000 };
  } finally {
    await iso.close();
  }
}

export async function bootV86(disableJit: boolean, timeoutMs = 900_000): Promise<BootResult> {
  const { V86 } = await import('v86');
  const require = createRequire(import.meta.url);
  const wasmBytes = readFileSync(join(dirname(require.resolve('v86')), 'v86.wasm'));
  const buffer = (p: string) => { const b = readFileSync(p); return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer; };
  const start = performance.now();
  const emulator = new V86({
    wasm_fn: async (imports: WebAssembly.Imports) => (await WebAssembly.instantiate(wasmBytes, imports)).instance.exports,
    bios: { buffer: buffer(join(firmware, 'bios.bin')) },
    vga_bios: { buffer: buffer(join(firmware, 'vgabios-stdvga.bin')) },
    cdrom: { buffer: buffer(BOOT_ISO) },
    memory_size: 128 << 20,
    disable_jit: disableJit,
    autostart: true,
    disable_keyboard: true,
    disable_mouse: true,
    disable_speaker: true,
  } as ConstructorParameters<typeof V86>[0]);
  let serial = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`v86 boot timed out; serial tail: ${JSON.stringify(serial.slice(-300))}`)), timeoutMs);
      emulator.add_listener('serial0-output-byte', (b: number) => {
        serial += String.fromCharCode(b);
        if (serial.includes(MARKER)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    return { side: disableJit ? 'v86-interp' : 'v86-jit', seconds: (performance.now() - start) / 1000 };
  } finally {
    await emulator.stop();
    await emulator.destroy();
  }
}
