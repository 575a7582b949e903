// The x87 FPU of a Pentium II: register stack, control/status/tag words, exception model and
// the conversions between the 80-bit register format and the f64 used for arithmetic (Intel SDM
// vol. 1, chapter 8; vol. 3, "x87 FPU exception handling"). The instruction groups live in
// fpu-arith.ts (arithmetic, compares, constants, FCMOV), fpu-memory.ts (memory formats,
// FSTENV/FLDENV/FSAVE/FRSTOR, FXSAVE/FXRSTOR), fpu-transcendental.ts, and mmx.ts.
//
// Storage: each physical register R0-R7 holds the exact 80-bit value (64-bit significand at +0,
// sign and 15-bit exponent at +8). Everything that only moves or inspects values works on these
// bits and is exact: FLD/FST m80 and ST(i), FXCH, FCHS, FABS, FXAM, FTST, all compares,
// FXTRACT, FRNDINT, FILD/FIST/FISTP of every integer size, FBLD/FBSTP, FSAVE/FRSTOR/FXSAVE,
// and the MMX aliasing of the significands.
//
// Where results differ from a real 80-bit FPU (arithmetic is done in f64):
// - FADD/FSUB/FMUL/FDIV/FSQRT (and the reversed, popping and memory forms) convert their
//   operands to f64 (round to nearest even; a 64-bit significand loses its low 11 bits) and
//   round the result to 53 bits. Precision control "extended" (the FINIT default) therefore
//   gives double precision (a result needing 54-64 bits differs from the FPU's); "single" rounds
//   once to 24 bits, keeping the full exponent range as the FPU does. Rounding control is
//   honoured exactly for these operations at 53/24 bits: the sign of the rounding error is
//   computed exactly (TwoSum / Dekker products) and the result is rounded from it.
// - The exponent range of arithmetic results is that of double: results beyond about 1.8e308
//   overflow (OE, infinity under the masked response) and results below 2.2e-308 are double
//   denormals (UE) where the real FPU keeps a normal extended value. Operands outside double
//   range (loaded exactly with FLD m80) become infinity or zero/denormal when they enter
//   arithmetic. Extended denormal operands raise DE; pseudo-denormals are treated as denormals,
//   unnormals and pseudo-NaN/infinity encodings as invalid operands (as on the 387 and later).
// - Unmasked overflow/underflow deliver the masked result to the destination instead of the
//   exponent-biased (±24576) value the FPU stores for the handler.
// - FSIN/FCOS/FSINCOS/FPTAN/FPATAN/F2XM1/FYL2X/FYL2XP1 use the f64 Math functions (errors of a
//   few ulps of a double, not the FPU's documented < 1 ulp of extended); FSCALE and FPREM/FPREM1
//   compute in f64 (exact there, with the double exponent range). FPREM/FPREM1 always complete
//   the reduction in one step (C2 = 0): a real FPU reduces by at most 2^63 per step.
// - C1 after an inexact result tells whether the magnitude was rounded up, from the f64 rounding.
import {
  STATE, S_FPU_REGS, S_FPU_CONTROL, S_FPU_STATUS, S_FPU_TOP, S_FPU_TAG, S_FPU_IP, S_FPU_CS, S_FPU_DP, S_FPU_DS,
  S_FPU_OPCODE, S_FPU_AUX, S_CR0, S_PREV_EIP, CR0_EM, CR0_TS, CR0_NE, EXC_NM, EXC_MF, CS,
} from './layout';
import { raise, NO_ERROR_CODE } from './fault';
import { segSelector } from './regs';
import { ferr } from './imports';

