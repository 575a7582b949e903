/**
 * Comparison of a case's native and emulated results: registers, the EFLAGS bits that are
 * architecturally defined at the end of the executed part of the sequence, the exception
 * (vector, error code, CR2 for #PF, faulting EIP), the bytes written to the data pages, and
 * the x87/MMX state when the sequence used it.
 *
 * Undefined flags: each row's `undef` flags are masked only while no later instruction wrote
 * them with a defined value. An instruction that may or may not write flags (a shift by CL
 * whose count is unknown, REPE CMPS with an unknown count, a REP string instruction that
 * faulted part way) adds its undefined flags without clearing earlier ones.
 *
 * x87/MMX: the control word, the status word (all bits but B), which registers are empty, and
 * every non-empty physical register bit for bit (all 80 bits: the MMX view is the significand).
 * The generator only produces x87 arithmetic where WebHVM's precision model is exact
 * (fpu-model.ts). Were transcendental rows generated (they are not: the table gives them no
 * test class; transcendental.ts checks them apart with a tolerance), their registers would be
 * compared as doubles with a relative tolerance of 2^-50.
 */
import { disassemble } from '../../../src/cpu/disassembler.ts';
import type { GeneratedInstruction, TestCase } from './generator.ts';
import { CODE_PAGE, COMPARED_FLAGS, DATA } from './layout.ts';
import type { CpuResult, FpuState } from './results.ts';

const TRANSCENDENTAL = new Set(['FSIN', 'FCOS', 'FSINCOS', 'FPTAN', 'FPATAN', 'F2XM1', 'FYL2X', 'FYL2XP1']);

/** How many instructions of the case ran to completion before the exception at `eip`. */
export function completedInstructions(c: TestCase, eip: number): number {
  const at = c.instructions.findIndex((i) => CODE_PAGE + i.offset === eip);
  return at < 0 ? c.instructions.length : at;
}

/** EFLAGS bits undefined after the first `done` instructions (plus a partly executed one). */
export function undefinedFlags(instructions: GeneratedInstruction[], done: number, partial?: GeneratedInstruction): number {
  let undef = 0;
  const apply = (i: GeneratedInstruction, certain: boolean) => {
    if (certain) undef = (undef & ~i.flags.written) | i.flags.undef;
    else undef |= i.flags.undef;
  };
  for (let k = 0; k < done; k++) apply(instructions[k], instructions[k].flags.certain);
  if (partial) apply(partial, false);
  return undef;
}

const hex = (v: number, d = 8) => (v >>> 0).toString(16).padStart(d, '0');
const REGS = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];

/** Differences between the two results, as human-readable lines (empty when they agree). */
export function compareResults(c: TestCase, native: CpuResult, emulated: CpuResult): string[] {
  const diffs: string[] = [];
  if (emulated.problem) diffs.push(`emulator: ${emulated.problem}`);
  if (native.vector !== emulated.vector) diffs.push(`exception vector: native ${native.vector}, emulator ${emulated.vector}`);
  if (native.eip !== emulated.eip) diffs.push(`exception at eip: native ${hex(native.eip)}, emulator ${hex(emulated.eip)}`);
  if (native.vector === emulated.vector) {
    if (native.errorCode !== emulated.errorCode) diffs.push(`error code: native ${hex(native.errorCode, 4)}, emulator ${hex(emulated.errorCode, 4)}`);
    if (native.vector === 14 && native.cr2 !== emulated.cr2) diffs.push(`cr2: native ${hex(native.cr2)}, emulator ${hex(emulated.cr2)}`);
  }
  for (let i = 0; i < 8; i++) {
    if (native.regs[i] >>> 0 !== emulated.regs[i] >>> 0) diffs.push(`${REGS[i]}: native ${hex(native.regs[i])}, emulator ${hex(emulated.regs[i])}`);
  }
  const done = completedInstructions(c, native.eip);
  const faulting = c.instructions[done];
  const partial = faulting && faulting.row.test === 'string' ? faulting : undefined;
  const mask = COMPARED_FLAGS & ~undefinedFlags(c.instructions, done, partial);
  if ((native.eflags ^ emulated.eflags) & mask) {
    diffs.push(`eflags: native ${hex(native.eflags)}, emulator ${hex(emulated.eflags)} (compared bits ${hex(mask, 4)}, differing ${hex((native.eflags ^ emulated.eflags) & mask, 4)})`);
  }
  const offsets = new Set([...native.changes.keys(), ...emulated.changes.keys()]);
  const memory: string[] = [];
  for (const off of [...offsets].sort((a, b) => a - b)) {
    const n = native.changes.get(off);
    const e = emulated.changes.get(off);
    if (n !== e) memory.push(`${hex(DATA + off)}: native ${n === undefined ? 'unchanged' : hex(n, 2)}, emulator ${e === undefined ? 'unchanged' : hex(e, 2)}`);
  }
  if (memory.length) diffs.push(`memory (${memory.length} bytes): ${memory.slice(0, 16).join('; ')}${memory.length > 16 ? '; ...' : ''}`);
  const ran = c.instructions.slice(0, done + (partial ? 1 : 0));
  // Every x87/MMX case (fpuControl set) compares the FPU state, even when no x87 row ran.
  if (c.fpuControl && native.fpu && emulated.fpu) diffs.push(...compareFpu(ran, native, emulated));
  return diffs;
}

