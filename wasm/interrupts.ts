// Delivering interrupts and exceptions: the real-mode IVT, and the protected-mode IDT with
// interrupt, trap and task gates, privilege changes to an inner stack, and the virtual-8086
// exit frame. Double and triple faults are classified in deliverPendingFault.
import {
  STATE, S_CPL, S_IDTR_BASE, S_IDTR_LIMIT, S_SEGS, S_FAULT_VECTOR, S_FAULT_CODE, S_DELIVERING,
  S_PREV_EIP, CS, SS, ES, DS, FS, GS, IF, TF, NT, RF, VM, AC, IOPL_MASK,
  EXC_GP, EXC_NP, EXC_SS, EXC_TS, EXC_DF, EXC_PF, STOP_RESET, STOP_BUDGET,
} from './layout';
import { raise, gp } from './fault';
import { getEip, setEip, reg32, setReg32, ESP } from './regs';
import {
  isRealMode, isV86, readDescriptor, descLo, descHi, descBase, descLimit, descAttr, markAccessed,
  setSegmentCache, loadSegmentReal, setCpl, A_S, A_P, A_TYPE_CODE, A_TYPE_EC, A_DB,
} from './segments';
import { push16, push32, probePush } from './stack';
import { getEflags, setEflagsRaw, materializeFlags } from './flags';
import { readLin16, readLin32, writeLin16, writeLin32, beginSystemAccess, endSystemAccess } from './memory';
import { taskSwitch, TASK_INTERRUPT, readTssStack } from './tasks';
import { checkStackSegment, fitsStack, tssStackSelector, tssStackPointer } from './control';

/** Hardware interrupt (INTR or NMI): no DPL check, EXT set in error codes. */
export const KIND_EXTERNAL: i32 = 0;
/** CPU exception: no DPL check, EXT set. */
export const KIND_EXCEPTION: i32 = 1;
/** INT n: gate DPL checked against CPL; IOPL-sensitive in virtual-8086 mode. */
export const KIND_INT_N: i32 = 2;
/** INT3 and INTO: gate DPL checked, not IOPL-sensitive. */
export const KIND_INT_OTHER: i32 = 3;

/** True for exceptions that push an error code in protected mode. */
export function hasErrorCode(vector: i32): bool {
  return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17;
}

/**
 * Enter the handler for `vector`. EIP must already be the return address (the faulting
 * instruction for faults, the next instruction for traps and interrupts). `errorCode` < 0: none.
 */
export function deliverInterrupt(vector: i32, kind: i32, errorCode: i32): void {
  if (isRealMode()) {
    deliverReal(vector);
    return;
  }
  deliverProtected(vector, kind, errorCode);
}

function deliverReal(vector: i32): void {
  const entry = <u32>vector * 4;
  if (entry + 3 > load<u32>(STATE + S_IDTR_LIMIT)) gp(0);
  const base = load<u32>(STATE + S_IDTR_BASE);
  const ip = readLin16(base + entry);
  const cs = readLin16(base + entry + 2);
  probePush(6, 2);
  const flags = getEflags();
  push16(flags);
  push16(load<u32>(STATE + S_SEGS + CS * 0x20) & 0xffff);
  push16(getEip());
  setEflagsRaw(flags & ~(IF | TF | AC | RF));
  loadSegmentReal(CS, cs);
  setEip(ip);
}

