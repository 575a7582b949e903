// x87 arithmetic, compares, constants, FCMOV and the register-stack instructions. Values are
// computed in f64 with the rounding control applied exactly at 53 (or, with precision control
// "single", 24) bits: each operation also finds the sign of its rounding error exactly, and the
// result is stepped to the neighbour the rounding mode asks for. See fpu.ts for the limits.
import {
  FSW_IE, FSW_DE, FSW_ZE, FSW_OE, FSW_UE, FSW_PE, FSW_C0, FSW_C1, FSW_C2, FSW_C3, FSW_CC,
  TAG_EMPTY, INDEFINITE, INDEF_MANT, INDEF_SE,
  isEmpty, mantOf, seOf, setRaw, setST, fpuPop, fpuPushSlot, physOf, setTag, tagOf, fpuTop, setFpuTop,
  extToF64, isNaNExt, isSNaNExt, isUnsupported, isDenormalExt,
  roundingControl, precisionControl, setConditionCodes, signalFpu, isMasked, stackUnderflow, stackOverflow,
  fpuBegin, fpuRecord, fpuRecordData,
} from './fpu';
import { condition, setArithFlags } from './flags';
import { CF, ZF, PF, ARITH_FLAGS } from './layout';

// ---- Rounding ----

/** Exception flags gathered while computing one result. */
export let resultFlags: u32 = 0;

/**
 * Round `r` (the f64 nearest to the exact result X, with err = sign(X - r)) to the precision
 * control's significand width (24 bits for "single", 53 otherwise) by the rounding control, and
 * gather PE/UE/OE and C1 in resultFlags. Only the significand is narrowed: the x87 keeps its full
 * exponent range under every precision control, so a 24-bit result is not a float (a value
 * above 2^128 or below 2^-126 is an ordinary result, not an overflow or underflow).
 */
export function roundResult(r: f64, err: i32): f64 {
  return roundToBits(r, err, precisionControl() == 0 ? 24 : 53);
}

/** roundResult at a fixed width (FSCALE is not subject to precision control). */
export function roundToBits(r: f64, err: i32, bits: i32): f64 {
  if (!isFinite(r)) return r;
  const rc = roundingControl();
  const neg = r < 0 || (r == 0 && err < 0);
  const errMag = neg ? -err : err; // sign of |X| - |r|
  const pattern = reinterpret<u64>(r) & 0x7fff_ffff_ffff_ffff;
  // Low bits of the pattern below the kept significand (none at 53 bits: r is already there;
  // a double denormal keeps at most its own bits).
  let drop: i32 = 0;
  if (bits < 53) {
    if (pattern >= 0x0010_0000_0000_0000) drop = 53 - bits;
    else if (pattern != 0) drop = max(0, 63 - <i32>clz<u64>(pattern) - (bits - 1));
  }
  const step: u64 = <u64>1 << <u64>drop;
  const rem = pattern & (step - 1);
  if (rem == 0 && errMag == 0) return r; // exact
  // The two neighbours (magnitudes, as bit patterns) that enclose |X|.
  let lo: u64;
  let hi: u64;
  if (rem == 0 && errMag < 0) { lo = pattern - step; hi = pattern; }
  else { lo = pattern - rem; hi = lo + step; }
  let up: bool; // round the magnitude up to hi
  if (rc == 0) {
    if (drop == 0) up = pattern == hi; // r is already the nearest
    else {
      const half = step >> 1;
      const pos = pattern == hi ? step : rem; // position of |r| above lo
      up = pos > half || (pos == half && (errMag > 0 || (errMag == 0 && ((lo >> <u64>drop) & 1) != 0)));
    }
  } else if (rc == 1) up = neg; // toward -infinity
  else if (rc == 2) up = !neg; // toward +infinity
  else up = false; // toward zero
  const c = up ? hi : lo;
  if (c >= 0x7ff0_0000_0000_0000) return overflowResult(neg, bits);
  resultFlags |= FSW_PE;
  if (up) resultFlags |= FSW_C1;
  // Tiny before rounding (below the double range: WebHVM's documented exponent limit).
  const tiny: u64 = 0x0010_0000_0000_0000;
  if (pattern < tiny || (pattern == tiny && errMag < 0)) resultFlags |= FSW_UE;
  const v = reinterpret<f64>(c);
  return neg ? -v : v;
}

/** Masked overflow response: infinity or the largest finite number of the width, by rounding mode and sign. */
function overflowResult(neg: bool, bits: i32): f64 {
  resultFlags |= FSW_OE | FSW_PE;
  const rc = roundingControl();
  let toInf: bool;
  if (rc == 0) toInf = true;
  else if (rc == 1) toInf = neg;
  else if (rc == 2) toInf = !neg;
  else toInf = false;
  if (toInf) resultFlags |= FSW_C1;
  // The largest double with a `bits`-bit significand.
  const max = reinterpret<f64>(0x7fef_ffff_ffff_ffff & ~((<u64>1 << <u64>(53 - bits)) - 1));
  const m = toInf ? Infinity : max;
  return neg ? -m : m;
}

@inline function resultBits(): i32 {
  return precisionControl() == 0 ? 24 : 53;
}

// Dekker's exact product split: x = hi + lo with 26-bit halves.
let prodErr: f64 = 0;
@inline function twoProduct(a: f64, b: f64): f64 {
  const p = a * b;
  const ca = 134217729.0 * a;
  const ah = ca - (ca - a);
  const al = a - ah;
  const cb = 134217729.0 * b;
  const bh = cb - (cb - b);
  const bl = b - bh;
  prodErr = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
  return p;
}

