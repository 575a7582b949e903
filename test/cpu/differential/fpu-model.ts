/**
 * What the generator knows about the x87 registers and the test pages while it builds a sequence,
 * so that it only emits x87 arithmetic where WebHVM's documented precision model is exact
 * (docs/cpu.md, "Where results differ from 80-bit extended precision").
 *
 * The FPU runs with control word 0x027F on both sides (all exceptions masked, round to nearest,
 * precision control 53 bits). WebHVM computes FADD/FSUB/FMUL/FDIV/FSQRT/FSCALE/FPREM/FPREM1 in
 * f64; the host computes them on the 80-bit values and rounds to 53 bits with the 15-bit
 * exponent. The two agree bit for bit, flags included, when
 *  - every finite operand is exactly a double (at most 53 significant bits, exponent within the
 *    double range including its denormals): `exact` below;
 *  - the result cannot leave the double range: no overflow beyond 2^1023, and no result below
 *    2^-1022 that would be rounded (a sum of doubles that small is exact, so sums are exempt);
 *  - FPREM/FPREM1 finish in one step (exponent difference below 64: the host reduces by at most
 *    63 per step, WebHVM always completes).
 * Each register is tracked abstractly (may it be zero, a special value, a finite number, and
 * the range of that number's binary exponent); an arithmetic instruction whose operands or result
 * could break these conditions is not generated (the generator picks another). Everything else
 * (loads and stores of every format, compares, FXAM, FRNDINT, FXTRACT, stack moves, NaN and
 * unsupported-encoding handling, MMX) is exact in WebHVM and generated over any values,
 * including operands with 64-bit significands and extended denormals.
 *
 * The memory the x87 loads read is known: the test pages start from fillData(seed), and the
 * generator may first store a chosen value at the operand's address with MOV m32, imm32 (and
 * MOV m16, imm16), so that loads see moderate numbers, specials and odd encodings as well as
 * the raw fill pattern. Bytes written by a sequence's own stores become unknown.
 */
import type { OpcodeRow } from '../../../wasm/table/index.ts';
import type { Random } from './generator.ts';
import { DATA, DATA_SIZE, GUARD_HI, fillData } from './layout.ts';

/** What an x87 register may hold. */
export interface AbstractValue {
  /** May be ±0. */
  zero: boolean;
  /** May be a NaN, an infinity or an unsupported encoding (unnormal, pseudo-NaN/infinity). */
  special: boolean;
  /** May be a finite non-zero number (normal, or denormal extended). */
  number: boolean;
  /** Every finite non-zero value it may hold is exactly a double. */
  exact: boolean;
  /** Bounds of floor(log2 |x|) of those numbers. */
  lo: number;
  hi: number;
  /** Lower bound of the exponent of their lowest set bit (a number is a multiple of 2^lsb). */
  lsb: number;
}

const ZERO: AbstractValue = { zero: true, special: false, number: false, exact: true, lo: 0, hi: 0, lsb: 0 };
const SPECIAL: AbstractValue = { zero: false, special: true, number: false, exact: true, lo: 0, hi: 0, lsb: 0 };
const ANYTHING: AbstractValue = { zero: true, special: true, number: true, exact: false, lo: -16446, hi: 16383, lsb: -16446 };

function numberIn(lo: number, hi: number, exact: boolean, lsb = hi - 63): AbstractValue {
  return { zero: false, special: false, number: true, exact, lo, hi, lsb };
}

function join(a: AbstractValue, b: AbstractValue): AbstractValue {
  if (!a.number) return { ...b, zero: a.zero || b.zero, special: a.special || b.special };
  if (!b.number) return { ...a, zero: a.zero || b.zero, special: a.special || b.special };
  return {
    zero: a.zero || b.zero, special: a.special || b.special, number: true, exact: a.exact && b.exact,
    lo: Math.min(a.lo, b.lo), hi: Math.max(a.hi, b.hi), lsb: Math.min(a.lsb, b.lsb),
  };
}

/** The abstract value of one exact 80-bit value (64-bit significand, sign/exponent). */
export function classify(mant: bigint, se: number): AbstractValue {
  const e = se & 0x7fff;
  if (e === 0x7fff) return SPECIAL;
  if (e !== 0 && mant >> 63n === 0n) return SPECIAL; // unnormal: an invalid operand
  if (mant === 0n) return ZERO;
  const top = 63 - (mant.toString(2).length - 1); // leading zeros (pseudo-)denormals have
  const x = (e === 0 ? 1 : e) - 16383 - top; // floor(log2 |x|)
  let low = 0;
  while (((mant >> BigInt(low)) & 1n) === 0n) low++;
  const lsb = (e === 0 ? 1 : e) - 16383 - 63 + low; // exponent of the lowest set bit
  const bits = x - lsb + 1;
  const exact = x <= 1023 && x >= -1074 && lsb >= -1074 && bits <= 53;
  return numberIn(x, x, exact, lsb);
}

// ---- Memory formats ----

export type FpuFormat = 'm32' | 'm64' | 'm80' | 'i16' | 'i32' | 'i64' | 'bcd';
const FORMATS: FpuFormat[] = ['m32', 'm64', 'i32', 'i16', 'm80', 'i64', 'bcd']; // wasm/fpu-memory.ts FMT_*
const FORMAT_BYTES: Record<FpuFormat, number> = { m32: 4, m64: 8, m80: 10, i16: 2, i32: 4, i64: 8, bcd: 10 };

function u64(b: Uint8Array, at = 0): bigint {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[at + i]);
  return v;
}

