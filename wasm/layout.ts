// The fixed layout of the shared WebAssembly.Memory and of the CPU state block.
// TypeScript reads these values through the module's exported globals (see index.ts), so this
// file is the one source of truth for every offset. Registers are 8 bytes wide so that long
// mode can be added without moving anything.
//
// Memory map (bytes):
//   0x0000_0000  AssemblyScript static data (the runtime allocates nothing after start-up)
//   0x0010_0000  CPU state block of the running vCPU (STATE_SIZE)
//   0x0011_0000  TLB fill list (indices of TLB entries to clear on a flush)
//   0x0015_0000  state blocks of the vCPUs that are not running (VCPU_SAVE, one per vCPU)
//   0x0019_0000  scratch state block (INIT keeps part of the old state)
//   0x0020_0000  physical page map: one u32 per 4 KiB physical page of the 4 GiB space
//   0x0060_0000  TLB: one u32 per 4 KiB virtual page of the 4 GiB linear space
//   0x00A0_0000  ROM area (BIOS image mapped at the top of the 4 GiB space, option ROMs)
//   0x0100_0000  guest RAM (RAM_BASE); the machine places video memory after it

export const STATE: u32 = 0x0010_0000;
export const STATE_SIZE: u32 = 0x1000;
export const TLB_LIST: u32 = 0x0011_0000;
export const TLB_LIST_CAPACITY: u32 = 0x1_0000;
/** Saved state blocks, STATE_SIZE apart: vCPU i's is at VCPU_SAVE + i * STATE_SIZE while another runs. */
export const VCPU_SAVE: u32 = 0x0015_0000;
export const VCPU_SAVE_SLOTS: u32 = 64;
export const STATE_SCRATCH: u32 = 0x0019_0000;
export const PHYS_MAP: u32 = 0x0020_0000;
export const TLB: u32 = 0x0060_0000;
export const ROM_AREA: u32 = 0x00a0_0000;
export const ROM_AREA_SIZE: u32 = 0x0060_0000;
export const RAM_BASE: u32 = 0x0100_0000;

// ---- CPU state block (offsets from STATE) ----
// General registers EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI, 8 bytes each (room for R8-R15).
export const S_REGS: u32 = 0x000;
export const S_EIP: u32 = 0x080;
/** EFLAGS with the arithmetic flags valid only where S_LAZY_MASK has no bit set. */
export const S_EFLAGS: u32 = 0x088;
// Lazy arithmetic flags: the last flag-setting operation's operands and result.
export const S_LAZY_OP: u32 = 0x08c; // LAZY_ADD / LAZY_SUB / LAZY_LOGIC
export const S_LAZY_DST: u32 = 0x090;
export const S_LAZY_SRC: u32 = 0x094;
export const S_LAZY_RES: u32 = 0x098;
export const S_LAZY_SIZE: u32 = 0x09c; // 8, 16 or 32
export const S_LAZY_MASK: u32 = 0x0a0; // which of CF PF AF ZF SF OF are lazy

export const S_CPL: u32 = 0x0a4;
/** Bit 0: code segment is 32-bit; bit 1: stack segment is 32-bit (B bit). */
export const S_MODE: u32 = 0x0a8;
/** Instruction pointer of the instruction being executed (for faults). */
export const S_PREV_EIP: u32 = 0x0ac;
/**
 * Flat segments: bit `seg` is set when the segment's base is 0 and it may be read at every
 * offset, bit `seg + 8` when it may also be written at every offset. Memory operands through
 * such a segment skip the window check (see linearForRead). Derived from the segment caches.
 */
export const S_FLAT: u32 = 0x0b0;

// Segment registers ES CS SS DS FS GS, then LDTR and TR: SEG_SIZE bytes each.
export const S_SEGS: u32 = 0x100;
export const SEG_SIZE: u32 = 0x20;
export const SEG_SELECTOR: u32 = 0x00;
export const SEG_BASE: u32 = 0x04;
export const SEG_LIMIT: u32 = 0x08;
/** Descriptor attribute bits as in the descriptor's high dword bits 8-23 (type, S, DPL, P, AVL, L, D/B, G). */
export const SEG_ATTR: u32 = 0x0c;
// Valid offset windows for reads and writes: [lo, hi]. An unusable segment has lo > hi.
export const SEG_READ_LO: u32 = 0x10;
export const SEG_READ_HI: u32 = 0x14;
export const SEG_WRITE_LO: u32 = 0x18;
export const SEG_WRITE_HI: u32 = 0x1c;

export const ES: i32 = 0;
export const CS: i32 = 1;
export const SS: i32 = 2;
export const DS: i32 = 3;
export const FS: i32 = 4;
export const GS: i32 = 5;
export const LDTR: i32 = 6;
export const TR: i32 = 7;