function compareFpu(ran: GeneratedInstruction[], native: CpuResult, emulated: CpuResult): string[] {
  const n = native.fpu!;
  const e = emulated.fpu!;
  const diffs: string[] = [];
  if ((n.control ^ e.control) & 0x1f3f) diffs.push(`fpu control: native ${hex(n.control, 4)}, emulator ${hex(e.control, 4)}`);
  // The whole status word but B (a copy of ES): condition codes, TOP, stack fault, exception flags.
  if ((n.status ^ e.status) & 0x7fff) diffs.push(`fpu status: native ${hex(n.status, 4)}, emulator ${hex(e.status, 4)}`);
  const emptyN = [0, 1, 2, 3, 4, 5, 6, 7].map((p) => ((n.tag >> (2 * p)) & 3) === 3);
  const emptyE = [0, 1, 2, 3, 4, 5, 6, 7].map((p) => ((e.tag >> (2 * p)) & 3) === 3);
  if (emptyN.some((v, p) => v !== emptyE[p])) diffs.push(`fpu tag: native ${hex(n.tag, 4)}, emulator ${hex(e.tag, 4)}`);
  const loose = ran.some((i) => TRANSCENDENTAL.has(i.row.mnemonic));
  const ext = (f: FpuState, p: number) => `${hex(f.exponents[p], 4)}:${f.mantissas[p].toString(16).padStart(16, '0')}`;
  for (let p = 0; p < 8; p++) {
    if (emptyN[p]) continue;
    if (loose) {
      const a = n.values[p];
      const b = e.values[p];
      if (!(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= Math.abs(a) * 2 ** -50)) diffs.push(`R${p}: native ${a}, emulator ${b}`);
    } else if (n.mantissas[p] !== e.mantissas[p] || n.exponents[p] !== e.exponents[p]) {
      diffs.push(`R${p}/mm${p}: native ${ext(n, p)}, emulator ${ext(e, p)}`);
    }
  }
  return diffs;
}

/** The case's code, disassembled, one instruction per line, with `mark` flagged. */
export function listing(c: TestCase, mark = -1): string {
  return c.instructions.map((ins, k) => {
    const d = disassemble(Uint8Array.from(ins.bytes), 0, { bits: 32, address: CODE_PAGE + ins.offset });
    const bytes = ins.bytes.map((x) => hex(x, 2)).join(' ');
    return `${k === mark ? '>>' : '  '} ${String(k).padStart(3)} ${hex(CODE_PAGE + ins.offset)}  ${bytes.padEnd(33)} ${d.text}`;
  }).join('\n');
}

export function describeState(r: { regs: number[]; eflags: number }): string {
  return `${REGS.map((n, i) => `${n}=${hex(r.regs[i])}`).join(' ')} eflags=${hex(r.eflags)}`;
}

export function describeResult(r: CpuResult): string {
  const fault = `#${r.vector}${r.errorCode >= 0 ? `(${hex(r.errorCode, 4)})` : ''} at ${hex(r.eip)}${r.vector === 14 ? ` cr2=${hex(r.cr2)}` : ''}`;
  return `${describeState(r)} ${fault}, ${r.changes.size} data bytes changed${r.fpu ? `\n            ${describeFpu(r.fpu)}` : ''}`;
}

/** Status, tag word and the non-empty physical registers as sign/exponent:significand. */
export function describeFpu(f: FpuState): string {
  const regs = [0, 1, 2, 3, 4, 5, 6, 7]
    .filter((p) => ((f.tag >> (2 * p)) & 3) !== 3)
    .map((p) => `R${p}=${hex(f.exponents[p], 4)}:${f.mantissas[p].toString(16).padStart(16, '0')}`);
  return `fsw=${hex(f.status, 4)} ftw=${hex(f.tag, 4)} ${regs.join(' ')}`;
}
