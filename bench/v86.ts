/**
 * The peer: the v86 npm package (x86 emulator with an interpreter and an x86-to-wasm JIT) under
 * Node. The workload boots from a 1.44 MB floppy image: SeaBIOS (Debian's bios.bin and
 * vgabios-stdvga.bin from bios/firmware/, which v86 accepts; the package ships no BIOS) loads
 * the boot sector of workloads/floppy.asm, which loads the workload to WORKLOAD_BASE and enters
 * flat protected mode exactly as the WebHVM ROM does. The markers arrive as serial0-output-byte
 * events, which v86 sends synchronously from the UART's port handler, so performance.now() in
 * the listener brackets the workload phase without BIOS boot time.
 */
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { assemble, MarkerParser, type WorkloadResult } from './workloads.ts';

const FLOPPY_BYTES = 1474560;
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const firmware = join(root, 'bios/firmware');

export interface V86Options {
  /** Turn off v86's JIT (interpreter only, the fair comparison for an interpreter). */
  disableJit?: boolean;
  memoryBytes?: number;
  /** Give up after this many milliseconds of wall-clock time. */
  timeoutMs?: number;
}

export function v86Available(): string | undefined {
  for (const f of ['bios.bin', 'vgabios-stdvga.bin']) {
    if (!existsSync(join(firmware, f))) return `bios/firmware/${f} is missing: run "node bios/install-firmware.mjs"`;
  }
  try {
    createRequire(import.meta.url).resolve('v86');
  } catch {
    return 'the v86 package is not installed: run "npm install"';
  }
  return undefined;
}

/** The v86 package's version string (package.json), for the report. */
export function v86Version(): string {
  const require = createRequire(import.meta.url);
  const pkg = join(dirname(require.resolve('v86')), '..', 'package.json');
  return JSON.parse(readFileSync(pkg, 'utf8')).version as string;
}

/** The floppy: boot sector, then the workload from sector 2 (cylinder 0, head 0 holds 17). */
export function floppyImage(image: Uint8Array): ArrayBuffer {
  const sectors = Math.ceil(image.length / 512);
  if (sectors > 17) throw new Error(`workload of ${image.length} bytes does not fit on the first track`);
  const boot = assemble('floppy.asm', { WORKLOAD_SECTORS: sectors });
  const disk = new Uint8Array(FLOPPY_BYTES);
  disk.set(boot, 0);
  disk.set(image, 512);
  return disk.buffer;
}

export async function runV86(image: Uint8Array, options: V86Options = {}): Promise<WorkloadResult & { wasm: string }> {
  const { V86 } = await import('v86');
  const require = createRequire(import.meta.url);
  const wasmPath = join(dirname(require.resolve('v86')), 'v86.wasm');
  // Load v86.wasm ourselves: left to itself, v86 silently falls back to v86-fallback.wasm when
  // the main module does not instantiate, and the report must say which one ran.
  const wasmBytes = readFileSync(wasmPath);
  const emulator = new V86({
    wasm_fn: async (imports: WebAssembly.Imports) => (await WebAssembly.instantiate(wasmBytes, imports)).instance.exports,
    bios: { buffer: toArrayBuffer(readFileSync(join(firmware, 'bios.bin'))) },
    vga_bios: { buffer: toArrayBuffer(readFileSync(join(firmware, 'vgabios-stdvga.bin'))) },
    fda: { buffer: floppyImage(image) },
    memory_size: options.memoryBytes ?? 32 << 20,
    disable_jit: options.disableJit ?? false,
    autostart: true,
    disable_keyboard: true,
    disable_mouse: true,
    disable_speaker: true,
  } as ConstructorParameters<typeof V86>[0]);
  const parser = new MarkerParser(() => performance.now(), () => emulator.get_instruction_counter());
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`v86 timed out; serial output so far: ${JSON.stringify(parser.text)}`)), options.timeoutMs ?? 300_000);
      emulator.add_listener('serial0-output-byte', (b: number) => {
        parser.byte(b);
        if (parser.done) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    await emulator.stop();
    await emulator.destroy();
  }
  return { ...parser.result(), wasm: 'v86.wasm' };
}

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}
