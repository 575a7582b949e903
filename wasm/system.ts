// System instructions: control and debug registers, descriptor-table registers, LAR/LSL/VERR/
// VERW/ARPL, CPUID, time-stamp counter, model-specific registers and SYSENTER/SYSEXIT.
import {
  STATE, S_CR0, S_CR2, S_CR3, S_CR4, S_DR, S_EFER, S_CPL, S_GDTR_BASE, S_GDTR_LIMIT, S_IDTR_BASE, S_IDTR_LIMIT,
  S_SEGS, SEG_SELECTOR, S_TSC, S_APIC_BASE, S_SYSENTER_CS, S_SYSENTER_ESP, S_SYSENTER_EIP, S_PAT, S_MTRR_DEF_TYPE,
  S_MTRR_FIXED, S_MTRR_VAR, S_MISC_ENABLE, S_INSTRUCTIONS, S_CPUID_SWITCHES, S_CPU_COUNT, S_CPU_INDEX,
  CS, SS, LDTR, TR, CR0_PE, CR0_PG, CR0_TS, CR0_ET, CR0_NW, CR0_CD, CR4_PAE, CR4_PSE, CR4_PGE, CR4_DE, CR4_TSD,
  CR4_VME, CR4_PVI, CR4_MCE, CR4_PCE, CR4_OSFXSR, CR4_OSXMMEXCPT, EFER_NXE, CPUID_APIC, CPUID_PAE,
  EXC_GP, EXC_NP, ZF, VM, IF, RF, IOPL_MASK,
} from './layout';
import { gp, ud, raise } from './fault';
import { reg32, setReg32, EAX, EBX, ECX, EDX, ESP, setEip, getEip } from './regs';
import {
  isRealMode, isV86, isProtectedMode, readDescriptor, descLo, descHi, descBase, descLimit, descAttr,
  setSegmentCache, recomputeAllWindows, setCpl, descriptorAddress, A_S, A_P, A_TYPE_CODE, A_TYPE_EC, A_TYPE_RW,
} from './segments';
import { flushTlb, flushTlbNonGlobal, invalidatePage, updateAccessMasks, beginSystemAccess, endSystemAccess, readLin8, writeLin8 } from './memory';
import { getEflags, setArithFlags, setEflagsRaw } from './flags';
import { apicBaseWrite } from './imports';

@inline function requireCpl0(): void {
  if (load<u32>(STATE + S_CPL) != 0 || isV86()) gp(0);
}

// ---- Control registers ----

export function readCr(n: u32): u32 {
  requireCpl0();
  switch (n) {
    case 0: return load<u32>(STATE + S_CR0);
    case 2: return load<u32>(STATE + S_CR2);
    case 3: return load<u32>(STATE + S_CR3);
    case 4: return load<u32>(STATE + S_CR4);
    default: ud();
  }
  return 0;
}

export function writeCr(n: u32, v: u32): void {
  requireCpl0();
  switch (n) {
    case 0: writeCr0(v); break;
    case 2: store<u32>(STATE + S_CR2, v); break;
    case 3:
      store<u32>(STATE + S_CR3, v);
      flushTlbNonGlobal();
      break;
    case 4: writeCr4(v); break;
    default: ud();
  }
}

export function writeCr0(v: u32): void {
  v |= CR0_ET; // hard-wired on 486 and later
  if ((v & CR0_PG) && !(v & CR0_PE)) gp(0);
  if ((v & CR0_NW) && !(v & CR0_CD)) gp(0);
  const old = load<u32>(STATE + S_CR0);
  store<u32>(STATE + S_CR0, v & 0xe005_003f);
  if ((old ^ v) & (CR0_PG | CR0_PE | (1 << 16))) flushTlb();
  if ((old ^ v) & CR0_PE) {
    recomputeAllWindows();
    updateAccessMasks();
  }
}

export function writeCr4(v: u32): void {
  const allowed = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT;
  if (v & ~allowed) gp(0);
  if ((v & CR4_PAE) && !(load<u32>(STATE + S_CPUID_SWITCHES) & CPUID_PAE)) gp(0);
  const old = load<u32>(STATE + S_CR4);
  store<u32>(STATE + S_CR4, v);
  if ((old ^ v) & (CR4_PAE | CR4_PSE | CR4_PGE)) flushTlb();
}

