/**
 * A bare machine for CPU tests: RAM, a 64 KiB ROM assembled from nasm source mapped at
 * 0xF0000 and 0xFFFF0000 (so execution starts at F000:FFF0), and test ports:
 *   OUT 0xE9 (byte)   text output
 *   OUT 0xF4 (any)    exit with the written value (the machine stops)
 *   OUT 0xF0 (dword)  record a value in `values` (for assertions)
 * No interrupt controller: INTR is driven by tests through `cpu.setIntr`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpuCore, StopReason } from '../../src/cpu/cpu-core.ts';
import { loadCoreModule } from '../../src/cpu/load-core-node.ts';

/** Assemble nasm source to a flat binary. */
export function assemble(source: string, format = 'bin'): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'webhvm-nasm-'));
  try {
    writeFileSync(join(dir, 'in.asm'), source);
    execFileSync('nasm', ['-f', format, '-o', join(dir, 'out.bin'), join(dir, 'in.asm')], { stdio: ['ignore', 'ignore', 'pipe'] });
    return new Uint8Array(readFileSync(join(dir, 'out.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface BareRun {
  cpu: CpuCore;
  output: string;
  exitCode: number | undefined;
  values: number[];
  stop: StopReason | 'exit' | 'budget';
}

export interface BareMachineOptions {
  ramBytes?: number;
  budget?: number;
  debugCore?: boolean;
  /** Extra port handlers for a test. */
  portIn?: (port: number, size: number) => number | undefined;
  portOut?: (port: number, size: number, value: number) => boolean;
  interruptAcknowledge?: () => number;
}

export class BareMachine {
  readonly cpu: CpuCore;
  output = '';
  exitCode: number | undefined;
  values: number[] = [];

  constructor(rom: Uint8Array, private readonly options: BareMachineOptions = {}) {
    if (rom.length !== 0x10000) throw new Error(`ROM must be 64 KiB, got ${rom.length}`);
    this.cpu = new CpuCore({
      module: loadCoreModule(options.debugCore ?? false),
      ramBytes: options.ramBytes ?? 32 << 20,
      platform: {
        portIn: (port, size) => options.portIn?.(port, size) ?? (size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff),
        portOut: (port, size, value) => {
          if (options.portOut?.(port, size, value)) return;
          if (port === 0xe9) this.output += String.fromCharCode(value & 0xff);
          else if (port === 0xf0) this.values.push(value >>> 0);
          else if (port === 0xf4) {
            this.exitCode = value;
            this.cpu.requestStop();
          }
        },
        mmioRead: () => 0xffffffff,
        mmioWrite: () => {},
        interruptAcknowledge: () => options.interruptAcknowledge?.() ?? -1,
      },
    });
    this.cpu.mapRom(0xffff0000, rom, 0);
    this.cpu.mapRom(0x000f0000, rom, 0x10000);
    this.cpu.reset();
  }

  /** Run until the program exits through port 0xF4, halts with interrupts off, or the budget ends. */
  run(budget = this.options.budget ?? 50_000_000): BareRun {
    let stop: BareRun['stop'] = 'budget';
    let left = budget;
    while (left > 0) {
      const chunk = Math.min(left, 1_000_000);
      const before = this.cpu.instructions;
      const r = this.cpu.run(chunk);
      left -= Number(this.cpu.instructions - before) || 1;
      if (this.exitCode !== undefined) {
        stop = 'exit';
        break;
      }
      if (r === StopReason.Halt || r === StopReason.Reset) {
        stop = r;
        break;
      }
    }
    return { cpu: this.cpu, output: this.output, exitCode: this.exitCode, values: this.values, stop };
  }
}

/** Assemble `source` (which must place its entry jump at offset 0xFFF0 of a 64 KiB image) and run it. */
export function runBare(source: string, options: BareMachineOptions = {}): BareRun {
  return new BareMachine(assemble(source), options).run();
}
