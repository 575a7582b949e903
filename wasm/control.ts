// Far control transfers: JMP/CALL/RET/IRET in real, virtual-8086 and protected mode, with the
// privilege checks of code segments, call gates, task gates and TSS descriptors.
import {
  STATE, S_CPL, S_EFLAGS, S_NMI_BLOCKED, CS, SS, ES, DS, FS, GS, TR, EXC_GP, EXC_NP, EXC_SS, EXC_TS,
  IF, IOPL_MASK, NT, RF, VM, VIF, VIP, AC, ID, TF, SEG_BASE, S_SEGS,
} from './layout';
import { raise, gp, np } from './fault';
import { getEip, setEip, reg32, setReg32, ESP } from './regs';
import {
  isRealMode, isV86, readDescriptor, descLo, descHi, descBase, descLimit, descAttr, markAccessed,
  setSegmentCache, loadSegmentReal, loadSegmentV86, setCpl, segLimit, nullInaccessibleSegments,
  A_S, A_P, A_TYPE_CODE, A_TYPE_EC, A_TYPE_RW, A_DB,
} from './segments';
import { push16, push32, pop16, pop32, peek, probePush, getSp, setSp, stack32 } from './stack';
import { getEflags, setEflagsRaw } from './flags';
import { taskSwitch, TASK_JMP, TASK_CALL, TASK_IRET, readTssStack } from './tasks';
import { readLin16, readLin32, writeLin16, writeLin32, beginSystemAccess, endSystemAccess } from './memory';
import { linearForRead, linearForWrite } from './segments';

// Call-gate parameters in transit from the old stack to the new one (at most 31).
const copied = new StaticArray<u32>(32);

@inline function currentCpl(): u32 {
  return load<u32>(STATE + S_CPL);
}

/** Load CS for a protected-mode transfer to a code segment the caller already checked. */
function loadCodeSegment(selector: u32, newCpl: u32): void {
  setSegmentCache(CS, (selector & 0xfffc) | newCpl, descBase(descLo, descHi), descLimit(descLo, descHi), descAttr(descHi));
  setCpl(newCpl);
}

/** Checks shared by JMP/CALL to a code segment descriptor (already in descLo/descHi). */
function checkDirectCode(selector: u32): void {
  const attr = descAttr(descHi);
  const dpl = (attr >>> 5) & 3;
  const cpl = currentCpl();
  const code = <i32>(selector & 0xfffc);
  if (attr & A_TYPE_EC) {
    if (dpl > cpl) gp(code);
  } else if ((selector & 3) > cpl || dpl != cpl) {
    gp(code);
  }
  if (!(attr & A_P)) np(code);
}

// ---------------------------------------------------------------------------------------------

export function jumpFar(selector: u32, offset: u32, size32: bool): void {
  selector &= 0xffff;
  if (!size32) offset &= 0xffff;
  if (isRealMode() || isV86()) {
    if (offset > segLimit(CS)) gp(0);
    if (isRealMode()) loadSegmentReal(CS, selector);
    else loadSegmentV86(CS, selector);
    setEip(offset);
    return;
  }
  if ((selector & 0xfffc) == 0) gp(0);
  readDescriptor(selector, EXC_GP);
  const attr = descAttr(descHi);
  if (attr & A_S) {
    if (!(attr & A_TYPE_CODE)) gp(<i32>(selector & 0xfffc));
    checkDirectCode(selector);
    if (offset > descLimit(descLo, descHi)) gp(0);
    markAccessed(selector);
    loadCodeSegment(selector, currentCpl());
    setEip(offset);
    return;
  }
  systemTransfer(selector, attr, false, size32);
}