@inline function exponentOf(x: f64): i32 {
  return <i32>((reinterpret<u64>(x) >> 52) & 0x7ff) - 1023;
}
/** x scaled into [1, 2) (x finite, non-zero, normal or denormal). */
function normalized(x: f64): f64 {
  let e = exponentOf(x);
  if (e == -1023) {
    x *= 1.8014398509481984e16; // 2^54
    e = exponentOf(x) - 54;
  }
  scaleOut = e;
  return reinterpret<f64>((reinterpret<u64>(x) & 0x800f_ffff_ffff_ffff) | (<u64>0x3ff << 52));
}
let scaleOut: i32 = 0;

@inline function sign(x: f64): i32 {
  return x > 0 ? 1 : x < 0 ? -1 : 0;
}

/** a + b with the sign of its rounding error (finite operands). */
export function addSigned(a: f64, b: f64): f64 {
  const s = a + b;
  if (!isFinite(s)) return isFinite(a) && isFinite(b) ? overflowResult(s < 0, resultBits()) : s;
  // An exact zero sum is +0 in every mode but round down, where it is -0 (IEEE 754, 6.3);
  // f64 arithmetic always gives +0. Two zeros of the same sign keep it.
  if (s == 0) {
    const sameSignZeros = a == 0 && b == 0 && (reinterpret<u64>(a) >> 63) == (reinterpret<u64>(b) >> 63);
    return sameSignZeros ? a : roundingControl() == 1 ? -0.0 : 0.0;
  }
  const bb = s - a;
  const e = (a - (s - bb)) + (b - bb);
  return roundResult(s, sign(e));
}

export function mulSigned(a: f64, b: f64): f64 {
  const p = a * b;
  if (!isFinite(p)) return isFinite(a) && isFinite(b) ? overflowResult(p < 0, resultBits()) : p;
  if (a == 0 || b == 0) return roundResult(p, 0);
  const an = normalized(a);
  const ea = scaleOut;
  const bn = normalized(b);
  const eb = scaleOut;
  // Exact product of the scaled operands as hi + lo; compare with p scaled the same way.
  const hi = twoProduct(an, bn);
  const lo = prodErr;
  const ps = scalbnExact(p, -(ea + eb));
  const d = hi - ps; // exact: hi and ps are within a factor of two
  const err = d != 0 ? sign(d + lo) : sign(lo);
  return roundResult(p, err);
}

export function divSigned(a: f64, b: f64): f64 {
  const q = a / b;
  if (!isFinite(q)) return isFinite(a) && b != 0 ? overflowResult(q < 0, resultBits()) : q;
  if (a == 0 || !isFinite(b)) return roundResult(q, 0); // exact zero (also finite / infinity)
  const an = normalized(a);
  const ea = scaleOut;
  const bn = normalized(b);
  const eb = scaleOut;
  // Residual a - q*b of the scaled quotient: its sign times b's sign is the error's sign.
  const qs = scalbnExact(q, eb - ea);
  const p = twoProduct(qs, bn);
  const res = (an - p) - prodErr;
  return roundResult(q, sign(res) * sign(bn));
}

export function sqrtSigned(a: f64): f64 {
  const r = Math.sqrt(a);
  if (a <= 0 || !isFinite(a)) return roundResult(r, 0);
  let an = normalized(a);
  let ea = scaleOut;
  if (ea & 1) { an *= 2; ea -= 1; }
  const rs = scalbnExact(r, -(ea >> 1));
  const p = twoProduct(rs, rs);
  const res = (an - p) - prodErr;
  return roundResult(r, sign(res));
}

/** x * 2^n for a power of two that keeps x within the normal range (so exact). */
function scalbnExact(x: f64, n: i32): f64 {
  while (n > 1000) { x *= 1.0715086071862673e301; n -= 1000; }
  while (n < -1000) { x *= 9.332636185032189e-302; n += 1000; }
  return x * reinterpret<f64>(<u64>(0x3ff + n) << 52);
}

// ---- Operand classification ----

/** Quiet a NaN (sets the quiet bit), keeping sign and payload. */
@inline export function quiet(x: f64): f64 {
  return reinterpret<f64>(reinterpret<u64>(x) | 0x0008_0000_0000_0000);
}
@inline export function isSNaN64(x: f64): bool {
  return x != x && (reinterpret<u64>(x) & 0x0008_0000_0000_0000) == 0;
}

/** NaN propagation for two operands (SDM vol. 1, table 4-7): the larger significand wins. */
export function propagateNaN(a: f64, b: f64): f64 {
  if (isSNaN64(a) || isSNaN64(b)) resultFlags |= FSW_IE;
  if (a != a && b != b) {
    const ma = reinterpret<u64>(a) & 0x000f_ffff_ffff_ffff | 0x0008_0000_0000_0000;
    const mb = reinterpret<u64>(b) & 0x000f_ffff_ffff_ffff | 0x0008_0000_0000_0000;
    if (ma == mb) return quiet(reinterpret<u64>(a) >> 63 == 0 ? a : b);
    return quiet(ma > mb ? a : b);
  }
  return quiet(a != a ? a : b);
}

// Operand register values read for an arithmetic operation (with DE/IE found on the way).
let operandFlags: u32 = 0;

// The exact 80-bit operands of the current instruction (at most two), so a NaN result that came
// from an operand gets that operand's whole 64-bit significand back (see commitResult).
let operandCount: u32 = 0;
let operandMant0: u64 = 0;
let operandSe0: u32 = 0;
let operandMant1: u64 = 0;
let operandSe1: u32 = 0;

/** Forget the recorded operands (at the start of every x87 instruction). */
export function resetOperandRecord(): void {
  operandCount = 0;
}

function recordOperand(m: u64, se: u32): void {
  if (operandCount == 0) { operandMant0 = m; operandSe0 = se; }
  else if (operandCount == 1) { operandMant1 = m; operandSe1 = se; }
  operandCount++;
}

