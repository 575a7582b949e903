/**
 * WebHVM side of the benchmark: a bare machine (RAM, the entry ROM of workloads/rom.asm at the
 * reset vector, no devices) in which the workload image is written to RAM at WORKLOAD_BASE
 * before reset. COM1's data port (0x3F8) carries the marker protocol; OUT 0xF4 stops the run.
 * The CpuCore runs in the calling thread, in slices of SLICE instructions like a machine's run
 * loop would, and the markers are timed with performance.now() from inside the port callback.
 */
import { performance } from 'node:perf_hooks';
import { CpuCore, StopReason } from '../src/cpu/cpu-core.ts';
import { loadCoreModule } from '../src/cpu/load-core-node.ts';
import { assemble, MarkerParser, WORKLOAD_BASE, type WorkloadResult } from './workloads.ts';

/** Instructions per CpuCore.run call. */
export const SLICE = 1_000_000;

let entryRom: Uint8Array | undefined;

export interface WebHvmOptions {
  ramBytes?: number;
  /** Give up after this many instructions (a hung workload must not hang the bench). */
  maxInstructions?: number;
  debugCore?: boolean;
  /** A core other than build/cpu.wasm (e.g. a release build with a name section, to profile). */
  module?: WebAssembly.Module;
}

export function runWebHvm(image: Uint8Array, options: WebHvmOptions = {}): WorkloadResult & { stop: string; instructions: number } {
  entryRom ??= assemble('rom.asm');
  let cpu: CpuCore | undefined;
  let stopped = false;
  const parser = new MarkerParser(() => performance.now(), () => Number(cpu!.instructions & 0xffff_ffffn));
  cpu = new CpuCore({
    module: options.module ?? loadCoreModule(options.debugCore ?? false),
    ramBytes: options.ramBytes ?? 32 << 20,
    platform: {
      portIn: (_port, size) => (size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff),
      portOut: (port, _size, value) => {
        if (port === 0x3f8) parser.byte(value & 0xff);
        else if (port === 0xf4) {
          stopped = true;
          cpu!.requestStop();
        }
      },
      mmioRead: () => 0xffffffff,
      mmioWrite: () => {},
      interruptAcknowledge: () => -1,
    },
  });
  cpu.mapRom(0xffff0000, entryRom, 0);
  cpu.mapRom(0x000f0000, entryRom, 0x10000);
  cpu.ram().set(image, WORKLOAD_BASE);
  cpu.reset();

  const max = options.maxInstructions ?? 20_000_000_000;
  let stop = 'budget';
  while (Number(cpu.instructions) < max) {
    const r = cpu.run(SLICE);
    if (stopped) {
      stop = 'exit';
      break;
    }
    if (r === StopReason.Halt || r === StopReason.Reset) {
      stop = r === StopReason.Halt ? 'halt' : 'reset';
      break;
    }
  }
  return { ...parser.result(), stop, instructions: Number(cpu.instructions) };
}