/** The abstract value a load of `bytes` in `format` pushes, or undefined when the result is undefined on the FPU. */
export function loadedValue(format: FpuFormat, bytes: Uint8Array): AbstractValue | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const integer = (v: bigint) => {
    if (v === 0n) return ZERO;
    const mag = v < 0n ? -v : v;
    const lz = 64 - mag.toString(2).length;
    return classify(mag << BigInt(lz), 16383 + 63 - lz);
  };
  switch (format) {
    case 'm32': {
      const b = view.getUint32(0, true);
      if (((b >>> 23) & 0xff) === 0xff) return SPECIAL;
      const d = new DataView(new ArrayBuffer(8));
      d.setFloat64(0, view.getFloat32(0, true), true); // exact
      return classify(...doubleToExtended(d.getBigUint64(0, true)));
    }
    case 'm64': return classify(...doubleToExtended(view.getBigUint64(0, true)));
    case 'm80': return classify(u64(bytes), view.getUint16(8, true));
    case 'i16': return integer(BigInt(view.getInt16(0, true)));
    case 'i32': return integer(BigInt(view.getInt32(0, true)));
    case 'i64': return integer(view.getBigInt64(0, true));
    case 'bcd': {
      let v = 0n;
      for (let i = 8; i >= 0; i--) {
        const hi = bytes[i] >> 4;
        const lo = bytes[i] & 15;
        if (hi > 9 || lo > 9) return undefined; // invalid digits: the result is undefined (SDM, FBLD)
        v = v * 100n + BigInt(hi * 10 + lo);
      }
      return integer(v);
    }
  }
}

/** A load whose bytes are not known: every value the format can hold. */
function unknownLoad(format: FpuFormat): AbstractValue | undefined {
  switch (format) {
    case 'm32': return { zero: true, special: true, number: true, exact: true, lo: -149, hi: 127, lsb: -149 };
    case 'm64': return { zero: true, special: true, number: true, exact: true, lo: -1074, hi: 1023, lsb: -1074 };
    case 'i16': return { zero: true, special: false, number: true, exact: true, lo: 0, hi: 15, lsb: 0 };
    case 'i32': return { zero: true, special: false, number: true, exact: true, lo: 0, hi: 31, lsb: 0 };
    case 'i64': return { zero: true, special: false, number: true, exact: false, lo: 0, hi: 63, lsb: 0 };
    case 'm80': return ANYTHING;
    case 'bcd': return undefined;
  }
}

// ---- The arithmetic the precision model covers ----

const DOUBLE_MIN_EXP = -1022;
const SAFE_MAX_EXP = 1022;

/**
 * Precision control (control word bits 8-9) as the model treats it: 0 rounds to 24 bits and 2 to
 * 53 bits (WebHVM exact for both, any rounding mode); 3 (64 bits) is exact in WebHVM only where
 * the result needs no rounding at 53 bits, so arithmetic is let through only when its exact
 * result certainly fits in 53 bits; 1 is reserved and never generated.
 */
export type Precision = 0 | 2 | 3;

/** Significand width results are rounded to (64: only exact results are accepted). */
function width(pc: Precision): number {
  return pc === 0 ? 24 : pc === 2 ? 53 : 64;
}

/** The lowest-set-bit bound of a result of magnitude >= 2^lo rounded to the precision. */
function roundedLsb(pc: Precision, exactLsb: number, lo: number): number {
  return pc === 3 ? exactLsb : Math.max(exactLsb, Math.max(lo, -1074) - (width(pc) - 1), -1074);
}

/** a op b for op 0 add, 1 mul, 4 sub, 5 subr, 6 div, 7 divr (fpu-arith.ts OP_*), or undefined when not exact. */
export function arithmetic(op: number, a0: AbstractValue, b0: AbstractValue, pc: Precision = 2): AbstractValue | undefined {
  const [a, b] = op === 5 || op === 7 ? [b0, a0] : [a0, b0];
  if ((a.number && !a.exact) || (b.number && !b.exact)) return undefined;
  const r: AbstractValue = { zero: false, special: a.special || b.special, number: false, exact: true, lo: Infinity, hi: -Infinity, lsb: Infinity };
  // A number operand passed through unchanged (x + 0, x - 0): still rounded to the precision.
  const copy = (v: AbstractValue) => range(v.lo, v.hi, roundedLsb(pc, v.lsb, v.lo), pc !== 3 && v.hi - v.lsb + 1 > width(pc));
  let roundedTiny = false;
  function range(lo: number, hi: number, lsb: number, mayRound = true) {
    r.number = true;
    r.lo = Math.min(r.lo, Math.max(lo, -1074));
    r.hi = Math.max(r.hi, hi);
    r.lsb = Math.min(r.lsb, lsb);
    if (mayRound && lo < DOUBLE_MIN_EXP) roundedTiny = true;
  }
  if (op === 0 || op === 4 || op === 5) {
    if (a.zero && b.zero) r.zero = true;
    if (a.number && (b.zero || b.special)) copy(a);
    if (b.number && (a.zero || a.special)) copy(b);
    if (a.number && b.number) {
      const hi = Math.max(a.hi, b.hi) + 1;
      const minLsb = Math.min(a.lsb, b.lsb);
      if (hi > SAFE_MAX_EXP) return undefined;
      if (pc === 3 && hi - minLsb + 1 > 53) return undefined;
      // Exact cancellation needs equal magnitudes: possible only when the exponent ranges meet.
      if (a.lo <= b.hi && b.lo <= a.hi) r.zero = true;
      const lo = Math.max(Math.min(a.lo, b.lo) - 53, minLsb);
      // A sum of doubles is a multiple of the smaller lowest bit: below 2^-1022 it fits in 53
      // bits unrounded, so only a narrower precision can round there.
      range(lo, hi, roundedLsb(pc, minLsb, lo), pc === 0);
    }
  } else if (op === 1) {
    if ((a.zero && (b.zero || b.number)) || (b.zero && a.number)) r.zero = true;
    if (a.number && b.number) {
      const lo = a.lo + b.lo;
      const hi = a.hi + b.hi + 1;
      if (hi > SAFE_MAX_EXP || lo < DOUBLE_MIN_EXP) return undefined;
      if (pc === 3 && hi - (a.lsb + b.lsb) + 1 > 53) return undefined;
      range(lo, hi, roundedLsb(pc, a.lsb + b.lsb, lo));
    }
  } else {
    if (a.zero && (b.number || b.special)) r.zero = true;
    if (b.zero) r.special = true; // x/0: infinity (ZE) or the indefinite
    if (a.number && b.special) r.zero = true; // x/inf
    if (a.number && b.number) {
      const lo = a.lo - b.hi - 1;
      const hi = a.hi - b.lo;
      if (hi > SAFE_MAX_EXP || lo < DOUBLE_MIN_EXP || pc === 3) return undefined;
      range(lo, hi, roundedLsb(pc, -1074, lo));
    }
  }
  if (roundedTiny) return undefined;
  if (!r.number) r.lo = r.hi = r.lsb = 0;
  return r;
}

