// The run loop: prefixes, dispatch through the generated table, interrupts at instruction
// boundaries (with the STI / MOV SS shadow), single-step traps, HLT, and reset.
import {
  STATE, STATE_SIZE, S_EIP, S_PREV_EIP, S_EFLAGS, S_INTR, S_NMI_PENDING, S_SHADOW, S_HALTED, S_NMI_BLOCKED,
  S_INSTRUCTIONS, S_STOP_REQUEST, S_FAULT_VECTOR, S_DELIVERING, S_CR0, S_CR4, S_CPL, S_MODE, S_A20, S_IDTR_LIMIT, S_GDTR_LIMIT,
  S_FPU_CONTROL, S_FPU_TAG, S_MXCSR, S_APIC_BASE, S_CPU_INDEX, S_CPUID_SWITCHES, S_CPU_COUNT, S_PAT, S_DR,
  S_WAIT_FOR_SIPI, S_INIT_PENDING, S_SIPI_PENDING, S_PAUSE_EXIT, STATE_SCRATCH, S_TSC, S_MISC_ENABLE, S_FPU_REGS,
  IF, TF, RF, CS, SS, DS, ES, FS, GS, LDTR, TR, ES as SEG_ES, CR0_ET, CR0_CD, CR0_NW, CR0_TS, CR0_MP, CR0_EM,
  STOP_BUDGET, STOP_HALT, STOP_RESET, STOP_REQUESTED, EXC_DB, EXC_NM, EXC_GP, CR4_PCE,
} from './layout';
import { execute, lockAllowed } from './generated/execute';
import { opsize32, fetch8, fetch8At, resetPrefixes, prefixOpsize, prefixAddrsize, prefixSegment, prefixRep, prefixLock, lockPrefix, repPrefix, prefixesDirty, markPrefixesDirty } from './decode';
import { getEflags, setEflagsRaw, materializeFlags } from './flags';
import { deliverEvent, KIND_EXTERNAL, KIND_EXCEPTION } from './interrupts';
import { interruptAcknowledge } from './imports';
import { flushTlb, updateAccessMasks, invalidateFetch, endSystemAccess } from './memory';
import { setSegmentCache, isV86 } from './segments';
import { collectExtraRetired } from './retired';
import { ud, gp, raise, NO_ERROR_CODE } from './fault';
import { reg32, setReg32, EAX, ECX, EDX, getEip, setEip } from './regs';
import { applyStartupSignals } from './vcpu';

let haltRequested: bool = false;

/** Drop requests an instruction left for the run loop (a vCPU switch or a state load follows). */
export function forgetInstructionRequests(): void {
  haltRequested = false;
}

/**
 * The next instruction runs in an interrupt shadow (after STI, MOV SS, POP SS). Called last in
 * those instructions, after anything that can fault; the next boundary sees S_SHADOW, takes no
 * interrupt and clears it.
 */
export function beginInterruptShadow(): void {
  store<u32>(STATE + S_SHADOW, 1);
}
export function halt(): void {
  if ((load<u32>(STATE + S_CR0) & 1) && load<u32>(STATE + S_CPL) != 0) gp(0);
  haltRequested = true;
}
export function rdpmc(): void {
  if (load<u32>(STATE + S_CPL) != 0 && !(load<u32>(STATE + S_CR4) & CR4_PCE)) gp(0);
  // No performance counters are modelled: they read as zero.
  setReg32(EAX, 0);
  setReg32(EDX, 0);
}

/** Decode prefixes and execute one instruction. Returns true when the loop must check for stops. */
@inline function step(start: u32): bool {
  if (prefixesDirty) resetPrefixes();
  // fetch8At leaves S_EIP one past the byte it read on every path, so EIP stays in a register.
  let eip = start;
  const b = fetch8At(eip);
  eip++;
  let key: u32 = b;
  if (load<u8>(PREFIX_BYTES + b)) {
    key = decodePrefixed(b);
    eip = getEip();
  } else if (b == 0x0f) {
    key = 0x100 | fetch8At(eip);
    eip++;
  }
  return execute(key | opsizeBit(), eip);
}