export function readDr(n: u32): u32 {
  requireCpl0();
  if (n == 4 || n == 5) {
    if (load<u32>(STATE + S_CR4) & CR4_DE) ud();
    n += 2;
  }
  const v = load<u32>(STATE + S_DR + n * 8);
  if (n == 6) return v | 0xffff_0ff0;
  if (n == 7) return v | 0x400;
  return v;
}
export function writeDr(n: u32, v: u32): void {
  requireCpl0();
  if (n == 4 || n == 5) {
    if (load<u32>(STATE + S_CR4) & CR4_DE) ud();
    n += 2;
  }
  store<u32>(STATE + S_DR + n * 8, v);
}

export function clts(): void {
  requireCpl0();
  store<u32>(STATE + S_CR0, load<u32>(STATE + S_CR0) & ~CR0_TS);
}

/** LMSW: loads CR0 bits 0-3; cannot clear PE. */
export function lmsw(v: u32): void {
  requireCpl0();
  const old = load<u32>(STATE + S_CR0);
  writeCr0((old & ~0xe) | (v & 0xf) | (old & CR0_PE));
}

export function smsw(): u32 {
  return load<u32>(STATE + S_CR0);
}

export function invlpg(lin: u32): void {
  requireCpl0();
  invalidatePage(lin);
}

export function privilegedNop(): void {
  // INVD / WBINVD: caches are not modelled; the privilege check is.
  requireCpl0();
}

// ---- Descriptor-table registers ----

export function lgdt(limit: u32, base: u32, size32: bool): void {
  requireCpl0();
  store<u32>(STATE + S_GDTR_LIMIT, limit & 0xffff);
  store<u32>(STATE + S_GDTR_BASE, size32 ? base : base & 0xff_ffff);
}
export function lidt(limit: u32, base: u32, size32: bool): void {
  requireCpl0();
  store<u32>(STATE + S_IDTR_LIMIT, limit & 0xffff);
  store<u32>(STATE + S_IDTR_BASE, size32 ? base : base & 0xff_ffff);
}

function requireProtected(): void {
  if (!isProtectedMode()) ud();
}

export function lldt(selector: u32): void {
  requireProtected();
  requireCpl0();
  selector &= 0xffff;
  if ((selector & 0xfffc) == 0) {
    setSegmentCache(LDTR, selector, 0, 0, 0);
    return;
  }
  if (selector & 4) gp(<i32>(selector & 0xfffc));
  readDescriptor(selector, EXC_GP);
  const attr = descAttr(descHi);
  if ((attr & 0x1f) != 2) gp(<i32>(selector & 0xfffc));
  if (!(attr & A_P)) raise(EXC_NP, <i32>(selector & 0xfffc));
  setSegmentCache(LDTR, selector, descBase(descLo, descHi), descLimit(descLo, descHi), attr);
}

export function ltr(selector: u32): void {
  requireProtected();
  requireCpl0();
  selector &= 0xffff;
  const code = <i32>(selector & 0xfffc);
  if ((selector & 0xfffc) == 0 || (selector & 4)) gp(code);
  readDescriptor(selector, EXC_GP);
  const attr = descAttr(descHi);
  const type = attr & 0x1f;
  if (type != 1 && type != 9) gp(code);
  if (!(attr & A_P)) raise(EXC_NP, code);
  // Mark the TSS busy in the GDT.
  const addr = descriptorAddress(selector, EXC_GP) + 5;
  beginSystemAccess();
  writeLin8(addr, readLin8(addr) | 2);
  endSystemAccess();
  setSegmentCache(TR, selector, descBase(descLo, descHi), descLimit(descLo, descHi), attr | 2);
}

export function sldt(): u32 {
  requireProtected();
  return load<u32>(STATE + S_SEGS + LDTR * 0x20 + SEG_SELECTOR);
}
export function str(): u32 {
  requireProtected();
  return load<u32>(STATE + S_SEGS + TR * 0x20 + SEG_SELECTOR);
}

/**
 * Read a descriptor for LAR/LSL/VERR/VERW without faulting on a bad selector. Returns false
 * (and the instruction clears ZF) when the selector is null or outside its table.
 */
function peekDescriptor(selector: u32): bool {
  if ((selector & 0xfffc) == 0) return false;
  const index = selector & 0xfff8;
  let limit: u32;
  if (selector & 4) {
    if ((load<u32>(STATE + S_SEGS + LDTR * 0x20 + SEG_SELECTOR) & 0xfffc) == 0) return false;
    limit = load<u32>(STATE + S_SEGS + LDTR * 0x20 + 8);
  } else {
    limit = load<u32>(STATE + S_GDTR_LIMIT);
  }
  if (index + 7 > limit) return false;
  readDescriptor(selector, EXC_GP);
  return true;
}

