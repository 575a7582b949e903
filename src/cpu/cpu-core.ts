/**
 * The TypeScript side of the WebAssembly CPU: instantiates the core over a shared
 * WebAssembly.Memory, maps guest physical memory (RAM, ROM, device pages), runs it with fault
 * delivery, and reads or writes registers in the state block at the offsets the core exports.
 */

export interface CpuPlatform {
  portIn(port: number, size: 1 | 2 | 4): number;
  portOut(port: number, size: 1 | 2 | 4, value: number): void;
  mmioRead(address: number, size: 1 | 2 | 4): number;
  mmioWrite(address: number, size: 1 | 2 | 4, value: number): void;
  /** INTA cycle: the vector of the interrupt being taken, or -1 if none is pending any more. */
  interruptAcknowledge(): number;
  /** FERR# from the FPU (with CR0.NE = 0): a PC routes it to IRQ 13. */
  ferr?(asserted: boolean): void;
  /** WRMSR to IA32_APIC_BASE by the running vCPU (`CpuCore.current`): the new MSR value, low and high dword. */
  apicBaseWrite?(low: number, high: number): void;
}

export const enum StopReason {
  Budget = 0,
  Halt = 1,
  Reset = 2,
  Requested = 3,
}

interface CoreExports {
  run(budget: number): number;
  resetCpu(): void;
  switchVcpu(saveTo: number, loadFrom: number): void;
  updateAccessMasks(): void;
  deliverPendingFault(): number;
  flushTlb(): void;
  getEflags(): number;
  materializeFlags(): void;
  recomputeAllWindows(): void;
  setSegmentCache(seg: number, selector: number, base: number, limit: number, attr: number): void;
  [name: string]: unknown;
}

const PAGE = 4096;
const WASM_PAGE = 65536;

export const SEGMENT_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'ldtr', 'tr'] as const;
export const REGISTER_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;

export interface CpuCoreOptions {
  module: WebAssembly.Module;
  /** Guest RAM in bytes (a multiple of 4 KiB). */
  ramBytes: number;
  /** Extra shared memory after RAM for the machine (video memory), in bytes. */
  extraBytes?: number;
  platform: CpuPlatform;
  /** Virtual CPUs sharing this core (default 1); vCPU 0 is the bootstrap processor. */
  vcpus?: number;
}

export class CpuCore {
  readonly memory: WebAssembly.Memory;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly ramBytes: number;
  /** Offset in `memory` of the extra area after RAM (video memory). */
  readonly extraBase: number;
  /** Virtual CPUs sharing this core; their state blocks take turns at STATE (see `select`). */
  readonly vcpuCount: number;
  private readonly core: CoreExports;
  private readonly layout: Record<string, number>;
  private running = 0;
  /** The running vCPU's instruction count when the other vCPUs' TSCs were last brought level. */
  private tscLevelledAt = 0n;