// ---- Status word bits ----
export const FSW_IE: u32 = 1 << 0;
export const FSW_DE: u32 = 1 << 1;
export const FSW_ZE: u32 = 1 << 2;
export const FSW_OE: u32 = 1 << 3;
export const FSW_UE: u32 = 1 << 4;
export const FSW_PE: u32 = 1 << 5;
export const FSW_SF: u32 = 1 << 6;
export const FSW_ES: u32 = 1 << 7;
export const FSW_C0: u32 = 1 << 8;
export const FSW_C1: u32 = 1 << 9;
export const FSW_C2: u32 = 1 << 10;
export const FSW_C3: u32 = 1 << 14;
export const FSW_B: u32 = 1 << 15;
export const FSW_CC: u32 = FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3;
export const FSW_EXC: u32 = 0x3f;

export const TAG_VALID: u32 = 0;
export const TAG_ZERO: u32 = 1;
export const TAG_SPECIAL: u32 = 2;
export const TAG_EMPTY: u32 = 3;

/** Whether FERR# is currently driven (so the platform hears only the edges). */
const S_FPU_FERR: u32 = S_FPU_AUX;

// ---- Raw register access ----

@inline export function fpuTop(): u32 {
  return load<u32>(STATE + S_FPU_TOP) & 7;
}
@inline export function setFpuTop(top: u32): void {
  store<u32>(STATE + S_FPU_TOP, top & 7);
}
@inline export function physOf(i: u32): u32 {
  return (fpuTop() + i) & 7;
}
@inline export function regAddr(phys: u32): u32 {
  return STATE + S_FPU_REGS + (phys << 4);
}
@inline export function tagOf(phys: u32): u32 {
  return (load<u32>(STATE + S_FPU_TAG) >> (phys << 1)) & 3;
}
@inline export function setTag(phys: u32, tag: u32): void {
  const t = load<u32>(STATE + S_FPU_TAG);
  store<u32>(STATE + S_FPU_TAG, (t & ~(<u32>3 << (phys << 1))) | (tag << (phys << 1)));
}
@inline export function isEmpty(i: u32): bool {
  return tagOf(physOf(i)) == TAG_EMPTY;
}
@inline export function mantOf(i: u32): u64 {
  return load<u64>(regAddr(physOf(i)));
}
@inline export function seOf(i: u32): u32 {
  return <u32>load<u16>(regAddr(physOf(i)) + 8);
}

/** Tag an 80-bit value would get from its contents (valid, zero or special). */
export function tagFor(mant: u64, se: u32): u32 {
  const e = se & 0x7fff;
  if (e == 0x7fff) return TAG_SPECIAL;
  if (e == 0) return mant == 0 ? TAG_ZERO : TAG_SPECIAL;
  return (mant >> 63) != 0 ? TAG_VALID : TAG_SPECIAL;
}

/** Write ST(i) with an 80-bit value and tag it from its contents. */
export function setRaw(i: u32, mant: u64, se: u32): void {
  const p = physOf(i);
  store<u64>(regAddr(p), mant);
  store<u16>(regAddr(p) + 8, <u16>se);
  setTag(p, tagFor(mant, se));
}
export function setST(i: u32, v: f64): void {
  f64ToExt(v);
  setRaw(i, extMant, extSe);
}
export function getST(i: u32): f64 {
  return extToF64(mantOf(i), seOf(i));
}
/** Mark ST(0) empty and increment TOP. */
export function fpuPop(): void {
  setTag(physOf(0), TAG_EMPTY);
  setFpuTop(fpuTop() + 1);
}
/** Decrement TOP (the caller has checked that the new ST(0) is empty). */
@inline export function fpuPushSlot(): void {
  setFpuTop(fpuTop() - 1);
}

// ---- Conversions between 80-bit extended and f64 ----

/** Results of f64ToExt and the memory conversions: significand and sign/exponent. */
export let extMant: u64 = 0;
export let extSe: u32 = 0;