/** 1 for the prefix bytes 26 2E 36 3E 64-67 F0 F2 F3: one load tells an opcode from a prefix. */
const PREFIX_BYTES = memory.data<u8>([
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
]);

/**
 * Applies the prefix `first` and those after it; returns the opcode key that follows them
 * (0F map = 0x100 | byte), with a LOCK prefix checked against it.
 */
function decodePrefixed(first: u32): u32 {
  let b = first;
  let count = 0;
  for (;;) {
    switch (b) {
      case 0x26: prefixSegment(ES); break;
      case 0x2e: prefixSegment(CS); break;
      case 0x36: prefixSegment(SS); break;
      case 0x3e: prefixSegment(DS); break;
      case 0x64: prefixSegment(FS); break;
      case 0x65: prefixSegment(GS); break;
      case 0x66: prefixOpsize(); break;
      case 0x67: prefixAddrsize(); break;
      case 0xf0: prefixLock(); break;
      case 0xf2: prefixRep(2); break;
      case 0xf3: prefixRep(1); break;
      default: {
        const key: u32 = b == 0x0f ? 0x100 | fetch8() : b;
        if (lockPrefix) checkLock(key);
        return key;
      }
    }
    // An instruction is at most 15 bytes long.
    if (++count >= 14) gp(0);
    b = fetch8();
  }
  return 0;
}

@inline function opsizeBit(): u32 {
  return opsize32 ? 0x200 : 0;
}

function checkLock(key: u32): void {
  // Peek at the ModRM byte without consuming it.
  const eip = getEip();
  const modrm = fetch8();
  setEip(eip);
  if (!lockAllowed(key, modrm)) ud();
}

/** Take a pending NMI or maskable interrupt if the CPU can; returns true if one was taken. */
function checkInterrupts(): bool {
  if (load<u32>(STATE + S_NMI_PENDING) && !load<u32>(STATE + S_NMI_BLOCKED)) {
    store<u32>(STATE + S_NMI_PENDING, 0);
    store<u32>(STATE + S_NMI_BLOCKED, 1);
    store<u32>(STATE + S_HALTED, 0);
    store<u32>(STATE + S_PREV_EIP, getEip());
    deliverEvent(2, KIND_EXTERNAL, -1);
    return true;
  }
  if (load<u32>(STATE + S_INTR) && (load<u32>(STATE + S_EFLAGS) & IF)) {
    const vector = interruptAcknowledge();
    // The controller withdrew the request: nothing is taken and a halted CPU stays halted.
    if (vector < 0) return false;
    store<u32>(STATE + S_HALTED, 0);
    store<u32>(STATE + S_PREV_EIP, getEip());
    deliverEvent(vector & 0xff, KIND_EXTERNAL, -1);
    return true;
  }
  return false;
}

/**
 * Run up to `budget` instructions. Returns why it stopped (STOP_*). Faults trap out of this
 * function; the machine then calls deliverPendingFault() and runs again.
 */
