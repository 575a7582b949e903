// x87 memory operands: loads and stores of every memory format (m32/m64/m80 real, m16/m32/m64
// integer, m80 packed BCD), the control-word instructions, FSTENV/FLDENV/FSAVE/FRSTOR in the
// 14/28-byte (16/32-bit, real and protected mode) layouts of Intel SDM vol. 1, 8.1.10, and
// FXSAVE/FXRSTOR (SDM vol. 2, FXSAVE, table "Non-64-bit-mode layout").
//
// Conversions to and from memory work on the exact 80-bit register value: a load is exact for
// every format, a store rounds once, by the rounding control, to the destination format.
// Every check that can fault (segment, page, alignment) happens before the FPU state changes.
import {
  STATE, S_FPU_CONTROL, S_FPU_TAG, S_FPU_IP, S_FPU_CS, S_FPU_DP, S_FPU_DS, S_FPU_OPCODE, S_FPU_REGS,
  S_XMM, S_MXCSR, S_CR4, CR4_OSFXSR,
} from './layout';
import {
  FSW_IE, FSW_DE, FSW_OE, FSW_UE, FSW_PE, FSW_C1, FSW_CC, FSW_EXC, INDEF_MANT, INDEF_SE,
  isEmpty, mantOf, seOf, setRaw, fpuPop, fpuPushSlot, fpuTop, setFpuTop, regAddr, tagOf, TAG_EMPTY,
  f64ToExt, extMant, extSe, isNaNExt, isSNaNExt, isUnsupported, isDenormalExt, roundingControl,
  setConditionCodes, signalFpu, isMasked, stackUnderflow, fpuEnter, fpuEnterNoWait, fpuRecord, fpuRecordData,
  fpuControl, fpuStatusWord, fpuStatusRaw, setFpuStatus, setFpuControl, fpuReset, fpuTagWord, setFpuTagWord,
  fpuCheckDevice, physOf, tagFor, extToF64,
} from './fpu';
import {
  arith, fpuArithValue, fpuCompareValue, pushCheck, roundToInteger, roundedMag, roundedInexact, roundedUp, roundedHuge,
  intToExt, intMant, intSe,
} from './fpu-arith';
import { linearForRead, linearForWrite, isRealMode, isV86 } from './segments';
import { readLin8, readLin16, readLin32, writeLin8, writeLin16, writeLin32, probeWrite, probeRead } from './memory';
import { setReg16, EAX } from './regs';
import { gp } from './fault';

// ---- Memory formats ----
export const FMT_M32: u32 = 0; // single real
export const FMT_M64: u32 = 1; // double real
export const FMT_I32: u32 = 2; // dword integer
export const FMT_I16: u32 = 3; // word integer
export const FMT_M80: u32 = 4; // extended real
export const FMT_I64: u32 = 5; // qword integer
export const FMT_BCD: u32 = 6; // packed BCD

@inline function formatBytes(fmt: u32): u32 {
  switch (fmt) {
    case FMT_M32: case FMT_I32: return 4;
    case FMT_I16: return 2;
    case FMT_M64: case FMT_I64: return 8;
    default: return 10;
  }
}

/** Flags raised by converting the last loaded memory operand (IE for SNaN, DE for denormals). */
let loadFlags: u32 = 0;
let loadMant: u64 = 0;
let loadSe: u32 = 0;

