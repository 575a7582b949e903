// PUSHA/POPA, PUSHF/POPF, ENTER/LEAVE, segment and register pushes and pops.
import { STATE, S_CPL, S_EFLAGS, IOPL_MASK, VM, IF, RF, VIF, VIP, SS } from './layout';
import { reg32, setReg32, reg16, setReg16, segSelector, ESP, EBP } from './regs';
import { push, pop, push16, push32, pop16, pop32, peek, probePush, probePop, getSp, setSp, stack32, spPlus, writeBelowSp } from './stack';
import { getEflags, setEflagsRaw } from './flags';
import { isRealMode, isV86, loadSegment } from './segments';
import { writeEflagsFrom } from './control';
import { gp } from './fault';
import { beginInterruptShadow } from './cpu';
import { linearForRead } from './segments';
import { readLin16, readLin32 } from './memory';

export function pushRegister(r: i32, size32: bool): void {
  // PUSH ESP pushes the value before the push.
  push(size32 ? reg32(r) : reg16(r), size32);
}

export function pushSegment(seg: i32, size32: bool): void {
  push(segSelector(seg), size32);
}
export function popSegment(seg: i32, size32: bool): void {
  const v = peek(0, size32) & 0xffff;
  loadSegment(seg, v);
  setSp(getSp() + (size32 ? 4 : 2));
  if (seg == SS) beginInterruptShadow();
}

/** POP r/m: read the value without moving ESP, which moves only after the write (popCommit). */
export function popForWrite(size32: bool): u32 {
  return peek(0, size32);
}
export function popCommit(size32: bool): void {
  setSp(getSp() + (size32 ? 4 : 2));
}

export function pusha(size32: bool): void {
  const unit: u32 = size32 ? 4 : 2;
  probePush(8 * unit, unit);
  const sp = reg32(ESP);
  for (let r = 0; r < 8; r++) {
    const v = r == 4 ? sp : reg32(r);
    writeBelowSp((<u32>r + 1) * unit, v, size32);
  }
  setSp(getSp() - 8 * unit);
}

export function popa(size32: bool): void {
  const unit: u32 = size32 ? 4 : 2;
  probePop(8 * unit);
  for (let r = 7; r >= 0; r--) {
    const v = peek((7 - <u32>r) * unit, size32);
    if (r == 4) continue; // the saved ESP is discarded
    if (size32) setReg32(r, v);
    else setReg16(r, v);
  }
  setSp(getSp() + 8 * unit);
}

export function pushFlags(size32: bool): void {
  const f = getEflags();
  if (isV86() && ((f & IOPL_MASK) >>> 12) < 3) gp(0);
  // VM and RF are never pushed as set.
  push(size32 ? f & ~(VM | RF) : f & 0xffff, size32);
}

export function popFlags(size32: bool): void {
  const f = getEflags();
  if (isV86() && ((f & IOPL_MASK) >>> 12) < 3) gp(0);
  const v = peek(0, size32);
  const cpl = isRealMode() ? 0 : isV86() ? 3 : load<u32>(STATE + S_CPL);
  if (isV86()) {
    // IOPL 3 in virtual-8086 mode: IOPL itself cannot change.
    const mask: u32 = (size32 ? 0x0024_0fd5 : 0x0fd5) | (1 << 8) | (1 << 14) | IF;
    setEflagsRaw((f & ~mask) | (v & mask));
  } else {
    writeEflagsFrom(v, size32, cpl, false);
  }
  setSp(getSp() + (size32 ? 4 : 2));
}

export function enter(size: u32, level: u32, size32: bool): void {
  level &= 31;
  const unit: u32 = size32 ? 4 : 2;
  const frameBytes = unit * (1 + level) + size;
  probePush(frameBytes, unit);
  const bp = stack32() ? reg32(EBP) : reg32(EBP) & 0xffff;
  push(size32 ? reg32(EBP) : reg16(EBP), size32);
  const frame = getSp();
  if (level > 0) {
    let p = bp;
    for (let i: u32 = 1; i < level; i++) {
      p = stack32() ? p - unit : (p - unit) & 0xffff;
      const v = size32 ? readLin32(linearForRead(SS, p, 4)) : readLin16(linearForRead(SS, p, 2));
      push(v, size32);
    }
    push(frame, size32);
  }
  if (size32) setReg32(EBP, frame);
  else setReg16(EBP, frame);
  setSp(getSp() - size);
}

export function leave(size32: bool): void {
  const bp = stack32() ? reg32(EBP) : reg32(EBP) & 0xffff;
  const v = size32 ? readLin32(linearForRead(SS, bp, 4)) : readLin16(linearForRead(SS, bp, 2));
  setSp(bp + (size32 ? 4 : 2));
  if (size32) setReg32(EBP, v);
  else setReg16(EBP, v);
}