/** Visibility rule of LAR/LSL/VERR/VERW: DPL >= max(CPL, RPL) unless conforming code. */
function visible(selector: u32, attr: u32): bool {
  const dpl = (attr >>> 5) & 3;
  const conforming = (attr & (A_S | A_TYPE_CODE | A_TYPE_EC)) == (A_S | A_TYPE_CODE | A_TYPE_EC);
  if (conforming) return true;
  const cpl = load<u32>(STATE + S_CPL);
  return dpl >= cpl && dpl >= (selector & 3);
}

function setZf(on: bool): void {
  setArithFlags(ZF, on ? ZF : 0);
}

/** LAR: returns the access rights (descriptor high dword & 0x00FxFF00) or `old` with ZF clear. */
export function lar(selector: u32, old: u32): u32 {
  requireProtected();
  if (!peekDescriptor(selector)) { setZf(false); return old; }
  const attr = descAttr(descHi);
  if (!(attr & A_S)) {
    const type = attr & 0xf;
    // Valid system types for LAR: TSS (1, 3, 9, B), LDT (2), call gates (4, C), task gate (5).
    if (type == 0 || type == 6 || type == 7 || type == 8 || type == 0xa || type == 0xd || type == 0xe || type == 0xf) {
      setZf(false);
      return old;
    }
  }
  if (!visible(selector, attr)) { setZf(false); return old; }
  setZf(true);
  return descHi & 0x00ff_ff00;
}

export function lsl(selector: u32, old: u32): u32 {
  requireProtected();
  if (!peekDescriptor(selector)) { setZf(false); return old; }
  const attr = descAttr(descHi);
  if (!(attr & A_S)) {
    const type = attr & 0xf;
    if (type != 1 && type != 2 && type != 3 && type != 9 && type != 0xb) { setZf(false); return old; }
  }
  if (!visible(selector, attr)) { setZf(false); return old; }
  setZf(true);
  return descLimit(descLo, descHi);
}

export function verr(selector: u32): void {
  requireProtected();
  if (!peekDescriptor(selector)) { setZf(false); return; }
  const attr = descAttr(descHi);
  const ok = (attr & A_S) != 0 && (!(attr & A_TYPE_CODE) || (attr & A_TYPE_RW) != 0) && visible(selector, attr);
  setZf(ok);
}
export function verw(selector: u32): void {
  requireProtected();
  if (!peekDescriptor(selector)) { setZf(false); return; }
  const attr = descAttr(descHi);
  const ok = (attr & A_S) != 0 && !(attr & A_TYPE_CODE) && (attr & A_TYPE_RW) != 0 && visible(selector, attr);
  setZf(ok);
}

/** ARPL: raise the RPL of `dest` to that of `src`; ZF says whether it changed. */
export function arpl(dest: u32, src: u32): u32 {
  if (!isProtectedMode()) ud();
  if ((dest & 3) < (src & 3)) {
    setZf(true);
    return (dest & ~3) | (src & 3);
  }
  setZf(false);
  return dest;
}

// ---- CPUID ----

const VENDOR_EBX: u32 = 0x756e_6547; // "GenuineIntel"
const VENDOR_EDX: u32 = 0x4965_6e69;
const VENDOR_ECX: u32 = 0x6c65_746e;

/** Feature bits of CPUID leaf 1 EDX for what this core implements. */
function featuresEdx(): u32 {
  const sw = load<u32>(STATE + S_CPUID_SWITCHES);
  let f: u32 = 0;
  f |= 1 << 0; // FPU
  f |= 1 << 1; // VME is not implemented: bit left clear below
  f &= ~(<u32>1 << 1);
  f |= 1 << 2; // DE
  f |= 1 << 3; // PSE
  f |= 1 << 4; // TSC
  f |= 1 << 5; // MSR
  if (sw & CPUID_PAE) f |= 1 << 6; // PAE
  f |= 1 << 8; // CX8
  if (sw & CPUID_APIC) f |= 1 << 9; // APIC
  f |= 1 << 11; // SEP
  f |= 1 << 12; // MTRR
  f |= 1 << 13; // PGE
  f |= 1 << 15; // CMOV
  f |= 1 << 16; // PAT
  f |= 1 << 23; // MMX
  f |= 1 << 24; // FXSR
  return f;
}