export function callFar(selector: u32, offset: u32, size32: bool): void {
  selector &= 0xffff;
  if (!size32) offset &= 0xffff;
  const retCs = load<u32>(STATE + S_SEGS + CS * 0x20) & 0xffff;
  const retEip = getEip();
  if (isRealMode() || isV86()) {
    if (offset > segLimit(CS)) gp(0);
    probePush(size32 ? 8 : 4, size32 ? 4 : 2);
    push(retCs, size32);
    push(retEip, size32);
    if (isRealMode()) loadSegmentReal(CS, selector);
    else loadSegmentV86(CS, selector);
    setEip(offset);
    return;
  }
  if ((selector & 0xfffc) == 0) gp(0);
  readDescriptor(selector, EXC_GP);
  const attr = descAttr(descHi);
  if (attr & A_S) {
    if (!(attr & A_TYPE_CODE)) gp(<i32>(selector & 0xfffc));
    checkDirectCode(selector);
    if (offset > descLimit(descLo, descHi)) gp(0);
    probePush(size32 ? 8 : 4, size32 ? 4 : 2);
    markAccessed(selector);
    const lo = descLo, hi = descHi;
    push(retCs, size32);
    push(retEip, size32);
    descLo = lo; descHi = hi;
    loadCodeSegment(selector, currentCpl());
    setEip(offset);
    return;
  }
  systemTransfer(selector, attr, true, size32);
}

@inline function push(v: u32, size32: bool): void {
  if (size32) push32(v);
  else push16(v);
}

/** JMP/CALL through a call gate, task gate or TSS descriptor. */
function systemTransfer(selector: u32, attr: u32, isCall: bool, size32: bool): void {
  const type = attr & 0xf;
  const dpl = (attr >>> 5) & 3;
  const cpl = currentCpl();
  const code = <i32>(selector & 0xfffc);
  if (type == 4 || type == 0xc) {
    if (dpl < cpl || dpl < (selector & 3)) gp(code);
    if (!(attr & A_P)) np(code);
    const gate32 = type == 0xc;
    const target = descLo >>> 16;
    const offset = gate32 ? (descLo & 0xffff) | (descHi & 0xffff_0000) : descLo & 0xffff;
    const params = descHi & 0x1f;
    callGate(target, offset, params, gate32, isCall);
    return;
  }
  if (type == 5) {
    if (dpl < cpl || dpl < (selector & 3)) gp(code);
    if (!(attr & A_P)) np(code);
    const tss = descLo >>> 16;
    taskSwitch(tss, isCall ? TASK_CALL : TASK_JMP, -1);
    return;
  }
  if (type == 1 || type == 9) {
    if (dpl < cpl || dpl < (selector & 3)) gp(code);
    if (!(attr & A_P)) np(code);
    taskSwitch(selector, isCall ? TASK_CALL : TASK_JMP, -1);
    return;
  }
  gp(code);
}

