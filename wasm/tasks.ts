// Hardware task switching through TSS descriptors (JMP, CALL, INT through a task gate, IRET with
// NT), in the 32-bit (type 9/B) and 16-bit (type 1/3) TSS formats, and inner-stack lookup for
// privilege changes.
import {
  STATE, S_SEGS, S_CR0, S_CR3, S_LAZY_MASK, SEG_BASE, SEG_LIMIT, SEG_ATTR, SEG_SELECTOR, CS, SS, ES, DS, FS, GS, LDTR, TR,
  EXC_GP, EXC_NP, EXC_TS, EXC_SS, NT, VM, CR0_TS, CR0_PG, S_GDTR_BASE,
} from './layout';
import { raise, gp } from './fault';
import { getEip, setEip, reg32, setReg32, reg16, setReg16 } from './regs';
import {
  readDescriptor, descLo, descHi, descBase, descLimit, descAttr, descriptorAddress, setSegmentCache,
  loadSegmentV86, setCpl, A_S, A_P, A_TYPE_CODE, A_TYPE_EC, A_TYPE_RW, A_DB,
} from './segments';
import { getEflags, setEflagsRaw } from './flags';
import { readLin8, readLin16, readLin32, writeLin8, writeLin16, writeLin32, beginSystemAccess, endSystemAccess, flushTlbNonGlobal, probeWrite, probeRead } from './memory';
import { setTssStack } from './control';
import { push16, push32 } from './stack';

// Incoming task state in transit (allocated once: the runtime allocates nothing per instruction).
const nRegs = new StaticArray<u32>(8);
const nSegs = new StaticArray<u32>(6);

export const TASK_JMP: i32 = 0;
export const TASK_CALL: i32 = 1;
export const TASK_IRET: i32 = 2;
export const TASK_INTERRUPT: i32 = 3;

@inline function seg(s: i32): u32 {
  return STATE + S_SEGS + <u32>s * 0x20;
}

/** Look up SS:ESP for privilege level `dpl` in the current TSS (result via setTssStack). */
export function readTssStack(dpl: u32): void {
  const base = load<u32>(seg(TR) + SEG_BASE);
  const limit = load<u32>(seg(TR) + SEG_LIMIT);
  const type = load<u32>(seg(TR) + SEG_ATTR) & 0xf;
  const trSel = <i32>(load<u32>(seg(TR) + SEG_SELECTOR) & 0xfffc);
  beginSystemAccess();
  if (type & 8) {
    const at: u32 = 4 + dpl * 8;
    if (at + 5 > limit) raise(EXC_TS, trSel);
    setTssStack(readLin16(base + at + 4), readLin32(base + at));
  } else {
    const at: u32 = 2 + dpl * 4;
    if (at + 3 > limit) raise(EXC_TS, trSel);
    setTssStack(readLin16(base + at + 2), readLin16(base + at));
  }
  endSystemAccess();
}

function setBusy(selector: u32, busy: bool): void {
  const addr = descriptorAddress(selector, EXC_GP) + 5;
  beginSystemAccess();
  const b = readLin8(addr);
  writeLin8(addr, busy ? b | 2 : b & ~2);
  endSystemAccess();
}

/**
 * Switch to the task whose TSS selector is `selector`. `errorCode` >= 0 is pushed on the new
 * task's stack (exceptions through task gates).
 */