export function cpuid(): void {
  const leaf = reg32(EAX);
  let a: u32 = 0, b: u32 = 0, c: u32 = 0, d: u32 = 0;
  const cpus = load<u32>(STATE + S_CPU_COUNT);
  const index = load<u32>(STATE + S_CPU_INDEX);
  switch (leaf) {
    case 0:
      a = 2; b = VENDOR_EBX; d = VENDOR_EDX; c = VENDOR_ECX;
      break;
    case 1:
      // Family 6, model 8 (Pentium III class): i686 without SSE until SSE is implemented.
      a = 0x0000_0683;
      b = (index << 24) | ((cpus > 1 ? cpus : 1) << 16) | (8 << 8);
      c = 0;
      d = featuresEdx() | (cpus > 1 ? <u32>1 << 28 : 0);
      break;
    case 2:
      a = 0x0302_0101; b = 0; c = 0; d = 0x0c04_0843; // cache and TLB descriptors
      break;
    case 0x8000_0000:
      a = 0x8000_0004;
      break;
    case 0x8000_0001:
      d = load<u32>(STATE + S_CPUID_SWITCHES) & CPUID_PAE ? <u32>1 << 20 : 0; // NX with PAE
      break;
    // The brand string, 16 bytes per leaf, little-endian: "WebHVM Pentium-processor".
    case 0x8000_0002: a = 0x4862_6557; b = 0x5020_4d56; c = 0x6974_6e65; d = 0x702d_6d75; break; // "WebHVM Pentium-p"
    case 0x8000_0003: a = 0x6563_6f72; b = 0x726f_7373; c = 0; d = 0; break; // "rocessor"
    case 0x8000_0004: break;
    default:
      // Leaves above the maximum return the highest basic leaf's values, as Intel CPUs do.
      if (leaf < 0x8000_0000) { a = 0x0302_0101; d = 0x0c04_0843; }
      break;
  }
  setReg32(EAX, a);
  setReg32(EBX, b);
  setReg32(ECX, c);
  setReg32(EDX, d);
}

// ---- Time-stamp counter and MSRs ----

/** TSC = offset (S_TSC) + instructions retired: monotonic and deterministic. */
export function readTsc(): u64 {
  return load<u64>(STATE + S_TSC) + load<u64>(STATE + S_INSTRUCTIONS);
}

export function rdtsc(): void {
  if ((load<u32>(STATE + S_CR4) & CR4_TSD) && (load<u32>(STATE + S_CPL) != 0 || isV86())) gp(0);
  const t = readTsc();
  setReg32(EAX, <u32>t);
  setReg32(EDX, <u32>(t >> 32));
}

function isFixedMtrr(msr: u32): i32 {
  if (msr == 0x250) return 0;
  if (msr == 0x258) return 1;
  if (msr == 0x259) return 2;
  if (msr >= 0x268 && msr <= 0x26f) return <i32>(msr - 0x268 + 3);
  return -1;
}

export function rdmsr(): void {
  requireCpl0();
  const msr = reg32(ECX);
  let v: u64 = 0;
  const fixed = isFixedMtrr(msr);
  if (fixed >= 0) v = load<u64>(STATE + S_MTRR_FIXED + <u32>fixed * 8);
  else if (msr >= 0x200 && msr < 0x210) v = load<u64>(STATE + S_MTRR_VAR + (msr - 0x200) * 8);
  else {
    switch (msr) {
      case 0x10: v = readTsc(); break;
      case 0x17: v = 0; break; // IA32_PLATFORM_ID
      case 0x1b: v = load<u64>(STATE + S_APIC_BASE); break;
      case 0x8b: v = 0; break; // microcode signature
      case 0xfe: v = 0x508; break; // MTRRcap: 8 variable ranges, fixed ranges, write-combining
      case 0x174: v = <u64>load<u32>(STATE + S_SYSENTER_CS); break;
      case 0x175: v = <u64>load<u32>(STATE + S_SYSENTER_ESP); break;
      case 0x176: v = <u64>load<u32>(STATE + S_SYSENTER_EIP); break;
      case 0x179: v = 0; break; // MCG_CAP: no machine-check banks
      case 0x17a: v = 0; break; // MCG_STATUS
      case 0x1a0: v = load<u64>(STATE + S_MISC_ENABLE); break;
      case 0x277: v = load<u64>(STATE + S_PAT); break;
      case 0x2ff: v = load<u64>(STATE + S_MTRR_DEF_TYPE); break;
      case 0xc000_0080:
        if (!(load<u32>(STATE + S_CPUID_SWITCHES) & CPUID_PAE)) gp(0);
        v = <u64>load<u32>(STATE + S_EFER);
        break;
      default: gp(0);
    }
  }
  setReg32(EAX, <u32>v);
  setReg32(EDX, <u32>(v >> 32));
}