export function run(budget: i32): i32 {
  // A trap out of a previous run() may have left a system access open (see memory.ts).
  endSystemAccess();
  // The fetch window folds CS's base in; the host may have rewritten the state block since
  // (S_MODE included, which the prefix defaults come from).
  invalidateFetch();
  markPrefixesDirty();
  // A vCPU waiting for SIPI runs nothing; INIT and SIPI posted by the machine apply first.
  if (load<u32>(STATE + S_WAIT_FOR_SIPI) | load<u32>(STATE + S_INIT_PENDING) | load<u32>(STATE + S_SIPI_PENDING)) {
    if (!applyStartupSignals()) return STOP_HALT;
  }
  let retired: i32 = 0;
  // The instruction counter is counted + retired throughout (stepWithChecks keeps it so).
  const counted = load<u64>(STATE + S_INSTRUCTIONS);
  let reason = STOP_BUDGET;
  if (load<u32>(STATE + S_HALTED)) {
    if (!checkInterruptsWhileHalted()) {
      materializeFlags();
      return STOP_HALT;
    }
  }
  while (retired < budget) {
    // One test for everything rare at an instruction boundary: an interrupt shadow to end,
    // a pending INTR or NMI, and TF (single-step).
    // (S_INTR and S_NMI_PENDING are neighbours: one 64-bit load reads both.)
    const attention = <u32>(load<u64>(STATE + S_INTR) != 0) | load<u32>(STATE + S_SHADOW)
      | (load<u32>(STATE + S_EFLAGS) & TF);
    if (attention) {
      reason = stepWithChecks();
      retired += lastRetired;
      if (reason != STOP_BUDGET) break;
      continue;
    }
    const eip = getEip();
    store<u32>(STATE + S_PREV_EIP, eip);
    const check = step(eip);
    retired++;
    if (check) {
      // Instructions that count more than one (REP, PAUSE) stop, so their extra count is taken here.
      retired += <i32>collectExtraRetired();
      store<u64>(STATE + S_INSTRUCTIONS, counted + <u64>retired);
      reason = afterStoppingInstruction();
      if (reason != STOP_BUDGET) break;
    } else {
      // Only this loop changes the counter while run() runs: a store per instruction, no load.
      store<u64>(STATE + S_INSTRUCTIONS, counted + <u64>retired);
    }
  }
  materializeFlags();
  return reason;
}

let lastRetired: i32 = 0;

/** After an instruction that asked for a stop check: HLT, a device's stop request. */
function afterStoppingInstruction(): i32 {
  if (haltRequested) {
    haltRequested = false;
    store<u32>(STATE + S_HALTED, 1);
    return STOP_HALT;
  }
  if (load<u32>(STATE + S_STOP_REQUEST)) {
    store<u32>(STATE + S_STOP_REQUEST, 0);
    return STOP_REQUESTED;
  }
  return STOP_BUDGET;
}

/**
 * One instruction with the boundary checks run() skips when nothing needs attention: the
 * shadow, interrupts, the single-step trap. Sets lastRetired; returns why to stop, if so.
 */
function stepWithChecks(): i32 {
  // Interrupts are taken at instruction boundaries, except right after STI / MOV SS.
  if (load<u32>(STATE + S_SHADOW)) {
    store<u32>(STATE + S_SHADOW, 0);
  } else if (load<u32>(STATE + S_INTR) | load<u32>(STATE + S_NMI_PENDING)) {
    checkInterrupts();
  }
  const eip = getEip();
  store<u32>(STATE + S_PREV_EIP, eip);
  const trap = (load<u32>(STATE + S_EFLAGS) & TF) != 0;
  const check = step(eip);
  lastRetired = 1 + <i32>collectExtraRetired();
  store<u64>(STATE + S_INSTRUCTIONS, load<u64>(STATE + S_INSTRUCTIONS) + <u64>lastRetired);
  let reason = STOP_BUDGET;
  if (check) {
    reason = afterStoppingInstruction();
    if (reason != STOP_BUDGET) return reason;
  }
  if (trap && !load<u32>(STATE + S_SHADOW)) {
    // Single-step trap after the instruction that ran with TF set.
    store<u32>(STATE + S_DR + 6 * 8, load<u32>(STATE + S_DR + 6 * 8) | 0x4000);
    store<u32>(STATE + S_PREV_EIP, getEip());
    deliverEvent(EXC_DB, KIND_EXCEPTION, -1);
  }
  return reason;
}

function checkInterruptsWhileHalted(): bool {
  const nmi = load<u32>(STATE + S_NMI_PENDING) != 0 && !load<u32>(STATE + S_NMI_BLOCKED);
  const intr = load<u32>(STATE + S_INTR) != 0 && (load<u32>(STATE + S_EFLAGS) & IF) != 0;
  if (!nmi && !intr) return false;
  if (!checkInterrupts()) return false;
  return true;
}

