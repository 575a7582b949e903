/**
 * Differential test of the CPU against this machine's processor: seeded random sequences from
 * the opcode table run natively (32-bit process built with gcc -m32) and in the WebAssembly
 * core, with registers, defined flags, exceptions and memory compared (test/cpu/differential/).
 * Longer runs: npm run test:differential -- --seed 7 --count 20000000
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compareResults, undefinedFlags } from './differential/compare.ts';
import { EmulatorRunner } from './differential/emulator.ts';
import { Random, generatableRows, generateCases, type GeneratedInstruction, type TestCase } from './differential/generator.ts';
import { checkTranscendentals } from './differential/transcendental.ts';
import type { OpcodeRow } from '../../wasm/table/index.ts';
import { CODE_PAGE, DATA, RO_PAGE } from './differential/layout.ts';
import { runNative } from './differential/native.ts';
import { explain, runDifferential } from './differential/run.ts';
import { modelStats, resetModelStats } from './differential/fpu-model.ts';

function nativeAvailable(): boolean {
  if (process.arch !== 'x64' && process.arch !== 'ia32') return false;
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const native = nativeAvailable();

/** A hand-written case (code bytes, then HLT) for the runner tests. */
function handCase(bytes: number[], regs: number[], eflags = 0x202, fpuControl = 0): TestCase {
  const code = Uint8Array.from([...bytes, 0xf4]);
  return { index: 0, code, instructions: [], regs, eflags, seed: 12345, fpuControl };
}