function callGate(target: u32, offset: u32, params: u32, gate32: bool, isCall: bool): void {
  if ((target & 0xfffc) == 0) gp(0);
  readDescriptor(target, EXC_GP);
  const attr = descAttr(descHi);
  const dpl = (attr >>> 5) & 3;
  const cpl = currentCpl();
  const tcode = <i32>(target & 0xfffc);
  if (!(attr & A_S) || !(attr & A_TYPE_CODE) || dpl > cpl) gp(tcode);
  if (!(attr & A_P)) np(tcode);
  if (offset > descLimit(descLo, descHi)) gp(0);
  const conforming = (attr & A_TYPE_EC) != 0;
  const retCs = load<u32>(STATE + S_SEGS + CS * 0x20) & 0xffff;
  const retEip = getEip();
  if (!isCall) {
    if (!conforming && dpl != cpl) gp(tcode);
    markAccessed(target);
    loadCodeSegment(target, cpl);
    setEip(offset);
    return;
  }
  if (conforming || dpl == cpl) {
    probePush(gate32 ? 8 : 4, gate32 ? 4 : 2);
    markAccessed(target);
    const lo = descLo, hi = descHi;
    push(retCs, gate32);
    push(retEip, gate32);
    descLo = lo; descHi = hi;
    loadCodeSegment(target, cpl);
    setEip(offset);
    return;
  }
  // Inter-privilege call: switch to the inner stack from the TSS, copying the parameters.
  const codeLo = descLo, codeHi = descHi;
  readTssStack(dpl);
  const newSs = tssStackSelector;
  const newEsp = tssStackPointer;
  checkStackSegment(newSs, dpl, EXC_TS);
  const ssLo = descLo, ssHi = descHi;
  const oldSs = load<u32>(STATE + S_SEGS + SS * 0x20) & 0xffff;
  const oldEsp = reg32(ESP);
  const oldStack32 = stack32();
  const unit: u32 = gate32 ? 4 : 2;
  // Read the parameters from the old stack before switching.
  for (let i: u32 = 0; i < params; i++) copied[i] = peek(i * unit, gate32);
  const newBase = descBase(ssLo, ssHi);
  const newLimit = descLimit(ssLo, ssHi);
  const newAttr = descAttr(ssHi);
  const total = (4 + params) * unit;
  const newStack32 = (newAttr & A_DB) != 0;
  let sp = newStack32 ? newEsp - total : (newEsp - total) & 0xffff;
  // Check the whole new frame fits the new stack segment (expand-up or expand-down).
  if (!fitsStack(sp, total, newLimit, newAttr)) raise(EXC_SS, <i32>(newSs & 0xfffc));
  const frameLin = newBase + sp;
  // Frame, from high to low: old SS, old ESP, params..., CS, EIP. The inner stack belongs to
  // privilege level `dpl` < 3, so these are supervisor writes even though CPL is still the
  // caller's (a user-mode write would fault on a supervisor-only stack page).
  beginSystemAccess();
  let at = frameLin + total;
  at -= unit; writeUnit(at, oldSs, gate32);
  at -= unit; writeUnit(at, oldStack32 ? oldEsp : oldEsp & 0xffff, gate32);
  for (let i: i32 = <i32>params - 1; i >= 0; i--) {
    at -= unit;
    writeUnit(at, copied[i], gate32);
  }
  at -= unit; writeUnit(at, retCs, gate32);
  at -= unit; writeUnit(at, retEip, gate32);
  endSystemAccess();
  markAccessedSs(newSs, ssHi);
  setSegmentCache(SS, (newSs & 0xfffc) | dpl, newBase, newLimit, newAttr);
  setReg32(ESP, newStack32 ? sp : (newEsp & 0xffff_0000) | sp);
  descLo = codeLo; descHi = codeHi;
  markAccessed(target);
  loadCodeSegment(target, dpl);
  setEip(offset);
}

function markAccessedSs(sel: u32, hi: u32): void {
  descHi = hi;
  markAccessed(sel);
}

function writeUnit(lin: u32, v: u32, size32: bool): void {
  if (size32) writeLin32(lin, v);
  else writeLin16(lin, v);
}

export function fitsStack(sp: u32, bytes: u32, limit: u32, attr: u32): bool {
  if (attr & A_TYPE_EC) {
    const upper: u32 = attr & A_DB ? 0xffff_ffff : 0xffff;
    return sp > limit && <u64>sp + <u64>bytes - 1 <= <u64>upper;
  }
  return <u64>sp + <u64>bytes - 1 <= <u64>limit;
}

// Set by readTssStack.
export let tssStackSelector: u32 = 0;
export let tssStackPointer: u32 = 0;
export function setTssStack(sel: u32, sp: u32): void {
  tssStackSelector = sel;
  tssStackPointer = sp;
}

/**
 * Validate a stack segment selector for a privilege change to `dpl`; the descriptor is left in
 * descLo/descHi. Errors are `vector`(selector) (#TS for stacks taken from a TSS).
 */
export function checkStackSegment(selector: u32, dpl: u32, vector: i32, ext: u32 = 0): u32 {
  const code = <i32>((selector & 0xfffc) | ext);
  if ((selector & 0xfffc) == 0) raise(vector, <i32>ext);
  readDescriptor(selector, vector, ext);
  const attr = descAttr(descHi);
  if ((selector & 3) != dpl || ((attr >>> 5) & 3) != dpl || !(attr & A_S) || (attr & A_TYPE_CODE) || !(attr & A_TYPE_RW)) {
    raise(vector, code);
  }
  if (!(attr & A_P)) raise(EXC_SS, code);
  return attr;
}

// ---------------------------------------------------------------------------------------------

