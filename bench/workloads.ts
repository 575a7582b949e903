/**
 * The benchmark workloads: nasm sources in bench/workloads/, each with the instruction count of
 * one measured phase (between the '{' and '}' markers, see workloads/workload.inc) as a
 * function of its OUTER iteration count, so every figure rests on a known count rather than on
 * an emulator's own counter.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WORKLOAD_DIR = fileURLToPath(new URL('./workloads/', import.meta.url));
/** Where both entry wrappers jump to, and where the workload image is loaded. */
export const WORKLOAD_BASE = 0x10000;

export interface Workload {
  name: string;
  /** Source file in bench/workloads/. */
  source: string;
  description: string;
  /** OUTER for the benchmark (sized for roughly 0.5-1 s per phase in WebHVM). */
  outer: number;
  /** Instructions retired between the '{' OUT and the '}' OUT (inclusive of the first). */
  phaseInstructions(outer: number): number;
  /** Bytes moved per phase, for workloads where throughput means more than MIPS. */
  phaseBytes?(outer: number): number;
}

/** The marker overhead inside a phase: the '{' OUT, and `mov dx` / `mov al` before '}'. */
const MARKERS = 3;

export const WORKLOADS: Workload[] = [
  {
    name: 'alu',
    source: 'alu.asm',
    description: 'ALU/memory loop: load, add, xor, rol, lea, store, add, dec, jnz over a 16 KiB buffer',
    outer: 2000,
    phaseInstructions: (outer) => outer * (4096 * 9 + 4) + 1 + MARKERS,
  },
  {
    name: 'string-copy',
    source: 'string-copy.asm',
    description: 'REP MOVSD of 64 KiB + REP MOVSB of 4093 unaligned bytes (each iteration counts 1)',
    outer: 4000,
    phaseInstructions: (outer) => outer * (16384 + 4093 + 8) + 1 + MARKERS,
    phaseBytes: (outer) => outer * (65536 + 4093),
  },
  {
    name: 'paging',
    source: 'paging.asm',
    description: 'paging on, CR3 reload + 4096 page touches, then INVLPG + touch of each page: 8192 page walks per round',
    outer: 1000,
    phaseInstructions: (outer) => outer * (4096 * 9 + 8) + 1 + MARKERS,
  },
];

/** Assemble a file of bench/workloads/ with nasm, with `-D` definitions. */
export function assemble(file: string, defines: Record<string, number> = {}): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'webhvm-bench-'));
  try {
    const out = join(dir, 'out.bin');
    const args = ['-f', 'bin', '-I', WORKLOAD_DIR, ...Object.entries(defines).map(([k, v]) => `-D${k}=${v}`), '-o', out, join(WORKLOAD_DIR, file)];
    execFileSync('nasm', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One workload image (32-bit flat code for WORKLOAD_BASE). */
export function buildWorkload(workload: Workload, outer = workload.outer, repeats = 3): Uint8Array {
  return assemble(workload.source, { OUTER: outer, REPEATS: repeats });
}

/** A measured phase as seen by a harness. */
export interface Phase {
  /** Wall-clock milliseconds between the '{' and '}' markers. */
  ms: number;
  /**
   * CPU milliseconds the Node process used between the markers (process.cpuUsage: user +
   * system, all threads). Less sensitive than `ms` to other processes competing for the CPU.
   */
  cpuMs: number;
  /** Instructions between the markers by the emulator's own counter (a cross-check). */
  counted: number;
}

export interface WorkloadResult {
  phases: Phase[];
  /** The checksum the workload printed (same code, so the same value on every emulator). */
  checksum: string | undefined;
  /** Serial output other than the protocol bytes (BIOS messages, errors). */
  text: string;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Parses the serial protocol of workload.inc byte by byte; `now` and `counter` are sampled at
 * each marker.
 */
export class MarkerParser {
  readonly phases: Phase[] = [];
  checksum: string | undefined;
  text = '';
  done = false;
  private start: { t: number; cpu: number; n: number } | undefined;
  private hex: string | undefined;

  constructor(private readonly now: () => number, private readonly counter: () => number) {}

  byte(b: number): void {
    const c = String.fromCharCode(b);
    if (this.hex !== undefined) {
      if (c === '\n') {
        this.checksum = this.hex;
        this.hex = undefined;
        this.done = true;
      } else this.hex += c;
      return;
    }
    if (c === '{') this.start = { t: this.now(), cpu: cpuMs(), n: this.counter() };
    else if (c === '}' && this.start) {
      const t = this.now();
      const cpu = cpuMs();
      const n = this.counter();
      // Counters may be 32-bit and wrap: the difference modulo 2^32 is right for phases < 4G.
      this.phases.push({ ms: t - this.start.t, cpuMs: cpu - this.start.cpu, counted: (n - this.start.n) >>> 0 });
      this.start = undefined;
    } else if (c === '=') this.hex = '';
    else this.text += c;
  }

  result(): WorkloadResult {
    return { phases: this.phases, checksum: this.checksum, text: this.text };
  }
}