export function squareRoot(a: AbstractValue, pc: Precision = 2): AbstractValue | undefined {
  if (a.number && !a.exact) return undefined;
  if (!a.number) return { ...a, special: a.special };
  if (pc === 3) return undefined;
  // A negative number is an invalid operation (the indefinite).
  const lo = Math.floor(a.lo / 2);
  return { zero: a.zero, special: true, number: true, exact: true, lo, hi: Math.floor(a.hi / 2), lsb: roundedLsb(pc, -1074, lo) };
}

/** FSCALE: a * 2^trunc(b) (not subject to precision control). */
export function scale(a: AbstractValue, b: AbstractValue): AbstractValue | undefined {
  if ((a.number && !a.exact) || (b.number && !b.exact)) return undefined;
  const r: AbstractValue = { zero: a.zero || (a.number && b.special), special: a.special || b.special, number: false, exact: true, lo: 0, hi: 0, lsb: 0 };
  if (a.number) {
    const t = b.number ? 2 ** (b.hi + 1) : 0; // |trunc(b)| < 2^(hi + 1)
    const lo = a.lo - t;
    const hi = a.hi + t;
    if (hi > SAFE_MAX_EXP || lo < DOUBLE_MIN_EXP) return undefined;
    Object.assign(r, { number: true, lo, hi, lsb: Math.max(a.lsb - t, -1074) });
  }
  return r;
}

/** FPREM/FPREM1: the remainder of x / y, exact, when the reduction completes in one step. */
export function remainder(x: AbstractValue, y: AbstractValue): AbstractValue | undefined {
  if ((x.number && !x.exact) || (y.number && !y.exact)) return undefined;
  const r: AbstractValue = { zero: x.zero, special: x.special || y.special || y.zero, number: false, exact: true, lo: 0, hi: 0, lsb: 0 };
  if (x.number && y.special) Object.assign(r, { number: true, lo: x.lo, hi: x.hi, lsb: x.lsb }); // x rem inf = x
  if (x.number && y.number) {
    if (x.hi - y.lo > 62 || y.hi > 1019) return undefined;
    r.zero = true;
    const lsb = Math.min(x.lsb, y.lsb);
    const lo = Math.max(-1074, Math.min(x.lo, y.lo) - 53, lsb);
    const hi = Math.min(x.hi, y.hi);
    Object.assign(r, r.number ? { lo: Math.min(r.lo, lo), hi: Math.max(r.hi, hi), lsb: Math.min(r.lsb, lsb) } : { number: true, lo, hi, lsb });
  }
  return r;
}

/**
 * FRNDINT (exact on the 80-bit value): an integer, exactly a double when it has at most 53 bits.
 * Any rounding mode: a fraction below 1 may become 0 or ±1.
 */
export function roundToInteger(a: AbstractValue): AbstractValue {
  const r: AbstractValue = { zero: a.zero || (a.number && a.lo < 0), special: a.special, number: false, exact: true, lo: 0, hi: 0, lsb: 0 };
  if (a.number) {
    const hi = Math.max(a.hi + 1, 0);
    Object.assign(r, { number: true, lo: Math.max(0, a.lo), hi, exact: a.exact || hi <= 52, lsb: Math.max(0, a.lsb) });
  }
  return r;
}

/** FXTRACT: [exponent, significand]. */
export function extract(a: AbstractValue): [AbstractValue, AbstractValue] {
  const special = a.special || a.zero; // a zero gives -infinity (ZE)
  let exponent: AbstractValue = { zero: false, special, number: false, exact: true, lo: 0, hi: 0, lsb: 0 };
  if (a.number) {
    const m = Math.max(Math.abs(a.lo), Math.abs(a.hi), 1);
    exponent = { ...exponent, number: true, zero: a.lo <= 0 && a.hi >= 0, lo: 0, hi: Math.floor(Math.log2(m)) };
  }
  const significand: AbstractValue = { zero: a.zero, special: a.special, number: a.number, exact: a.exact, lo: 0, hi: 0, lsb: a.number ? a.lsb - a.hi : 0 };
  return [exponent, significand];
}

/** FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ (index = ModRM.rm). */
const CONSTANTS: AbstractValue[] = [
  numberIn(0, 0, true, 0), numberIn(1, 1, false), numberIn(0, 0, false), numberIn(1, 1, false),
  numberIn(-2, -2, false), numberIn(-1, -1, false), ZERO,
];

// ---- The data the x87 memory operands read ----

const SPAN = GUARD_HI - DATA;

/** The test pages' bytes as far as the generator knows them. */
export class DataKnowledge {
  readonly bytes = new Uint8Array(SPAN);
  readonly known = new Uint8Array(SPAN);
  /** When each byte was last written (a count of writes), so a saved state image can be recognised. */
  readonly stamps = new Uint32Array(SPAN);
  clock = 0;

  constructor(seed: number) {
    fillData(this.bytes, seed);
    this.known.fill(1);
  }

  /** The bytes at addr, or undefined if any of them is unknown or outside the pages. */
  read(addr: number, n: number): Uint8Array | undefined {
    const at = addr - DATA;
    if (at < 0 || at + n > SPAN) return undefined;
    for (let i = 0; i < n; i++) if (!this.known[at + i]) return undefined;
    return this.bytes.slice(at, at + n);
  }