/** RET far (with `release` bytes of parameters released, RET imm16). */
/**
 * RET far / IRET to a code segment: the selector's checks (SDM, RET and IRET operation). Leaves
 * the descriptor in descLo/descHi.
 */
function checkReturnCodeSegment(cs: u32, cpl: u32): void {
  const rpl = cs & 3;
  const code = <i32>(cs & 0xfffc);
  if ((cs & 0xfffc) == 0) gp(0);
  if (rpl < cpl) gp(code);
  readDescriptor(cs, EXC_GP);
  const attr = descAttr(descHi);
  const dpl = (attr >>> 5) & 3;
  if (!(attr & A_S) || !(attr & A_TYPE_CODE)) gp(code);
  if (attr & A_TYPE_EC) {
    if (dpl > rpl) gp(code);
  } else if (dpl != rpl) {
    gp(code);
  }
  if (!(attr & A_P)) np(code);
}

export function returnFar(size32: bool, release: u32): void {
  const unit: u32 = size32 ? 4 : 2;
  if (isRealMode() || isV86()) {
    const eip = peek(0, size32);
    const cs = peek(unit, size32) & 0xffff;
    if (eip > segLimit(CS)) gp(0);
    setSp(getSp() + 2 * unit + release);
    if (isRealMode()) loadSegmentReal(CS, cs);
    else loadSegmentV86(CS, cs);
    setEip(eip);
    return;
  }
  const eip = peek(0, size32);
  const cs = peek(unit, size32) & 0xffff;
  const cpl = currentCpl();
  const rpl = cs & 3;
  checkReturnCodeSegment(cs, cpl);
  const csLo = descLo, csHi = descHi;
  if (rpl == cpl) {
    if (eip > descLimit(descLo, descHi)) gp(0);
    setSp(getSp() + 2 * unit + release);
    markAccessed(cs);
    loadCodeSegment(cs, cpl);
    setEip(eip);
    return;
  }
  // Return to an outer privilege level: the outer SS:ESP follows the parameters.
  const newEsp = peek(2 * unit + release, size32);
  const newSs = peek(3 * unit + release, size32) & 0xffff;
  checkStackSegment(newSs, rpl, EXC_GP);
  if (eip > descLimit(csLo, csHi)) gp(0);
  const ssLo = descLo, ssHi = descHi;
  markAccessedSs(newSs, ssHi);
  setSegmentCache(SS, newSs, descBase(ssLo, ssHi), descLimit(ssLo, ssHi), descAttr(ssHi));
  const newStack32 = (descAttr(ssHi) & A_DB) != 0;
  const sp = (size32 ? newEsp : newEsp & 0xffff) + release;
  setReg32(ESP, newStack32 ? sp : (reg32(ESP) & 0xffff_0000) | (sp & 0xffff));
  descLo = csLo; descHi = csHi;
  markAccessed(cs);
  loadCodeSegment(cs, rpl);
  setEip(eip);
  nullInaccessibleSegments(rpl);
}

// ---------------------------------------------------------------------------------------------

/** Apply an EFLAGS image popped by IRET/POPF with the privilege rules of the current mode. */
export function writeEflagsFrom(value: u32, size32: bool, cpl: u32, isIret: bool): void {
  const old = getEflags();
  const iopl = (old & IOPL_MASK) >>> 12;
  // CF PF AF ZF SF TF DF OF and NT; IF only when CPL <= IOPL (0x0fd5 would include IF).
  let mask: u32 = 0x0000_0dd5 | NT;
  mask |= AC | ID;
  if (cpl == 0) mask |= IOPL_MASK;
  if (cpl <= iopl) mask |= IF;
  if (isIret && cpl == 0) mask |= VIF | VIP | RF;
  if (isIret && !size32) mask &= 0xffff;
  if (!size32) mask &= 0xffff;
  setEflagsRaw((old & ~mask) | (value & mask));
}