/** Read a memory operand and convert it exactly to 80 bits (loadMant/loadSe/loadFlags). */
function readOperand(fmt: u32, seg: i32, ea: u32): void {
  const lin = linearForRead(seg, ea, formatBytes(fmt));
  loadFlags = 0;
  switch (fmt) {
    case FMT_M32: {
      const b = readLin32(lin);
      const neg = (b >> 31) != 0;
      const e = (b >> 23) & 0xff;
      const frac = <u64>(b & 0x7f_ffff);
      const sign: u32 = neg ? 0x8000 : 0;
      if (e == 0xff) {
        loadMant = (<u64>1 << 63) | (frac << 40);
        loadSe = sign | 0x7fff;
        if (frac != 0 && (frac & 0x40_0000) == 0) loadFlags = FSW_IE;
      } else if (e == 0) {
        if (frac == 0) { loadMant = 0; loadSe = sign; } else {
          loadFlags = FSW_DE;
          const lz = <u32>clz<u64>(frac);
          loadMant = frac << <u64>lz;
          // value = frac * 2^-149 = (frac << lz) * 2^(-149 - lz)
          loadSe = sign | <u32>(16383 + 63 - 149 - <i32>lz);
        }
      } else {
        loadMant = (<u64>1 << 63) | (frac << 40);
        loadSe = sign | (e - 127 + 16383);
      }
      break;
    }
    case FMT_M64: {
      const lo = <u64>readLin32(lin);
      const bits = lo | (<u64>readLin32(lin + 4) << 32);
      f64ToExt(reinterpret<f64>(bits));
      loadMant = extMant;
      loadSe = extSe;
      const e = (bits >> 52) & 0x7ff;
      const frac = bits & 0x000f_ffff_ffff_ffff;
      if (e == 0x7ff && frac != 0 && (frac & 0x0008_0000_0000_0000) == 0) loadFlags = FSW_IE;
      if (e == 0 && frac != 0) loadFlags = FSW_DE;
      break;
    }
    case FMT_I16: {
      const v = <i32>(<i16>readLin16(lin));
      intToExt(<u64>(v < 0 ? -v : v), v < 0);
      loadMant = intMant;
      loadSe = intSe;
      break;
    }
    case FMT_I32: {
      const v = <i64>(<i32>readLin32(lin));
      intToExt(<u64>(v < 0 ? -v : v), v < 0);
      loadMant = intMant;
      loadSe = intSe;
      break;
    }
    case FMT_I64: {
      const lo = <u64>readLin32(lin);
      const v = <i64>(lo | (<u64>readLin32(lin + 4) << 32));
      // -2^63 negates to itself; as a u64 it is the right magnitude.
      intToExt(v < 0 ? <u64>(-v) : <u64>v, v < 0);
      loadMant = intMant;
      loadSe = intSe;
      break;
    }
    case FMT_M80: {
      const lo = <u64>readLin32(lin);
      loadMant = lo | (<u64>readLin32(lin + 4) << 32);
      loadSe = readLin16(lin + 8);
      break;
    }
    default: { // packed BCD: 18 digits in bytes 0-8, sign in bit 7 of byte 9
      let v: u64 = 0;
      for (let i: i32 = 8; i >= 0; i--) {
        const b = readLin8(lin + <u32>i);
        v = v * 100 + <u64>((b >> 4) * 10 + (b & 15));
      }
      const neg = (readLin8(lin + 9) & 0x80) != 0;
      intToExt(v, neg);
      loadMant = intMant;
      loadSe = intSe;
      break;
    }
  }
}

/** FLD m32/m64/m80, FILD m16/m32/m64, FBLD m80: push the converted operand. */
export function fpuLoadMem(fmt: u32, seg: i32, ea: u32, fop: u32): void {
  fpuEnter();
  readOperand(fmt, seg, ea);
  fpuRecord(fop);
  fpuRecordData(seg, ea);
  if (!pushCheck()) return;
  // C1 is cleared even when an unmasked invalid operand (an SNaN) stops the load, as the host's
  // FPU does (the SDM leaves C1 unspecified then).
  setConditionCodes(FSW_C1, 0);
  if (signalFpu(loadFlags)) return;
  let m = loadMant;
  if (loadFlags & FSW_IE) m |= <u64>1 << 62; // masked response: the quieted NaN
  fpuPushSlot();
  setRaw(0, m, loadSe);
}

/** FADD..FDIVR with an m32/m64/m16int/m32int operand (op = ModRM.reg). */
export function fpuArithMem(fmt: u32, op: u32, seg: i32, ea: u32, fop: u32): void {
  fpuEnter();
  readOperand(fmt, seg, ea);
  fpuRecord(fop);
  fpuRecordData(seg, ea);
  if (op == 2 || op == 3) {
    fpuCompareValue(loadMant, loadSe, loadFlags, op == 3);
    return;
  }
  const m = extToF64(loadMant, loadSe);
  fpuArithValue(op, m, loadFlags, loadMant, loadSe);
}

// ---- Stores ----

let storeFlags: u32 = 0;