export function taskSwitch(selector: u32, reason: i32, errorCode: i32): void {
  selector &= 0xffff;
  const code = <i32>(selector & 0xfffc);
  const badVector = reason == TASK_IRET ? EXC_TS : EXC_GP;
  if (selector & 4) raise(badVector, code);
  readDescriptor(selector, badVector);
  const newLo = descLo, newHi = descHi;
  const attr = descAttr(newHi);
  const type = attr & 0x1f;
  const busyWanted = reason == TASK_IRET;
  const okType = busyWanted ? type == 0x3 || type == 0xb : type == 0x1 || type == 0x9;
  if (!okType) raise(badVector, code);
  if (!(attr & A_P)) raise(EXC_NP, code);
  const new32 = (type & 8) != 0;
  const newBase = descBase(newLo, newHi);
  const newLimit = descLimit(newLo, newHi);
  const minLimit: u32 = new32 ? 0x67 : 0x2b;
  if (newLimit < minLimit) raise(EXC_TS, code);

  // Save the outgoing task. Probe both TSSs first so the switch is all or nothing.
  const oldSel = load<u32>(seg(TR) + SEG_SELECTOR);
  const oldBase = load<u32>(seg(TR) + SEG_BASE);
  const old32 = (load<u32>(seg(TR) + SEG_ATTR) & 8) != 0;
  beginSystemAccess();
  probeWrite(oldBase, old32 ? 0x68 : 0x2c);
  probeRead(newBase, new32 ? 0x68 : 0x2c);
  let eflags = getEflags();
  if (reason == TASK_IRET) eflags &= ~NT;
  if (old32) {
    writeLin32(oldBase + 0x20, getEip());
    writeLin32(oldBase + 0x24, eflags);
    for (let r = 0; r < 8; r++) writeLin32(oldBase + 0x28 + <u32>r * 4, reg32(r));
    for (let s = 0; s < 6; s++) writeLin16(oldBase + 0x48 + <u32>s * 4, load<u32>(seg(s) + SEG_SELECTOR));
  } else {
    writeLin16(oldBase + 0x0e, getEip());
    writeLin16(oldBase + 0x10, eflags);
    for (let r = 0; r < 8; r++) writeLin16(oldBase + 0x12 + <u32>r * 2, reg32(r));
    for (let s = 0; s < 4; s++) writeLin16(oldBase + 0x22 + <u32>s * 2, load<u32>(seg(s) + SEG_SELECTOR));
  }
  // Read the incoming task's state.
  let nEip: u32, nFlags: u32, nCr3: u32 = 0, nLdt: u32;
  if (new32) {
    nCr3 = readLin32(newBase + 0x1c);
    nEip = readLin32(newBase + 0x20);
    nFlags = readLin32(newBase + 0x24);
    for (let r = 0; r < 8; r++) nRegs[r] = readLin32(newBase + 0x28 + <u32>r * 4);
    for (let s = 0; s < 6; s++) nSegs[s] = readLin16(newBase + 0x48 + <u32>s * 4);
    nLdt = readLin16(newBase + 0x60);
  } else {
    nEip = readLin16(newBase + 0x0e);
    nFlags = readLin16(newBase + 0x10);
    for (let r = 0; r < 8; r++) nRegs[r] = 0xffff_0000 | readLin16(newBase + 0x12 + <u32>r * 2);
    for (let s = 0; s < 4; s++) nSegs[s] = readLin16(newBase + 0x22 + <u32>s * 2);
    nSegs[4] = 0;
    nSegs[5] = 0;
    nLdt = readLin16(newBase + 0x2a);
  }
  if (reason == TASK_CALL || reason == TASK_INTERRUPT) {
    writeLin16(newBase, oldSel);
    nFlags |= NT;
  }
  endSystemAccess();
  if (reason == TASK_JMP || reason == TASK_IRET) setBusy(oldSel, false);
  if (reason != TASK_IRET) setBusy(selector, true);

  // From here on the new task's state is loaded; faults are reported in the new task.
  setSegmentCache(TR, selector, newBase, newLimit, attr | 2);
  store<u32>(STATE + S_CR0, load<u32>(STATE + S_CR0) | CR0_TS);
  if (new32 && (load<u32>(STATE + S_CR0) & CR0_PG)) {
    store<u32>(STATE + S_CR3, nCr3);
    flushTlbNonGlobal();
  }
  setEip(nEip);
  setEflagsRaw(new32 ? nFlags : (getEflags() & 0xffff_0000) | (nFlags & 0xffff));
  for (let r = 0; r < 8; r++) {
    if (new32) setReg32(r, nRegs[r]);
    else setReg16(r, nRegs[r]);
  }
  // Selectors first (so a fault below leaves them visible), then the descriptor loads.
  for (let s = 0; s < 6; s++) store<u32>(seg(s) + SEG_SELECTOR, nSegs[s]);
  store<u32>(seg(LDTR) + SEG_SELECTOR, nLdt);
  if (nFlags & VM && new32) {
    setCpl(3);
    for (let s = 0; s < 6; s++) loadSegmentV86(s, nSegs[s]);
    loadLdt(nLdt);
  } else {
    loadLdt(nLdt);
    const newCpl = nSegs[CS] & 3;
    setCpl(newCpl);
    loadTaskCode(nSegs[CS], newCpl);
    loadTaskStack(nSegs[SS], newCpl);
    loadTaskData(ES, nSegs[ES], newCpl);
    loadTaskData(DS, nSegs[DS], newCpl);
    loadTaskData(FS, nSegs[FS], newCpl);
    loadTaskData(GS, nSegs[GS], newCpl);
  }
  if (errorCode >= 0) {
    if (new32) push32(<u32>errorCode);
    else push16(<u32>errorCode);
  }
}