/** The exact 80-bit encoding of a double (every double is representable). */
export function f64ToExt(v: f64): void {
  const b = reinterpret<u64>(v);
  const sign = <u32>(b >> 48) & 0x8000;
  const e = <i32>((b >> 52) & 0x7ff);
  const frac = b & 0x000f_ffff_ffff_ffff;
  if (e == 0x7ff) {
    extMant = (<u64>1 << 63) | (frac << 11);
    extSe = sign | 0x7fff;
  } else if (e == 0) {
    if (frac == 0) {
      extMant = 0;
      extSe = sign;
    } else {
      // A double denormal is a normal extended number.
      const lz = <i32>clz<u64>(frac);
      extMant = frac << <u64>lz;
      extSe = sign | <u32>(15372 - lz);
    }
  } else {
    extMant = (<u64>1 << 63) | (frac << 11);
    extSe = sign | <u32>(e - 1023 + 16383);
  }
}

/** x * 2^n for any n, exact unless the result leaves double range (rounds once at the end). */
export function scalbn(x: f64, n: i32): f64 {
  let y = x;
  if (n > 1023) {
    y *= 8.98846567431158e307; // 2^1023
    n -= 1023;
    if (n > 1023) {
      y *= 8.98846567431158e307;
      n -= 1023;
      if (n > 1023) n = 1023;
    }
  } else if (n < -1022) {
    // Scale in two steps so the rounding happens only once, in the last multiplication.
    y *= 2.004168360008973e-292; // 2^-969
    n += 969;
    if (n < -1022) {
      y *= 2.004168360008973e-292;
      n += 969;
      if (n < -1022) n = -1022;
    }
  }
  return y * reinterpret<f64>(<u64>(0x3ff + n) << 52);
}

/**
 * The double nearest to an 80-bit value. NaNs keep their sign and the top 52 fraction bits (a
 * signaling NaN whose payload lives only in the low bits keeps a non-zero payload).
 */
export function extToF64(mant: u64, se: u32): f64 {
  const neg = (se & 0x8000) != 0;
  const e = <i32>(se & 0x7fff);
  if (e == 0x7fff) {
    const frac = mant & 0x7fff_ffff_ffff_ffff;
    if (frac == 0) return neg ? -Infinity : Infinity;
    let f = (frac >> 11) & 0x000f_ffff_ffff_ffff;
    if (f == 0) f = 1;
    return reinterpret<f64>((neg ? <u64>1 << 63 : 0) | (<u64>0x7ff << 52) | f);
  }
  if (mant == 0) return neg ? -0.0 : 0.0;
  // value = mant * 2^exp; a denormal (e == 0) has the exponent of the smallest normal.
  const exp = (e == 0 ? 1 : e) - 16383 - 63;
  const top = 63 - <i32>clz<u64>(mant);
  let v: f64;
  if (top + exp > 1023) {
    v = Infinity;
  } else if (top + exp >= -1022 || exp >= -1074) {
    // Normal double range (the u64 -> f64 conversion rounds once, the scaling is exact), or a
    // small significand that is exactly a double denormal.
    v = scalbn(<f64>mant, exp);
  } else {
    // The double denormal range: round to a multiple of 2^-1074 in one step (nearest even).
    const shift = -1074 - exp;
    let q: u64 = 0;
    if (shift < 64) {
      q = mant >> <u64>shift;
      const dropped = mant << <u64>(64 - shift);
      const half: u64 = <u64>1 << 63;
      if (dropped > half || (dropped == half && (q & 1) != 0)) q++;
    } else if (shift == 64 && mant > (<u64>1 << 63)) {
      q = 1;
    }
    v = <f64>q * 4.9406564584124654e-324;
  }
  return neg ? -v : v;
}

/** NaN, infinity or an unsupported encoding (unnormal, pseudo-NaN): not an ordinary number. */
@inline export function isSpecialExp(se: u32): bool {
  return (se & 0x7fff) == 0x7fff;
}
@inline export function isNaNExt(mant: u64, se: u32): bool {
  return (se & 0x7fff) == 0x7fff && (mant << 1) != 0;
}
@inline export function isSNaNExt(mant: u64, se: u32): bool {
  return isNaNExt(mant, se) && (mant & (<u64>1 << 62)) == 0;
}
/** Unnormals, pseudo-NaNs and pseudo-infinities: the FPU treats them as invalid operands. */
@inline export function isUnsupported(mant: u64, se: u32): bool {
  const e = se & 0x7fff;
  return e != 0 && (mant >> 63) == 0;
}
@inline export function isDenormalExt(mant: u64, se: u32): bool {
  return (se & 0x7fff) == 0 && mant != 0;
}