/** Round an integer significand q with dropped bits rem (top bit = one half) by the rounding mode. */
@inline function roundUpNeeded(q: u64, rem: u64, neg: bool, rc: u32): bool {
  if (rem == 0) return false;
  if (rc == 0) return rem > (<u64>1 << 63) || (rem == (<u64>1 << 63) && (q & 1) != 0);
  if (rc == 1) return neg;
  if (rc == 2) return !neg;
  return false;
}

/**
 * Round an 80-bit value to a binary interchange format (fracBits fraction bits, expBits
 * exponent bits) by the rounding control; exceptions go to storeFlags.
 */
function packFloat(m: u64, se: u32, fracBits: i32, expBits: i32): u64 {
  const neg = (se & 0x8000) != 0;
  const e = <i32>(se & 0x7fff);
  const signBit: u64 = neg ? <u64>1 << <u64>(fracBits + expBits) : 0;
  const expMax: i32 = (1 << expBits) - 1;
  const bias: i32 = expMax >> 1;
  const fracMask: u64 = (<u64>1 << <u64>fracBits) - 1;
  const quietBit: u64 = <u64>1 << <u64>(fracBits - 1);
  if (isUnsupported(m, se)) {
    storeFlags |= FSW_IE;
    return (<u64>1 << <u64>(fracBits + expBits)) | (<u64>expMax << <u64>fracBits) | quietBit;
  }
  if (e == 0x7fff) {
    if ((m << 1) == 0) return signBit | (<u64>expMax << <u64>fracBits);
    if ((m & (<u64>1 << 62)) == 0) storeFlags |= FSW_IE;
    const payload = (m >> <u64>(63 - fracBits)) & fracMask;
    return signBit | (<u64>expMax << <u64>fracBits) | payload | quietBit;
  }
  if (m == 0) return signBit;
  // A denormal source is not a denormal-operand exception for a store (SDM, FST: no #D); its
  // tiny value underflows instead.
  const lz = <i32>clz<u64>(m);
  const norm = m << <u64>lz;
  const x = (e == 0 ? 1 : e) - lz - 16383; // unbiased exponent of the leading bit
  let biased = x + bias;
  const rc = roundingControl();
  let q: u64;
  let rem: u64;
  if (biased >= 1) {
    const shift = 63 - fracBits;
    q = norm >> <u64>shift;
    rem = norm << <u64>(64 - shift);
  } else {
    const shift = 63 - fracBits + (1 - biased);
    if (shift < 64) {
      q = norm >> <u64>shift;
      rem = norm << <u64>(64 - shift);
    } else {
      q = 0;
      rem = shift == 64 ? norm : 1; // far below: a sticky bit under one half
    }
    biased = 0;
  }
  if (rem != 0) storeFlags |= FSW_PE;
  // A tiny result underflows when it is inexact, or always when underflow is unmasked (SDM vol. 1, 4.9.1.5).
  if (biased == 0 && (rem != 0 || !isMasked(FSW_UE))) storeFlags |= FSW_UE;
  if (roundUpNeeded(q, rem, neg, rc)) {
    q++;
    storeFlags |= FSW_C1;
    if (biased >= 1 && q == (<u64>1 << <u64>(fracBits + 1))) { q >>= 1; biased++; }
  }
  if (biased >= expMax) {
    storeFlags |= FSW_OE | FSW_PE;
    const toInf = rc == 0 || (rc == 1 && neg) || (rc == 2 && !neg);
    if (toInf) {
      storeFlags |= FSW_C1;
      return signBit | (<u64>expMax << <u64>fracBits);
    }
    storeFlags &= ~FSW_C1;
    return signBit | (<u64>(expMax - 1) << <u64>fracBits) | fracMask;
  }
  if (biased == 0) return signBit | q; // denormal (or the smallest normal after rounding up)
  return signBit | (<u64>biased << <u64>fracBits) | (q & fracMask);
}

/** An integer conversion result: false when the value does not fit (IE). */
let intValue: u64 = 0;
function packInt(m: u64, se: u32, bits: u32): bool {
  if (isNaNExt(m, se) || isUnsupported(m, se) || (se & 0x7fff) == 0x7fff) {
    storeFlags |= FSW_IE;
    return false;
  }
  roundToInteger(m, se, roundingControl());
  const neg = (se & 0x8000) != 0;
  const limit: u64 = <u64>1 << <u64>(bits - 1);
  if (roundedHuge || roundedMag > limit || (roundedMag == limit && !neg)) {
    storeFlags |= FSW_IE;
    return false;
  }
  if (roundedInexact) storeFlags |= FSW_PE;
  if (roundedUp) storeFlags |= FSW_C1;
  intValue = neg ? <u64>(-<i64>roundedMag) : roundedMag;
  return true;
}

