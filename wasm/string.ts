// String instructions (MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS) with REP/REPE/REPNE, 16- and
// 32-bit addressing, and the direction flag. A REP string instruction runs a bounded number of
// iterations per step and then restarts itself, so interrupts and the run budget are honoured
// in the middle of a long copy, as on the hardware.
import { STATE, S_EFLAGS, S_PREV_EIP, S_EIP, DF, ES } from './layout';
import { reg32, setReg32, reg8, setReg8, reg16, setReg16, EAX, ECX, EDX, ESI, EDI } from './regs';
import { addrsize32, repPrefix, dataSeg } from './decode';
import { linearForRead, linearForWrite } from './segments';
import { readLin8, readLin16, readLin32, writeLin8, writeLin16, writeLin32 } from './memory';
import { sub } from './alu';
import { getZF } from './flags';
import { checkIoPermission } from './io';
import { portIn, portOut } from './imports';

/** Iterations of a REP instruction done before it yields to interrupts and the budget. */
const REP_CHUNK: u32 = 4096;
/**
 * Iterations of REP string instructions beyond the first since the run loop last collected
 * them: each iteration counts as one retired instruction (budget, guest time, TSC).
 */
export let extraIterations: u32 = 0;
export function collectExtraIterations(): u32 {
  const n = extraIterations;
  extraIterations = 0;
  return n;
}

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
  store<u32>(STATE + S_EIP, load<u32>(STATE + S_PREV_EIP));
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
  if (n > 1) extraIterations += n - 1;
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
