// MMX (Intel SDM vol. 1, chapter 9; vol. 2 for each instruction): MM0-MM7 are the 64-bit
// significand fields of the physical x87 registers R0-R7. Every MMX instruction except EMMS
// sets TOP to 0 and marks all tags valid; a write also sets the register's sign/exponent field
// to all ones, so the value reads as a NaN through the x87 and FSAVE/FXSAVE show the MMX data
// in the significand fields. EMMS empties all tags and sets TOP to 0.
// Faults: CR0.EM = 1 gives #UD, CR0.TS = 1 gives #NM, a pending x87 exception gives #MF.
import { STATE, S_CR0, S_FPU_TAG, S_FPU_REGS, CR0_EM, CR0_TS, EXC_NM } from './layout';
import { raise, ud, NO_ERROR_CODE } from './fault';
import { fpuCheckPending, setFpuTop } from './fpu';
import { linearForRead, linearForWrite } from './segments';
import { readLin32, writeLin32, probeWrite } from './memory';
import { reg32, setReg32 } from './regs';

export function mmxEnter(): void {
  const cr0 = load<u32>(STATE + S_CR0);
  if (cr0 & CR0_EM) ud();
  if (cr0 & CR0_TS) raise(EXC_NM, NO_ERROR_CODE);
  fpuCheckPending();
}

/** The x87 side effect of every MMX instruction but EMMS (after its last possible fault). */
@inline function mmxTouch(): void {
  setFpuTop(0);
  store<u32>(STATE + S_FPU_TAG, 0);
}

@inline function mmAddr(r: u32): u32 {
  return STATE + S_FPU_REGS + ((r & 7) << 4);
}
@inline export function mmxGet(r: u32): u64 {
  return load<u64>(mmAddr(r));
}
@inline function mmxSet(r: u32, v: u64): void {
  store<u64>(mmAddr(r), v);
  store<u16>(mmAddr(r) + 8, 0xffff);
  mmxTouch();
}

/** A 64-bit memory source operand. */
export function mmxLoad64(seg: i32, ea: u32): u64 {
  const lin = linearForRead(seg, ea, 8);
  const lo = <u64>readLin32(lin);
  return lo | (<u64>readLin32(lin + 4) << 32);
}
/** A 32-bit memory source operand (MOVD, and PUNPCKL* which read only the low half). */
export function mmxLoad32(seg: i32, ea: u32): u64 {
  return <u64>readLin32(linearForRead(seg, ea, 4));
}

/** EMMS: all tags empty and TOP = 0 (SDM vol. 1, table 9-2). */
export function emms(): void {
  mmxEnter();
  store<u32>(STATE + S_FPU_TAG, 0xffff);
  setFpuTop(0);
}

/** MOVD mm, r/m32 and MOVQ mm, mm/m64 (the source already read). */
export function mmxMove(dst: u32, v: u64): void {
  mmxSet(dst, v);
}
/** MOVD r32, mm. */
export function mmxMovdToReg(r: i32, src: u32): void {
  const v = <u32>mmxGet(src);
  setReg32(r, v);
  mmxTouch();
}
/** MOVD m32, mm and MOVQ m64, mm. */
export function mmxStore(seg: i32, ea: u32, src: u32, bytes: u32): void {
  const lin = linearForWrite(seg, ea, bytes);
  probeWrite(lin, bytes);
  const v = mmxGet(src);
  writeLin32(lin, <u32>v);
  if (bytes == 8) writeLin32(lin + 4, <u32>(v >> 32));
  mmxTouch();
}
/** MOVQ mm/mm (register destination form of 0F 7F: rm = dst). */
export function mmxCopy(dst: u32, src: u32): void {
  mmxSet(dst, mmxGet(src));
}

// ---- Lane helpers ----

@inline function satS8(v: i32): u64 {
  return <u64>(<u8>(v > 127 ? 127 : v < -128 ? -128 : v));
}
@inline function satU8(v: i32): u64 {
  return <u64>(<u8>(v > 255 ? 255 : v < 0 ? 0 : v));
}
@inline function satS16(v: i32): u64 {
  return <u64>(<u16>(v > 32767 ? 32767 : v < -32768 ? -32768 : v));
}
@inline function satU16(v: i32): u64 {
  return <u64>(<u16>(v > 65535 ? 65535 : v < 0 ? 0 : v));
}
@inline function lane(v: u64, i: u32, bits: u32): u64 {
  return (v >> <u64>(i * bits)) & ((<u64>1 << <u64>bits) - 1);
}
@inline function slane8(v: u64, i: u32): i32 {
  return <i32>(<i8>(v >> <u64>(i * 8)));
}
@inline function slane16(v: u64, i: u32): i32 {
  return <i32>(<i16>(v >> <u64>(i * 16)));
}
@inline function slane32(v: u64, i: u32): i64 {
  return <i64>(<i32>(v >> <u64>(i * 32)));
}