/** FST/FSTP m32/m64/m80, FIST/FISTP m16/m32/m64, FBSTP m80. */
export function fpuStoreMem(fmt: u32, pop: bool, seg: i32, ea: u32, fop: u32): void {
  fpuEnter();
  const size = formatBytes(fmt);
  const lin = linearForWrite(seg, ea, size);
  probeWrite(lin, size);
  fpuRecord(fop);
  fpuRecordData(seg, ea);
  let m = mantOf(0);
  let se = seOf(0);
  storeFlags = 0;
  if (isEmpty(0)) {
    setConditionCodes(FSW_C1, 0);
    storeFlags = FSW_IE | 0x40; // stack fault
    m = INDEF_MANT;
    se = INDEF_SE;
  }
  let lo: u64 = 0;
  let hiWord: u32 = 0;
  let ok = true;
  switch (fmt) {
    case FMT_M32: lo = packFloat(m, se, 23, 8); break;
    case FMT_M64: lo = packFloat(m, se, 52, 11); break;
    case FMT_M80: lo = m; hiWord = se; break;
    case FMT_I16: case FMT_I32: case FMT_I64: {
      const bits: u32 = fmt == FMT_I16 ? 16 : fmt == FMT_I32 ? 32 : 64;
      ok = packInt(m, se, bits);
      // The masked invalid response is the integer indefinite (the most negative integer).
      lo = ok ? intValue : <u64>1 << <u64>(bits - 1);
      break;
    }
    default: { // BCD
      ok = packInt(m, se, 64);
      // Beyond 18 digits: invalid, and the rounding that found it reports no PE or C1.
      if (ok && (roundedMag > 999_999_999_999_999_999)) { storeFlags = (storeFlags & ~(FSW_PE | FSW_C1)) | FSW_IE; ok = false; }
      if (ok) {
        let v = roundedMag;
        for (let i: u32 = 0; i < 8; i++) {
          const d = <u32>(v % 100);
          v /= 100;
          lo |= <u64>(((d / 10) << 4) | (d % 10)) << <u64>(i * 8);
        }
        const d8 = <u32>v; // the top two digits go to byte 8, the sign to bit 7 of byte 9
        hiWord = ((d8 / 10) << 4) | (d8 % 10);
        if ((se & 0x8000) != 0) hiWord |= 0x8000;
      } else {
        lo = 0xc000_0000_0000_0000; // BCD indefinite: FFFF C000 0000 0000 0000
        hiWord = 0xffff;
      }
      break;
    }
  }
  let flags = storeFlags & ~FSW_C1;
  let c1 = storeFlags & FSW_C1;
  // Unmasked overflow or underflow: nothing is stored, so no rounding (PE, C1) is reported either.
  if (flags & ~fpuControl() & (FSW_OE | FSW_UE)) {
    flags &= ~FSW_PE;
    c1 = 0;
  }
  setConditionCodes(FSW_C1, c1);
  signalFpu(flags);
  // Unmasked invalid, denormal, overflow or underflow: memory and the stack stay unchanged.
  if (flags & ~fpuControl() & (FSW_IE | FSW_DE | FSW_OE | FSW_UE)) return;
  switch (fmt) {
    case FMT_I16: writeLin16(lin, <u32>lo); break;
    case FMT_M32: case FMT_I32: writeLin32(lin, <u32>lo); break;
    case FMT_M64: case FMT_I64: writeLin32(lin, <u32>lo); writeLin32(lin + 4, <u32>(lo >> 32)); break;
    case FMT_M80: writeLin32(lin, <u32>lo); writeLin32(lin + 4, <u32>(lo >> 32)); writeLin16(lin + 8, hiWord); break;
    default: writeLin32(lin, <u32>lo); writeLin32(lin + 4, <u32>(lo >> 32)); writeLin16(lin + 8, hiWord); break;
  }
  if (pop) fpuPop();
}

