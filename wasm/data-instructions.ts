// Data movement and conversion instructions that need more than a template: CMPXCHG/CMPXCHG8B,
// CBW/CWD, XLAT, BOUND, LDS-family, MOV to segment registers, SGDT/SIDT, bit-string addressing.
import { STATE, S_EFLAGS, DF, ZF, CS, SS, EXC_BR, S_GDTR_BASE } from './layout';
import { reg8, reg16, reg32, setReg8, setReg16, setReg32, segSelector, EAX, EBX, ECX, EDX } from './regs';
import { sub, signExtend, maskOf } from './alu';
import { setArithFlags } from './flags';
import { readMem16, readMem32, readMem8, writeMem16, writeMem32, addrsize32, addrMask, dataSeg, rmwLinear } from './decode';
import { readLin32, writeLin32 } from './memory';
import { loadSegment, segAttr, linearForRead } from './segments';
import { raise, ud, NO_ERROR_CODE } from './fault';
import { beginInterruptShadow } from './cpu';
import { getReg, setReg } from './decode';

/** CMPXCHG: compare the accumulator with the destination; returns the destination's new value. */
export function cmpxchg(d: u32, s: u32, size: u32): u32 {
  const acc = getReg(0, size);
  sub(acc, d, size);
  if (acc == d) return s;
  setReg(0, size, d);
  return d; // the destination is written back unchanged, as the locked cycle does
}

export function cmpxchg8b(seg: i32, ea: u32): void {
  const lin = rmwLinear(seg, ea, 8);
  const lo = readLin32(lin);
  const hi = readLin32(lin + 4);
  if (lo == reg32(EAX) && hi == reg32(EDX)) {
    writeLin32(lin, reg32(EBX));
    writeLin32(lin + 4, reg32(ECX));
    setArithFlags(ZF, ZF);
  } else {
    writeLin32(lin, lo);
    writeLin32(lin + 4, hi);
    setReg32(EAX, lo);
    setReg32(EDX, hi);
    setArithFlags(ZF, 0);
  }
}

/** CBW / CWDE. */
export function convertAccumulator(size32: bool): void {
  if (size32) setReg32(EAX, <u32>(<i32>(<i16>reg16(EAX))));
  else setReg16(EAX, <u32>(<i32>(<i8>reg8(0))));
}
/** CWD / CDQ. */
export function convertToDouble(size32: bool): void {
  if (size32) setReg32(EDX, reg32(EAX) & 0x8000_0000 ? 0xffff_ffff : 0);
  else setReg16(EDX, reg16(EAX) & 0x8000 ? 0xffff : 0);
}

export function xlat(): void {
  const off = addrMask(reg32(EBX) + reg8(0));
  setReg8(0, readMem8(dataSeg(), off));
}

export function bound(index: u32, seg: i32, ea: u32, size32: bool): void {
  if (size32) {
    const lo = <i32>readMem32(seg, ea);
    const hi = <i32>readMem32(seg, addrMask(ea + 4));
    if (<i32>index < lo || <i32>index > hi) raise(EXC_BR, NO_ERROR_CODE);
  } else {
    const lo = <i32>(<i16>readMem16(seg, ea));
    const hi = <i32>(<i16>readMem16(seg, addrMask(ea + 2)));
    const i = <i32>(<i16>index);
    if (i < lo || i > hi) raise(EXC_BR, NO_ERROR_CODE);
  }
}

export function readFarOffset(seg: i32, ea: u32, size32: bool): u32 {
  return size32 ? readMem32(seg, ea) : readMem16(seg, ea);
}
export function readFarSelector(seg: i32, ea: u32, size32: bool): u32 {
  return readMem16(seg, addrMask(ea + (size32 ? 4 : 2)));
}

/** LDS/LES/LSS/LFS/LGS: the segment load (which may fault) happens before the register write. */
export function loadFarPointer(target: i32, reg: i32, seg: i32, ea: u32, size32: bool): void {
  const offset = readFarOffset(seg, ea, size32);
  const selector = readFarSelector(seg, ea, size32);
  loadSegment(target, selector);
  if (size32) setReg32(reg, offset);
  else setReg16(reg, offset);
  if (target == SS) beginInterruptShadow();
}

/** The segment register named by ModRM.reg; 6 and 7 do not exist. */
export function segmentOperand(modrm: u32): u32 {
  const r = (modrm >> 3) & 7;
  if (r > 5) ud();
  return segSelector(<i32>r);
}

export function moveToSegment(reg: u32, selector: u32): void {
  if (reg > 5 || reg == <u32>CS) ud();
  loadSegment(<i32>reg, selector);
  if (reg == <u32>SS) beginInterruptShadow();
}

/** SGDT/SIDT: 16-bit limit then 32-bit base (the top byte is written as 0 with 16-bit operand size on 386+: stored as is here). */
export function storeTableRegister(seg: i32, ea: u32, baseOffset: u32): void {
  writeMem16(seg, ea, load<u32>(STATE + baseOffset + 4));
  writeMem32(seg, addrMask(ea + 2), load<u32>(STATE + baseOffset));
}

/** BT/BTS/BTR/BTC with a register bit offset address the bit string from the operand. */
export function bitBaseAddress(ea: u32, bitOffset: u32, size: u32): u32 {
  const shift: u32 = size == 32 ? 5 : 4;
  const words = signExtend(bitOffset, size) >> shift;
  return addrMask(ea + <u32>(words * <i32>(size >> 3)));
}

export function setDirection(on: bool): void {
  const f = load<u32>(STATE + S_EFLAGS);
  store<u32>(STATE + S_EFLAGS, on ? f | DF : f & ~DF);
}

/** Linear address of seg:offset (INVLPG), without access checks. */
export function linearAddress(seg: i32, offset: u32): u32 {
  return load<u32>(STATE + 0x100 + <u32>seg * 0x20 + 4) + offset;
}