  constructor(options: CpuCoreOptions) {
    const { module, ramBytes, platform } = options;
    if (ramBytes % PAGE !== 0 || ramBytes <= 0) throw new RangeError('RAM size must be a positive multiple of 4 KiB');
    // The layout constants are globals of the module; read them from a probe instance first.
    const ramBase = 0x0100_0000;
    const extra = Math.ceil((options.extraBytes ?? 0) / PAGE) * PAGE;
    const total = ramBase + ramBytes + extra;
    if (total > 0xffff_0000) throw new RangeError('guest RAM and video memory do not fit in 4 GiB of shared memory');
    // At least the core's declared initial memory (the fixed tables below RAM_BASE).
    const pages = Math.max(512, Math.ceil(total / WASM_PAGE));
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    const env = {
      memory: this.memory,
      portIn: (port: number, size: 1 | 2 | 4) => platform.portIn(port, size) >>> 0,
      portOut: (port: number, size: 1 | 2 | 4, value: number) => platform.portOut(port, size, value >>> 0),
      mmioRead: (address: number, size: 1 | 2 | 4) => platform.mmioRead(address >>> 0, size) >>> 0,
      mmioWrite: (address: number, size: 1 | 2 | 4, value: number) => platform.mmioWrite(address >>> 0, size, value >>> 0),
      interruptAcknowledge: () => platform.interruptAcknowledge(),
      ferr: (asserted: number) => platform.ferr?.(asserted !== 0),
      apicBaseWrite: (low: number, high: number) => platform.apicBaseWrite?.(low >>> 0, high >>> 0),
      abort: (_msg: number, _file: number, line: number, column: number) => {
        throw new Error(`CPU core assertion failed at line ${line}:${column}`);
      },
    };
    const instance = new WebAssembly.Instance(module, { env });
    this.core = instance.exports as unknown as CoreExports;
    this.layout = {};
    for (const [name, value] of Object.entries(instance.exports)) {
      if (value instanceof WebAssembly.Global) this.layout[name] = value.value as number;
    }
    if (this.layout.RAM_BASE !== ramBase) throw new Error('CPU core layout mismatch (RAM_BASE)');
    const vcpus = options.vcpus ?? 1;
    if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > this.layout.VCPU_SAVE_SLOTS) {
      throw new RangeError(`vCPU count must be 1 to ${this.layout.VCPU_SAVE_SLOTS}, got ${vcpus}`);
    }
    this.vcpuCount = vcpus;
    this.bytes = new Uint8Array(this.memory.buffer);
    this.view = new DataView(this.memory.buffer);
    this.ramBytes = ramBytes;
    this.extraBase = ramBase + ramBytes;
    this.mapAllUnassigned();
    this.mapRam(0, ramBytes, ramBase);
    for (let i = 0; i < vcpus; i++) this.setVcpuU32(i, this.layout.S_CPU_INDEX, i);
    this.setA20(true);
    this.reset();
  }

  /** Offset of a named layout constant (S_EIP, RAM_BASE, ...). */
  offset(name: string): number {
    const v = this.layout[name];
    if (v === undefined) throw new Error(`unknown layout constant ${name}`);
    return v;
  }

  private get state(): number {
    return this.layout.STATE;
  }

  // ---- Physical memory map ----

  private setPhys(page: number, entry: number): void {
    this.view.setUint32(this.layout.PHYS_MAP + page * 4, entry >>> 0, true);
  }

  private mapAllUnassigned(): void {
    for (let p = 0; p < 0x100000; p++) this.setPhys(p, this.layout.PHYS_DEVICE);
  }

  /** Map guest physical [address, address+length) to shared-memory offset `host` as RAM. */
  mapRam(address: number, length: number, host: number, readOnly = false): void {
    checkPageRange(address, length);
    for (let off = 0; off < length; off += PAGE) {
      this.setPhys((address + off) / PAGE, (host + off) | (readOnly ? this.layout.PHYS_READONLY : 0));
    }
    this.core.flushTlb();
  }

  /** Route guest physical [address, address+length) to the platform's MMIO callbacks. */
  mapDevice(address: number, length: number): void {
    checkPageRange(address, length);
    for (let off = 0; off < length; off += PAGE) this.setPhys((address + off) / PAGE, this.layout.PHYS_DEVICE);
    this.core.flushTlb();
  }

  /** Copy a ROM image into the ROM area at `romOffset` and map it read-only at `address`. */
  mapRom(address: number, image: Uint8Array, romOffset: number): void {
    const length = Math.ceil(image.length / PAGE) * PAGE;
    if (romOffset + length > this.layout.ROM_AREA_SIZE) throw new RangeError('ROM area is full');
    const host = this.layout.ROM_AREA + romOffset;
    this.bytes.fill(0xff, host, host + length);
    this.bytes.set(image, host);
    this.mapRam(address, length, host, true);
  }

  /** Guest RAM as bytes (offset 0 = physical address 0). */
  ram(): Uint8Array {
    return new Uint8Array(this.memory.buffer, this.layout.RAM_BASE, this.ramBytes);
  }

  // ---- Running ----

  /** RESET#: every vCPU to its power-on state; vCPU 0 runs, the others wait for a start-up IPI. */
  reset(): void {
    for (let i = this.vcpuCount - 1; i >= 0; i--) {
      this.select(i);
      this.core.resetCpu();
    }
    this.tscLevelledAt = 0n;
  }

  /**
   * Run up to `budget` instructions, delivering exceptions as they occur. Errors thrown by
   * device callbacks propagate to the caller (after the core's state is consistent).
   */
  run(budget: number): StopReason {
    const savedLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0; // faults unwind through a trap; no stack trace is needed
    try {
      for (;;) {
        const before = this.instructions;
        try {
          return this.core.run(budget) as StopReason;
        } catch (e) {
          if (this.view.getInt32(this.state + this.layout.S_FAULT_VECTOR, true) < 0) throw e;
          const r = this.deliverFault();
          if (r === StopReason.Reset) return StopReason.Reset;
          // Only the rest of the budget remains: the instructions retired before the fault
          // count, and so does the delivery itself (so a fault loop still ends the call).
          const retired = Number(this.instructions - before);
          budget -= Math.max(1, retired);
          if (budget <= 0) return StopReason.Budget;
        }
      }
    } finally {
      Error.stackTraceLimit = savedLimit;
    }
  }

  /** Deliver the recorded exception; if delivery faults again, classify and retry. */
  private deliverFault(): StopReason {
    for (let i = 0; i < 4; i++) {
      try {
        return this.core.deliverPendingFault() as StopReason;
      } catch (e) {
        if (this.view.getInt32(this.state + this.layout.S_FAULT_VECTOR, true) < 0) throw e;
      }
    }
    return StopReason.Reset;
  }

  // ---- Registers ----

  private u32(offset: number): number {
    return this.view.getUint32(this.state + offset, true);
  }
  private setU32(offset: number, v: number): void {
    this.view.setUint32(this.state + offset, v >>> 0, true);
  }

  reg(index: number): number {
    return this.u32(this.layout.S_REGS + index * 8);
  }
  setReg(index: number, v: number): void {
    this.setU32(this.layout.S_REGS + index * 8, v);
  }
  get eip(): number {
    return this.u32(this.layout.S_EIP);
  }
  set eip(v: number) {
    this.setU32(this.layout.S_EIP, v);
  }
  get eflags(): number {
    return this.core.getEflags() >>> 0;
  }
  get cpl(): number {
    return this.u32(this.layout.S_CPL);
  }
  get instructions(): bigint {
    return this.view.getBigUint64(this.state + this.layout.S_INSTRUCTIONS, true);
  }
  get halted(): boolean {
    return this.u32(this.layout.S_HALTED) !== 0;
  }
  controlRegister(n: 0 | 2 | 3 | 4): number {
    const off = { 0: 'S_CR0', 2: 'S_CR2', 3: 'S_CR3', 4: 'S_CR4' }[n];
    return this.u32(this.layout[off]);
  }
  segment(index: number): { selector: number; base: number; limit: number; attr: number } {
    const at = this.layout.S_SEGS + index * this.layout.SEG_SIZE;
    return {
      selector: this.u32(at + this.layout.SEG_SELECTOR),
      base: this.u32(at + this.layout.SEG_BASE),
      limit: this.u32(at + this.layout.SEG_LIMIT),
      attr: this.u32(at + this.layout.SEG_ATTR),
    };
  }
  setSegment(index: number, selector: number, base: number, limit: number, attr: number): void {
    this.core.setSegmentCache(index, selector, base, limit, attr);
  }

  // ---- Platform inputs ----

  /** Level of a vCPU's INTR pin (its interrupt controller's output); the running vCPU's by default. */
  setIntr(level: boolean, vcpu = this.running): void {
    this.setVcpuU32(vcpu, this.layout.S_INTR, level ? 1 : 0);
  }
  raiseNmi(vcpu = this.running): void {
    this.setVcpuU32(vcpu, this.layout.S_NMI_PENDING, 1);
  }
  /** The A20 gate is the board's: every vCPU sees the same. */
  setA20(enabled: boolean): void {
    if ((this.u32(this.layout.S_A20) !== 0) === enabled) return;
    for (let i = 0; i < this.vcpuCount; i++) this.setVcpuU32(i, this.layout.S_A20, enabled ? 1 : 0);
    this.core.flushTlb();
  }
  get a20(): boolean {
    return this.u32(this.layout.S_A20) !== 0;
  }
  /** Ask run() to return after the current instruction (from a device callback). */
  requestStop(): void {
    this.setU32(this.layout.S_STOP_REQUEST, 1);
  }
  /**
   * CPUID switches and processor count, from the machine configuration, for every vCPU. vCPU i
   * gets index (initial APIC ID) cpuIndex + i; they take effect at the next reset.
   */
  configure(options: { apic: boolean; pae: boolean; cpuCount: number; cpuIndex?: number }): void {
    const switches = (options.apic ? this.layout.CPUID_APIC : 0) | (options.pae ? this.layout.CPUID_PAE : 0);
    for (let i = 0; i < this.vcpuCount; i++) {
      this.setVcpuU32(i, this.layout.S_CPUID_SWITCHES, switches);
      this.setVcpuU32(i, this.layout.S_CPU_COUNT, options.cpuCount);
      this.setVcpuU32(i, this.layout.S_CPU_INDEX, (options.cpuIndex ?? 0) + i);
    }
  }

  // ---- Virtual CPUs ----

  /** The vCPU whose state is in the core's state block: the one run() executes and the register accessors show. */
  get current(): number {
    return this.running;
  }

  /** Shared-memory address of a vCPU's state block (STATE for the running one). */
  stateAddress(vcpu: number): number {
    if (!Number.isInteger(vcpu) || vcpu < 0 || vcpu >= this.vcpuCount) throw new RangeError(`no vCPU ${vcpu} (this core has ${this.vcpuCount})`);
    return vcpu === this.running ? this.layout.STATE : this.layout.VCPU_SAVE + vcpu * this.layout.STATE_SIZE;
  }

  /** Make `vcpu` the running one. Only between run() calls: instructions never straddle a switch. */
  select(vcpu: number): void {
    this.stateAddress(vcpu);
    if (vcpu === this.running) return;
    this.levelTimeStampCounters();
    const { VCPU_SAVE, STATE_SIZE } = this.layout;
    this.core.switchVcpu(VCPU_SAVE + this.running * STATE_SIZE, VCPU_SAVE + vcpu * STATE_SIZE);
    this.running = vcpu;
    this.tscLevelledAt = this.instructions;
  }

  /**
   * One time-stamp counter for the machine: a vCPU's TSC is its offset (S_TSC) plus its own
   * retired instructions, so the instructions the running vCPU retired are added to every other
   * vCPU's offset. Every vCPU then reads the same count (plus what WRMSR set on it), and a TSC read
   * on one vCPU is never behind one made earlier on another.
   */
  private levelTimeStampCounters(): void {
    if (this.vcpuCount === 1) return;
    const now = this.instructions;
    const delta = now - this.tscLevelledAt;
    this.tscLevelledAt = now;
    if (delta === 0n) return;
    for (let i = 0; i < this.vcpuCount; i++) {
      if (i === this.running) continue;
      const at = this.stateAddress(i) + this.layout.S_TSC;
      this.view.setBigUint64(at, BigInt.asUintN(64, this.view.getBigUint64(at, true) + delta), true);
    }
  }

  /**
   * Raise every vCPU's TSC to at least `ticks`, never lowering one (real-time mode: the TSC
   * follows a guest clock driven by the host, also while the vCPUs are halted).
   */
  raiseTimeStampCounters(ticks: bigint): void {
    this.levelTimeStampCounters();
    for (let i = 0; i < this.vcpuCount; i++) {
      const base = this.stateAddress(i);
      const retired = this.view.getBigUint64(base + this.layout.S_INSTRUCTIONS, true);
      const tsc = BigInt.asUintN(64, this.view.getBigUint64(base + this.layout.S_TSC, true) + retired);
      if (ticks > tsc) this.view.setBigUint64(base + this.layout.S_TSC, BigInt.asUintN(64, ticks - retired), true);
    }
  }

  /** Instructions retired by all vCPUs since power-on. */
  get totalInstructions(): bigint {
    if (this.vcpuCount === 1) return this.instructions;
    let sum = 0n;
    for (let i = 0; i < this.vcpuCount; i++) sum += this.view.getBigUint64(this.stateAddress(i) + this.layout.S_INSTRUCTIONS, true);
    return sum;
  }

  /**
   * Whether a vCPU has work: not waiting for SIPI (unless INIT or SIPI is posted to it), and not
   * halted unless an interrupt it would take (NMI, or INTR with IF set) is pending.
   */
  runnable(vcpu: number): boolean {
    const u = (name: string) => this.vcpuU32(vcpu, this.layout[name]);
    if (u('S_INIT_PENDING') || u('S_SIPI_PENDING')) return true;
    if (u('S_WAIT_FOR_SIPI')) return false;
    if (!u('S_HALTED')) return true;
    if (u('S_NMI_PENDING') && !u('S_NMI_BLOCKED')) return true;
    return u('S_INTR') !== 0 && (u('S_EFLAGS') & 0x200) !== 0;
  }

  /** The vCPU waits for a start-up IPI (an application processor after RESET or INIT). */
  waitingForStartup(vcpu: number): boolean {
    return this.vcpuU32(vcpu, this.layout.S_WAIT_FOR_SIPI) !== 0;
  }

  vcpuHalted(vcpu: number): boolean {
    return this.vcpuU32(vcpu, this.layout.S_HALTED) !== 0;
  }

  /** An INIT reached the vCPU: it resets (keeping MSRs and FPU state) when it next runs. */
  postInit(vcpu: number): void {
    this.setVcpuU32(vcpu, this.layout.S_INIT_PENDING, 1);
    if (vcpu === this.running) this.requestStop();
  }

  /**
   * A start-up IPI reached the vCPU. It counts only if the vCPU waits for SIPI (or an INIT is
   * posted before it); returns whether it was taken.
   */
  postStartup(vcpu: number, vector: number): boolean {
    if (!this.waitingForStartup(vcpu) && !this.vcpuU32(vcpu, this.layout.S_INIT_PENDING)) return false;
    this.setVcpuU32(vcpu, this.layout.S_SIPI_PENDING, 0x100 | (vector & 0xff));
    if (vcpu === this.running) this.requestStop();
    return true;
  }

  /** Whether PAUSE ends run() for this vCPU (when another vCPU could use the time). */
  setPauseExit(on: boolean, vcpu = this.running): void {
    this.setVcpuU32(vcpu, this.layout.S_PAUSE_EXIT, on ? 1 : 0);
  }

  /** Copies of every vCPU's state block, in vCPU order: the whole CPU side of a snapshot. */
  saveVcpuStates(): Uint8Array[] {
    this.levelTimeStampCounters();
    const size = this.layout.STATE_SIZE;
    return Array.from({ length: this.vcpuCount }, (_, i) => this.bytes.slice(this.stateAddress(i), this.stateAddress(i) + size));
  }

  /** Load blocks from saveVcpuStates(); the TLB is rebuilt. The vCPU running stays the current one. */
  loadVcpuStates(blocks: readonly Uint8Array[]): void {
    if (blocks.length !== this.vcpuCount) throw new RangeError(`${blocks.length} vCPU state blocks for a core with ${this.vcpuCount} vCPUs`);
    for (const b of blocks) {
      if (b.length !== this.layout.STATE_SIZE) throw new RangeError(`CPU state block of ${b.length} bytes does not fit this core (${this.layout.STATE_SIZE} bytes)`);
    }
    blocks.forEach((b, i) => {
      if (i !== this.running) this.bytes.set(b, this.stateAddress(i));
    });
    this.loadStateBlock(blocks[this.running]);
    this.tscLevelledAt = this.instructions;
  }

  private vcpuU32(vcpu: number, offset: number): number {
    return this.view.getUint32(this.stateAddress(vcpu) + offset, true);
  }
  private setVcpuU32(vcpu: number, offset: number, v: number): void {
    this.view.setUint32(this.stateAddress(vcpu) + offset, v >>> 0, true);
  }

  // ---- Snapshots ----

  /** A copy of the state block (registers, caches, MSRs, FPU): everything the core keeps between run() calls. */
  saveStateBlock(): Uint8Array {
    return this.bytes.slice(this.state, this.state + this.layout.STATE_SIZE);
  }

  /**
   * Load a state block from saveStateBlock(). The TLB and the access masks derived from CPL
   * are rebuilt; the physical memory map is the machine's to restore.
   */
  loadStateBlock(block: Uint8Array): void {
    if (block.length !== this.layout.STATE_SIZE) {
      throw new RangeError(`CPU state block of ${block.length} bytes does not fit this core (${this.layout.STATE_SIZE} bytes)`);
    }
    this.bytes.set(block, this.state);
    this.setU32(this.layout.S_STOP_REQUEST, 0);
    this.core.updateAccessMasks();
    this.core.flushTlb();
  }

  /** A snapshot of the general state for traces and error reports. */
  describe(): string {
    const regs = REGISTER_NAMES.map((n, i) => `${n}=${hex(this.reg(i))}`).join(' ');
    const cs = this.segment(1);
    const vcpu = this.vcpuCount > 1 ? `vcpu=${this.running} ` : '';
    return `${vcpu}${regs} eip=${hex(this.eip)} eflags=${hex(this.eflags)} cs=${hex(cs.selector, 4)} cpl=${this.cpl} cr0=${hex(this.controlRegister(0))}`;
  }
}

function checkPageRange(address: number, length: number): void {
  if (address % PAGE || length % PAGE || address < 0 || address + length > 2 ** 32) {
    throw new RangeError(`physical range ${hex(address)}+${hex(length)} is not page aligned or exceeds 4 GiB`);
  }
}

export function hex(v: number, digits = 8): string {
  return (v >>> 0).toString(16).padStart(digits, '0');
}