// ---- Control words ----

export function fpuLoadControl(seg: i32, ea: u32): void {
  fpuEnter();
  setFpuControl(readLin16(linearForRead(seg, ea, 2)));
}
export function fpuStoreControl(seg: i32, ea: u32): void {
  fpuEnterNoWait();
  writeLin16(linearForWrite(seg, ea, 2), fpuControl());
}
export function fpuStoreStatus(seg: i32, ea: u32): void {
  fpuEnterNoWait();
  writeLin16(linearForWrite(seg, ea, 2), fpuStatusWord());
}
export function fpuStoreStatusAx(): void {
  fpuEnterNoWait();
  setReg16(EAX, fpuStatusWord());
}
export function fpuInit(): void {
  fpuEnterNoWait();
  fpuReset();
}
export function fpuClearExceptions(): void {
  fpuEnterNoWait();
  // Exception flags, stack fault, ES and B clear; the condition codes stay.
  setFpuStatus(fpuStatusRaw() & ~0xff);
}
/** FENI, FDISI, FSETPM: 8087/287 controls that the 387 and later execute as no-ops. */
export function fpuLegacyNop(): void {
  fpuEnterNoWait();
}

// ---- Environment and state images ----

/** Whether the pointer fields use the real-mode layout (linear addresses). */
@inline function realLayout(): bool {
  return isRealMode() || isV86();
}

/** Write the 14/28-byte environment at lin (already checked for writing). Returns its size. */
function writeEnv(lin: u32, o32: bool): u32 {
  const cw = fpuControl();
  const sw = fpuStatusWord();
  const tw = fpuTagWord();
  const ip = load<u32>(STATE + S_FPU_IP);
  const cs = load<u32>(STATE + S_FPU_CS) & 0xffff;
  const dp = load<u32>(STATE + S_FPU_DP);
  const ds = load<u32>(STATE + S_FPU_DS) & 0xffff;
  const op = load<u32>(STATE + S_FPU_OPCODE) & 0x7ff;
  if (realLayout()) {
    const ipLin = (cs << 4) + ip;
    const dpLin = (ds << 4) + dp;
    if (o32) {
      writeLin32(lin, 0xffff_0000 | cw);
      writeLin32(lin + 4, 0xffff_0000 | sw);
      writeLin32(lin + 8, 0xffff_0000 | tw);
      writeLin32(lin + 12, 0xffff_0000 | (ipLin & 0xffff));
      writeLin32(lin + 16, ((ipLin >> 16) << 12) | op);
      writeLin32(lin + 20, 0xffff_0000 | (dpLin & 0xffff));
      writeLin32(lin + 24, (dpLin >> 16) << 12);
      return 28;
    }
    writeLin16(lin, cw);
    writeLin16(lin + 2, sw);
    writeLin16(lin + 4, tw);
    writeLin16(lin + 6, ipLin & 0xffff);
    writeLin16(lin + 8, (((ipLin >> 16) & 0xf) << 12) | op);
    writeLin16(lin + 10, dpLin & 0xffff);
    writeLin16(lin + 12, ((dpLin >> 16) & 0xf) << 12);
    return 14;
  }
  if (o32) {
    writeLin32(lin, 0xffff_0000 | cw);
    writeLin32(lin + 4, 0xffff_0000 | sw);
    writeLin32(lin + 8, 0xffff_0000 | tw);
    writeLin32(lin + 12, ip);
    writeLin32(lin + 16, (op << 16) | cs);
    writeLin32(lin + 20, dp);
    writeLin32(lin + 24, 0xffff_0000 | ds);
    return 28;
  }
  writeLin16(lin, cw);
  writeLin16(lin + 2, sw);
  writeLin16(lin + 4, tw);
  writeLin16(lin + 6, ip & 0xffff);
  writeLin16(lin + 8, cs);
  writeLin16(lin + 10, dp & 0xffff);
  writeLin16(lin + 12, ds);
  return 14;
}