export const S_GDTR_BASE: u32 = 0x200;
export const S_GDTR_LIMIT: u32 = 0x204;
export const S_IDTR_BASE: u32 = 0x208;
export const S_IDTR_LIMIT: u32 = 0x20c;
export const S_CR0: u32 = 0x210;
export const S_CR2: u32 = 0x218;
export const S_CR3: u32 = 0x220;
export const S_CR4: u32 = 0x228;
export const S_DR: u32 = 0x230; // DR0-DR7, 8 bytes each
export const S_EFER: u32 = 0x270;

// Model-specific registers.
export const S_TSC: u32 = 0x280; // u64
export const S_APIC_BASE: u32 = 0x288; // u64
export const S_SYSENTER_CS: u32 = 0x290;
export const S_SYSENTER_ESP: u32 = 0x298;
export const S_SYSENTER_EIP: u32 = 0x2a0;
export const S_PAT: u32 = 0x2a8; // u64
export const S_MTRR_DEF_TYPE: u32 = 0x2b0; // u64
export const S_MTRR_FIXED: u32 = 0x2c0; // 11 x u64
export const S_MTRR_VAR: u32 = 0x320; // 8 pairs of base/mask u64
export const S_MISC_ENABLE: u32 = 0x3a0; // u64

// Interrupt and run state.
/** Non-zero while the interrupt controller asserts INTR. Written by the machine. */
export const S_INTR: u32 = 0x400;
/** Non-zero when an NMI is pending. Written by the machine. */
export const S_NMI_PENDING: u32 = 0x404;
/** Non-zero while the STI / MOV SS interrupt shadow covers the next instruction. */
export const S_SHADOW: u32 = 0x408;
export const S_HALTED: u32 = 0x40c;
/** Non-zero while an NMI handler runs (NMIs blocked until IRET). */
export const S_NMI_BLOCKED: u32 = 0x410;
/** Pending exception recorded before the wasm trap that aborts the faulting instruction. */
export const S_FAULT_VECTOR: u32 = 0x414; // -1 = none
export const S_FAULT_CODE: u32 = 0x418; // error code, or -1 for none
/** Vector of the exception being delivered (for double-fault classification), -1 = none. */
export const S_DELIVERING: u32 = 0x41c;
/** Instructions retired since power-on (u64). */
export const S_INSTRUCTIONS: u32 = 0x420;
/** Set by the machine during a port or MMIO callback to end run() after this instruction. */
export const S_STOP_REQUEST: u32 = 0x428;
/** A20 gate: 0 = address bit 20 forced to zero. */
export const S_A20: u32 = 0x42c;
/** CPUID feature switches from the machine: see CPUID_* bits. */
export const S_CPUID_SWITCHES: u32 = 0x430;
/** Number of logical processors reported by CPUID. */
export const S_CPU_COUNT: u32 = 0x434;
/** This vCPU's index (initial APIC ID). */
export const S_CPU_INDEX: u32 = 0x438;
/** Non-zero while the vCPU waits for a start-up IPI (an application processor after RESET or INIT). */
export const S_WAIT_FOR_SIPI: u32 = 0x43c;
/** Non-zero: an INIT arrived; run() applies it before anything else. Written by the machine. */
export const S_INIT_PENDING: u32 = 0x440;
/** A start-up IPI arrived: 0x100 | vector (0 = none); run() applies it if the vCPU waits for SIPI. */
export const S_SIPI_PENDING: u32 = 0x444;
/** Non-zero: PAUSE ends run() (another vCPU could use the time a spin-wait loop would burn). */
export const S_PAUSE_EXIT: u32 = 0x448;

// x87 FPU and MMX. ST/MM registers are 16 bytes each, physical register order (R0-R7).
export const S_FPU_REGS: u32 = 0x500; // 8 x 16 bytes: f64 value at +0, raw 64-bit mantissa/MMX at +8? (see fpu.ts)
export const S_FPU_CONTROL: u32 = 0x580;
export const S_FPU_STATUS: u32 = 0x584; // without TOP (kept in S_FPU_TOP)
export const S_FPU_TOP: u32 = 0x588;
export const S_FPU_TAG: u32 = 0x58c; // full 16-bit tag word (2 bits per physical register)
export const S_FPU_IP: u32 = 0x590;
export const S_FPU_CS: u32 = 0x594;
export const S_FPU_DP: u32 = 0x598;
export const S_FPU_DS: u32 = 0x59c;
export const S_FPU_OPCODE: u32 = 0x5a0;
export const S_FPU_AUX: u32 = 0x5a4; // free for the FPU implementation (0x5a4-0x5ff)

// SSE state is reserved for later: XMM0-15 at 0x600 (16 x 16 bytes), MXCSR at 0x700.
export const S_XMM: u32 = 0x600;
export const S_MXCSR: u32 = 0x700;