/** The QNaN "real indefinite" as a double (sign 1, quiet bit only). */
export const INDEFINITE: f64 = reinterpret<f64>(0xfff8_0000_0000_0000);
export const INDEF_MANT: u64 = 0xc000_0000_0000_0000;
export const INDEF_SE: u32 = 0xffff;

// ---- Control and status ----

@inline export function fpuControl(): u32 {
  return load<u32>(STATE + S_FPU_CONTROL) & 0xffff;
}
@inline export function roundingControl(): u32 {
  return (fpuControl() >> 10) & 3;
}
@inline export function precisionControl(): u32 {
  return (fpuControl() >> 8) & 3;
}
@inline export function fpuStatusRaw(): u32 {
  return load<u32>(STATE + S_FPU_STATUS);
}
/** The status word as FSTSW reads it (TOP merged in). */
export function fpuStatusWord(): u32 {
  return (fpuStatusRaw() & ~(<u32>7 << 11)) | (fpuTop() << 11);
}

/**
 * Store the status word (without TOP) and recompute ES and B from the unmasked exception
 * flags. With CR0.NE = 0 a change of ES drives the FERR# output (the PC's IRQ 13 path).
 */
export function setFpuStatus(sw: u32): void {
  const pending = (sw & ~fpuControl() & FSW_EXC) != 0;
  let v = sw & ~(FSW_ES | FSW_B | (<u32>7 << 11));
  if (pending) v |= FSW_ES | FSW_B;
  store<u32>(STATE + S_FPU_STATUS, v);
  const asserted: u32 = pending && (load<u32>(STATE + S_CR0) & CR0_NE) == 0 ? 1 : 0;
  if (asserted != load<u32>(STATE + S_FPU_FERR)) {
    store<u32>(STATE + S_FPU_FERR, asserted);
    ferr(<i32>asserted);
  }
}
export function setFpuControl(cw: u32): void {
  // Bits 6 and 12 read as 1 and 0 on the P6 family: bit 6 is reserved (reads 1 after FINIT's
  // 0x37F), bits 13-15 are reserved and read 0.
  store<u32>(STATE + S_FPU_CONTROL, (cw & 0x1f7f) | 0x40);
  setFpuStatus(fpuStatusRaw());
}
/** Set condition codes (mask selects which) in the status word. */
@inline export function setConditionCodes(mask: u32, value: u32): void {
  store<u32>(STATE + S_FPU_STATUS, (fpuStatusRaw() & ~mask) | (value & mask));
}

/**
 * Record exception flags raised by an instruction. Returns true when one of the flags in
 * `abortMask` is unmasked: the instruction must then leave its destination and TOP alone (the
 * pre-computation exceptions IE, DE and ZE).
 */
export function signalFpu(flags: u32): bool {
  if (flags == 0) return false;
  setFpuStatus(fpuStatusRaw() | flags);
  return (flags & ~fpuControl() & (FSW_IE | FSW_DE | FSW_ZE)) != 0;
}
/** Whether an exception is masked in the control word. */
@inline export function isMasked(flag: u32): bool {
  return (fpuControl() & flag) != 0;
}

/** Stack underflow: IE + SF with C1 = 0. Returns true when the instruction must abort. */
export function stackUnderflow(): bool {
  setConditionCodes(FSW_C1, 0);
  return signalFpu(FSW_IE | FSW_SF);
}
/** Stack overflow (pushing onto a full register): IE + SF with C1 = 1. */
export function stackOverflow(): bool {
  setConditionCodes(FSW_C1, FSW_C1);
  return signalFpu(FSW_IE | FSW_SF);
}

import { resetOperandRecord } from './fpu-arith';

// ---- Instruction entry ----

