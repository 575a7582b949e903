// String instructions (MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS) with REP/REPE/REPNE, 16- and
// 32-bit addressing, and the direction flag. A REP string instruction runs a bounded number of
// iterations per step and then restarts itself, so interrupts and the run budget are honoured
// in the middle of a long copy, as on the hardware.
import { addRetired } from './retired';
import { STATE, S_EFLAGS, S_PREV_EIP, DF, ES } from './layout';
import { reg32, setReg32, reg8, setReg8, reg16, setReg16, EAX, ECX, EDX, ESI, EDI, setEip } from './regs';
import { addrsize32, repPrefix, dataSeg } from './decode';
import { linearForRead, linearForWrite } from './segments';
import { readLin8, readLin16, readLin32, writeLin8, writeLin16, writeLin32, hostIfReadable, hostIfWritable } from './memory';
import { STATE as STATE_BASE, S_SEGS, SEG_BASE, SEG_READ_LO, SEG_READ_HI, SEG_WRITE_LO, SEG_WRITE_HI, SEG_SIZE } from './layout';
import { sub } from './alu';
import { getZF } from './flags';
import { checkIoPermission } from './io';
import { portIn, portOut } from './imports';

/** Iterations of a REP instruction done before it yields to interrupts and the budget. */
const REP_CHUNK: u32 = 4096;
@inline function delta(bytes: u32): u32 {
  return load<u32>(STATE + S_EFLAGS) & DF ? 0 - bytes : bytes;
}
@inline function getIndex(r: i32): u32 {
  return addrsize32 ? reg32(r) : reg32(r) & 0xffff;
}
@inline function advanceIndex(r: i32, d: u32): void {
  if (addrsize32) setReg32(r, reg32(r) + d);
  else setReg32(r, (reg32(r) & 0xffff_0000) | ((reg32(r) + d) & 0xffff));
}
@inline function getCount(): u32 {
  return addrsize32 ? reg32(ECX) : reg32(ECX) & 0xffff;
}
@inline function setCount(v: u32): void {
  if (addrsize32) setReg32(ECX, v);
  else setReg32(ECX, (reg32(ECX) & 0xffff_0000) | (v & 0xffff));
}

@inline function readSized(lin: u32, size: u32): u32 {
  return size == 1 ? readLin8(lin) : size == 2 ? readLin16(lin) : readLin32(lin);
}
@inline function writeSized(lin: u32, size: u32, v: u32): void {
  if (size == 1) writeLin8(lin, v);
  else if (size == 2) writeLin16(lin, v);
  else writeLin32(lin, v);
}
@inline function getAcc(size: u32): u32 {
  return size == 1 ? reg8(0) : size == 2 ? reg16(EAX) : reg32(EAX);
}
@inline function setAcc(size: u32, v: u32): void {
  if (size == 1) setReg8(0, v);
  else if (size == 2) setReg16(EAX, v);
  else setReg32(EAX, v);
}

/** Restart the instruction (EIP back to its first prefix) when iterations remain. */
@inline function again(): void {
  setEip(load<u32>(STATE + S_PREV_EIP));
}

// Kinds of string operation.
export const STR_MOVS: i32 = 0;
export const STR_CMPS: i32 = 1;
export const STR_STOS: i32 = 2;
export const STR_LODS: i32 = 3;
export const STR_SCAS: i32 = 4;
export const STR_INS: i32 = 5;
export const STR_OUTS: i32 = 6;

/** One string instruction, `size` bytes per element, honouring any REP prefix. */
export function stringOp(kind: i32, size: u32): void {
  const d = delta(size);
  if (kind == STR_INS || kind == STR_OUTS) checkIoPermission(reg16(EDX), size);
  if (repPrefix == 0) {
    stringStep(kind, size, d);
    return;
  }
  let count = getCount();
  let n: u32 = 0;
  while (count != 0) {
    if ((kind == STR_MOVS || kind == STR_STOS) && d == size && addrsize32) {
      // Forward REP MOVS/STOS: whole runs inside one page at a time when that is safe.
      const done = bulkRun(kind, size, count < REP_CHUNK - n ? count : REP_CHUNK - n);
      if (done != 0) {
        count -= done;
        setCount(count);
        n += done;
        if (n >= REP_CHUNK && count != 0) {
          again();
          break;
        }
        continue;
      }
    }
    stringStep(kind, size, d);
    count--;
    setCount(count);
    n++;
    if (kind == STR_CMPS || kind == STR_SCAS) {
      // REPE stops when ZF is clear, REPNE when ZF is set.
      const zf = getZF();
      if (repPrefix == 1 ? !zf : zf) break;
    }
    if (n >= REP_CHUNK && count != 0) {
      again();
      break;
    }
  }
  // Each iteration counts as one retired instruction.
  if (n > 1) addRetired(n - 1);
}