/** Load the environment at lin (already checked for reading). Returns its size. */
function readEnv(lin: u32, o32: bool): u32 {
  let cw: u32, sw: u32, tw: u32, ip: u32, cs: u32, dp: u32, ds: u32, op: u32;
  if (o32) {
    cw = readLin16(lin); sw = readLin16(lin + 4); tw = readLin16(lin + 8);
    if (realLayout()) {
      const w16 = readLin32(lin + 16);
      ip = (readLin16(lin + 12) | ((w16 >> 12) << 16)); op = w16 & 0x7ff;
      dp = (readLin16(lin + 20) | ((readLin32(lin + 24) >> 12) << 16));
      cs = 0; ds = 0;
    } else {
      ip = readLin32(lin + 12);
      const w = readLin32(lin + 16);
      cs = w & 0xffff; op = (w >> 16) & 0x7ff;
      dp = readLin32(lin + 20); ds = readLin16(lin + 24);
    }
  } else {
    cw = readLin16(lin); sw = readLin16(lin + 2); tw = readLin16(lin + 4);
    if (realLayout()) {
      const w = readLin16(lin + 8);
      ip = readLin16(lin + 6) | ((w >> 12) << 16); op = w & 0x7ff;
      dp = readLin16(lin + 10) | ((readLin16(lin + 12) >> 12) << 16);
      cs = 0; ds = 0;
    } else {
      ip = readLin16(lin + 6); cs = readLin16(lin + 8); op = 0;
      dp = readLin16(lin + 10); ds = readLin16(lin + 12);
    }
  }
  store<u32>(STATE + S_FPU_CONTROL, (cw & 0x1f7f) | 0x40);
  setFpuTop((sw >> 11) & 7);
  setFpuStatus(sw);
  setFpuTagWord(tw);
  store<u32>(STATE + S_FPU_IP, ip);
  store<u32>(STATE + S_FPU_CS, cs);
  store<u32>(STATE + S_FPU_DP, dp);
  store<u32>(STATE + S_FPU_DS, ds);
  store<u32>(STATE + S_FPU_OPCODE, op);
  return o32 ? 28 : 14;
}

export function fpuStoreEnv(seg: i32, ea: u32, o32: bool): void {
  fpuEnterNoWait();
  const size: u32 = o32 ? 28 : 14;
  const lin = linearForWrite(seg, ea, size);
  probeWrite(lin, size);
  writeEnv(lin, o32);
  // FSTENV masks all exceptions after saving (so a handler can run FPU code).
  store<u32>(STATE + S_FPU_CONTROL, fpuControl() | 0x3f);
  setFpuStatus(fpuStatusRaw());
}

export function fpuLoadEnv(seg: i32, ea: u32, o32: bool): void {
  fpuEnter();
  const size: u32 = o32 ? 28 : 14;
  const lin = linearForRead(seg, ea, size);
  probeRead(lin, size);
  readEnv(lin, o32);
}

export function fpuSave(seg: i32, ea: u32, o32: bool): void {
  fpuEnterNoWait();
  const size: u32 = o32 ? 108 : 94;
  const lin = linearForWrite(seg, ea, size);
  probeWrite(lin, size);
  let at = lin + writeEnv(lin, o32);
  for (let i: u32 = 0; i < 8; i++) {
    const a = regAddr(physOf(i));
    writeLin32(at, load<u32>(a));
    writeLin32(at + 4, load<u32>(a + 4));
    writeLin16(at + 8, <u32>load<u16>(a + 8));
    at += 10;
  }
  fpuReset();
}

export function fpuRestore(seg: i32, ea: u32, o32: bool): void {
  fpuEnter();
  const size: u32 = o32 ? 108 : 94;
  const lin = linearForRead(seg, ea, size);
  probeRead(lin, size);
  const envSize = o32 ? 28 : 14;
  // Registers first (ST(i) depends on the TOP the environment brings).
  const sw = o32 ? readLin16(lin + 4) : readLin16(lin + 2);
  const top = (sw >> 11) & 7;
  for (let i: u32 = 0; i < 8; i++) {
    const at = lin + envSize + i * 10;
    const a = regAddr((top + i) & 7);
    store<u32>(a, readLin32(at));
    store<u32>(a + 4, readLin32(at + 4));
    store<u16>(a + 8, <u16>readLin16(at + 8));
  }
  readEnv(lin, o32);
}

// ---- FXSAVE / FXRSTOR ----

