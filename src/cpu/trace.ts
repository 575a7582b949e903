/**
 * Trace mode: runs a CpuCore one instruction at a time through a chosen window and prints each
 * instruction (CS:EIP, bytes, Intel-syntax disassembly from the opcode table) with the
 * registers and flags it left behind. The window opens at the Nth retired instruction, or when
 * CS:EIP (or any predicate on the CPU) first matches, and lasts `count` instructions.
 *
 * Before the window the CPU runs at full speed when the start is an instruction count; a CS:EIP
 * or predicate start is checked before every instruction (slow, but exact). Exceptions and
 * interrupts taken inside the window are shown as their own lines.
 */
import { CpuCore, StopReason, hex, REGISTER_NAMES } from './cpu-core.ts';
import { disassemble } from './disassembler.ts';

export interface TraceOptions {
  /** Open the window when this many instructions have retired since power-on. */
  fromInstruction?: bigint | number;
  /** Open the window when CS (if given) and EIP match before an instruction. */
  at?: { cs?: number; eip: number };
  /** Open the window when this returns true before an instruction. */
  when?: (cpu: CpuCore) => boolean;
  /** Instructions to trace once the window is open. */
  count: number;
  /** Give up waiting for the window after this many instructions (default 100 million). */
  maxInstructions?: number;
  /** Receives each line (default: collected in the result only). */
  write?: (line: string) => void;
}

export interface TraceResult {
  lines: string[];
  /** Whether the window opened. */
  opened: boolean;
  /** Why tracing ended: the window was traced in full, or the CPU stopped (halt, reset, request). */
  end: 'done' | 'not-found' | 'halt' | 'reset' | 'requested';
}

const FLAG_LETTERS: [number, string][] = [
  [11, 'O'], [10, 'D'], [9, 'I'], [8, 'T'], [7, 'S'], [6, 'Z'], [4, 'A'], [2, 'P'], [0, 'C'],
];

/** EFLAGS as letters: upper case when set, '-' when clear (ODITSZAPC). */
export function flagString(eflags: number): string {
  return FLAG_LETTERS.map(([bit, c]) => (eflags & (1 << bit) ? c : '-')).join('');
}

/** Read `n` bytes at a linear address the way the CPU would fetch them (paging included); null where unmapped. */
export function readLinear(cpu: CpuCore, linear: number, n: number): (number | null)[] {
  const out: (number | null)[] = [];
  for (let i = 0; i < n; i++) {
    const pa = translate(cpu, (linear + i) >>> 0);
    out.push(pa === null ? null : readPhys8(cpu, pa));
  }
  return out;
}

function readPhys8(cpu: CpuCore, pa: number): number | null {
  const entry = cpu.view.getUint32(cpu.offset('PHYS_MAP') + Math.floor(pa / 4096) * 4, true);
  if (entry & cpu.offset('PHYS_DEVICE')) return null; // MMIO: do not cause device side effects
  return cpu.bytes[(entry & ~0xfff) + (pa & 0xfff)];
}

function readPhys32(cpu: CpuCore, pa: number): number {
  let v = 0;
  for (let i = 3; i >= 0; i--) v = v * 256 + (readPhys8(cpu, pa + i) ?? 0xff);
  return v;
}

/** Linear to physical through the guest's page tables (2-level, PSE, PAE); null if not present. */
function translate(cpu: CpuCore, lin: number): number | null {
  const cr0 = cpu.controlRegister(0);
  if (!(cr0 & 0x8000_0000)) return lin;
  const cr3 = cpu.controlRegister(3);
  const cr4 = cpu.controlRegister(4);
  if (cr4 & 0x20) {
    const pdpte = readPhys32(cpu, (cr3 & 0xffff_ffe0) + Math.floor(lin / 2 ** 30) * 8);
    if (!(pdpte & 1)) return null;
    const pdeAddr = (pdpte & 0xffff_f000) + ((lin >>> 21) & 0x1ff) * 8;
    const pde = readPhys32(cpu, pdeAddr);
    if (!(pde & 1)) return null;
    if (pde & 0x80) return ((pde & 0xffe0_0000) + (lin & 0x1f_ffff)) >>> 0;
    const pte = readPhys32(cpu, (pde & 0xffff_f000) + ((lin >>> 12) & 0x1ff) * 8);
    if (!(pte & 1)) return null;
    return ((pte & 0xffff_f000) + (lin & 0xfff)) >>> 0;
  }
  const pde = readPhys32(cpu, (cr3 & 0xffff_f000) + (lin >>> 22) * 4);
  if (!(pde & 1)) return null;
  if ((pde & 0x80) && (cr4 & 0x10)) return ((pde & 0xffc0_0000) + (lin & 0x3f_ffff)) >>> 0;
  const pte = readPhys32(cpu, (pde & 0xffff_f000) + ((lin >>> 12) & 0x3ff) * 4);
  if (!(pte & 1)) return null;
  return ((pte & 0xffff_f000) + (lin & 0xfff)) >>> 0;
}

