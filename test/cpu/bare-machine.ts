/**
 * A bare machine for CPU tests: RAM, a 64 KiB ROM assembled from nasm source mapped at
 * 0xF0000 and 0xFFFF0000 (so execution starts at F000:FFF0), and test ports:
 *   OUT 0xE9 (byte)   text output
 *   OUT 0xF4 (any)    exit with the written value (the machine stops)
 *   OUT 0xF0 (dword)  record a value in `values` (for assertions)
 *   OUT 0xF8 (word)   assert INTR after (value >> 8) more instructions; the interrupt
 *                     acknowledge cycle returns vector (value & 0xFF) and drops INTR
 *   OUT 0xF9 (word)   raise NMI after (value >> 8) more instructions
 *   OUT 0xFA (byte)   A20 gate: bit 0 set = address line 20 enabled (the power-on state)
 * There is no interrupt controller beyond that: tests may also drive `cpu.setIntr` themselves
 * and answer the acknowledge cycle with the `interruptAcknowledge` option.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CpuCore, StopReason } from '../../src/cpu/cpu-core.ts';
import { loadCoreModule } from '../../src/cpu/load-core-node.ts';

/** Assemble nasm source to a flat binary; `includeDirs` are searched by %include. */
export function assemble(source: string, format = 'bin', includeDirs: string[] = []): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'webhvm-nasm-'));
  try {
    writeFileSync(join(dir, 'in.asm'), source);
    const includes = includeDirs.flatMap((d) => ['-i', d.endsWith('/') ? d : `${d}/`]);
    try {
      execFileSync('nasm', ['-f', format, ...includes, '-o', join(dir, 'out.bin'), join(dir, 'in.asm')], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    } catch (e) {
      const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(`nasm failed:\n${stderr}`);
    }
    return new Uint8Array(readFileSync(join(dir, 'out.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Assemble a nasm file; %include is resolved relative to the file's folder. */
export function assembleFile(path: string): Uint8Array {
  return assemble(readFileSync(path, 'utf8'), 'bin', [dirname(path)]);
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
  /** CPUID switches (PAE/NX, APIC); the default is PAE on, APIC off. */
  pae?: boolean;
}

interface ScheduledEvent {
  /** Fire when the retired-instruction count reaches this value. */
  at: bigint;
  kind: 'intr' | 'nmi';
  vector: number;
}

export class BareMachine {
  readonly cpu: CpuCore;
  output = '';
  exitCode: number | undefined;
  values: number[] = [];
  /** Vector the built-in interrupt source returns on the next acknowledge cycle, or -1. */
  private intrVector = -1;
  private events: ScheduledEvent[] = [];

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
          } else if (port === 0xfa) {
            this.cpu.setA20((value & 1) !== 0);
          } else if (port === 0xf8 || port === 0xf9) {
            // The OUT itself retires after this callback, hence the + 1.
            const at = this.cpu.instructions + 1n + BigInt((value >>> 8) & 0xff);
            this.events.push({ at, kind: port === 0xf8 ? 'intr' : 'nmi', vector: value & 0xff });
            this.cpu.requestStop();
          }
        },
        mmioRead: () => 0xffffffff,
        mmioWrite: () => {},
        interruptAcknowledge: () => {
          if (options.interruptAcknowledge) return options.interruptAcknowledge();
          const v = this.intrVector;
          this.intrVector = -1;
          this.cpu.setIntr(false);
          return v;
        },
      },
    });
    this.cpu.configure({ apic: false, pae: options.pae ?? true, cpuCount: 1, cpuIndex: 0 });
    this.cpu.mapRom(0xffff0000, rom, 0);
    this.cpu.mapRom(0x000f0000, rom, 0x10000);
    this.cpu.reset();
  }

  private fireDueEvents(): void {
    const now = this.cpu.instructions;
    this.events = this.events.filter((e) => {
      if (e.at > now) return true;
      if (e.kind === 'nmi') this.cpu.raiseNmi();
      else {
        this.intrVector = e.vector;
        this.cpu.setIntr(true);
      }
      return false;
    });
  }

  /**
   * Run until the program exits through port 0xF4, stops (halt with nothing left to wake it,
   * triple fault), or the budget ends. A halted CPU with a scheduled interrupt waits for it.
   */
  run(budget = this.options.budget ?? 50_000_000): BareRun {
    let stop: BareRun['stop'] = 'budget';
    let left = budget;
    while (left > 0) {
      this.fireDueEvents();
      let chunk = Math.min(left, 1_000_000);
      const now = this.cpu.instructions;
      for (const e of this.events) chunk = Math.min(chunk, Number(e.at - now));
      const r = this.cpu.run(Math.max(chunk, 1));
      left -= Number(this.cpu.instructions - now) || 1;
      if (this.exitCode !== undefined) {
        stop = 'exit';
        break;
      }
      if (r === StopReason.Reset) {
        stop = r;
        break;
      }
      if (r === StopReason.Halt) {
        if (this.events.length === 0) {
          stop = r;
          break;
        }
        // Time passes while the CPU is halted: the next scheduled event happens now.
        const next = this.events.reduce((a, b) => (a.at < b.at ? a : b));
        next.at = this.cpu.instructions;
      }
    }
    return { cpu: this.cpu, output: this.output, exitCode: this.exitCode, values: this.values, stop };
  }
}

/** Assemble `source` (which must place its entry jump at offset 0xFFF0 of a 64 KiB image) and run it. */
export function runBare(source: string, options: BareMachineOptions = {}): BareRun {
  return new BareMachine(assemble(source), options).run();
}

/** Decode REPORT pairs (four-character tag, value) from `values` into an object. */
export function reports(values: number[]): Record<string, number> {
  if (values.length % 2) throw new Error(`odd number of reported values (${values.length})`);
  const out: Record<string, number> = {};
  for (let i = 0; i < values.length; i += 2) {
    const t = values[i];
    const tag = String.fromCharCode(t & 0xff, (t >>> 8) & 0xff, (t >>> 16) & 0xff, t >>> 24).replace(/[\0 ]+$/, '');
    if (tag in out) throw new Error(`tag ${tag} reported twice`);
    out[tag] = values[i + 1];
  }
  return out;
}
