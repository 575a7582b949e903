/**
 * Transcendental x87 instructions (FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X, FYL2XP1)
 * on random arguments, natively and in WebHVM, compared with a tolerance. They are not part of
 * the zero-difference run: a real x87 computes them in extended precision with its own argument
 * reduction (a 66-bit pi), WebHVM with the f64 Math functions (docs/cpu.md), so their last bits
 * differ by design. Each case stores the arguments, loads them, runs one instruction and stores
 * the result(s) as doubles; the doubles are compared.
 */
import type { Random } from './generator.ts';
import type { TestCase } from './generator.ts';
import { DATA, fillData } from './layout.ts';
import type { CpuResult } from './results.ts';

export interface Transcendental {
  name: string;
  /** Trigonometric: the host reduces the argument with its own 66-bit pi. */
  trig?: boolean;
  opcode: number; // the second byte after D9
  /** Arguments: [x] or [x, y] (y goes to ST(1)). */
  args: (rnd: Random) => number[];
  /** Results stored (ST(0), then ST(1) for FSINCOS and FPTAN). */
  results: 1 | 2;
}

/** A double with a random significand and an exponent in [lo, hi], either sign when `signed`. */
function randomDouble(rnd: Random, lo: number, hi: number, signed = true): number {
  const e = lo + rnd.below(hi - lo + 1);
  const v = (1 + rnd.u32() / 2 ** 32 + rnd.u32() / 2 ** 64) * 2 ** e;
  return signed && rnd.chance(0.5) ? -v : v;
}

export const TRANSCENDENTALS: Transcendental[] = [
  { name: 'FSIN', trig: true, opcode: 0xfe, args: (r) => [randomDouble(r, -30, 9)], results: 1 },
  { name: 'FCOS', trig: true, opcode: 0xff, args: (r) => [randomDouble(r, -30, 9)], results: 1 },
  { name: 'FSINCOS', trig: true, opcode: 0xfb, args: (r) => [randomDouble(r, -30, 9)], results: 2 },
  { name: 'FPTAN', trig: true, opcode: 0xf2, args: (r) => [randomDouble(r, -30, 9)], results: 2 },
  { name: 'FPATAN', opcode: 0xf3, args: (r) => [randomDouble(r, -20, 20), randomDouble(r, -20, 20)], results: 1 },
  { name: 'F2XM1', opcode: 0xf0, args: (r) => [randomDouble(r, -40, -1)], results: 1 },
  { name: 'FYL2X', opcode: 0xf1, args: (r) => [randomDouble(r, -100, 100, false), randomDouble(r, -10, 10)], results: 1 },
  { name: 'FYL2XP1', opcode: 0xf9, args: (r) => [randomDouble(r, -40, -3), randomDouble(r, -10, 10)], results: 1 },
];

const ARGS = DATA + 0x100; // x, y
const OUT = DATA + 0x200; // results

function le(v: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((v >>> (8 * i)) & 0xff);
  return out;
}

function doubleWords(x: number): [number, number] {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, x, true);
  return [v.getUint32(0, true), v.getUint32(4, true)];
}

/** One case: store the arguments, FLD y, FLD x, the instruction, FSTP the results, HLT. */
export function transcendentalCase(t: Transcendental, args: number[], seed: number): TestCase {
  const code: number[] = [];
  args.forEach((x, i) => {
    const [lo, hi] = doubleWords(x);
    code.push(0xc7, 0x05, ...le(ARGS + 8 * i, 4), ...le(lo, 4), 0xc7, 0x05, ...le(ARGS + 8 * i + 4, 4), ...le(hi, 4));
  });
  for (let i = args.length - 1; i >= 0; i--) code.push(0xdd, 0x05, ...le(ARGS + 8 * i, 4)); // FLD qword
  code.push(0xd9, t.opcode);
  for (let i = 0; i < t.results; i++) code.push(0xdd, 0x1d, ...le(OUT + 8 * i, 4)); // FSTP qword
  code.push(0xf4);
  return { index: 0, code: Uint8Array.from(code), instructions: [], regs: [0, 0, 0, 0, 0, 0, 0, 0], eflags: 0x202, seed, fpuControl: 0x027f };
}

/** The doubles a case stored, read from the bytes it changed over the pages' initial contents. */
export function storedResults(c: TestCase, r: CpuResult, count: number): number[] {
  const bytes = new Uint8Array(0x2000);
  fillData(bytes, c.seed);
  for (const [off, v] of r.changes) bytes[off] = v;
  const view = new DataView(bytes.buffer);
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(view.getFloat64(OUT - DATA + 8 * i, true));
  return out;
}

/** Error of `b` against `a` in units of a double's last place at `a`. */
export function ulpsApart(a: number, b: number): number {
  if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) return 0;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Infinity;
  const ulp = a === 0 ? 2 ** -1074 : 2 ** (Math.floor(Math.log2(Math.abs(a))) - 52);
  return Math.abs(a - b) / ulp;
}

/**
 * The documented tolerance: 8 units in the last place of a double, plus, for the trigonometric
 * instructions, 2^-60 * |x| for the difference between the host's reduction by a 66-bit pi and
 * the f64 Math functions' exact reduction (it matters only near a zero of the result).
 */
export function withinTolerance(t: Transcendental, x: number, expected: number, actual: number): boolean {
  if (ulpsApart(expected, actual) <= 8) return true;
  return t.trig === true && Math.abs(expected - actual) <= Math.abs(x) * 2 ** -60;
}

/** Run `perInstruction` random cases of every transcendental; returns the failures and the worst error in ulps. */
export function checkTranscendentals(
  rnd: Random, perInstruction: number,
  runNative: (cases: TestCase[]) => CpuResult[], runEmulated: (c: TestCase) => CpuResult,
): { failures: string[]; worst: Map<string, number>; compared: number } {
  const failures: string[] = [];
  const worst = new Map<string, number>();
  let compared = 0;
  for (const t of TRANSCENDENTALS) {
    const argList = Array.from({ length: perInstruction }, () => t.args(rnd));
    const cases = argList.map((a, i) => transcendentalCase(t, a, 1000 + i));
    const native = runNative(cases);
    cases.forEach((c, i) => {
      const emulated = runEmulated(c);
      if (native[i].vector !== emulated.vector) {
        failures.push(`${t.name}(${argList[i].join(', ')}): exception ${native[i].vector} natively, ${emulated.vector} emulated`);
        return;
      }
      const a = storedResults(c, native[i], t.results);
      const b = storedResults(c, emulated, t.results);
      for (let k = 0; k < t.results; k++) {
        compared++;
        worst.set(t.name, Math.max(worst.get(t.name) ?? 0, ulpsApart(a[k], b[k])));
        if (!withinTolerance(t, argList[i][0], a[k], b[k])) failures.push(`${t.name}(${argList[i].join(', ')}) result ${k}: native ${a[k]}, emulated ${b[k]}`);
      }
    });
  }
  return { failures, worst, compared };
}