/** If the f64 NaN `v` is the quieted form of a recorded NaN operand, write that operand's exact NaN. */
function restoreNaNPayload(dest: u32, v: f64): bool {
  const bits = reinterpret<u64>(v);
  const frac = bits & 0x000f_ffff_ffff_ffff;
  const sign = <u32>(bits >> 63);
  // With an unsupported operand the result is the indefinite of the invalid operation, even
  // when the other operand is a NaN whose top bits look the same.
  for (let k: u32 = 0; k < operandCount && k < 2; k++) {
    if (isUnsupported(k == 0 ? operandMant0 : operandMant1, k == 0 ? operandSe0 : operandSe1)) return false;
  }
  for (let k: u32 = 0; k < operandCount && k < 2; k++) {
    const m = k == 0 ? operandMant0 : operandMant1;
    const se = k == 0 ? operandSe0 : operandSe1;
    // An unsupported encoding (pseudo-NaN) is an invalid operand: its result is the indefinite.
    if (!isNaNExt(m, se) || isUnsupported(m, se) || ((se >> 15) & 1) != sign) continue;
    const quieted = m | (<u64>1 << 62);
    if (((quieted >> 11) & 0x000f_ffff_ffff_ffff) != frac) continue;
    setRaw(dest, quieted, se);
    return true;
  }
  return false;
}

/** ST(i) as a double for arithmetic; unnormals become the indefinite with IE, denormals set DE. */
export function operandST(i: u32): f64 {
  const m = mantOf(i);
  const se = seOf(i);
  recordOperand(m, se);
  if (isUnsupported(m, se)) {
    operandFlags |= FSW_IE;
    return INDEFINITE;
  }
  if (isDenormalExt(m, se)) operandFlags |= FSW_DE;
  return extToF64(m, se);
}

// ---- The basic arithmetic ----

export const OP_ADD: u32 = 0;
export const OP_MUL: u32 = 1;
export const OP_SUB: u32 = 4;
export const OP_SUBR: u32 = 5;
export const OP_DIV: u32 = 6;
export const OP_DIVR: u32 = 7;

/**
 * dest = a (op) b for the six arithmetic opcodes, with invalid-operation, zero-divide and
 * denormal detection first. Returns the result (flags in resultFlags).
 */
export function arith(op: u32, a: f64, b: f64): f64 {
  let x = a;
  let y = b;
  if (op == OP_SUBR || op == OP_DIVR) { x = b; y = a; }
  if (x != x || y != y) return propagateNaN(x, y);
  switch (op) {
    case OP_ADD: {
      if (!isFinite(x) && !isFinite(y) && x != y) { resultFlags |= FSW_IE; return INDEFINITE; }
      return addSigned(x, y);
    }
    case OP_SUB: case OP_SUBR: {
      if (!isFinite(x) && !isFinite(y) && x == y) { resultFlags |= FSW_IE; return INDEFINITE; }
      return addSigned(x, -y);
    }
    case OP_MUL: {
      if ((x == 0 && !isFinite(y)) || (y == 0 && !isFinite(x))) { resultFlags |= FSW_IE; return INDEFINITE; }
      return mulSigned(x, y);
    }
    default: {
      if ((x == 0 && y == 0) || (!isFinite(x) && !isFinite(y))) { resultFlags |= FSW_IE; return INDEFINITE; }
      if (y == 0 && isFinite(x)) { resultFlags |= FSW_ZE; return x / y; }
      return divSigned(x, y);
    }
  }
}

/**
 * Pre-computation exceptions are reported by priority (SDM vol. 1, 4.9.2): an invalid operation
 * hides a denormal operand and a zero divide, and a zero divide hides a denormal dividend.
 */
@inline function preComputationFlags(flags: u32): u32 {
  if (flags & FSW_IE) return flags & ~(FSW_DE | FSW_ZE);
  return flags & FSW_ZE ? flags & ~FSW_DE : flags;
}

// The NaN result of propagateNaNExt.
let nanMant: u64 = 0;
let nanSe: u32 = 0;

/**
 * x87 NaN propagation on the exact 80-bit operands (SDM vol. 1, table 4-7), so a NaN keeps its
 * whole 64-bit significand (an f64 would lose the low 11 bits). Returns true when the result is a
 * NaN (left in nanMant/nanSe; IE noted in resultFlags for a signaling NaN).
 */
function propagateNaNExt(am: u64, ase: u32, bm: u64, bse: u32): bool {
  const aNaN = isNaNExt(am, ase);
  const bNaN = isNaNExt(bm, bse);
  if (!aNaN && !bNaN) return false;
  const aSignaling = isSNaNExt(am, ase);
  const bSignaling = isSNaNExt(bm, bse);
  if (aSignaling || bSignaling) resultFlags |= FSW_IE;
  let pickA = aNaN;
  if (aNaN && bNaN) {
    // A quiet NaN wins over a signaling one; otherwise the larger significand (then the positive one).
    if (aSignaling != bSignaling) pickA = bSignaling;
    else if (am != bm) pickA = am > bm;
    else pickA = (ase & 0x8000) == 0;
  }
  nanMant = (pickA ? am : bm) | (<u64>1 << 62);
  nanSe = pickA ? ase : bse;
  return true;
}

/** Commit the NaN found by propagateNaNExt, as commitResult does for computed values. */
function commitNaN(dest: u32, pop: bool): void {
  // A NaN operand takes the instruction down the NaN path: a denormal other operand is not reported.
  const flags = preComputationFlags(resultFlags | operandFlags) & ~(FSW_DE | FSW_ZE);
  resultFlags = 0;
  operandFlags = 0;
  setConditionCodes(FSW_C1, 0);
  if (signalFpu(flags & ~FSW_C1)) return;
  setRaw(dest, nanMant, nanSe);
  if (pop) fpuPop();
}