  /** Record a write: known bytes, or unknown ones (undefined). */
  write(addr: number, n: number, bytes?: Uint8Array): void {
    this.clock++;
    for (let i = 0; i < n; i++) {
      const at = addr - DATA + i;
      if (at < 0 || at >= SPAN) continue;
      this.known[at] = bytes ? 1 : 0;
      this.stamps[at] = this.clock;
      if (bytes) this.bytes[at] = bytes[i];
    }
  }

  forget(): void {
    this.known.fill(0);
    this.stamps.fill(++this.clock);
  }

  /** Whether every byte of the range that is not known was last written no later than `stamp`. */
  unchangedSince(addr: number, n: number, stamp: number): boolean {
    const at = addr - DATA;
    if (at < 0 || at + n > SPAN) return false;
    for (let i = 0; i < n; i++) if (!this.known[at + i] && this.stamps[at + i] > stamp) return false;
    return true;
  }
}

// ---- Values the generator stores before a load ----

function randomBits(rnd: Random, n: number): bigint {
  let v = 0n;
  for (let i = 0; i < n; i += 32) v = (v << 32n) | BigInt(rnd.u32());
  return v & ((1n << BigInt(n)) - 1n);
}

/** A double (as its 64 bits) from a mix of moderate numbers, short significands, edges and specials. */
function chosenDouble(rnd: Random): bigint {
  const sign = rnd.chance(0.5) ? 1n << 63n : 0n;
  const pick = rnd.below(24);
  let e: number;
  let frac: bigint;
  switch (pick) {
    case 0: return sign; // ±0
    case 1: return sign | (0x7ffn << 52n); // ±infinity
    case 2: return sign | (0x7ffn << 52n) | (1n << 51n) | randomBits(rnd, rnd.below(52)); // QNaN
    case 3: return sign | (0x7ffn << 52n) | (randomBits(rnd, 51) || 1n); // SNaN
    case 4: return sign | (randomBits(rnd, 52) || 1n); // denormal
    case 5: e = 1000 + rnd.below(24); frac = randomBits(rnd, 52); break;
    case 6: e = -1022 + rnd.below(30); frac = randomBits(rnd, 52); break;
    case 7: case 8: case 9: {
      const n = rnd.below(2000) + 1; // a small integer
      const x = Math.floor(Math.log2(n));
      return sign | (BigInt(x + 1023) << 52n) | ((BigInt(n) << BigInt(52 - x)) & ((1n << 52n) - 1n));
    }
    default: {
      e = rnd.below(81) - 40;
      const k = rnd.chance(0.5) ? 52 : rnd.below(53); // significand length: full or short
      frac = k === 0 ? 0n : randomBits(rnd, k) << BigInt(52 - k);
    }
  }
  return sign | (BigInt(e + 1023) << 52n) | frac;
}

function doubleToSingle(bits: bigint): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, bits, true);
  const f = view.getFloat64(0, true);
  view.setFloat32(0, f, true);
  return view.getUint32(0, true);
}

/** The 80-bit encoding of a double's bits: [significand, sign/exponent]. */
function doubleToExtended(bits: bigint): [bigint, number] {
  const sign = Number(bits >> 63n) << 15;
  const e = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  if (e === 0x7ff) return [(1n << 63n) | (frac << 11n), sign | 0x7fff];
  if (e === 0) {
    if (frac === 0n) return [0n, sign];
    const lz = 64 - frac.toString(2).length;
    return [frac << BigInt(lz), sign | (15372 - lz)];
  }
  return [(1n << 63n) | (frac << 11n), sign | (e - 1023 + 16383)];
}

/** Bytes of a value in `format` chosen for a load, or undefined to leave memory as it is. */
export function chosenBytes(format: FpuFormat, rnd: Random): Uint8Array | undefined {
  const out = new Uint8Array(FORMAT_BYTES[format]);
  const view = new DataView(out.buffer);
  switch (format) {
    case 'm32': {
      const bits = chosenDouble(rnd);
      const e = Number((bits >> 52n) & 0x7ffn);
      // Single-precision specials and denormals directly (the conversion would lose them).
      const sign = Number(bits >> 63n) ? 0x80000000 : 0;
      if (e === 0x7ff) {
        let frac = Number((bits >> 29n) & 0x7fffffn);
        if (frac === 0 && (bits & ((1n << 52n) - 1n)) !== 0n) frac = 1; // a NaN stays a NaN
        view.setUint32(0, (sign | 0x7f800000 | frac) >>> 0, true);
      } else if (e === 0 && rnd.chance(0.5)) view.setUint32(0, (sign | (rnd.u32() & 0x7fffff) || 1) >>> 0, true);
      else view.setUint32(0, doubleToSingle(bits), true);
      return out;
    }
    case 'm64':
      view.setBigUint64(0, chosenDouble(rnd), true);
      return out;
    case 'm80': {
      let mant: bigint;
      let se: number;
      const pick = rnd.below(10);
      const sign = rnd.chance(0.5) ? 0x8000 : 0;
      if (pick < 5) [mant, se] = doubleToExtended(chosenDouble(rnd));
      else if (pick < 7) { mant = (1n << 63n) | randomBits(rnd, 63); se = sign | (16383 + rnd.below(81) - 40); } // 64-bit significand
      else {
        switch (rnd.below(7)) {
          case 0: mant = randomBits(rnd, 63); se = sign | (16383 + rnd.below(81) - 40); break; // unnormal
          case 1: mant = randomBits(rnd, 63); se = sign | 0x7fff; break; // pseudo-NaN / pseudo-infinity
          case 2: mant = (1n << 63n) | randomBits(rnd, 63); se = sign; break; // pseudo-denormal
          case 3: mant = randomBits(rnd, 63) || 1n; se = sign; break; // denormal
          case 4: mant = (1n << 63n) | (rnd.chance(0.5) ? 1n << 62n : 0n) | BigInt(rnd.below(2048) || 1); se = sign | 0x7fff; break; // NaN, payload in the low bits
          case 5: mant = (1n << 63n) | randomBits(rnd, 63); se = sign | (0x7ffe - rnd.below(16)); break; // huge
          default: mant = (1n << 63n) | randomBits(rnd, 63); se = sign | (1 + rnd.below(16)); break; // tiny
        }
      }
      view.setBigUint64(0, mant, true);
      view.setUint16(8, se, true);
      return out;
    }
    case 'i64': {
      let v: bigint;
      if (rnd.chance(0.5)) v = BigInt(rnd.below(2 ** 30)) * BigInt(rnd.below(2 ** 23)); // below 2^53
      else v = BigInt.asIntN(64, randomBits(rnd, 64));
      if (rnd.chance(0.5)) v = -v;
      if (rnd.chance(0.03)) v = -(1n << 63n);
      view.setBigInt64(0, BigInt.asIntN(64, v), true);
      return out;
    }
    case 'bcd': {
      const digits = rnd.below(19);
      for (let i = 0; i < 9; i++) {
        const d = (n: number) => (2 * i + n < digits ? rnd.below(10) : 0);
        out[i] = d(0) | (d(1) << 4);
      }
      out[9] = rnd.chance(0.5) ? 0x80 : 0;
      return out;
    }
    default: return undefined; // 16/32-bit integers are always exact
  }
}