function deliverProtected(vector: i32, kind: i32, errorCode: i32): void {
  const ext: u32 = kind == KIND_EXTERNAL || kind == KIND_EXCEPTION ? 1 : 0;
  const idtCode = <i32>((<u32>vector << 3) | 2 | ext);
  const eflags = getEflags();
  if (kind == KIND_INT_N && (eflags & VM) && ((eflags & IOPL_MASK) >>> 12) < 3) gp(0);
  if (<u32>vector * 8 + 7 > load<u32>(STATE + S_IDTR_LIMIT)) gp(idtCode);
  const gateAddr = load<u32>(STATE + S_IDTR_BASE) + <u32>vector * 8;
  beginSystemAccess();
  const lo = readLin32(gateAddr);
  const hi = readLin32(gateAddr + 4);
  endSystemAccess();
  const type = (hi >>> 8) & 0x1f; // includes S
  const gdpl = (hi >>> 13) & 3;
  const cpl = load<u32>(STATE + S_CPL);
  if (type != 5 && type != 6 && type != 7 && type != 0xe && type != 0xf) gp(idtCode);
  if ((kind == KIND_INT_N || kind == KIND_INT_OTHER) && gdpl < cpl) gp(idtCode);
  if (!(hi & 0x8000)) raise(EXC_NP, idtCode);
  if (type == 5) {
    taskSwitch(lo >>> 16, TASK_INTERRUPT, hasErrorCode(vector) && kind == KIND_EXCEPTION ? errorCode : -1);
    return;
  }
  const gate32 = (type & 8) != 0;
  const trapGate = (type & 1) != 0;
  const selector = lo >>> 16;
  const offset = gate32 ? (lo & 0xffff) | (hi & 0xffff_0000) : lo & 0xffff;
  const scode = <i32>((selector & 0xfffc) | ext);
  if ((selector & 0xfffc) == 0) gp(<i32>ext);
  readDescriptor(selector, EXC_GP, ext);
  const attr = descAttr(descHi);
  const dpl = (attr >>> 5) & 3;
  if (!(attr & A_S) || !(attr & A_TYPE_CODE) || dpl > cpl) gp(scode);
  if (!(attr & A_P)) raise(EXC_NP, scode);
  if (offset > descLimit(descLo, descHi)) gp(<i32>ext);
  const codeLo = descLo, codeHi = descHi;
  const unit: u32 = gate32 ? 4 : 2;
  const pushError = errorCode >= 0;
  const retCs = load<u32>(STATE + S_SEGS + CS * 0x20) & 0xffff;
  const retEip = getEip();
  const fromV86 = (eflags & VM) != 0;
  if (fromV86 || (!(attr & A_TYPE_EC) && dpl < cpl)) {
    // Inner-privilege interrupt: new stack from the TSS.
    if (fromV86 && dpl != 0) gp(scode);
    readTssStack(dpl);
    const newSs = tssStackSelector;
    const newEsp = tssStackPointer;
    checkStackSegment(newSs, dpl, EXC_TS, ext);
    const ssLo = descLo, ssHi = descHi;
    const ssAttr = descAttr(ssHi);
    const ssBase = descBase(ssLo, ssHi);
    const stack32 = (ssAttr & A_DB) != 0;
    const words: u32 = (fromV86 ? 9 : 5) + (pushError ? 1 : 0);
    const total = words * unit;
    const sp = stack32 ? newEsp - total : (newEsp - total) & 0xffff;
    if (!fitsStack(sp, total, descLimit(ssLo, ssHi), ssAttr)) raise(EXC_SS, <i32>((newSs & 0xfffc) | ext));
    let at = ssBase + sp + total;
    beginSystemAccess();
    if (fromV86) {
      at -= unit; writeUnit(at, load<u32>(STATE + S_SEGS + GS * 0x20) & 0xffff, gate32);
      at -= unit; writeUnit(at, load<u32>(STATE + S_SEGS + FS * 0x20) & 0xffff, gate32);
      at -= unit; writeUnit(at, load<u32>(STATE + S_SEGS + DS * 0x20) & 0xffff, gate32);
      at -= unit; writeUnit(at, load<u32>(STATE + S_SEGS + ES * 0x20) & 0xffff, gate32);
    }
    at -= unit; writeUnit(at, load<u32>(STATE + S_SEGS + SS * 0x20) & 0xffff, gate32);
    at -= unit; writeUnit(at, reg32(ESP), gate32);
    at -= unit; writeUnit(at, eflags, gate32);
    at -= unit; writeUnit(at, retCs, gate32);
    at -= unit; writeUnit(at, retEip, gate32);
    if (pushError) {
      at -= unit;
      writeUnit(at, <u32>errorCode, gate32);
    }
    endSystemAccess();
    descLo = ssLo; descHi = ssHi;
    markAccessed(newSs);
    if (fromV86) {
      setSegmentCache(GS, 0, 0, 0, 0);
      setSegmentCache(FS, 0, 0, 0, 0);
      setSegmentCache(DS, 0, 0, 0, 0);
      setSegmentCache(ES, 0, 0, 0, 0);
    }
    setEflagsRaw(eflags & ~(TF | NT | RF | VM | (trapGate ? 0 : IF)));
    setSegmentCache(SS, (newSs & 0xfffc) | dpl, ssBase, descLimit(ssLo, ssHi), ssAttr);
    setReg32(ESP, stack32 ? sp : (newEsp & 0xffff_0000) | sp);
    descLo = codeLo; descHi = codeHi;
    markAccessed(selector);
    setSegmentCache(CS, (selector & 0xfffc) | dpl, descBase(codeLo, codeHi), descLimit(codeLo, codeHi), attr);
    setCpl(dpl);
    setEip(offset);
    return;
  }
  // Same privilege level (or a conforming handler).
  probePush((pushError ? 4 : 3) * unit, unit);
  if (gate32) {
    push32(eflags);
    push32(retCs);
    push32(retEip);
    if (pushError) push32(<u32>errorCode);
  } else {
    push16(eflags);
    push16(retCs);
    push16(retEip);
    if (pushError) push16(<u32>errorCode);
  }
  setEflagsRaw(eflags & ~(TF | NT | RF | VM | (trapGate ? 0 : IF)));
  descLo = codeLo; descHi = codeHi;
  markAccessed(selector);
  setSegmentCache(CS, (selector & 0xfffc) | cpl, descBase(codeLo, codeHi), descLimit(codeLo, codeHi), attr);
  setEip(offset);
}