/** An unsupported encoding (unnormal, pseudo-NaN, pseudo-infinity) in either operand. */
function eitherUnsupported(am: u64, ase: u32, bm: u64, bse: u32): bool {
  return isUnsupported(am, ase) || isUnsupported(bm, bse);
}

/**
 * Commit a computed result to ST(dest) unless an unmasked pre-computation exception (IE, DE,
 * ZE) aborts the instruction; pops afterwards when asked. C1 is cleared unless rounding set it.
 */
export function commitResult(dest: u32, v: f64, pop: bool): void {
  const flags = preComputationFlags(resultFlags | operandFlags);
  resultFlags = 0;
  operandFlags = 0;
  setConditionCodes(FSW_C1, flags & FSW_C1);
  if (signalFpu(flags & ~FSW_C1)) return;
  if (v != v && restoreNaNPayload(dest, v)) {
    if (pop) fpuPop();
    return;
  }
  setST(dest, v);
  if (pop) fpuPop();
}

/** Register forms: ST(0) op= ST(i) (toSti false) or ST(i) op= ST(0) (DC/DE, with pop for DE). */
export function fpuArithReg(op: u32, i: u32, toSti: bool, pop: bool, fop: u32): void {
  fpuBegin(fop);
  if (isEmpty(0) || isEmpty(i)) {
    if (stackUnderflow()) return;
    setRaw(toSti ? i : 0, INDEF_MANT, INDEF_SE);
    if (pop) fpuPop();
    return;
  }
  resultFlags = 0;
  operandFlags = 0;
  const st0 = operandST(0);
  const sti = operandST(i);
  if (!eitherUnsupported(mantOf(0), seOf(0), mantOf(i), seOf(i)) && propagateNaNExt(mantOf(0), seOf(0), mantOf(i), seOf(i))) {
    commitNaN(toSti ? i : 0, pop);
    return;
  }
  let v: f64;
  if (operandFlags & FSW_IE) v = INDEFINITE;
  else if (toSti) v = arith(op, sti, st0);
  else v = arith(op, st0, sti);
  commitResult(toSti ? i : 0, v, pop);
}

/** Memory forms: ST(0) op= m (value already converted, srcFlags from the conversion). */
export function fpuArithValue(op: u32, m: f64, srcFlags: u32, mm: u64, mse: u32): void {
  if (isEmpty(0)) {
    if (stackUnderflow()) return;
    setRaw(0, INDEF_MANT, INDEF_SE);
    return;
  }
  resultFlags = 0;
  operandFlags = srcFlags;
  const st0 = operandST(0);
  // An unsupported ST(0) is an invalid operand whatever the other one is: the indefinite.
  if (isUnsupported(mantOf(0), seOf(0))) {
    commitResult(0, INDEFINITE, false);
    return;
  }
  if (propagateNaNExt(mantOf(0), seOf(0), mm, mse)) {
    commitNaN(0, false);
    return;
  }
  const v = (operandFlags & FSW_IE) && m == m ? INDEFINITE : arith(op, st0, m);
  commitResult(0, v, false);
}

// ---- Compares ----

/** Compare two 80-bit values exactly: -1, 0, 1, or 2 for unordered. */
export function compareExt(am: u64, ase: u32, bm: u64, bse: u32): i32 {
  if (isNaNExt(am, ase) || isNaNExt(bm, bse) || isUnsupported(am, ase) || isUnsupported(bm, bse)) return 2;
  const aZero = am == 0 && (ase & 0x7fff) == 0;
  const bZero = bm == 0 && (bse & 0x7fff) == 0;
  if (aZero && bZero) return 0;
  const an = (ase & 0x8000) != 0 && !aZero;
  const bn = (bse & 0x8000) != 0 && !bZero;
  if (an != bn) return an ? -1 : 1;
  // Same sign: compare magnitudes (exponent, then significand; pseudo-denormals compare by value).
  let ae = ase & 0x7fff;
  let be = bse & 0x7fff;
  if (ae == 0) ae = 1;
  if (be == 0) be = 1;
  let mag: i32 = 0;
  if (aZero) mag = -1;
  else if (bZero) mag = 1;
  else {
    // Normalise both so exponents compare (denormals have leading zeros).
    let a = am;
    let b = bm;
    let ea = <i32>ae - <i32>clz<u64>(a);
    let eb = <i32>be - <i32>clz<u64>(b);
    a <<= clz<u64>(a);
    b <<= clz<u64>(b);
    if (ea != eb) mag = ea > eb ? 1 : -1;
    else mag = a == b ? 0 : a > b ? 1 : -1;
  }
  return an ? -mag : mag;
}

/** Condition codes for FCOM-style results: C3 C2 C0. */
@inline function ccFor(r: i32): u32 {
  if (r == 2) return FSW_C3 | FSW_C2 | FSW_C0;
  if (r == 0) return FSW_C3;
  if (r < 0) return FSW_C0;
  return 0;
}

/** Exceptions of a compare: IE for any NaN (FCOM) or SNaN only (FUCOM); DE for denormals. */
function compareFlags(am: u64, ase: u32, bm: u64, bse: u32, unordered: bool): u32 {
  let f: u32 = 0;
  if (isUnsupported(am, ase) || isUnsupported(bm, bse)) f |= FSW_IE;
  if (unordered) {
    if (isSNaNExt(am, ase) || isSNaNExt(bm, bse)) f |= FSW_IE;
  } else if (isNaNExt(am, ase) || isNaNExt(bm, bse)) f |= FSW_IE;
  // A denormal is reported only when both operands are numbers (no NaN, no invalid operand).
  const nan = isNaNExt(am, ase) || isNaNExt(bm, bse);
  if (!nan && !(f & FSW_IE) && (isDenormalExt(am, ase) || isDenormalExt(bm, bse))) f |= FSW_DE;
  return f;
}