// ---- The abstract x87 state ----

/** Below (or at) these exponents a value in the format may be denormal (integers never are). */
const MIN_NORMAL: Record<FpuFormat, number> = { m32: -127, m64: -1023, m80: -16382, i16: -Infinity, i32: -Infinity, i64: -Infinity, bcd: -Infinity };

/**
 * Arithmetic the models have seen (all FpuModel instances; reset by the caller): instructions
 * generated whose operands are certainly finite (numbers or zeros, no NaN, infinity or
 * unsupported encoding), and instructions refused.
 */
export const modelStats = {
  finiteArithmetic: 0,
  refused: 0,
  /** finiteArithmetic by precision control (index 0, 2, 3) and by rounding control (0-3). */
  byPrecision: [0, 0, 0, 0],
  byRounding: [0, 0, 0, 0],
};

export function resetModelStats(): void {
  modelStats.finiteArithmetic = 0;
  modelStats.refused = 0;
  modelStats.byPrecision.fill(0);
  modelStats.byRounding.fill(0);
}

function certainlyFinite(...values: AbstractValue[]): boolean {
  return values.every((v) => v.number && !v.special);
}

/** A prepared store before an instruction: MOV m32, imm32 or MOV m16, imm16 at an absolute address. */
export interface PrepStore {
  addr: number;
  bytes: Uint8Array;
}

export interface FpuOperands {
  /** ModRM.reg and ModRM.rm (register forms). */
  reg: number;
  rm: number;
  /** Effective address of the memory operand, if any. */
  ea?: number;
  /** Operand size (state images: 14/94 bytes with 16 bits, 28/108 with 32). */
  o32?: boolean;
}

/** A state image a save instruction wrote, with the model's state at that moment. */
interface Snapshot {
  kind: 'env' | 'save' | 'fx';
  o32: boolean;
  addr: number;
  stamp: number;
  control: number | undefined;
  top: number;
  empty: boolean[];
  values: AbstractValue[];
}

/** Bytes of the state images: environment (by operand size), FSAVE, FXSAVE. */
export function imageSize(kind: Snapshot['kind'], o32: boolean): number {
  return kind === 'fx' ? 512 : (kind === 'env' ? 0 : 80) + (o32 ? 28 : 14);
}

/** Control word bits the FPU keeps (bit 6 reads as 1). */
export const storedControl = (cw: number) => (cw & 0x1f7f) | 0x40;

/** The calls whose instruction may end without its result under an unmasked IE, DE or ZE. */
const MAY_ABORT = new Set([
  'fpuLoadMem', 'fpuStoreMem', 'fpuArithMem', 'fpuArithReg', 'fpuCompareReg', 'fpuComi', 'fpuLoadReg', 'fpuStoreReg',
  'fpuExchange', 'fpuCmov', 'fpuChs', 'fpuAbs', 'fpuConstant', 'fpuSqrt', 'fpuRoundInt', 'fpuScale',
  'fpuPartialRemainder', 'fpuExtract', 'fpuTest', 'fpuExamine',
]);

interface Call {
  name: string;
  args: string[];
}

/** The x87 call of a row's `exec` (the table is the source of each instruction's semantics). */
function fpuCall(row: OpcodeRow): Call {
  const m = /(?:^|;\s*)(fpu\w+|mmx\w+|emms|fxsave|fxrstor)\(([^)]*(?:\([^)]*\)[^)]*)*)\);/.exec(row.exec.replace(/^mmxEnter\(\);\s*/, ''));
  if (!m) throw new Error(`no x87/MMX call in ${row.mnemonic}: ${row.exec}`);
  return { name: m[1], args: m[2].split(/,\s*(?![^(]*\))/) };
}

export class FpuModel {
  top = 0;
  /** Per physical register: whether it is empty, and what it holds (also when empty). */
  empty = [true, true, true, true, true, true, true, true];
  values: AbstractValue[] = Array.from({ length: 8 }, () => ZERO);
  readonly data: DataKnowledge;
  /** The control word, or undefined when it is not known (then no arithmetic is generated). */
  control: number | undefined;
  /**
   * False once an instruction may or may not have completed (an unmasked IE/DE/ZE leaves the
   * destination and TOP alone): TOP, the tags and the values are then unknown until a state
   * load or FNSAVE brings them back.
   */
  stackKnown = true;
  /** The state images saved so far (the newest last). */
  private snapshots: Snapshot[] = [];