function writeUnit(lin: u32, v: u32, size32: bool): void {
  if (size32) writeLin32(lin, v);
  else writeLin16(lin, v);
}

// ---------------------------------------------------------------------------------------------
// Fault delivery after the trap that aborted an instruction.
// ---------------------------------------------------------------------------------------------

const NOT_DELIVERING: i32 = -1;
/** Marks an external interrupt or software interrupt in S_DELIVERING (not an exception). */
const DELIVERING_INTERRUPT: i32 = 0x100;

function contributory(v: i32): bool {
  return v == 0 || (v >= 10 && v <= 13);
}

/**
 * Deliver the exception recorded by raise(). Returns STOP_RESET for a triple fault, else
 * STOP_BUDGET. If delivery itself faults, the wasm code traps again and the machine calls this
 * again: S_DELIVERING then says which exception was being delivered.
 */
export function deliverPendingFault(): i32 {
  let vector = load<i32>(STATE + S_FAULT_VECTOR);
  let code = load<i32>(STATE + S_FAULT_CODE);
  store<i32>(STATE + S_FAULT_VECTOR, -1);
  if (vector < 0) return STOP_BUDGET;
  // The trap may have unwound from inside a descriptor-table or TSS access: later accesses
  // must be checked at the CPL again.
  endSystemAccess();
  materializeFlags();
  setEip(load<u32>(STATE + S_PREV_EIP));
  const first = load<i32>(STATE + S_DELIVERING);
  if (first != NOT_DELIVERING && first < DELIVERING_INTERRUPT) {
    if (first == EXC_DF) {
      store<i32>(STATE + S_DELIVERING, NOT_DELIVERING);
      return STOP_RESET; // triple fault: shutdown
    }
    if ((contributory(first) && contributory(vector)) || (first == EXC_PF && (contributory(vector) || vector == EXC_PF))) {
      vector = EXC_DF;
      code = 0;
    }
  }
  store<i32>(STATE + S_DELIVERING, vector);
  const withCode = hasErrorCode(vector) && !isRealMode() ? code : -1;
  deliverInterrupt(vector, KIND_EXCEPTION, withCode);
  store<i32>(STATE + S_DELIVERING, NOT_DELIVERING);
  return STOP_BUDGET;
}

/** Deliver an interrupt outside the fault path (INT n, hardware IRQ, traps), tracking nesting. */
export function deliverEvent(vector: i32, kind: i32, errorCode: i32): void {
  store<i32>(STATE + S_DELIVERING, kind == KIND_EXCEPTION ? vector : DELIVERING_INTERRUPT | vector);
  deliverInterrupt(vector, kind, errorCode);
  store<i32>(STATE + S_DELIVERING, NOT_DELIVERING);
}