/** Element-wise add/sub with wrap-around (size 8/16/32). */
function addLanes(a: u64, b: u64, bits: u32, sub: bool): u64 {
  let r: u64 = 0;
  const n: u32 = 64 / bits;
  const m: u64 = bits == 64 ? <u64>-1 : (<u64>1 << <u64>bits) - 1;
  for (let i: u32 = 0; i < n; i++) {
    const x = lane(a, i, bits);
    const y = lane(b, i, bits);
    r |= ((sub ? x - y : x + y) & m) << <u64>(i * bits);
  }
  return r;
}

function shiftLanes(a: u64, count: u64, bits: u32, kind: u32): u64 {
  // kind 0: logical right, 1: arithmetic right, 2: left.
  if (bits == 64) {
    if (count > 63) return 0;
    return kind == 2 ? a << count : a >> count;
  }
  let r: u64 = 0;
  const n: u32 = 64 / bits;
  const m: u64 = (<u64>1 << <u64>bits) - 1;
  for (let i: u32 = 0; i < n; i++) {
    const x = lane(a, i, bits);
    let y: u64;
    if (kind == 1) {
      const sx: i64 = bits == 16 ? <i64>(<i16>x) : <i64>(<i32>x);
      y = <u64>(sx >> (count > <u64>(bits - 1) ? <i64>(bits - 1) : <i64>count)) & m;
    } else if (count > <u64>(bits - 1)) y = 0;
    else y = (kind == 2 ? x << count : x >> count) & m;
    r |= y << <u64>(i * bits);
  }
  return r;
}