  constructor(seed: number, control = 0x027f) {
    this.data = new DataKnowledge(seed);
    this.control = storedControl(control);
  }

  /** Precision control, when arithmetic can be modelled under it. */
  precision(): Precision | undefined {
    if (this.control === undefined) return undefined;
    const pc = (this.control >> 8) & 3;
    return pc === 1 ? undefined : (pc as Precision);
  }

  /** Exceptions (status word bits) that are unmasked, all six when the control word is unknown. */
  unmasked(): number {
    return this.control === undefined ? 0x3f : ~this.control & 0x3f;
  }

  /** Where the newest image of this kind was saved. */
  latestImage(kind: Snapshot['kind']): { addr: number; o32: boolean } | undefined {
    for (let k = this.snapshots.length - 1; k >= 0; k--) if (this.snapshots[k].kind === kind) return this.snapshots[k];
    return undefined;
  }

  /** Forget TOP, the tags and every value. */
  lost(): void {
    this.stackKnown = false;
    this.empty.fill(false);
    this.values.fill(ANYTHING);
  }

  private reset(): void {
    this.control = 0x37f;
    this.top = 0;
    this.empty.fill(true);
    this.stackKnown = true;
  }

  /** The memory format an x87 row reads (loads, arithmetic, compares), if it reads one. */
  static sourceFormat(row: OpcodeRow): FpuFormat | undefined {
    if (row.test !== 'x87' || row.mod !== 'mem') return undefined;
    const call = fpuCall(row);
    if (call.name === 'fpuLoadMem' || call.name === 'fpuArithMem') return FORMATS[Number(call.args[0])];
    return undefined;
  }

  /** A value to store at the operand before a load (undefined: use what memory holds). */
  prepare(format: FpuFormat, ea: number, rnd: Random): PrepStore | undefined {
    const n = FORMAT_BYTES[format];
    if (ea < DATA || ea + n > DATA + DATA_SIZE || !rnd.chance(0.8)) return undefined;
    const bytes = chosenBytes(format, rnd);
    return bytes ? { addr: ea, bytes } : undefined;
  }

  private phys(i: number): number {
    return (this.top + i) & 7;
  }

  private load(format: FpuFormat, ea: number): AbstractValue | undefined {
    const bytes = this.data.read(ea, FORMAT_BYTES[format]);
    return bytes ? loadedValue(format, bytes) : unknownLoad(format);
  }

  /**
   * Apply the instruction to the model if WebHVM's precision model is exact for it; returns
   * false (and leaves the model unchanged) when it is not.
   */
  step(row: OpcodeRow, ops: FpuOperands, prep?: PrepStore): boolean {
    const saved = { top: this.top, empty: [...this.empty], values: [...this.values], control: this.control, stackKnown: this.stackKnown, snapshots: [...this.snapshots] };
    if (prep) this.data.write(prep.addr, prep.bytes.length, prep.bytes);
    const ok = this.execute(row, ops);
    if (!ok) modelStats.refused++;
    if (!ok) {
      Object.assign(this, saved);
      if (prep) this.data.write(prep.addr, prep.bytes.length); // conservative: unknown again
      return false;
    }
    const call = fpuCall(row).name;
    // An unmasked pre-computation exception (or, for stores, overflow/underflow) may have left
    // the instruction without its result: what it did to the stack is no longer certain.
    const abort = this.unmasked() & (call === 'fpuStoreMem' ? 0x1f : 0x07);
    if (!this.stackKnown || (abort && MAY_ABORT.has(call))) this.lost();
    return true;
  }

  // ---- Stack helpers: the masked responses of stack faults ----

  private get(i: number): AbstractValue {
    return this.values[this.phys(i)];
  }
  private isEmpty(i: number): boolean {
    return this.empty[this.phys(i)];
  }
  private set(i: number, v: AbstractValue): void {
    this.values[this.phys(i)] = v;
    this.empty[this.phys(i)] = false;
  }
  private pop(): void {
    this.empty[this.phys(0)] = true;
    this.top = (this.top + 1) & 7;
  }
  private push(v: AbstractValue): void {
    const full = !this.isEmpty(7);
    this.top = (this.top - 1) & 7;
    this.set(0, full ? SPECIAL : v);
  }