/** Elements a segment window allows from offset `off` on (0 if the first one is outside it). */
function windowElements(seg: i32, off: u32, size: u32, write: bool): u32 {
  const a = STATE_BASE + S_SEGS + <u32>seg * SEG_SIZE;
  const lo = load<u32>(a + (write ? SEG_WRITE_LO : SEG_READ_LO));
  const hi = load<u32>(a + (write ? SEG_WRITE_HI : SEG_READ_HI));
  if (off < lo || off > hi) return 0;
  return <u32>((<u64>hi - <u64>off + 1) / <u64>size);
}

/**
 * Up to `max` forward iterations of REP MOVS/STOS done as one block copy or fill, limited to the
 * current page of source and destination and to the segment windows. Returns how many were done;
 * 0 means "take the element-by-element path" (a page not in the TLB, a device page, a page end or
 * limit in the way, or a copy whose destination overlaps the source ahead of it).
 */
function bulkRun(kind: i32, size: u32, max: u32): u32 {
  const dstOff = reg32(EDI);
  const dstLin = load<u32>(STATE_BASE + S_SEGS + <u32>ES * SEG_SIZE + SEG_BASE) + dstOff;
  let m = max;
  const dstRoom: u32 = (<u32>0x1000 - (dstLin & 0xfff)) / size;
  if (dstRoom < m) m = dstRoom;
  const dstWindow = windowElements(ES, dstOff, size, true);
  if (dstWindow < m) m = dstWindow;
  if (m < 2) return 0;
  const dstHost = hostIfWritable(dstLin);
  if (dstHost == 0) return 0;
  const bytes = m * size;
  if (kind == STR_STOS) {
    const v = getAcc(size);
    if (size == 1) memory.fill(dstHost, <u8>v, bytes);
    else if (size == 2) for (let i: u32 = 0; i < bytes; i += 2) store<u16>(dstHost + i, <u16>v);
    else for (let i: u32 = 0; i < bytes; i += 4) store<u32>(dstHost + i, v);
    setReg32(EDI, dstOff + bytes);
    return m;
  }
  const seg = dataSeg();
  const srcOff = reg32(ESI);
  const srcLin = load<u32>(STATE_BASE + S_SEGS + <u32>seg * SEG_SIZE + SEG_BASE) + srcOff;
  const srcRoom: u32 = (<u32>0x1000 - (srcLin & 0xfff)) / size;
  if (srcRoom < m) m = srcRoom;
  const srcWindow = windowElements(seg, srcOff, size, false);
  if (srcWindow < m) m = srcWindow;
  if (m < 2) return 0;
  const srcHost = hostIfReadable(srcLin);
  if (srcHost == 0) return 0;
  const n = m * size;
  // Element-by-element copying forward into a destination just ahead of the source repeats a
  // pattern; a block move would not.
  if (dstHost > srcHost && dstHost < srcHost + n) return 0;
  memory.copy(dstHost, srcHost, n);
  setReg32(ESI, srcOff + n);
  setReg32(EDI, dstOff + n);
  return m;
}

function stringStep(kind: i32, size: u32, d: u32): void {
  switch (kind) {
    case STR_MOVS: {
      const v = readSized(linearForRead(dataSeg(), getIndex(ESI), size), size);
      writeSized(linearForWrite(ES, getIndex(EDI), size), size, v);
      advanceIndex(ESI, d);
      advanceIndex(EDI, d);
      break;
    }
    case STR_CMPS: {
      const a = readSized(linearForRead(dataSeg(), getIndex(ESI), size), size);
      const b = readSized(linearForRead(ES, getIndex(EDI), size), size);
      sub(a, b, size * 8);
      advanceIndex(ESI, d);
      advanceIndex(EDI, d);
      break;
    }
    case STR_STOS: {
      writeSized(linearForWrite(ES, getIndex(EDI), size), size, getAcc(size));
      advanceIndex(EDI, d);
      break;
    }
    case STR_LODS: {
      const v = readSized(linearForRead(dataSeg(), getIndex(ESI), size), size);
      setAcc(size, v);
      advanceIndex(ESI, d);
      break;
    }
    case STR_SCAS: {
      const b = readSized(linearForRead(ES, getIndex(EDI), size), size);
      sub(getAcc(size), b, size * 8);
      advanceIndex(EDI, d);
      break;
    }
    case STR_INS: {
      // Check the destination before the port read so a fault does not lose input.
      const lin = linearForWrite(ES, getIndex(EDI), size);
      const v = portIn(reg16(EDX), <i32>size);
      writeSized(lin, size, v);
      advanceIndex(EDI, d);
      break;
    }
    default: {
      const v = readSized(linearForRead(dataSeg(), getIndex(ESI), size), size);
      portOut(reg16(EDX), <i32>size, v);
      advanceIndex(ESI, d);
      break;
    }
  }
}