// ---- Flags ----
export const CF: u32 = 1 << 0;
export const PF: u32 = 1 << 2;
export const AF: u32 = 1 << 4;
export const ZF: u32 = 1 << 6;
export const SF: u32 = 1 << 7;
export const TF: u32 = 1 << 8;
export const IF: u32 = 1 << 9;
export const DF: u32 = 1 << 10;
export const OF: u32 = 1 << 11;
export const IOPL_MASK: u32 = 3 << 12;
export const NT: u32 = 1 << 14;
export const RF: u32 = 1 << 16;
export const VM: u32 = 1 << 17;
export const AC: u32 = 1 << 18;
export const VIF: u32 = 1 << 19;
export const VIP: u32 = 1 << 20;
export const ID: u32 = 1 << 21;
export const ARITH_FLAGS: u32 = CF | PF | AF | ZF | SF | OF;

export const LAZY_ADD: u32 = 0;
export const LAZY_SUB: u32 = 1;
export const LAZY_LOGIC: u32 = 2;

// ---- Control registers ----
export const CR0_PE: u32 = 1 << 0;
export const CR0_MP: u32 = 1 << 1;
export const CR0_EM: u32 = 1 << 2;
export const CR0_TS: u32 = 1 << 3;
export const CR0_ET: u32 = 1 << 4;
export const CR0_NE: u32 = 1 << 5;
export const CR0_WP: u32 = 1 << 16;
export const CR0_AM: u32 = 1 << 18;
export const CR0_NW: u32 = 1 << 29;
export const CR0_CD: u32 = 1 << 30;
export const CR0_PG: u32 = 1 << 31;
export const CR4_VME: u32 = 1 << 0;
export const CR4_PVI: u32 = 1 << 1;
export const CR4_TSD: u32 = 1 << 2;
export const CR4_DE: u32 = 1 << 3;
export const CR4_PSE: u32 = 1 << 4;
export const CR4_PAE: u32 = 1 << 5;
export const CR4_MCE: u32 = 1 << 6;
export const CR4_PGE: u32 = 1 << 7;
export const CR4_PCE: u32 = 1 << 8;
export const CR4_OSFXSR: u32 = 1 << 9;
export const CR4_OSXMMEXCPT: u32 = 1 << 10;
export const EFER_NXE: u32 = 1 << 11;

// ---- CPUID switches set by the machine ----
export const CPUID_APIC: u32 = 1 << 0;
export const CPUID_PAE: u32 = 1 << 1;

// ---- Physical page map entries ----
// An entry is the host address of the page (4 KiB aligned) or'ed with these flags.
export const PHYS_DEVICE: u32 = 1 << 0; // accesses go to the machine's MMIO callbacks
export const PHYS_READONLY: u32 = 1 << 1; // ROM: writes are dropped

// ---- TLB entries ----
// An entry is (host page address - linear page address) or'ed with these flags; 0 = empty.
export const TLB_VALID: u32 = 1 << 0;
export const TLB_NO_USER: u32 = 1 << 1; // supervisor-only page
export const TLB_NO_WRITE_USER: u32 = 1 << 2;
export const TLB_NO_WRITE_SUPER: u32 = 1 << 3;
export const TLB_DEVICE: u32 = 1 << 4; // MMIO or ROM page: every access takes the slow path
export const TLB_NO_EXEC: u32 = 1 << 5;
export const TLB_ROM: u32 = 1 << 6; // read-only memory: writes take the slow path and are dropped
export const TLB_LISTED: u32 = 1 << 7; // an invalidated entry that is still in the fill list
export const TLB_GLOBAL: u32 = 1 << 8; // the entry's fill-list item is marked global

// ---- Exceptions ----
export const EXC_DE: i32 = 0;
export const EXC_DB: i32 = 1;
export const EXC_NMI: i32 = 2;
export const EXC_BP: i32 = 3;
export const EXC_OF: i32 = 4;
export const EXC_BR: i32 = 5;
export const EXC_UD: i32 = 6;
export const EXC_NM: i32 = 7;
export const EXC_DF: i32 = 8;
export const EXC_TS: i32 = 10;
export const EXC_NP: i32 = 11;
export const EXC_SS: i32 = 12;
export const EXC_GP: i32 = 13;
export const EXC_PF: i32 = 14;
export const EXC_MF: i32 = 16;
export const EXC_AC: i32 = 17;
export const EXC_MC: i32 = 18;
export const EXC_XM: i32 = 19;

// ---- Why run() returned ----
export const STOP_BUDGET: i32 = 0;
export const STOP_HALT: i32 = 1;
export const STOP_RESET: i32 = 2; // triple fault or shutdown: the machine resets
export const STOP_REQUESTED: i32 = 3; // a device asked (S_STOP_REQUEST)
