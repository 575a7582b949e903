// Near jumps, calls and returns, LOOP/JCXZ, and software interrupts.
import { STATE, S_EIP, S_SEGS, SEG_LIMIT, CS, EXC_GP } from './layout';
import { getEip, setEip, reg32, setReg32, ECX } from './regs';
import { addrsize32 } from './decode';
import { push, pop, probePush, peek, getSp, setSp } from './stack';
import { gp } from './fault';
import { deliverEvent } from './interrupts';

/** New EIP, wrapped to 16 bits for 16-bit operand size, checked against the CS limit. */
@inline function target(eip: u32, size32: bool): u32 {
  const t = size32 ? eip : eip & 0xffff;
  if (t > load<u32>(STATE + S_SEGS + CS * 0x20 + SEG_LIMIT)) gp(0);
  return t;
}

export function jumpRelative(displacement: u32, size32: bool): void {
  setEip(target(getEip() + displacement, size32));
}
export function jumpAbsolute(eip: u32, size32: bool): void {
  setEip(target(eip, size32));
}
export function callRelative(displacement: u32, size32: bool): void {
  const ret = getEip();
  const t = target(ret + displacement, size32);
  push(ret, size32);
  setEip(t);
}
export function callAbsolute(eip: u32, size32: bool): void {
  const ret = getEip();
  const t = target(eip, size32);
  push(ret, size32);
  setEip(t);
}
export function returnNear(release: u32, size32: bool): void {
  const t = target(peek(0, size32), size32);
  setSp(getSp() + (size32 ? 4 : 2) + release);
  setEip(t);
}

/** eCX by address size. */
export function countRegister(): u32 {
  return addrsize32 ? reg32(ECX) : reg32(ECX) & 0xffff;
}
/** LOOP: decrement eCX (by address size) and return whether it is non-zero. */
export function decrementCount(): bool {
  if (addrsize32) {
    const c = reg32(ECX) - 1;
    setReg32(ECX, c);
    return c != 0;
  }
  const c = (reg32(ECX) - 1) & 0xffff;
  setReg32(ECX, (reg32(ECX) & 0xffff_0000) | c);
  return c != 0;
}

/** INT n / INT3 / INTO / INT1: the return address is the next instruction. */
export function softwareInterrupt(vector: u32, kind: i32): void {
  deliverEvent(<i32>vector, kind, -1);
}