export function wrmsr(): void {
  requireCpl0();
  const msr = reg32(ECX);
  const v: u64 = (<u64>reg32(EDX) << 32) | <u64>reg32(EAX);
  const fixed = isFixedMtrr(msr);
  if (fixed >= 0) { store<u64>(STATE + S_MTRR_FIXED + <u32>fixed * 8, v); return; }
  if (msr >= 0x200 && msr < 0x210) { store<u64>(STATE + S_MTRR_VAR + (msr - 0x200) * 8, v); return; }
  switch (msr) {
    case 0x10:
      store<u64>(STATE + S_TSC, v - load<u64>(STATE + S_INSTRUCTIONS));
      break;
    case 0x1b:
      // Bit 8 (BSP) is read-only.
      store<u64>(STATE + S_APIC_BASE, (v & ~<u64>0x100) | (load<u64>(STATE + S_APIC_BASE) & 0x100));
      apicBaseWrite(<u32>load<u64>(STATE + S_APIC_BASE), <u32>(load<u64>(STATE + S_APIC_BASE) >> 32));
      break;
    case 0x8b: case 0x17a: case 0x179: break;
    case 0x174: store<u32>(STATE + S_SYSENTER_CS, <u32>v & 0xffff); break;
    case 0x175: store<u32>(STATE + S_SYSENTER_ESP, <u32>v); break;
    case 0x176: store<u32>(STATE + S_SYSENTER_EIP, <u32>v); break;
    case 0x1a0: store<u64>(STATE + S_MISC_ENABLE, v); break;
    case 0x277: store<u64>(STATE + S_PAT, v); break;
    case 0x2ff: store<u64>(STATE + S_MTRR_DEF_TYPE, v & 0xcff); break;
    case 0xc000_0080: {
      if (!(load<u32>(STATE + S_CPUID_SWITCHES) & CPUID_PAE)) gp(0);
      if (<u32>v & ~EFER_NXE) gp(0);
      store<u32>(STATE + S_EFER, <u32>v);
      flushTlb();
      break;
    }
    default: gp(0);
  }
}

// ---- SYSENTER / SYSEXIT ----

export function sysenter(): void {
  const cs = load<u32>(STATE + S_SYSENTER_CS);
  if (isRealMode() || (cs & 0xfffc) == 0) gp(0);
  setEflagsRaw(getEflags() & ~(VM | IF | RF));
  setSegmentCache(CS, cs & 0xfffc, 0, 0xffff_ffff, 0xc09b);
  setCpl(0);
  setSegmentCache(SS, (cs + 8) & 0xfffc, 0, 0xffff_ffff, 0xc093);
  setReg32(ESP, load<u32>(STATE + S_SYSENTER_ESP));
  setEip(load<u32>(STATE + S_SYSENTER_EIP));
}

export function sysexit(): void {
  const cs = load<u32>(STATE + S_SYSENTER_CS);
  if (isRealMode() || isV86() || (cs & 0xfffc) == 0 || load<u32>(STATE + S_CPL) != 0) gp(0);
  setSegmentCache(CS, ((cs + 16) & 0xfffc) | 3, 0, 0xffff_ffff, 0xc0fb);
  setCpl(3);
  setSegmentCache(SS, ((cs + 24) & 0xfffc) | 3, 0, 0xffff_ffff, 0xc0f3);
  setReg32(ESP, reg32(ECX));
  setEip(reg32(EDX));
}

// ---- Interrupt flag ----

export function cli(): void {
  const f = getEflags();
  if (!isRealMode()) {
    const iopl = (f & IOPL_MASK) >>> 12;
    if ((f & VM) ? iopl < 3 : load<u32>(STATE + S_CPL) > iopl) gp(0);
  }
  setEflagsRaw(f & ~IF);
}

/** STI; returns true when IF went from 0 to 1 (the next instruction runs in the interrupt shadow). */
export function sti(): bool {
  const f = getEflags();
  if (!isRealMode()) {
    const iopl = (f & IOPL_MASK) >>> 12;
    if ((f & VM) ? iopl < 3 : load<u32>(STATE + S_CPL) > iopl) gp(0);
  }
  setEflagsRaw(f | IF);
  return (f & IF) == 0;
}

export function hlt(): void {
  if (!isRealMode() && load<u32>(STATE + S_CPL) != 0) gp(0);
  if (isV86()) gp(0);
}
