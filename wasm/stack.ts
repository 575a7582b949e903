// PUSH/POP through SS:eSP. The stack pointer width follows the SS descriptor's B bit (S_MODE bit 1).
// Pushes write memory before ESP changes, so a faulting push leaves ESP untouched.
import { STATE, S_MODE, SS } from './layout';
import { reg32, setReg32, ESP } from './regs';
import { linearForRead, linearForWrite } from './segments';
import { readLin16, readLin32, writeLin16, writeLin32, probeWrite, probeRead } from './memory';

@inline export function stack32(): bool {
  return (load<u32>(STATE + S_MODE) & 2) != 0;
}
@inline export function getSp(): u32 {
  return stack32() ? reg32(ESP) : reg32(ESP) & 0xffff;
}
@inline export function setSp(v: u32): void {
  if (stack32()) setReg32(ESP, v);
  else setReg32(ESP, (reg32(ESP) & 0xffff_0000) | (v & 0xffff));
}
/** SP after moving by `delta`, wrapped to the stack width. */
@inline export function spPlus(delta: i32): u32 {
  const v = reg32(ESP) + <u32>delta;
  return stack32() ? v : v & 0xffff;
}

export function push16(v: u32): void {
  const sp = spPlus(-2);
  writeLin16(linearForWrite(SS, sp, 2), v);
  setSp(sp);
}
export function push32(v: u32): void {
  const sp = spPlus(-4);
  writeLin32(linearForWrite(SS, sp, 4), v);
  setSp(sp);
}
@inline export function push(v: u32, size32: bool): void {
  if (size32) push32(v);
  else push16(v);
}
export function pop16(): u32 {
  const sp = getSp();
  const v = readLin16(linearForRead(SS, sp, 2));
  setSp(sp + 2);
  return v;
}
export function pop32(): u32 {
  const sp = getSp();
  const v = readLin32(linearForRead(SS, sp, 4));
  setSp(sp + 4);
  return v;
}
@inline export function pop(size32: bool): u32 {
  return size32 ? pop32() : pop16();
}

/** Read the stack `offset` bytes above the stack pointer without popping. */
export function peek(offset: u32, size32: bool): u32 {
  const sp = stack32() ? reg32(ESP) + offset : (reg32(ESP) + offset) & 0xffff;
  return size32 ? readLin32(linearForRead(SS, sp, 4)) : readLin16(linearForRead(SS, sp, 2));
}

/**
 * Fault now if `bytes` cannot be pushed (for multi-push instructions that must be atomic).
 * The pages are checked slot by slot from the top, in the order the pushes write them, so a
 * page fault reports the address of the first push that would fault (CR2) as the CPU does.
 * `unit` is the size of one push (2 or 4).
 */
export function probePush(bytes: u32, unit: u32 = 2): void {
  const top = getSp();
  if (!stack32() && top != 0 && top < bytes) {
    // A 16-bit stack pointer wraps between the pushes (SP = 2 and a 6-byte frame puts words at
    // 0000, FFFE, FFFC): check each slot at its own wrapped offset.
    for (let off: u32 = unit; off <= bytes; off += unit) {
      const slot = (top - off) & 0xffff;
      probeWrite(linearForWrite(SS, slot, unit), unit);
    }
    return;
  }
  const sp = spPlus(-<i32>bytes);
  const lin = linearForWrite(SS, sp, bytes);
  for (let off: u32 = unit; off <= bytes; off += unit) probeWrite(lin + bytes - off, unit);
}
/** Fault now if `bytes` cannot be popped. */
export function probePop(bytes: u32): void {
  const sp = getSp();
  probeRead(linearForRead(SS, sp, bytes), bytes);
}

/** Write at SP - `offset` (not moving SP): used to build multi-word frames after a probe. */
export function writeBelowSp(offset: u32, v: u32, size32: bool): void {
  const sp = spPlus(-<i32>offset);
  if (size32) writeLin32(linearForWrite(SS, sp, 4), v);
  else writeLin16(linearForWrite(SS, sp, 2), v);
}