/** FCOM/FCOMP/FCOMPP/FUCOM*: compare ST(0) with ST(i); pops = 0, 1 or 2. */
export function fpuCompareReg(i: u32, pops: i32, unordered: bool, fop: u32): void {
  fpuBegin(fop);
  if (isEmpty(0) || isEmpty(i)) {
    setConditionCodes(FSW_CC, FSW_C3 | FSW_C2 | FSW_C0);
    if (stackUnderflow()) return;
  } else {
    compareCommit(mantOf(0), seOf(0), mantOf(i), seOf(i), unordered);
    if (fpuAborted) return;
  }
  for (let k = 0; k < pops; k++) fpuPop();
}

let fpuAborted: bool = false;
function compareCommit(am: u64, ase: u32, bm: u64, bse: u32, unordered: bool): void {
  const f = compareFlags(am, ase, bm, bse, unordered);
  fpuAborted = signalFpu(f);
  if (fpuAborted) return;
  setConditionCodes(FSW_CC, ccFor(compareExt(am, ase, bm, bse)));
}

/** FCOM/FCOMP/FICOM/FICOMP with a memory operand converted to 80 bits (extMant/extSe). */
export function fpuCompareValue(m: u64, se: u32, srcFlags: u32, pop: bool): void {
  if (isEmpty(0)) {
    setConditionCodes(FSW_CC, FSW_C3 | FSW_C2 | FSW_C0);
    if (stackUnderflow()) return;
  } else {
    // A denormal memory operand is not reported when the comparison is with a NaN or invalid.
    const special = isNaNExt(mantOf(0), seOf(0)) || isNaNExt(m, se) || eitherUnsupported(mantOf(0), seOf(0), m, se);
    if (signalFpu(special ? srcFlags & ~FSW_DE : srcFlags)) return;
    compareCommit(mantOf(0), seOf(0), m, se, false);
    if (fpuAborted) return;
  }
  if (pop) fpuPop();
}

/** FCOMI/FCOMIP/FUCOMI/FUCOMIP: the result goes to ZF, PF, CF (OF, SF, AF cleared). */
export function fpuComi(i: u32, unordered: bool, pop: bool, fop: u32): void {
  fpuBegin(fop);
  let r: i32 = 2;
  if (isEmpty(0) || isEmpty(i)) {
    if (stackUnderflow()) return;
  } else {
    const f = compareFlags(mantOf(0), seOf(0), mantOf(i), seOf(i), unordered);
    if (signalFpu(f)) return;
    r = compareExt(mantOf(0), seOf(0), mantOf(i), seOf(i));
  }
  // C1 is written (to 0) only by a stack underflow (Intel SDM, FCOMI); stackUnderflow did that.
  let flags: u32 = 0;
  if (r == 2) flags = ZF | PF | CF;
  else if (r == 0) flags = ZF;
  else if (r < 0) flags = CF;
  setArithFlags(ARITH_FLAGS, flags);
  if (pop) fpuPop();
}

/** FTST: compare ST(0) with +0.0. */
export function fpuTest(fop: u32): void {
  fpuBegin(fop);
  if (isEmpty(0)) {
    setConditionCodes(FSW_CC, FSW_C3 | FSW_C2 | FSW_C0);
    stackUnderflow();
    return;
  }
  compareCommit(mantOf(0), seOf(0), 0, 0, false);
  setConditionCodes(FSW_C1, 0);
}

/** FXAM: classify ST(0) into C3 C2 C0, sign into C1 (also for an empty register). */
export function fpuExamine(fop: u32): void {
  fpuBegin(fop);
  const m = mantOf(0);
  const se = seOf(0);
  const e = se & 0x7fff;
  let cc: u32;
  if (isEmpty(0)) cc = FSW_C3 | FSW_C0;
  else if (e == 0x7fff) {
    if ((m >> 63) == 0) cc = 0; // unsupported
    else cc = (m << 1) == 0 ? FSW_C2 | FSW_C0 : FSW_C0; // infinity : NaN
  } else if (e == 0) cc = m == 0 ? FSW_C3 : FSW_C3 | FSW_C2; // zero : denormal
  else cc = (m >> 63) != 0 ? FSW_C2 : 0; // normal : unnormal (unsupported)
  if (se & 0x8000) cc |= FSW_C1;
  setConditionCodes(FSW_CC, cc);
}

// ---- Moves within the stack ----

/** FLD ST(i): push a copy (exact). */
export function fpuLoadReg(i: u32, fop: u32): void {
  fpuBegin(fop);
  if (isEmpty(i)) {
    // Underflow is reported even when ST(7) is full as well (C1 = 0); the indefinite is pushed.
    if (stackUnderflow()) return;
    fpuPushSlot();
    setRaw(0, INDEF_MANT, INDEF_SE);
    return;
  }
  const m = mantOf(i);
  const se = seOf(i);
  if (!pushCheck()) return;
  fpuPushSlot();
  setRaw(0, m, se);
  setConditionCodes(FSW_C1, 0);
}

/**
 * Before a push: if ST(7) is in use this is a stack overflow; the masked response pushes the
 * indefinite. Returns true when the caller should go on with its push.
 */
export function pushCheck(): bool {
  if (isEmpty(7)) return true;
  stackOverflowPush();
  return false;
}
function stackOverflowPush(): void {
  if (stackOverflow()) return;
  fpuPushSlot();
  setRaw(0, INDEF_MANT, INDEF_SE);
}

/** FST/FSTP ST(i): copy ST(0) (exact), optionally pop. */
export function fpuStoreReg(i: u32, pop: bool, fop: u32): void {
  fpuBegin(fop);
  if (isEmpty(0)) {
    if (stackUnderflow()) return;
    setRaw(i, INDEF_MANT, INDEF_SE);
  } else {
    setRaw(i, mantOf(0), seOf(0));
    setConditionCodes(FSW_C1, 0);
  }
  if (pop) fpuPop();
}

