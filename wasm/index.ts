// The WebAssembly module's exports: the run loop and its controls, and the memory layout (as
// exported globals) so TypeScript reads the state block at the same offsets the core uses.
export {
  STATE, STATE_SIZE, TLB, TLB_LIST, PHYS_MAP, ROM_AREA, ROM_AREA_SIZE, RAM_BASE,
  S_REGS, S_EIP, S_EFLAGS, S_CPL, S_MODE, S_PREV_EIP, S_SEGS, SEG_SIZE, SEG_SELECTOR, SEG_BASE, SEG_LIMIT, SEG_ATTR,
  S_GDTR_BASE, S_GDTR_LIMIT, S_IDTR_BASE, S_IDTR_LIMIT, S_CR0, S_CR2, S_CR3, S_CR4, S_DR, S_EFER,
  S_TSC, S_APIC_BASE, S_SYSENTER_CS, S_SYSENTER_ESP, S_SYSENTER_EIP, S_PAT,
  S_INTR, S_NMI_PENDING, S_SHADOW, S_HALTED, S_FAULT_VECTOR, S_FAULT_CODE, S_DELIVERING, S_INSTRUCTIONS,
  S_STOP_REQUEST, S_A20, S_CPUID_SWITCHES, S_CPU_COUNT, S_CPU_INDEX,
  S_NMI_BLOCKED, S_WAIT_FOR_SIPI, S_INIT_PENDING, S_SIPI_PENDING, S_PAUSE_EXIT, VCPU_SAVE, VCPU_SAVE_SLOTS,
  S_FPU_REGS, S_FPU_CONTROL, S_FPU_STATUS, S_FPU_TOP, S_FPU_TAG, S_FPU_IP, S_FPU_CS, S_FPU_DP, S_FPU_DS, S_FPU_OPCODE,
  S_XMM, S_MXCSR,
  PHYS_DEVICE, PHYS_READONLY, CPUID_APIC, CPUID_PAE,
  STOP_BUDGET, STOP_HALT, STOP_RESET, STOP_REQUESTED,
} from './layout';
export { run, resetCpu } from './cpu';
export { switchVcpu } from './vcpu';
export { deliverPendingFault } from './interrupts';
export { flushTlb, physHost, updateAccessMasks } from './memory';
export { getEflags, materializeFlags } from './flags';
export { recomputeAllWindows, setSegmentCache } from './segments';