/** Power-on / RESET# state of an i686 (Intel SDM vol. 3, "Processor State After Reset"). */
export function resetCpu(): void {
  const index = load<u32>(STATE + S_CPU_INDEX);
  const switches = load<u32>(STATE + S_CPUID_SWITCHES);
  const count = load<u32>(STATE + S_CPU_COUNT);
  const a20 = load<u32>(STATE + S_A20);
  memory.fill(STATE, 0, STATE_SIZE);
  store<u32>(STATE + S_CPU_INDEX, index);
  store<u32>(STATE + S_CPUID_SWITCHES, switches);
  store<u32>(STATE + S_CPU_COUNT, count);
  store<u32>(STATE + S_A20, a20);
  store<i32>(STATE + S_FAULT_VECTOR, -1);
  store<i32>(STATE + S_DELIVERING, -1);
  store<u32>(STATE + S_EFLAGS, 2);
  store<u32>(STATE + S_CR0, CR0_ET | CR0_CD | CR0_NW);
  store<u32>(STATE + S_EIP, 0xfff0);
  setReg32(EDX, 0x0683); // processor signature
  // CS base is 0xFFFF0000 until the first far jump, so the first fetch is at 0xFFFFFFF0.
  setSegmentCache(CS, 0xf000, 0xffff_0000, 0xffff, 0x9b);
  setSegmentCache(SS, 0, 0, 0xffff, 0x93);
  setSegmentCache(DS, 0, 0, 0xffff, 0x93);
  setSegmentCache(ES, 0, 0, 0xffff, 0x93);
  setSegmentCache(FS, 0, 0, 0xffff, 0x93);
  setSegmentCache(GS, 0, 0, 0xffff, 0x93);
  setSegmentCache(LDTR, 0, 0, 0xffff, 0x82);
  setSegmentCache(TR, 0, 0, 0xffff, 0x8b);
  store<u32>(STATE + S_GDTR_LIMIT, 0xffff);
  store<u32>(STATE + S_IDTR_LIMIT, 0xffff);
  store<u32>(STATE + S_DR + 6 * 8, 0xffff_0ff0);
  store<u32>(STATE + S_DR + 7 * 8, 0x400);
  store<u32>(STATE + S_FPU_CONTROL, 0x40);
  store<u32>(STATE + S_FPU_TAG, 0x5555);
  store<u32>(STATE + S_MXCSR, 0x1f80);
  store<u64>(STATE + S_PAT, 0x0007_0406_0007_0406);
  store<u64>(STATE + S_APIC_BASE, 0xfee0_0800 | (index == 0 ? 0x100 : 0));
  // Application processors wait for a start-up IPI; vCPU 0 is the bootstrap processor.
  store<u32>(STATE + S_WAIT_FOR_SIPI, index != 0 ? 1 : 0);
  haltRequested = false;
  updateAccessMasks();
  flushTlb();
  invalidateFetch();
}

/**
 * INIT# (Intel SDM vol. 3, "Initialization Overview"): the state RESET gives, except that the
 * MSRs (TSC, APIC base, MTRRs, PAT, SYSENTER), the x87/MMX/SSE state and CR0.CD/NW are kept, and
 * the TLB is flushed. The bootstrap processor (APIC_BASE.BSP) restarts at the reset vector; an
 * application processor waits for a start-up IPI.
 */
export function initCpu(): void {
  memory.copy(STATE_SCRATCH, STATE, STATE_SIZE);
  resetCpu();
  memory.copy(STATE + S_TSC, STATE_SCRATCH + S_TSC, S_MISC_ENABLE + 8 - S_TSC);
  memory.copy(STATE + S_FPU_REGS, STATE_SCRATCH + S_FPU_REGS, S_MXCSR + 4 - S_FPU_REGS);
  store<u64>(STATE + S_INSTRUCTIONS, load<u64>(STATE_SCRATCH + S_INSTRUCTIONS));
  store<u32>(STATE + S_PAUSE_EXIT, load<u32>(STATE_SCRATCH + S_PAUSE_EXIT));
  const cacheBits = CR0_CD | CR0_NW;
  store<u32>(STATE + S_CR0, (load<u32>(STATE + S_CR0) & ~cacheBits) | (load<u32>(STATE_SCRATCH + S_CR0) & cacheBits));
  store<u32>(STATE + S_WAIT_FOR_SIPI, load<u32>(STATE + S_APIC_BASE) & 0x100 ? 0 : 1);
}