/** FXCH ST(i). An empty operand is an underflow; the masked response swaps in indefinites. */
export function fpuExchange(i: u32, fop: u32): void {
  fpuBegin(fop);
  let am = mantOf(0);
  let ase = seOf(0);
  let bm = mantOf(i);
  let bse = seOf(i);
  if (isEmpty(0) || isEmpty(i)) {
    if (stackUnderflow()) return;
    if (isEmpty(0)) { am = INDEF_MANT; ase = INDEF_SE; }
    if (isEmpty(i)) { bm = INDEF_MANT; bse = INDEF_SE; }
  } else setConditionCodes(FSW_C1, 0);
  setRaw(0, bm, bse);
  setRaw(i, am, ase);
}

/** FFREE ST(i) (and the undocumented FFREEP, which pops as well). */
export function fpuFree(i: u32, pop: bool, fop: u32): void {
  fpuBegin(fop);
  // C0-C3 are undefined (Intel SDM, FFREE); the host's FPU clears C1 and keeps the others.
  setConditionCodes(FSW_C1, 0);
  setTag(physOf(i), TAG_EMPTY);
  if (pop) setFpuTop(fpuTop() + 1);
}

export function fpuIncStp(fop: u32): void {
  fpuBegin(fop);
  setConditionCodes(FSW_C1, 0);
  setFpuTop(fpuTop() + 1);
}
export function fpuDecStp(fop: u32): void {
  fpuBegin(fop);
  setConditionCodes(FSW_C1, 0);
  setFpuTop(fpuTop() - 1);
}
export function fpuNop(fop: u32): void {
  fpuBegin(fop);
}

/** FCMOVcc: ST(0) = ST(i) when the EFLAGS condition (Jcc encoding) holds. */
export function fpuCmov(cc: u32, i: u32, fop: u32): void {
  fpuBegin(fop);
  if (isEmpty(0) || isEmpty(i)) {
    if (stackUnderflow()) return;
    setRaw(0, INDEF_MANT, INDEF_SE);
    return;
  }
  // C1 is written only on stack underflow (Intel SDM, FCMOVcc); otherwise it keeps its value.
  if (condition(cc)) setRaw(0, mantOf(i), seOf(i));
}

// ---- Sign, absolute value ----

export function fpuChs(fop: u32): void {
  fpuBegin(fop);
  if (isEmpty(0)) {
    if (stackUnderflow()) return;
    setRaw(0, INDEF_MANT, INDEF_SE);
    return;
  }
  setConditionCodes(FSW_C1, 0);
  setRaw(0, mantOf(0), seOf(0) ^ 0x8000);
}
export function fpuAbs(fop: u32): void {
  fpuBegin(fop);
  if (isEmpty(0)) {
    if (stackUnderflow()) return;
    setRaw(0, INDEF_MANT, INDEF_SE);
    return;
  }
  setConditionCodes(FSW_C1, 0);
  setRaw(0, mantOf(0), seOf(0) & 0x7fff);
}

// ---- Constants (rounded by the rounding control, as on the 387 and later) ----

/** FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ (D9 E8-EE, index = ModRM.rm). */
export function fpuConstant(index: u32, fop: u32): void {
  fpuBegin(fop);
  if (!pushCheck()) return;
  const rc = roundingControl();
  const downOrChop = rc == 1 || rc == 3;
  let m: u64 = 0;
  let se: u32 = 0;
  switch (index) {
    case 0: m = 0x8000_0000_0000_0000; se = 0x3fff; break;
    // log2(10) = D49A784BCD1B8AFE.4F...: round to nearest goes down, so only "up" adds one.
    case 1: m = 0xd49a_784b_cd1b_8afe + (rc == 2 ? 1 : 0); se = 0x4000; break;
    // The other four round up to nearest: "down" and "chop" take the value below.
    case 2: m = 0xb8aa_3b29_5c17_f0bc - (downOrChop ? 1 : 0); se = 0x3fff; break;
    case 3: m = 0xc90f_daa2_2168_c235 - (downOrChop ? 1 : 0); se = 0x4000; break;
    case 4: m = 0x9a20_9a84_fbcf_f799 - (downOrChop ? 1 : 0); se = 0x3ffd; break;
    case 5: m = 0xb172_17f7_d1cf_79ac - (downOrChop ? 1 : 0); se = 0x3ffe; break;
    default: m = 0; se = 0; break;
  }
  fpuPushSlot();
  setRaw(0, m, se);
  setConditionCodes(FSW_C1, 0);
}

// ---- Exact operations on the 80-bit format ----

/** Round a value to an integer by the rounding control: results in roundedMag/roundedInexact. */
export let roundedMag: u64 = 0;
export let roundedInexact: bool = false;
export let roundedUp: bool = false;
/** Magnitude too large for 64 bits. */
export let roundedHuge: bool = false;

export function roundToInteger(m: u64, se: u32, rc: u32): void {
  const neg = (se & 0x8000) != 0;
  const e = <i32>(se & 0x7fff);
  const exp = (e == 0 ? 1 : e) - 16383;
  roundedInexact = false;
  roundedUp = false;
  roundedHuge = false;
  if (m == 0) { roundedMag = 0; return; }
  if (exp >= 64) { roundedHuge = true; roundedMag = m; return; }
  if (exp == 63) { roundedMag = m; return; }
  let q: u64;
  let rem: u64;
  if (exp < 0) {
    q = 0;
    // The value m * 2^(exp - 63) is below 1: as a 64-bit binary fraction it is m * 2^(exp + 1)
    // (exactly m for exp = -1, a value in [0.5, 1)), with a sticky bit for what is shifted out.
    const sh = -exp - 1;
    if (sh == 0) rem = m;
    else rem = sh >= 64 ? 1 : (m >> <u64>sh) | ((m << <u64>(64 - sh)) != 0 ? 1 : 0);
  } else {
    const sh = 63 - exp;
    q = m >> <u64>sh;
    rem = m << <u64>(64 - sh);
  }
  if (rem == 0) { roundedMag = q; return; }
  roundedInexact = true;
  const half: u64 = <u64>1 << 63;
  let up = false;
  if (rc == 0) up = rem > half || (rem == half && (q & 1) != 0);
  else if (rc == 1) up = neg;
  else if (rc == 2) up = !neg;
  if (up) {
    q++;
    roundedUp = true;
    if (q == 0) roundedHuge = true;
  }
  roundedMag = q;
}