/** The two-operand MMX operations, selected by their 0F opcode byte: dst = dst op src. */
export function mmxBinary(op: u32, dst: u32, src: u64): void {
  const a = mmxGet(dst);
  const b = src;
  let r: u64 = 0;
  switch (op) {
    case 0x60: case 0x68: { // PUNPCKLBW / PUNPCKHBW
      const sh: u64 = op == 0x68 ? 32 : 0;
      for (let i: u32 = 0; i < 4; i++) {
        r |= lane(a >> sh, i, 8) << <u64>(i * 16);
        r |= lane(b >> sh, i, 8) << <u64>(i * 16 + 8);
      }
      break;
    }
    case 0x61: case 0x69: { // PUNPCKLWD / PUNPCKHWD
      const sh: u64 = op == 0x69 ? 32 : 0;
      for (let i: u32 = 0; i < 2; i++) {
        r |= lane(a >> sh, i, 16) << <u64>(i * 32);
        r |= lane(b >> sh, i, 16) << <u64>(i * 32 + 16);
      }
      break;
    }
    case 0x62: r = (a & 0xffff_ffff) | (b << 32); break; // PUNPCKLDQ
    case 0x6a: r = (a >> 32) | (b & 0xffff_ffff_0000_0000); break; // PUNPCKHDQ
    case 0x63: { // PACKSSWB
      for (let i: u32 = 0; i < 4; i++) {
        r |= satS8(slane16(a, i)) << <u64>(i * 8);
        r |= satS8(slane16(b, i)) << <u64>(i * 8 + 32);
      }
      break;
    }
    case 0x67: { // PACKUSWB
      for (let i: u32 = 0; i < 4; i++) {
        r |= satU8(slane16(a, i)) << <u64>(i * 8);
        r |= satU8(slane16(b, i)) << <u64>(i * 8 + 32);
      }
      break;
    }
    case 0x6b: { // PACKSSDW
      for (let i: u32 = 0; i < 2; i++) {
        const x = slane32(a, i);
        const y = slane32(b, i);
        r |= satS16(<i32>(x > 32767 ? 32767 : x < -32768 ? -32768 : x)) << <u64>(i * 16);
        r |= satS16(<i32>(y > 32767 ? 32767 : y < -32768 ? -32768 : y)) << <u64>(i * 16 + 32);
      }
      break;
    }
    case 0x64: case 0x65: case 0x66: case 0x74: case 0x75: case 0x76: { // PCMPGT* / PCMPEQ*
      const bits: u32 = 8 << (op & 3);
      const eq = op >= 0x74;
      const n: u32 = 64 / bits;
      const m: u64 = (<u64>1 << <u64>bits) - 1;
      for (let i: u32 = 0; i < n; i++) {
        let hit: bool;
        if (eq) hit = lane(a, i, bits) == lane(b, i, bits);
        else if (bits == 8) hit = slane8(a, i) > slane8(b, i);
        else if (bits == 16) hit = slane16(a, i) > slane16(b, i);
        else hit = slane32(a, i) > slane32(b, i);
        if (hit) r |= m << <u64>(i * bits);
      }
      break;
    }
    case 0xd1: r = shiftLanes(a, b, 16, 0); break;
    case 0xd2: r = shiftLanes(a, b, 32, 0); break;
    case 0xd3: r = shiftLanes(a, b, 64, 0); break;
    case 0xe1: r = shiftLanes(a, b, 16, 1); break;
    case 0xe2: r = shiftLanes(a, b, 32, 1); break;
    case 0xf1: r = shiftLanes(a, b, 16, 2); break;
    case 0xf2: r = shiftLanes(a, b, 32, 2); break;
    case 0xf3: r = shiftLanes(a, b, 64, 2); break;
    case 0xd5: case 0xe5: { // PMULLW / PMULHW
      for (let i: u32 = 0; i < 4; i++) {
        const p = slane16(a, i) * slane16(b, i);
        r |= <u64>(<u16>(op == 0xd5 ? p : p >> 16)) << <u64>(i * 16);
      }
      break;
    }
    case 0xf5: { // PMADDWD
      for (let i: u32 = 0; i < 2; i++) {
        const s = <i64>slane16(a, 2 * i) * <i64>slane16(b, 2 * i) + <i64>slane16(a, 2 * i + 1) * <i64>slane16(b, 2 * i + 1);
        r |= (<u64>s & 0xffff_ffff) << <u64>(i * 32);
      }
      break;
    }
    case 0xd8: case 0xdc: { // PSUBUSB / PADDUSB
      for (let i: u32 = 0; i < 8; i++) {
        const x = <i32>lane(a, i, 8);
        const y = <i32>lane(b, i, 8);
        r |= satU8(op == 0xdc ? x + y : x - y) << <u64>(i * 8);
      }
      break;
    }
    case 0xd9: case 0xdd: { // PSUBUSW / PADDUSW
      for (let i: u32 = 0; i < 4; i++) {
        const x = <i32>lane(a, i, 16);
        const y = <i32>lane(b, i, 16);
        r |= satU16(op == 0xdd ? x + y : x - y) << <u64>(i * 16);
      }
      break;
    }
    case 0xe8: case 0xec: { // PSUBSB / PADDSB
      for (let i: u32 = 0; i < 8; i++) {
        const x = slane8(a, i);
        const y = slane8(b, i);
        r |= satS8(op == 0xec ? x + y : x - y) << <u64>(i * 8);
      }
      break;
    }
    case 0xe9: case 0xed: { // PSUBSW / PADDSW
      for (let i: u32 = 0; i < 4; i++) {
        const x = slane16(a, i);
        const y = slane16(b, i);
        r |= satS16(op == 0xed ? x + y : x - y) << <u64>(i * 16);
      }
      break;
    }
    case 0xdb: r = a & b; break;
    case 0xdf: r = ~a & b; break;
    case 0xeb: r = a | b; break;
    case 0xef: r = a ^ b; break;
    case 0xf8: r = addLanes(a, b, 8, true); break;
    case 0xf9: r = addLanes(a, b, 16, true); break;
    case 0xfa: r = addLanes(a, b, 32, true); break;
    case 0xfc: r = addLanes(a, b, 8, false); break;
    case 0xfd: r = addLanes(a, b, 16, false); break;
    case 0xfe: r = addLanes(a, b, 32, false); break;
    default: ud();
  }
  mmxSet(dst, r);
}

/** Shift groups 0F 71/72/73 by an immediate: ext 2 logical right, 4 arithmetic right, 6 left. */
export function mmxShiftImm(group: u32, ext: u32, r: u32, count: u32): void {
  const bits: u32 = group == 0x71 ? 16 : group == 0x72 ? 32 : 64;
  const kind: u32 = ext == 2 ? 0 : ext == 4 ? 1 : 2;
  mmxSet(r, shiftLanes(mmxGet(r), <u64>count, bits, kind));
}

/** MOVD's general-register source (ModRM.rm). */
export function mmxReg32(r: i32): u64 {
  return <u64>reg32(r);
}