describe('differential test machinery', () => {
  it('generates every row that has a test class, with lengths the disassembler agrees on', async () => {
    const { templates } = generatableRows();
    // Integer, string and BCD rows must all be generatable; x87/MMX rows whose operand
    // notation the generator does not know yet are listed by the command-line run instead.
    expect(generatableRows(['int', 'string', 'bcd']).skipped).toEqual([]);
    const { disassemble } = await import('../../src/cpu/disassembler.ts');
    const seen = new Set<object>();
    // All classes together, then x87/MMX alone (an MMX instruction is spread over 16 rows).
    for (const c of [...generateCases(5, 1000, { length: 50 }), ...generateCases(6, 1000, { length: 50, classes: ['x87', 'mmx'] })]) {
      for (const ins of c.instructions) {
        seen.add(ins.row);
        const d = disassemble(Uint8Array.from(ins.bytes), 0);
        expect(d.length, d.text).toBe(ins.bytes.length);
        expect(d.row).toBe(ins.row);
      }
    }
    const missing = templates.filter((t) => !seen.has(t.row)).map((t) => t.row.mnemonic);
    expect(missing).toEqual([]);
  });

  it('generates the x87 control and state instructions in both operand sizes', () => {
    const counts = new Map<string, number>();
    for (const c of generateCases(9, 1500, { length: 50, classes: ['x87'] })) {
      for (const ins of c.instructions) {
        const key = `${ins.row.mnemonic}${ins.bytes[0] === 0x66 ? '/16' : ''}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    for (const m of ['FLDCW', 'FNSTENV', 'FNSTENV/16', 'FLDENV', 'FLDENV/16', 'FNSAVE', 'FNSAVE/16', 'FRSTOR', 'FRSTOR/16', 'FXSAVE', 'FXRSTOR', 'FNINIT']) {
      expect(counts.get(m) ?? 0, m).toBeGreaterThan(10);
    }
  });

  it('tracks undefined flags: a later defined write clears them, an uncertain one does not', () => {
    const row: OpcodeRow = { opcode: 0, mnemonic: 'X', exec: '' };
    const mul: GeneratedInstruction = { offset: 0, bytes: [], row, flags: { written: 0x8d5, undef: 0xd4, certain: true } };
    const add: GeneratedInstruction = { offset: 0, bytes: [], row, flags: { written: 0x8d5, undef: 0, certain: true } };
    const shlCl: GeneratedInstruction = { offset: 0, bytes: [], row, flags: { written: 0x8d5, undef: 0x810, certain: false } };
    expect(undefinedFlags([mul], 1)).toBe(0xd4);
    expect(undefinedFlags([mul, add], 2)).toBe(0);
    expect(undefinedFlags([add, mul], 2)).toBe(0xd4);
    expect(undefinedFlags([mul, shlCl], 2)).toBe(0xd4 | 0x810);
    expect(undefinedFlags([mul, add], 1)).toBe(0xd4); // the second instruction faulted
  });

  it('reports register, flag, exception and memory differences and ignores undefined flags', () => {
    const [c] = generateCases(3, 1, { length: 10 });
    const base = { regs: [1, 2, 3, 4, 5, 6, 7, 8], eflags: 0x202, eip: CODE_PAGE + c.code.length - 1, vector: 13, errorCode: 0, cr2: 0, changes: new Map([[4, 9]]) };
    const copy = () => ({ ...base, regs: [...base.regs], changes: new Map(base.changes) });
    expect(compareResults(c, copy(), copy())).toEqual([]);
    expect(compareResults(c, copy(), { ...copy(), regs: [1, 2, 3, 4, 5, 6, 7, 9] })).toEqual([expect.stringMatching(/^edi/)]);
    expect(compareResults(c, copy(), { ...copy(), vector: 14 })).toEqual([expect.stringMatching(/vector/)]);
    expect(compareResults(c, copy(), { ...copy(), changes: new Map([[4, 8]]) })).toEqual([expect.stringMatching(/^memory/)]);
    expect(compareResults(c, copy(), { ...copy(), eflags: 0x602 })).toEqual([expect.stringMatching(/^eflags/)]);
    const undef = undefinedFlags(c.instructions, c.instructions.length);
    if (undef) expect(compareResults(c, copy(), { ...copy(), eflags: 0x202 | undef })).toEqual([]);
  });
});

describe.skipIf(!native)('differential test against the host CPU', () => {
  it('runs hand-written cases to the same exceptions on both sides', () => {
    const cases = [
      handCase([0x01, 0xd8], [1, 2, 3, 4, 5, 6, 7, 8]), // add eax, ebx; then HLT: #GP(0)
      handCase([0xf7, 0xf1], [1, 0, 5, 0, 0, 0, 0, 0]), // div ecx with ecx = 0: #DE
      handCase([0x89, 0x03], [0, 0, 0, RO_PAGE + 8, 0, 0, 0, 0]), // write to the read-only page: #PF(7)
      handCase([0x8b, 0x03], [0, 0, 0, DATA - 2, 0, 0, 0, 0]), // read across into the guard page: #PF(4)
      handCase([0xf0, 0x01, 0xc0], [0, 0, 0, 0, 0, 0, 0, 0]), // lock on a register form: #UD
      handCase([0x2e, 0x89, 0x03], [0, 0, 0, DATA, 0, 0, 0, 0]), // write through CS: #GP(0)
      handCase([0xf3, 0xab], [0x11223344, 3000, 0, 0, 0, 0, 0, DATA + 0x10]), // rep stosd into the read-only page
    ];
    const expected = [[13, 0], [0, -1], [14, 7], [14, 4], [6, -1], [13, 0], [14, 7]];
    const nat = runNative(cases);
    const emulator = new EmulatorRunner();
    cases.forEach((c, i) => {
      expect([nat[i].vector, nat[i].errorCode], `case ${i}`).toEqual(expected[i]);
      const emu = emulator.run(c);
      expect(compareResults(c, nat[i], emu), `case ${i}`).toEqual([]);
    });
    // The REP STOSD stopped at the page boundary with ECX and EDI showing the progress.
    expect(nat[6].cr2).toBe(RO_PAGE);
    expect(nat[6].regs[7]).toBe(RO_PAGE);
    expect(nat[6].regs[1]).toBe(3000 - (RO_PAGE - DATA - 0x10) / 4);
  });

  it('runs hand-written x87/MMX cases the random run once found differing to the same state', () => {
    const regs = [0, 0, 0, DATA, 0, 0, 0, 0];
    const x87 = (bytes: number[]) => handCase(bytes, regs, 0x202, 0x027f);
    const cases = [
      x87([0xd9, 0xed, 0xdb, 0x1b]), // fldln2; fistp dword [ebx]: 0.693 rounds to 1
      x87([0xd9, 0xe8, 0xd9, 0xe8, 0x0f, 0x77]), // fld1; fld1; emms: TOP = 0, all empty
      x87([0xc7, 0x03, 0x01, 0, 0, 0, 0xd9, 0xee, 0xd8, 0x3b]), // a denormal m32 / +0: ZE without DE
      x87([0xc7, 0x03, 0, 0, 0x80, 0x7f, 0xd9, 0xe8, 0xd8, 0x33]), // 1 / +infinity: +0 exactly, no flags
      x87([0xd9, 0xe8, 0xdd, 0xc1]), // fld1; ffree st1: C1 cleared
    ];
    const nat = runNative(cases);
    // What the host's FPU does, as the emulator must.
    expect(nat[0].changes.get(0)).toBe(1);
    expect(nat[1].fpu!.status & 0x3800).toBe(0);
    expect(nat[1].fpu!.tag).toBe(0xffff);
    expect(nat[2].fpu!.status & 0x3f).toBe(0x04);
    expect(nat[3].fpu!.status & 0x3f).toBe(0);
    expect(nat[3].fpu!.mantissas[7]).toBe(0n);
    const emulator = new EmulatorRunner();
    cases.forEach((c, i) => expect(compareResults(c, nat[i], emulator.run(c)), `case ${i}`).toEqual([]));
  });

  // Transcendentals are outside the zero-difference run (their last bits differ by design:
  // f64 Math functions against the x87's extended precision); they are compared here on random
  // arguments within the tolerance docs/cpu.md states.
  it('computes FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X and FYL2XP1 within 8 ulps of a double (seeded)', () => {
    const emulator = new EmulatorRunner();
    const { failures, worst, compared } = checkTranscendentals(new Random(2718), 400, runNative, (c) => emulator.run(c));
    expect(failures.slice(0, 10)).toEqual([]);
    expect(compared).toBe(400 * 10);
    expect(worst.size).toBe(8);
  });

  it('finds and explains a difference (the emulator given another initial EAX)', () => {
    const [c] = generateCases(77, 1, { length: 20 });
    const emulator = new EmulatorRunner();
    const wrong = { ...c, regs: [(c.regs[0] ^ 0x100) >>> 0, ...c.regs.slice(1)] };
    const original = emulator.run.bind(emulator);
    emulator.run = (x: TestCase, budget?: number) => original(x === c || x.seed === c.seed ? { ...x, regs: wrong.regs } : x, budget);
    const diffs = compareResults(c, runNative([c])[0], emulator.run(c));
    expect(diffs.length).toBeGreaterThan(0);
    const report = explain('planted', c, emulator);
    expect(report).toMatch(/first difference at instruction \d+/);
    expect(report).toMatch(/^>> /m);
    expect(report).toMatch(/native: {3}eax=/);
    expect(report).toMatch(/emulator: eax=/);
  });

  // The integer, string and BCD instructions: zero differences over a seeded million.
  it('agrees with the host CPU on 1,000,000 executed integer, string and BCD instructions (seeded)', () => {
    const summary = runDifferential({ seed: 20240, instructions: 1_200_000, length: 50, maxFailures: 5, classes: ['int', 'string', 'bcd'] });
    // Show the first differences in full: disassembly, the differing instruction, both states.
    expect(summary.failures.join('\n\n')).toBe('');
    expect(summary.executed).toBeGreaterThanOrEqual(1_000_000);
    // Most cases run to the final HLT; the others end in the exceptions the generator aims for.
    expect(summary.endings.get(13)! / summary.cases).toBeGreaterThan(0.6);
    for (const v of [0, 6, 14]) expect(summary.endings.get(v) ?? 0).toBeGreaterThan(0);
  }, 600_000);

  // x87 and MMX: both sides start from the same control word (any rounding control, precision
  // control 24, 53 or 64 bits, sometimes exceptions unmasked), and sequences change it with
  // FLDCW, FLDENV, FRSTOR and FXRSTOR, save state with FNSTENV, FNSAVE and FXSAVE (16- and 32-bit
  // layouts), and raise #MF with unmasked exceptions. x87 arithmetic is generated only over
  // values where WebHVM's f64 precision model is exact (fpu-model.ts; docs/cpu.md says what is
  // excluded and why); all 80 bits of every register, the status word, the control word, the
  // empty tags and the saved images (but their host-dependent pointer fields) are compared.
  it('agrees with the host CPU on 1,000,000 executed x87 and MMX instructions (seeded)', () => {
    resetModelStats();
    const summary = runDifferential({ seed: 8087, instructions: 1_400_000, length: 50, maxFailures: 5, classes: ['x87', 'mmx'] });
    expect(summary.failures.join('\n\n')).toBe('');
    expect(summary.executed).toBeGreaterThanOrEqual(1_000_000);
    // The restriction leaves real arithmetic to compare: operands that are certainly finite,
    // under every precision control and rounding mode.
    expect(modelStats.finiteArithmetic).toBeGreaterThan(8_000);
    for (const pc of [0, 2, 3]) expect(modelStats.byPrecision[pc], `precision control ${pc}`).toBeGreaterThan(500);
    for (const rc of [0, 1, 2, 3]) expect(modelStats.byRounding[rc], `rounding control ${rc}`).toBeGreaterThan(500);
    expect(summary.endings.get(13)! / summary.cases).toBeGreaterThan(0.5);
    // Unmasked exceptions end many sequences in #MF; faults and #UD end others.
    expect(summary.endings.get(16) ?? 0).toBeGreaterThan(1000);
    for (const v of [6, 14]) expect(summary.endings.get(v) ?? 0).toBeGreaterThan(0);
  }, 600_000);
});
