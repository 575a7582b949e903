/**
 * The generator's x87 model: which values it considers exact doubles, which arithmetic it lets
 * through, and how it follows the register stack (test/cpu/differential/fpu-model.ts).
 */
import { describe, expect, it } from 'vitest';
import { opcodeTable, opcodeRange, type OpcodeRow } from '../../../wasm/table/index.ts';
import { FpuModel, arithmetic, classify, loadedValue, remainder, roundToInteger, scale, type AbstractValue } from './fpu-model.ts';
import { DATA } from './layout.ts';

const ONE = 1n << 63n;
const num = (lo: number, hi: number, exact = true): AbstractValue => ({ zero: false, special: false, number: true, exact, lo, hi, lsb: hi - (exact ? 52 : 63) });

/** The x87 row for an escape byte and ModRM (register form when modrm >= 0xc0). */
function row(escape: number, modrm: number): OpcodeRow {
  const reg = (modrm >> 3) & 7;
  const isReg = modrm >= 0xc0;
  const r = opcodeTable.find((x) => opcodeRange(x)[0] === escape && x.test === 'x87' && (x.ext === undefined || x.ext === reg) &&
    x.mod === (isReg ? 'reg' : 'mem') && (x.rm === undefined || x.rm === (modrm & 7)));
  if (!r) throw new Error(`no row ${escape.toString(16)} ${modrm.toString(16)}`);
  return r;
}

describe('x87 values', () => {
  it('classifies 80-bit encodings: exact doubles, wide significands, denormals and invalid encodings', () => {
    expect(classify(ONE, 0x3fff)).toMatchObject({ number: true, exact: true, lo: 0, hi: 0 });
    expect(classify(ONE | 1n, 0x3fff).exact).toBe(false); // 64 significant bits
    expect(classify(ONE | (1n << 11n), 0x3fff).exact).toBe(true); // 53 bits
    expect(classify(ONE, 0x3fff - 1074).exact).toBe(true); // 2^-1074, the smallest double denormal
    expect(classify(ONE, 0x3fff - 1075).exact).toBe(false);
    expect(classify(ONE, 0x3fff + 1024).exact).toBe(false); // beyond double range
    expect(classify(12345n, 0)).toMatchObject({ number: true, exact: false }); // extended denormal
    expect(classify(1n, 0x3fff).special).toBe(true); // unnormal
    expect(classify(5n, 0x7fff).special).toBe(true); // pseudo-NaN
    expect(classify(0n, 0x8000).zero).toBe(true);
  });

  it('reads memory formats, and refuses BCD with invalid digits (undefined on the FPU)', () => {
    const bcd = new Uint8Array(10);
    bcd[0] = 0x42;
    expect(loadedValue('bcd', bcd)).toMatchObject({ number: true, lo: 5, hi: 5 });
    bcd[3] = 0x0a;
    expect(loadedValue('bcd', bcd)).toBeUndefined();
    const i64 = new Uint8Array(8);
    new DataView(i64.buffer).setBigInt64(0, (1n << 60n) + 1n, true);
    expect(loadedValue('i64', i64)?.exact).toBe(false);
    const m64 = new Uint8Array(8);
    new DataView(m64.buffer).setFloat64(0, -0.75, true);
    expect(loadedValue('m64', m64)).toMatchObject({ number: true, exact: true, lo: -1, hi: -1 });
  });
});