/** Results of intToExt. */
export let intMant: u64 = 0;
export let intSe: u32 = 0;

/** The 80-bit encoding of an integer magnitude with a sign (exact), in intMant/intSe. */
export function intToExt(mag: u64, neg: bool): void {
  const sign: u32 = neg ? 0x8000 : 0;
  if (mag == 0) {
    intMant = 0;
    intSe = sign;
    return;
  }
  const lz = clz<u64>(mag);
  intMant = mag << lz;
  intSe = sign | (16383 + 63 - <u32>lz);
}

/** FRNDINT: round ST(0) to an integer by the rounding control (exact on the 80-bit value). */
export function fpuRoundInt(fop: u32): void {
  fpuBegin(fop);
  if (isEmpty(0)) {
    if (stackUnderflow()) return;
    setRaw(0, INDEF_MANT, INDEF_SE);
    return;
  }
  const m = mantOf(0);
  const se = seOf(0);
  setConditionCodes(FSW_C1, 0); // set again below only when the result was rounded up
  if (isNaNExt(m, se) || isUnsupported(m, se)) {
    if (isSNaNExt(m, se) || isUnsupported(m, se)) {
      if (signalFpu(FSW_IE)) return;
      setRaw(0, isUnsupported(m, se) ? INDEF_MANT : m | (<u64>1 << 62), isUnsupported(m, se) ? INDEF_SE : se);
    }
    return;
  }
  if ((se & 0x7fff) == 0x7fff) return; // infinity stays
  roundToInteger(m, se, roundingControl());
  let f: u32 = isDenormalExt(m, se) ? FSW_DE : 0;
  if (roundedInexact) f |= FSW_PE;
  setConditionCodes(FSW_C1, roundedUp ? FSW_C1 : 0);
  if (signalFpu(f)) return;
  if (roundedHuge && !roundedInexact) return; // already an integer
  intToExt(roundedMag, (se & 0x8000) != 0);
  setRaw(0, intMant, intSe);
}

/** FXTRACT: ST(0) = exponent, then push the significand (with exponent 0). */
export function fpuExtract(fop: u32): void {
  fpuBegin(fop);
  if (isEmpty(0)) {
    // The masked response pushes a second indefinite even onto a full ST(7) (C1 stays 0).
    if (stackUnderflow()) return;
    setRaw(0, INDEF_MANT, INDEF_SE);
    fpuPushSlot();
    setRaw(0, INDEF_MANT, INDEF_SE);
    return;
  }
  if (!isEmpty(7)) {
    if (stackOverflow()) return;
    setRaw(0, INDEF_MANT, INDEF_SE);
    fpuPushSlot();
    setRaw(0, INDEF_MANT, INDEF_SE);
    return;
  }
  let m = mantOf(0);
  let se = seOf(0);
  const e = se & 0x7fff;
  setConditionCodes(FSW_C1, 0); // NaN, infinity, zero and numbers alike
  if (isNaNExt(m, se) || isUnsupported(m, se)) {
    if (isSNaNExt(m, se) || isUnsupported(m, se)) {
      if (signalFpu(FSW_IE)) return;
      if (isUnsupported(m, se)) { m = INDEF_MANT; se = INDEF_SE; } else m |= <u64>1 << 62;
    }
    setRaw(0, m, se);
    fpuPushSlot();
    setRaw(0, m, se);
    return;
  }
  if (e == 0x7fff) { // infinity: exponent +inf, significand the infinity
    setST(0, Infinity);
    fpuPushSlot();
    setRaw(0, m, se);
    return;
  }
  if (m == 0) { // zero: ZE, exponent -inf, significand the zero
    if (signalFpu(FSW_ZE)) return;
    setST(0, -Infinity);
    fpuPushSlot();
    setRaw(0, m, se);
    return;
  }
  let exp = (e == 0 ? 1 : <i32>e) - 16383;
  let f: u32 = 0;
  if (e == 0) {
    f = FSW_DE;
    const lz = <i32>clz<u64>(m);
    m <<= <u64>lz;
    exp -= lz;
  }
  if (signalFpu(f)) return;
  setST(0, <f64>exp);
  fpuPushSlot();
  setRaw(0, m, (se & 0x8000) | 0x3fff);
  setConditionCodes(FSW_C1, 0);
}

/** FSCALE: ST(0) = ST(0) * 2^trunc(ST(1)). */
export function fpuScale(fop: u32): void {
  fpuBegin(fop);
  if (isEmpty(0) || isEmpty(1)) {
    if (stackUnderflow()) return;
    setRaw(0, INDEF_MANT, INDEF_SE);
    return;
  }
  resultFlags = 0;
  operandFlags = 0;
  const a = operandST(0);
  const b = operandST(1);
  if (!eitherUnsupported(mantOf(0), seOf(0), mantOf(1), seOf(1)) && propagateNaNExt(mantOf(0), seOf(0), mantOf(1), seOf(1))) {
    commitNaN(0, false);
    return;
  }
  let v: f64;
  if (operandFlags & FSW_IE) v = INDEFINITE;
  else if (!isFinite(b)) {
    if (b > 0) {
      if (a == 0) { resultFlags |= FSW_IE; v = INDEFINITE; } else v = a * Infinity;
    } else {
      if (!isFinite(a)) { resultFlags |= FSW_IE; v = INDEFINITE; } else v = a * 0;
    }
  } else if (a == 0 || !isFinite(a)) v = a;
  else {
    const n = Math.trunc(b);
    const k: i32 = n > 100000 ? 100000 : n < -100000 ? -100000 : <i32>n;
    v = scaleResult(a, k);
  }
  commitResult(0, v, false);
}