/** The instruction at CS:EIP, disassembled in the code segment's default size. */
export function currentInstruction(cpu: CpuCore): { text: string; bytes: number[]; cs: number; eip: number } {
  const cs = cpu.segment(1);
  const eip = cpu.eip;
  const bits = cpu.controlRegister(0) & 1 && !(cpu.eflags & 0x20000) && cs.attr & 0x4000 ? 32 : 16;
  const raw = readLinear(cpu, (cs.base + eip) >>> 0, 15);
  const valid = raw.findIndex((b) => b === null);
  const bytes = (valid < 0 ? raw : raw.slice(0, valid)) as number[];
  if (!bytes.length) return { text: '(not mapped)', bytes: [], cs: cs.selector, eip };
  const ins = disassemble(Uint8Array.from(bytes), 0, { bits, address: eip });
  return { text: ins.text, bytes: bytes.slice(0, ins.length), cs: cs.selector, eip };
}

function registers(cpu: CpuCore): string {
  return `${REGISTER_NAMES.map((n, i) => `${n}=${hex(cpu.reg(i))}`).join(' ')} ${flagString(cpu.eflags)}`;
}

const STOP_NAMES: Record<number, TraceResult['end']> = {
  [StopReason.Halt]: 'halt', [StopReason.Reset]: 'reset', [StopReason.Requested]: 'requested',
};

interface CoreInternals {
  core?: { run(budget: number): number };
  deliverFault?: () => StopReason;
}

/**
 * Execute exactly one instruction, or deliver the exception it raised (without running the
 * handler's first instruction, which CpuCore.run(1) would do after a delivery). Returns the
 * stop reason and the vector delivered (-1 if none). Uses CpuCore's internal core when
 * present; otherwise falls back to run(1).
 */
export function stepInstruction(cpu: CpuCore): { stop: StopReason; vector: number } {
  const internals = cpu as unknown as CoreInternals;
  if (!internals.core || !internals.deliverFault) return { stop: cpu.run(1), vector: -1 };
  const faultVector = cpu.offset('STATE') + cpu.offset('S_FAULT_VECTOR');
  try {
    return { stop: internals.core.run(1) as StopReason, vector: -1 };
  } catch (e) {
    const vector = cpu.view.getInt32(faultVector, true);
    if (vector < 0) throw e;
    return { stop: internals.deliverFault.call(cpu), vector };
  }
}

/** Run `cpu` until the window opens, then trace `count` instructions. */
export function trace(cpu: CpuCore, options: TraceOptions): TraceResult {
  const lines: string[] = [];
  const emit = (line: string) => {
    lines.push(line);
    options.write?.(line);
  };
  const limit = BigInt(options.maxInstructions ?? 100_000_000);
  const startCount = cpu.instructions;
  const matches = (): boolean => {
    if (options.at) {
      if (cpu.eip !== options.at.eip >>> 0) return false;
      if (options.at.cs !== undefined && cpu.segment(1).selector !== options.at.cs) return false;
    }
    if (options.when && !options.when(cpu)) return false;
    return true;
  };
  // Wait for the window.
  if (options.fromInstruction !== undefined) {
    const target = BigInt(options.fromInstruction);
    while (cpu.instructions < target) {
      if (cpu.instructions - startCount >= limit) return { lines, opened: false, end: 'not-found' };
      const left = target - cpu.instructions;
      const r = cpu.run(Number(left > 1_000_000n ? 1_000_000n : left));
      if (r !== StopReason.Budget) return { lines, opened: false, end: STOP_NAMES[r] };
    }
  }
  if (options.at || options.when) {
    while (!matches()) {
      if (cpu.instructions - startCount >= limit) return { lines, opened: false, end: 'not-found' };
      const r = cpu.run(1);
      if (r !== StopReason.Budget) return { lines, opened: false, end: STOP_NAMES[r] };
    }
  }
  // The window.
  for (let n = 0; n < options.count; n++) {
    const ins = currentInstruction(cpu);
    const before = cpu.instructions;
    const { stop: r, vector } = stepInstruction(cpu);
    const where = `${hex(ins.cs, 4)}:${hex(ins.eip)}`;
    const bytes = ins.bytes.map((b) => hex(b, 2)).join(' ');
    const head = `${String(before).padStart(10)}  ${where}  ${bytes.padEnd(30)} ${ins.text.padEnd(36)}`;
    if (vector >= 0) {
      emit(`${head} ! exception ${vector} -> ${hex(cpu.segment(1).selector, 4)}:${hex(cpu.eip)}  ${registers(cpu)}`);
    } else {
      emit(`${head} ${registers(cpu)}`);
    }
    if (r !== StopReason.Budget) return { lines, opened: true, end: STOP_NAMES[r] };
  }
  return { lines, opened: true, end: 'done' };
}