describe('x87 arithmetic the model lets through', () => {
  it('refuses inexact operands, overflow and results that would round below the double range', () => {
    expect(arithmetic(0, num(0, 0), num(3, 3))).toMatchObject({ number: true, hi: 4 });
    expect(arithmetic(0, num(0, 0), num(3, 3))?.zero).toBe(false); // cannot cancel
    expect(arithmetic(4, num(0, 2), num(1, 1))?.zero).toBe(true);
    expect(arithmetic(0, num(0, 0, false), num(0, 0))).toBeUndefined();
    expect(arithmetic(1, num(600, 600), num(500, 500))).toBeUndefined();
    expect(arithmetic(1, num(-600, -600), num(-500, -500))).toBeUndefined();
    expect(arithmetic(6, num(10, 10), num(-1020, -1020))).toBeUndefined();
    expect(arithmetic(7, num(10, 10), num(-1020, -1020))).toBeUndefined(); // divr: b / a, too small
    expect(arithmetic(7, num(2, 2), num(10, 10))).toMatchObject({ lo: 7, hi: 8 });
    expect(arithmetic(6, num(0, 0), { ...num(0, 0), zero: true })?.special).toBe(true); // x / 0
  });

  it('FPREM only when it completes in one step, FSCALE only within range, FRNDINT of wide values', () => {
    expect(remainder(num(70, 70), num(0, 0))).toBeUndefined();
    expect(remainder(num(60, 60), num(0, 0))).toMatchObject({ number: true, zero: true, hi: 0 });
    expect(scale(num(0, 0), num(3, 3))).toMatchObject({ lo: -16, hi: 16 });
    expect(scale(num(0, 0), num(11, 11))).toBeUndefined();
    expect(roundToInteger(num(20, 20, false)).exact).toBe(true);
    expect(roundToInteger(num(60, 60, false)).exact).toBe(false);
  });

  it('follows the stack: a wide constant cannot be added, 1.0 can; pops, EMMS and MMX writes', () => {
    const m = new FpuModel(1);
    const fldpi = row(0xd9, 0xeb);
    const fld1 = row(0xd9, 0xe8);
    const faddSt0St0 = row(0xd8, 0xc0);
    const ops = { reg: 0, rm: 0 };
    expect(m.step(fldpi, ops)).toBe(true);
    expect(m.step(faddSt0St0, ops)).toBe(false); // pi has a 64-bit significand
    expect(m.top).toBe(7);
    expect(m.step(row(0xdd, 0xd8), ops)).toBe(true); // fstp st0: pops
    expect(m.empty.every((e) => e)).toBe(true);
    expect(m.step(fld1, ops)).toBe(true);
    expect(m.step(faddSt0St0, ops)).toBe(true);
    expect(m.values[7]).toMatchObject({ number: true, exact: true, hi: 1 });
    const paddb = opcodeTable.find((r) => r.mnemonic === 'PADDB' && r.ext === 7 && r.mod === 'reg')!;
    expect(m.step(paddb, { reg: 7, rm: 0 })).toBe(true);
    expect(m.top).toBe(0);
    expect(m.values[7].special).toBe(true);
    expect(m.empty.some((e) => e)).toBe(false);
    const emms = opcodeTable.find((r) => r.mnemonic === 'EMMS')!;
    expect(m.step(emms, ops)).toBe(true);
    expect(m.empty.every((e) => e)).toBe(true);
  });

  it('knows memory it stored and forgets what the sequence overwrote', () => {
    const m = new FpuModel(7);
    const fldM64 = row(0xdd, 0x00);
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, 3.5, true);
    expect(m.step(fldM64, { reg: 0, rm: 0, ea: DATA + 16 }, { addr: DATA + 16, bytes })).toBe(true);
    expect(m.values[7]).toMatchObject({ number: true, exact: true, lo: 1, hi: 1 });
    expect(m.step(row(0xdd, 0x18), { reg: 3, rm: 0, ea: DATA + 16 })).toBe(true); // fstp qword: unknown now
    expect(m.data.read(DATA + 16, 8)).toBeUndefined();
    expect(m.step(fldM64, { reg: 0, rm: 0, ea: DATA + 16 })).toBe(true);
    expect(m.values[7]).toMatchObject({ special: true, number: true, lo: -1074, hi: 1023 });
  });
});

