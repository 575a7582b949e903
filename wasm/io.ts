// IN/OUT and the string forms' permission checks: IOPL, and in protected or virtual-8086 mode
// with CPL > IOPL, the I/O permission bitmap of a 32-bit TSS.
import { STATE, S_CPL, S_SEGS, SEG_BASE, SEG_LIMIT, SEG_ATTR, TR, IOPL_MASK, VM, S_STOP_REQUEST } from './layout';
import { gp } from './fault';
import { isRealMode } from './segments';
import { getEflags } from './flags';
import { readLin16, beginSystemAccess, endSystemAccess } from './memory';
import { portIn, portOut } from './imports';

/** Raise #GP(0) unless the current privilege may access `size` bytes at `port`. */
export function checkIoPermission(port: u32, size: u32): void {
  if (isRealMode()) return;
  const flags = getEflags();
  const iopl = (flags & IOPL_MASK) >>> 12;
  if (!(flags & VM) && load<u32>(STATE + S_CPL) <= iopl) return;
  // Consult the I/O permission bitmap (32-bit TSS only).
  const tr = STATE + S_SEGS + TR * 0x20;
  const attr = load<u32>(tr + SEG_ATTR);
  if ((attr & 0xf) != 0xb && (attr & 0xf) != 0x9) gp(0);
  const base = load<u32>(tr + SEG_BASE);
  const limit = load<u32>(tr + SEG_LIMIT);
  if (limit < 0x67) gp(0);
  beginSystemAccess();
  const mapBase = readLin16(base + 0x66);
  const byteAt = mapBase + (port >>> 3);
  if (byteAt + 1 > limit) {
    endSystemAccess();
    gp(0);
  }
  const bits = readLin16(base + byteAt);
  endSystemAccess();
  const mask: u32 = ((<u32>1 << size) - 1) << (port & 7);
  if (bits & mask) gp(0);
}

@inline export function ioIn(port: u32, size: u32): u32 {
  checkIoPermission(port, size);
  return portIn(port & 0xffff, <i32>size);
}

@inline export function ioOut(port: u32, size: u32, value: u32): void {
  checkIoPermission(port, size);
  portOut(port & 0xffff, <i32>size, value);
}

/** True when a device asked the CPU to stop after this instruction. */
@inline export function stopRequested(): bool {
  return load<u32>(STATE + S_STOP_REQUEST) != 0;
}