/** The linear address of a 512-byte FXSAVE area: #GP(0) unless 16-byte aligned. */
function fxArea(seg: i32, ea: u32, write: bool): u32 {
  fpuCheckDevice();
  const lin = write ? linearForWrite(seg, ea, 512) : linearForRead(seg, ea, 512);
  if (lin & 15) gp(0);
  if (write) probeWrite(lin, 512);
  else probeRead(lin, 512);
  return lin;
}

export function fxsave(seg: i32, ea: u32): void {
  const lin = fxArea(seg, ea, true);
  let abridged: u32 = 0;
  for (let p: u32 = 0; p < 8; p++) if (tagOf(p) != TAG_EMPTY) abridged |= 1 << p;
  writeLin32(lin, fpuControl() | (fpuStatusWord() << 16));
  writeLin32(lin + 4, abridged | ((load<u32>(STATE + S_FPU_OPCODE) & 0x7ff) << 16));
  writeLin32(lin + 8, load<u32>(STATE + S_FPU_IP));
  writeLin32(lin + 12, load<u32>(STATE + S_FPU_CS) & 0xffff);
  writeLin32(lin + 16, load<u32>(STATE + S_FPU_DP));
  writeLin32(lin + 20, load<u32>(STATE + S_FPU_DS) & 0xffff);
  const sse = (load<u32>(STATE + S_CR4) & CR4_OSFXSR) != 0;
  if (sse) {
    writeLin32(lin + 24, load<u32>(STATE + S_MXCSR));
    writeLin32(lin + 28, MXCSR_MASK);
  }
  for (let i: u32 = 0; i < 8; i++) {
    const a = regAddr(physOf(i));
    const at = lin + 32 + i * 16;
    writeLin32(at, load<u32>(a));
    writeLin32(at + 4, load<u32>(a + 4));
    writeLin32(at + 8, <u32>load<u16>(a + 8));
    writeLin32(at + 12, 0);
  }
  if (sse) {
    for (let i: u32 = 0; i < 32; i++) writeLin32(lin + 160 + i * 4, load<u32>(STATE + S_XMM + i * 4));
  }
}

/** MXCSR bits this processor implements (DAZ is not). */
const MXCSR_MASK: u32 = 0xffbf;

export function fxrstor(seg: i32, ea: u32): void {
  const lin = fxArea(seg, ea, false);
  const sse = (load<u32>(STATE + S_CR4) & CR4_OSFXSR) != 0;
  const mxcsr = readLin32(lin + 24);
  if (sse && (mxcsr & ~MXCSR_MASK)) gp(0);
  const w0 = readLin32(lin);
  const w1 = readLin32(lin + 4);
  const top = (w0 >> 27) & 7;
  for (let i: u32 = 0; i < 8; i++) {
    const a = regAddr((top + i) & 7);
    const at = lin + 32 + i * 16;
    store<u32>(a, readLin32(at));
    store<u32>(a + 4, readLin32(at + 4));
    store<u16>(a + 8, <u16>readLin16(at + 8));
  }
  store<u32>(STATE + S_FPU_CONTROL, (w0 & 0x1f7f) | 0x40);
  setFpuTop(top);
  // Tags: empty where the abridged bit is clear, otherwise from the register contents.
  let tw: u32 = 0;
  for (let p: u32 = 0; p < 8; p++) {
    let t: u32 = TAG_EMPTY;
    if ((w1 >> p) & 1) t = tagFor(load<u64>(regAddr(p)), <u32>load<u16>(regAddr(p) + 8));
    tw |= t << (p << 1);
  }
  store<u32>(STATE + S_FPU_TAG, tw);
  setFpuStatus(w0 >> 16);
  store<u32>(STATE + S_FPU_OPCODE, (w1 >> 16) & 0x7ff);
  store<u32>(STATE + S_FPU_IP, readLin32(lin + 8));
  store<u32>(STATE + S_FPU_CS, readLin16(lin + 12));
  store<u32>(STATE + S_FPU_DP, readLin32(lin + 16));
  store<u32>(STATE + S_FPU_DS, readLin16(lin + 20));
  if (sse) {
    store<u32>(STATE + S_MXCSR, mxcsr);
    for (let i: u32 = 0; i < 32; i++) store<u32>(STATE + S_XMM + i * 4, readLin32(lin + 160 + i * 4));
  }
}