  private execute(row: OpcodeRow, ops: FpuOperands): boolean {
    const call = fpuCall(row);
    const a = call.args;
    const reg = (s: string) => (s === '$rm' ? ops.rm : s === '$reg' ? ops.reg : Number(s));
    // Single-register operations that report a denormal operand.
    if (['fpuSqrt', 'fpuRoundInt', 'fpuExtract'].includes(call.name) && !this.denormalSafe([this.operand(0), MIN_NORMAL.m80])) return false;
    if (['fpuScale', 'fpuPartialRemainder'].includes(call.name) && !this.denormalSafe([this.operand(0), MIN_NORMAL.m80], [this.operand(1), MIN_NORMAL.m80])) return false;
    switch (call.name) {
      case 'fpuLoadMem': {
        const format = FORMATS[Number(a[0])];
        const v = this.load(format, ops.ea!);
        if (!v || !this.denormalSafe([v, MIN_NORMAL[format]])) return false;
        this.push(v);
        return true;
      }
      case 'fpuStoreMem': {
        this.data.write(ops.ea!, FORMAT_BYTES[FORMATS[Number(a[0])]]);
        if (a[1] === 'true') this.pop();
        return true;
      }
      case 'fpuStoreControl': case 'fpuStoreStatus':
        this.data.write(ops.ea!, 2);
        return true;
      case 'fpuArithMem': {
        const op = Number(a[1]);
        const m = this.load(FORMATS[Number(a[0])], ops.ea!);
        if (!m || !this.denormalSafe([m, MIN_NORMAL[FORMATS[Number(a[0])]]], [this.operand(0), MIN_NORMAL.m80])) return false;
        if (op === 2 || op === 3) {
          if (!this.compareSafe(m, this.operand(0))) return false;
          if (op === 3) this.pop();
          return true;
        }
        if (this.isEmpty(0)) return this.result(0, SPECIAL);
        return this.result(0, this.arith(op, this.get(0), m), this.get(0), m);
      }
      case 'fpuArithReg': {
        const op = Number(a[0]);
        const i = reg(a[1]);
        const toSti = a[2] === 'true';
        const dest = toSti ? i : 0;
        if (!this.denormalSafe([this.operand(0), MIN_NORMAL.m80], [this.operand(i), MIN_NORMAL.m80])) return false;
        let v: AbstractValue | undefined = SPECIAL;
        if (!this.isEmpty(0) && !this.isEmpty(i)) v = toSti ? this.arith(op, this.get(i), this.get(0)) : this.arith(op, this.get(0), this.get(i));
        if (!this.result(dest, v, ...(v === SPECIAL ? [] : [this.get(0), this.get(i)]))) return false;
        if (a[3] === 'true') this.pop();
        return true;
      }
      case 'fpuCompareReg': {
        if (!this.compareSafe(this.operand(0), this.operand(reg(a[0])))) return false;
        if (!this.denormalSafe([this.operand(0), MIN_NORMAL.m80], [this.operand(reg(a[0])), MIN_NORMAL.m80])) return false;
        for (let k = 0; k < Number(a[1]); k++) this.pop();
        return true;
      }
      case 'fpuComi':
        if (!this.compareSafe(this.operand(0), this.operand(reg(a[0])))) return false;
        if (!this.denormalSafe([this.operand(0), MIN_NORMAL.m80], [this.operand(reg(a[0])), MIN_NORMAL.m80])) return false;
        if (a[2] === 'true') this.pop();
        return true;
      case 'fpuTest':
        return this.compareSafe(this.operand(0)) && this.denormalSafe([this.operand(0), MIN_NORMAL.m80]);
      case 'fpuLoadReg': {
        const i = reg(a[0]);
        this.push(this.isEmpty(i) ? SPECIAL : this.get(i));
        return true;
      }
      case 'fpuStoreReg': {
        const i = reg(a[0]);
        this.set(i, this.isEmpty(0) ? SPECIAL : this.get(0));
        if (a[1] === 'true') this.pop();
        return true;
      }
      case 'fpuExchange': {
        const i = reg(a[0]);
        const x = this.isEmpty(0) ? SPECIAL : this.get(0);
        const y = this.isEmpty(i) ? SPECIAL : this.get(i);
        this.set(0, y);
        this.set(i, x);
        return true;
      }
      case 'fpuFree':
        this.empty[this.phys(reg(a[0]))] = true;
        if (a[1] === 'true') this.top = (this.top + 1) & 7;
        return true;
      case 'fpuIncStp': this.top = (this.top + 1) & 7; return true;
      case 'fpuDecStp': this.top = (this.top - 1) & 7; return true;
      case 'fpuCmov': {
        const i = reg(a[1]);
        this.set(0, this.isEmpty(0) || this.isEmpty(i) ? SPECIAL : join(this.get(0), this.get(i)));
        return true;
      }
      case 'fpuChs': case 'fpuAbs':
        if (this.isEmpty(0)) this.set(0, SPECIAL);
        return true;
      case 'fpuConstant':
        this.push(CONSTANTS[Number(a[0])]);
        return true;
      case 'fpuSqrt': {
        const pc = this.precision();
        const v = this.get(0);
        if (this.isEmpty(0)) return this.result(0, SPECIAL);
        return this.result(0, pc === undefined ? (v.number ? undefined : v) : squareRoot(v, pc), v);
      }
      case 'fpuRoundInt': return this.result(0, this.isEmpty(0) ? SPECIAL : roundToInteger(this.get(0)));
      case 'fpuScale':
        if (this.isEmpty(0) || this.isEmpty(1)) return this.result(0, SPECIAL);
        return this.result(0, scale(this.get(0), this.get(1)), this.get(0), this.get(1));
      case 'fpuPartialRemainder':
        if (this.isEmpty(0) || this.isEmpty(1)) return this.result(0, SPECIAL);
        return this.result(0, remainder(this.get(0), this.get(1)), this.get(0), this.get(1));
      case 'fpuExtract': {
        const empty0 = this.isEmpty(0);
        const full7 = !this.isEmpty(7);
        if (empty0 || full7) {
          // Stack underflow or overflow: two indefinites.
          this.set(0, SPECIAL);
          this.push(SPECIAL);
          return true;
        }
        const [exponent, significand] = extract(this.get(0));
        this.set(0, exponent);
        this.push(significand);
        return true;
      }
      case 'fpuExamine': case 'fpuNop': case 'fpuClearExceptions': case 'fpuStoreStatusAx':
        return true;
      // MMX: TOP = 0 and every register valid; a written register holds a special value.
      case 'emms':
        this.empty.fill(true);
        this.top = 0;
        return true;
      case 'mmxBinary': case 'mmxMove': case 'mmxCopy': case 'mmxShiftImm': {
        const dest = call.name === 'mmxShiftImm' ? reg(a[2]) : call.name === 'mmxBinary' ? reg(a[1]) : reg(a[0]);
        this.mmxTouch();
        this.values[dest & 7] = SPECIAL;
        return true;
      }
      case 'mmxStore':
        this.data.write(ops.ea!, Number(a[3]));
        this.mmxTouch();
        return true;
      case 'mmxMovdToReg':
        this.mmxTouch();
        return true;
      // Control and state instructions.
      case 'fpuLoadControl': {
        const bytes = this.data.read(ops.ea!, 2);
        this.control = bytes ? storedControl(bytes[0] | (bytes[1] << 8)) : undefined;
        return true;
      }
      case 'fpuInit':
        this.reset();
        return true;
      case 'fpuStoreEnv':
        this.saveImage('env', ops);
        if (this.control !== undefined) this.control |= 0x3f; // FSTENV masks every exception
        return true;
      case 'fpuSave':
        this.saveImage('save', ops);
        this.reset();
        return true;
      case 'fxsave':
        this.saveImage('fx', ops);
        return true;
      case 'fpuLoadEnv': this.loadImage('env', ops); return true;
      case 'fpuRestore': this.loadImage('save', ops); return true;
      case 'fxrstor': this.loadImage('fx', ops); return true;
      default:
        throw new Error(`the x87 model does not know ${call.name} (${row.mnemonic})`);
    }
  }