/** #NM when CR0.EM or CR0.TS is set: the OS emulates the FPU or switches its context lazily. */
@inline export function fpuCheckDevice(): void {
  if (load<u32>(STATE + S_CR0) & (CR0_EM | CR0_TS)) raise(EXC_NM, NO_ERROR_CODE);
}

/**
 * A waiting FPU instruction with an unmasked exception pending: #MF with CR0.NE = 1. With
 * NE = 0 the exception was signalled on FERR# when it occurred (IRQ 13 through the PIC) and the
 * instruction proceeds as if IGNNE# were asserted.
 */
@inline export function fpuCheckPending(): void {
  if ((fpuStatusRaw() & FSW_ES) && (load<u32>(STATE + S_CR0) & CR0_NE)) raise(EXC_MF, NO_ERROR_CODE);
}

/** Entry of a waiting x87 instruction: device-not-available, then a pending exception. */
export function fpuEnter(): void {
  resetOperandRecord();
  fpuCheckDevice();
  fpuCheckPending();
}
/** Entry of a non-waiting (FN*) control instruction. */
export function fpuEnterNoWait(): void {
  fpuCheckDevice();
}

/** FWAIT: #NM only when both TS and MP are set; then any pending unmasked exception. */
export function fpuWait(): void {
  const cr0 = load<u32>(STATE + S_CR0);
  if ((cr0 & (CR0_TS | 2)) == (CR0_TS | 2)) raise(EXC_NM, NO_ERROR_CODE);
  fpuCheckPending();
}

/** Record the last instruction's pointer and opcode (FIP, FCS, FOP) for FSTENV/FSAVE/FXSAVE. */
export function fpuRecord(fop: u32): void {
  store<u32>(STATE + S_FPU_IP, load<u32>(STATE + S_PREV_EIP));
  store<u32>(STATE + S_FPU_CS, segSelector(CS));
  store<u32>(STATE + S_FPU_OPCODE, fop & 0x7ff);
}
/** Record the memory operand's pointer (FDP, FDS) of the last non-control instruction. */
export function fpuRecordData(seg: i32, ea: u32): void {
  store<u32>(STATE + S_FPU_DP, ea);
  store<u32>(STATE + S_FPU_DS, segSelector(seg));
}

/** Enter a waiting register-form instruction and record its pointers. */
export function fpuBegin(fop: u32): void {
  fpuEnter();
  fpuRecord(fop);
}

/** FNINIT / FINIT state (also the tail of FSAVE). FIP, FDP and FOP are cleared as on the P6. */
export function fpuReset(): void {
  store<u32>(STATE + S_FPU_CONTROL, 0x37f);
  setFpuStatus(0);
  setFpuTop(0);
  store<u32>(STATE + S_FPU_TAG, 0xffff);
  store<u32>(STATE + S_FPU_IP, 0);
  store<u32>(STATE + S_FPU_CS, 0);
  store<u32>(STATE + S_FPU_DP, 0);
  store<u32>(STATE + S_FPU_DS, 0);
  store<u32>(STATE + S_FPU_OPCODE, 0);
}

/** The full tag word with the non-empty tags computed from the register contents. */
export function fpuTagWord(): u32 {
  let w: u32 = 0;
  for (let p: u32 = 0; p < 8; p++) {
    let t = tagOf(p);
    if (t != TAG_EMPTY) t = tagFor(load<u64>(regAddr(p)), <u32>load<u16>(regAddr(p) + 8));
    w |= t << (p << 1);
  }
  return w;
}
/** Load a full tag word: only "empty" is taken from it, the rest follows the contents. */
export function setFpuTagWord(w: u32): void {
  let t: u32 = 0;
  for (let p: u32 = 0; p < 8; p++) {
    let tag = (w >> (p << 1)) & 3;
    if (tag != TAG_EMPTY) tag = tagFor(load<u64>(regAddr(p)), <u32>load<u16>(regAddr(p) + 8));
    t |= tag << (p << 1);
  }
  store<u32>(STATE + S_FPU_TAG, t);
}