function loadLdt(sel: u32): void {
  const code = <i32>(sel & 0xfffc);
  if ((sel & 0xfffc) == 0) {
    setSegmentCache(LDTR, sel, 0, 0, 0);
    return;
  }
  if (sel & 4) raise(EXC_TS, code);
  readDescriptor(sel, EXC_TS);
  const attr = descAttr(descHi);
  if ((attr & 0x1f) != 2) raise(EXC_TS, code);
  if (!(attr & A_P)) raise(EXC_TS, code);
  setSegmentCache(LDTR, sel, descBase(descLo, descHi), descLimit(descLo, descHi), attr);
}

function loadTaskCode(sel: u32, cpl: u32): void {
  const code = <i32>(sel & 0xfffc);
  if ((sel & 0xfffc) == 0) raise(EXC_TS, 0);
  readDescriptor(sel, EXC_TS);
  const attr = descAttr(descHi);
  const dpl = (attr >>> 5) & 3;
  if (!(attr & A_S) || !(attr & A_TYPE_CODE)) raise(EXC_TS, code);
  if (attr & A_TYPE_EC ? dpl > cpl : dpl != cpl) raise(EXC_TS, code);
  if (!(attr & A_P)) raise(EXC_NP, code);
  setSegmentCache(CS, sel, descBase(descLo, descHi), descLimit(descLo, descHi), attr);
}

function loadTaskStack(sel: u32, cpl: u32): void {
  const code = <i32>(sel & 0xfffc);
  if ((sel & 0xfffc) == 0) raise(EXC_TS, 0);
  readDescriptor(sel, EXC_TS);
  const attr = descAttr(descHi);
  if ((sel & 3) != cpl || ((attr >>> 5) & 3) != cpl || !(attr & A_S) || (attr & A_TYPE_CODE) || !(attr & A_TYPE_RW)) {
    raise(EXC_TS, code);
  }
  if (!(attr & A_P)) raise(EXC_SS, code);
  setSegmentCache(SS, sel, descBase(descLo, descHi), descLimit(descLo, descHi), attr);
}

function loadTaskData(s: i32, sel: u32, cpl: u32): void {
  const code = <i32>(sel & 0xfffc);
  if ((sel & 0xfffc) == 0) {
    setSegmentCache(s, sel, 0, 0, 0);
    return;
  }
  readDescriptor(sel, EXC_TS);
  const attr = descAttr(descHi);
  const dpl = (attr >>> 5) & 3;
  if (!(attr & A_S) || (attr & (A_TYPE_CODE | A_TYPE_RW)) == A_TYPE_CODE) raise(EXC_TS, code);
  const conforming = (attr & (A_TYPE_CODE | A_TYPE_EC)) == (A_TYPE_CODE | A_TYPE_EC);
  if (!conforming && (dpl < cpl || dpl < (sel & 3))) raise(EXC_TS, code);
  if (!(attr & A_P)) raise(EXC_NP, code);
  setSegmentCache(s, sel, descBase(descLo, descHi), descLimit(descLo, descHi), attr);
}