  /** ST(i), or a special value when it is empty (a stack fault). */
  private operand(i: number): AbstractValue {
    return this.isEmpty(i) ? SPECIAL : this.get(i);
  }

  /**
   * A compare whose operands may be invalid (stack underflow, NaN, unsupported encoding) is not
   * generated while IE is unmasked: the SDM has FCOM/FUCOM/FCOMI/FTST leave the condition codes
   * (EFLAGS) alone then, but the AMD processor the test runs on sets them to "unordered".
   */
  private compareSafe(...values: AbstractValue[]): boolean {
    return (this.unmasked() & 1) === 0 || values.every((v) => !v.special);
  }

  /**
   * An instruction whose operand may be denormal is not generated while DE is unmasked: the SDM
   * makes the denormal operand a pre-computation exception that leaves the destination, TOP and
   * the condition codes alone, but the AMD processor the test runs on still loads the value or
   * sets the compare's condition codes.
   */
  private denormalSafe(...operands: [AbstractValue, number][]): boolean {
    return (this.unmasked() & 2) === 0 || operands.every(([v, minNormal]) => !v.number || v.lo > minNormal);
  }

  /** Arithmetic under the current precision control (none modelled when it is unknown). */
  private arith(op: number, a: AbstractValue, b: AbstractValue): AbstractValue | undefined {
    const pc = this.precision();
    if (pc === undefined) return a.number || b.number ? undefined : arithmetic(op, a, b);
    return arithmetic(op, a, b, pc);
  }

  private saveImage(kind: Snapshot['kind'], ops: FpuOperands): void {
    const o32 = kind === 'fx' || ops.o32 !== false;
    const addr = ops.ea!;
    this.data.write(addr, imageSize(kind, o32));
    if (!this.stackKnown) return;
    this.snapshots.push({ kind, o32, addr, stamp: this.data.clock, control: this.control, top: this.top, empty: [...this.empty], values: [...this.values] });
    if (this.snapshots.length > 8) this.snapshots.shift();
  }

  /** The newest snapshot of this kind at addr whose bytes nothing has overwritten since. */
  private snapshotAt(kind: Snapshot['kind'], o32: boolean, addr: number): Snapshot | undefined {
    for (let k = this.snapshots.length - 1; k >= 0; k--) {
      const s = this.snapshots[k];
      if (s.kind === kind && s.o32 === o32 && s.addr === addr) {
        return this.data.unchangedSince(addr, imageSize(kind, o32), s.stamp) ? s : undefined;
      }
    }
    return undefined;
  }

  /**
   * FLDENV, FRSTOR, FXRSTOR: each field comes from the bytes the model knows, else from the
   * snapshot the image was saved from; a control word, status word or tag word known neither
   * way leaves the model lost.
   */
  private loadImage(kind: Snapshot['kind'], ops: FpuOperands): void {
    const o32 = kind === 'fx' || ops.o32 !== false;
    const addr = ops.ea!;
    const snap = this.snapshotAt(kind, o32, addr);
    const word = (at: number) => {
      const b = this.data.read(addr + at, 2);
      return b ? b[0] | (b[1] << 8) : undefined;
    };
    const fx = kind === 'fx';
    const cw = word(0);
    const sw = word(fx ? 2 : o32 ? 4 : 2);
    const tagBytes = fx ? this.data.read(addr + 4, 1) : this.data.read(addr + (o32 ? 8 : 4), 2);
    const control = cw !== undefined ? storedControl(cw) : snap?.control;
    const top = sw !== undefined ? (sw >> 11) & 7 : snap?.top;
    let empty: boolean[] | undefined;
    if (tagBytes) {
      const t = fx ? tagBytes[0] : tagBytes[0] | (tagBytes[1] << 8);
      empty = [0, 1, 2, 3, 4, 5, 6, 7].map((p) => (fx ? ((t >> p) & 1) === 0 : ((t >> (2 * p)) & 3) === 3));
    } else if (snap?.stamp !== undefined) empty = [...snap.empty];
    this.control = control;
    if (control === undefined || top === undefined || !empty) {
      this.lost();
      return;
    }
    if (kind !== 'env') {
      // Register i of the image is ST(i) of the loaded TOP.
      const base = fx ? 32 : o32 ? 28 : 14;
      const stride = fx ? 16 : 10;
      const values: AbstractValue[] = [];
      for (let i = 0; i < 8; i++) {
        const b = this.data.read(addr + base + i * stride, 10);
        const fromSnap = snap ? snap.values[(snap.top + i) & 7] : ANYTHING;
        values[(top + i) & 7] = b ? classify(u64(b), b[8] | (b[9] << 8)) : fromSnap;
      }
      this.values = values;
    } else if (!this.stackKnown) {
      this.values.fill(ANYTHING);
    }
    this.top = top;
    this.empty = empty;
    this.stackKnown = true;
  }

  /** Write an arithmetic result unless the precision model is not exact for it. */
  private result(i: number, v: AbstractValue | undefined, ...operands: AbstractValue[]): boolean {
    if (!v) return false;
    if (operands.length && certainlyFinite(...operands)) {
      modelStats.finiteArithmetic++;
      if (this.control !== undefined) {
        modelStats.byPrecision[(this.control >> 8) & 3]++;
        modelStats.byRounding[(this.control >> 10) & 3]++;
      }
    }
    this.set(i, v);
    return true;
  }

  private mmxTouch(): void {
    this.top = 0;
    this.empty.fill(false);
  }
}