export function iret(size32: bool): void {
  // IRET ends the NMI handler's blocking of further NMIs (SDM vol. 3, 6.7.1), in every mode.
  store<u32>(STATE + S_NMI_BLOCKED, 0);
  const unit: u32 = size32 ? 4 : 2;
  if (isRealMode()) {
    const eip = peek(0, size32);
    const cs = peek(unit, size32) & 0xffff;
    const flags = peek(2 * unit, size32);
    if (eip > segLimit(CS)) gp(0);
    setSp(getSp() + 3 * unit);
    loadSegmentReal(CS, cs);
    setEip(eip);
    const old = getEflags();
    const mask: u32 = size32 ? 0x0025_7fd5 : 0x7fd5; // VM, VIF and VIP keep their values
    setEflagsRaw((old & ~mask) | (flags & mask));
    return;
  }
  if (isV86()) {
    const old = getEflags();
    if (((old & IOPL_MASK) >>> 12) < 3) gp(0);
    const eip = peek(0, size32);
    const cs = peek(unit, size32) & 0xffff;
    const flags = peek(2 * unit, size32);
    if (eip > 0xffff) gp(0);
    setSp(getSp() + 3 * unit);
    loadSegmentV86(CS, cs);
    setEip(eip);
    // IOPL cannot change in virtual-8086 mode; VM, VIF, VIP stay.
    const mask: u32 = (size32 ? 0x0004_4fd5 | RF : 0x4fd5) | TF | IF;
    setEflagsRaw((old & ~mask) | (flags & mask));
    return;
  }
  const old = getEflags();
  if (old & NT) {
    // Return from a nested task: back link in the current TSS.
    const trBase = load<u32>(STATE + S_SEGS + TR * 0x20 + SEG_BASE);
    const link = readLin16(trBase);
    taskSwitch(link, TASK_IRET, -1);
    return;
  }
  const cpl = currentCpl();
  const eip = peek(0, size32);
  const cs = peek(unit, size32) & 0xffff;
  const flags = peek(2 * unit, size32);
  if (size32 && (flags & VM) && cpl == 0) {
    iretToV86(eip, cs, flags);
    return;
  }
  const rpl = cs & 3;
  checkReturnCodeSegment(cs, cpl);
  const csLo = descLo, csHi = descHi;
  if (rpl == cpl) {
    if (eip > descLimit(csLo, csHi)) gp(0);
    setSp(getSp() + 3 * unit);
    markAccessed(cs);
    loadCodeSegment(cs, cpl);
    setEip(eip);
    writeEflagsFrom(flags, size32, cpl, true);
    return;
  }
  const newEsp = peek(3 * unit, size32);
  const newSs = peek(4 * unit, size32) & 0xffff;
  checkStackSegment(newSs, rpl, EXC_GP);
  if (eip > descLimit(csLo, csHi)) gp(0);
  const ssLo = descLo, ssHi = descHi;
  markAccessedSs(newSs, ssHi);
  descLo = csLo; descHi = csHi;
  markAccessed(cs);
  // EFLAGS are written with the privilege of the level being left.
  writeEflagsFrom(flags, size32, cpl, true);
  setSegmentCache(SS, newSs, descBase(ssLo, ssHi), descLimit(ssLo, ssHi), descAttr(ssHi));
  const newStack32 = (descAttr(ssHi) & A_DB) != 0;
  setReg32(ESP, newStack32 ? newEsp : (reg32(ESP) & 0xffff_0000) | (newEsp & 0xffff));
  loadCodeSegment(cs, rpl);
  setEip(eip);
  nullInaccessibleSegments(rpl);
}

function iretToV86(eip: u32, cs: u32, flags: u32): void {
  const esp = peek(12, true);
  const ss = peek(16, true) & 0xffff;
  const es = peek(20, true) & 0xffff;
  const ds = peek(24, true) & 0xffff;
  const fs = peek(28, true) & 0xffff;
  const gs = peek(32, true) & 0xffff;
  setEflagsRaw(flags | VM);
  setCpl(3);
  loadSegmentV86(CS, cs);
  loadSegmentV86(SS, ss);
  loadSegmentV86(ES, es);
  loadSegmentV86(DS, ds);
  loadSegmentV86(FS, fs);
  loadSegmentV86(GS, gs);
  setReg32(ESP, esp);
  setEip(eip & 0xffff);
}