describe('x87 control word and state images in the model', () => {
  /** A row by its table entry (the control and state rows have no test class). */
  const stateRow = (opcode: number, ext: number) => opcodeTable.find((r) => opcodeRange(r)[0] === opcode && r.ext === ext && r.mod === 'mem')!;
  const fldcw = stateRow(0xd9, 5);
  const fldM64 = row(0xdd, 0x00);
  const faddSt0St0 = row(0xd8, 0xc0);
  const m64 = (x: number) => {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, x, true);
    return bytes;
  };
  const cw = (value: number) => Uint8Array.of(value & 0xff, value >> 8);

  it('refuses sums needing more than 53 bits under 64-bit precision, and tiny rounded sums under 24-bit', () => {
    const full = num(0, 0); // lsb -52: a 53-bit significand
    const short: AbstractValue = { ...num(0, 0), lsb: -10 };
    expect(arithmetic(0, full, full, 3)).toBeUndefined(); // 1.x + 1.y may need 54 bits
    expect(arithmetic(0, short, short, 3)).toMatchObject({ number: true, lsb: -10 });
    expect(arithmetic(1, short, short, 3)).toMatchObject({ number: true, lsb: -20 });
    expect(arithmetic(6, short, short, 3)).toBeUndefined(); // a quotient may need any number of bits
    const tiny = num(-1030, -1030);
    expect(arithmetic(0, tiny, tiny, 2)).toBeDefined(); // exact in a double
    expect(arithmetic(0, tiny, tiny, 0)).toBeUndefined(); // rounds to 24 bits below 2^-1022
    expect(arithmetic(1, full, full, 0)?.lsb).toBe(-23); // a 24-bit result
  });

  it('follows FLDCW: an unknown control word or reserved precision control stops arithmetic', () => {
    const m = new FpuModel(3);
    expect(m.step(fldM64, { reg: 0, rm: 0, ea: DATA + 8 }, { addr: DATA + 8, bytes: m64(1.5) })).toBe(true);
    expect(m.step(fldcw, { reg: 5, rm: 0, ea: DATA }, { addr: DATA, bytes: cw(0x017f) })).toBe(true);
    expect(m.control).toBe(0x017f);
    expect(m.step(faddSt0St0, { reg: 0, rm: 0 })).toBe(false); // precision control 01
    m.data.write(DATA, 2); // unknown bytes
    expect(m.step(fldcw, { reg: 5, rm: 0, ea: DATA })).toBe(true);
    expect(m.control).toBeUndefined();
    expect(m.step(faddSt0St0, { reg: 0, rm: 0 })).toBe(false);
  });

  it('forgets the stack after an instruction an unmasked IE may have stopped, and refuses risky compares', () => {
    const m = new FpuModel(4, 0x037e); // IE unmasked
    expect(m.step(row(0xd8, 0xd1), { reg: 2, rm: 1 })).toBe(false); // FCOM with empty registers
    expect(m.step(fldM64, { reg: 0, rm: 0, ea: DATA + 8 }, { addr: DATA + 8, bytes: m64(2) })).toBe(true);
    expect(m.stackKnown).toBe(false);
    expect(m.step(faddSt0St0, { reg: 0, rm: 0 })).toBe(false);
  });

  it('restores the state an FNSAVE saved when FRSTOR reads the same image back', () => {
    const m = new FpuModel(5);
    const fnsave = stateRow(0xdd, 6);
    const frstor = stateRow(0xdd, 4);
    expect(m.step(fldM64, { reg: 0, rm: 0, ea: DATA + 200 }, { addr: DATA + 200, bytes: m64(3) })).toBe(true);
    expect(m.step(fnsave, { reg: 6, rm: 0, ea: DATA, o32: true })).toBe(true);
    expect(m.control).toBe(0x37f);
    expect(m.empty.every((e) => e)).toBe(true);
    expect(m.step(frstor, { reg: 4, rm: 0, ea: DATA, o32: true })).toBe(true);
    expect(m.control).toBe(0x027f);
    expect(m.top).toBe(7);
    expect(m.values[7]).toMatchObject({ number: true, exact: true, lo: 1, hi: 1 });
    expect(m.step(faddSt0St0, { reg: 0, rm: 0 })).toBe(true);
    // An image overwritten after the save is not the snapshot any more.
    expect(m.step(fnsave, { reg: 6, rm: 0, ea: DATA, o32: true })).toBe(true);
    m.data.write(DATA + 30, 4);
    expect(m.step(frstor, { reg: 4, rm: 0, ea: DATA, o32: true })).toBe(true);
    expect(m.values[7].exact).toBe(false);
  });
});