/** a * 2^k with overflow/underflow and the rounding mode applied (denormal results round). */
function scaleResult(a: f64, k: i32): f64 {
  const an = normalized(a);
  let e = scaleOut + k;
  if (e > 1023) return overflowResult(a < 0, 53);
  if (e >= -1022) return scalbnExact(an, e); // exact
  if (e < -1080) e = -1080; // rounds to zero or the smallest denormal either way
  // Two steps so the single rounding happens in the last multiplication; then find the sign of
  // the error by scaling back (exact: the result is a multiple of 2^-1074).
  const r = (an * reinterpret<f64>(<u64>(0x3ff - 1000) << 52)) * reinterpret<f64>(<u64>(0x3ff + e + 1000) << 52);
  const back = scalbnExact(r, -e);
  return roundToBits(r, sign(an - back), 53);
}

export function takeOperandFlags(): u32 {
  const f = operandFlags;
  operandFlags = 0;
  return f;
}
export function setOperandFlags(f: u32): void {
  operandFlags = f;
}

/** FSQRT. */
export function fpuSqrt(fop: u32): void {
  fpuBegin(fop);
  if (isEmpty(0)) {
    if (stackUnderflow()) return;
    setRaw(0, INDEF_MANT, INDEF_SE);
    return;
  }
  resultFlags = 0;
  operandFlags = 0;
  const a = operandST(0);
  if (!isUnsupported(mantOf(0), seOf(0)) && propagateNaNExt(mantOf(0), seOf(0), mantOf(0), seOf(0))) {
    commitNaN(0, false);
    return;
  }
  let v: f64;
  if (operandFlags & FSW_IE) v = INDEFINITE;
  else if (a < 0) { resultFlags |= FSW_IE; v = INDEFINITE; } // sqrt(-0) = -0 is fine (a < 0 false)
  else v = sqrtSigned(a);
  commitResult(0, v, false);
}

/** FPREM (truncating, ext 7 rm 0) and FPREM1 (IEEE, ext 6 rm 5): quotient bits in C0 C3 C1. */
export function fpuPartialRemainder(ieee: bool, fop: u32): void {
  fpuBegin(fop);
  if (isEmpty(0) || isEmpty(1)) {
    setConditionCodes(FSW_C2, 0);
    if (stackUnderflow()) return;
    setRaw(0, INDEF_MANT, INDEF_SE);
    return;
  }
  resultFlags = 0;
  operandFlags = 0;
  const x = operandST(0);
  const y = operandST(1);
  // A NaN or invalid operation has no quotient: C1 and C2 are cleared, C0 and C3 kept (as the
  // host's FPU does; the SDM leaves them unspecified).
  if (!eitherUnsupported(mantOf(0), seOf(0), mantOf(1), seOf(1)) && propagateNaNExt(mantOf(0), seOf(0), mantOf(1), seOf(1))) {
    setConditionCodes(FSW_C2, 0);
    commitNaN(0, false);
    return;
  }
  let v: f64;
  let cc: u32 = 0;
  let ccMask: u32 = FSW_CC;
  if (operandFlags & FSW_IE) { v = INDEFINITE; ccMask = FSW_C1 | FSW_C2; }
  else if (x != x || y != y) { v = propagateNaN(x, y); ccMask = FSW_C1 | FSW_C2; }
  else if (!isFinite(x) || y == 0) { resultFlags |= FSW_IE; v = INDEFINITE; ccMask = FSW_C1 | FSW_C2; }
  else if (!isFinite(y) || x == 0) v = x;
  else {
    // fmod is exact; the low quotient bits come from the remainder modulo 8|y|.
    const ay = Math.abs(y);
    let r = x % ay; // sign of x, |r| < |y|
    const y8 = ay * 8;
    let q: i32;
    if (isFinite(y8)) {
      const r8 = x % y8;
      q = <i32>Math.round(Math.abs(r8 - r) / ay) & 7;
    } else q = 0;
    if (ieee) {
      const ar = Math.abs(r);
      const half = ay / 2; // exact unless ay is the smallest denormal (then ar is 0)
      if (ar > half || (ar == half && (q & 1) != 0)) {
        r = r > 0 ? r - ay : r + ay; // exact (Sterbenz)
        q = (q + 1) & 7;
      }
    }
    if (r == 0) r = x < 0 ? -0.0 : 0.0;
    v = r;
    if (q & 1) cc |= FSW_C1;
    if (q & 2) cc |= FSW_C3;
    if (q & 4) cc |= FSW_C0;
  }
  const flags = resultFlags | operandFlags;
  resultFlags = 0;
  operandFlags = 0;
  if (signalFpu(flags & ~FSW_C1)) {
    // An unmasked invalid operation leaves ST(0) alone but still clears C1 and C2 (as the
    // host's FPU does; the SDM leaves them unspecified).
    setConditionCodes(FSW_C1 | FSW_C2, 0);
    return;
  }
  setConditionCodes(ccMask, cc);
  setST(0, v);
}

/** Record the instruction's pointers and its memory operand (FDP/FDS) after the operand was read. */
export function fpuMemRecord(fop: u32, seg: i32, ea: u32): void {
  fpuRecord(fop);
  fpuRecordData(seg, ea);
}
