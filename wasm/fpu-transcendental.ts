// x87 transcendental instructions computed with the f64 Math functions (errors of a few ulps
// of a double, where the FPU promises under one ulp of extended precision; see fpu.ts).
// Arguments of FSIN/FCOS/FSINCOS/FPTAN outside ±2^63 leave ST(0) unchanged with C2 = 1.
import {
  FSW_IE, FSW_ZE, FSW_C1, FSW_C2, INDEFINITE, INDEF_MANT, INDEF_SE,
  isEmpty, setRaw, fpuPop, fpuPushSlot, setConditionCodes, signalFpu, stackUnderflow, stackOverflow, fpuBegin,
} from './fpu';
import { operandST, propagateNaN, commitResult, takeOperandFlags, setOperandFlags } from './fpu-arith';

const TWO_63: f64 = 9.223372036854775808e18;
const LN2: f64 = 0.6931471805599453;

function underflowAbort(): bool {
  if (isEmpty(0)) {
    if (stackUnderflow()) return true;
    setRaw(0, INDEF_MANT, INDEF_SE);
    return true;
  }
  return false;
}

/** FSIN (kind 0), FCOS (kind 1), FPTAN (kind 2), FSINCOS (kind 3). */
export function fpuTrig(kind: u32, fop: u32): void {
  fpuBegin(fop);
  if (isEmpty(0)) {
    if (stackUnderflow()) return;
    setRaw(0, INDEF_MANT, INDEF_SE);
    if (kind >= 2 && isEmpty(7)) { fpuPushSlot(); setRaw(0, INDEF_MANT, INDEF_SE); }
    return;
  }
  if (kind >= 2 && !isEmpty(7)) {
    // Pushing the second result would overflow the stack.
    if (stackOverflow()) return;
    setRaw(0, INDEF_MANT, INDEF_SE);
    fpuPushSlot();
    setRaw(0, INDEF_MANT, INDEF_SE);
    return;
  }
  setOperandFlags(0);
  const x = operandST(0);
  let f = takeOperandFlags();
  if (x == x && isFinite(x) && Math.abs(x) >= TWO_63) {
    if (signalFpu(f)) return;
    setConditionCodes(FSW_C1 | FSW_C2, FSW_C2);
    return;
  }
  let a: f64;
  let b: f64 = 1.0;
  if (f & FSW_IE) { a = INDEFINITE; b = INDEFINITE; }
  else if (x != x) { a = propagateNaN(x, x); b = a; }
  else if (!isFinite(x)) { f |= FSW_IE; a = INDEFINITE; b = INDEFINITE; }
  else if (kind == 0) a = Math.sin(x);
  else if (kind == 1) a = Math.cos(x);
  else if (kind == 2) a = Math.tan(x);
  else { a = Math.sin(x); b = Math.cos(x); }
  // A zero argument gives exact results; everything else is inexact.
  if (x != 0 && x == x && isFinite(x) && !(f & FSW_IE)) f |= 0x20;
  setConditionCodes(FSW_C1 | FSW_C2, 0);
  if (signalFpu(f)) return;
  if (kind == 0 || kind == 1) {
    setST0(a);
  } else if (kind == 2) {
    setST0(a);
    fpuPushSlot();
    setST0(b);
  } else {
    setST0(a);
    fpuPushSlot();
    setST0(b);
  }
}

function setST0(v: f64): void {
  setOperandFlags(0);
  commitResult(0, v, false);
}

/** FPATAN (0), FYL2X (1), FYL2XP1 (2): ST(1) = f(ST(1), ST(0)), then pop. */
export function fpuBinaryTranscendental(kind: u32, fop: u32): void {
  fpuBegin(fop);
  if (isEmpty(0) || isEmpty(1)) {
    if (stackUnderflow()) return;
    setRaw(1, INDEF_MANT, INDEF_SE);
    fpuPop();
    return;
  }
  setOperandFlags(0);
  const x = operandST(0);
  const y = operandST(1);
  let f = takeOperandFlags();
  let v: f64;
  if (f & FSW_IE) v = INDEFINITE;
  else if (x != x || y != y) { v = propagateNaN(y, x); }
  else if (kind == 0) {
    v = Math.atan2(y, x);
    if (y != 0 || !isFinite(x)) f |= 0x20;
  } else if (kind == 1) {
    if (x < 0 || (x == 0 && y == 0) || (x == 1 && !isFinite(y)) || (!isFinite(x) && y == 0)) { f |= FSW_IE; v = INDEFINITE; }
    else if (x == 0) { f |= FSW_ZE; v = y > 0 ? -Infinity : Infinity; }
    else {
      v = y * Math.log2(x);
      if (v != Math.floor(v)) f |= 0x20;
    }
  } else {
    if (x < -1 || (x == 0 && !isFinite(y))) { f |= FSW_IE; v = INDEFINITE; }
    else {
      v = y * (Math.log1p(x) / LN2);
      if (x != 0) f |= 0x20;
    }
  }
  setConditionCodes(FSW_C1, 0);
  if (signalFpu(f)) return;
  setOperandFlags(0);
  commitResult(1, v, true);
}

/** F2XM1: ST(0) = 2^ST(0) - 1 (defined for -1 <= ST(0) <= +1). */
export function fpuF2xm1(fop: u32): void {
  fpuBegin(fop);
  if (underflowAbort()) return;
  setOperandFlags(0);
  const x = operandST(0);
  let f = takeOperandFlags();
  let v: f64;
  if (f & FSW_IE) v = INDEFINITE;
  else if (x != x) v = propagateNaN(x, x);
  else if (x == Infinity) v = x;
  else if (x == -Infinity) v = -1.0;
  else {
    v = Math.expm1(x * LN2);
    if (x != 0 && x != 1 && x != -1) f |= 0x20;
  }
  setConditionCodes(FSW_C1, 0);
  if (signalFpu(f)) return;
  setOperandFlags(0);
  commitResult(0, v, false);
}
