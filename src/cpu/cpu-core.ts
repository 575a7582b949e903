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
}

export class CpuCore {
  readonly memory: WebAssembly.Memory;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly ramBytes: number;
  /** Offset in `memory` of the extra area after RAM (video memory). */
  readonly extraBase: number;
  private readonly core: CoreExports;
  private readonly layout: Record<string, number>;

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
    this.bytes = new Uint8Array(this.memory.buffer);
    this.view = new DataView(this.memory.buffer);
    this.ramBytes = ramBytes;
    this.extraBase = ramBase + ramBytes;
    this.mapAllUnassigned();
    this.mapRam(0, ramBytes, ramBase);
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

  reset(): void {
    this.core.resetCpu();
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

  /** Level of the INTR pin (the interrupt controller's output). */
  setIntr(level: boolean): void {
    this.setU32(this.layout.S_INTR, level ? 1 : 0);
  }
  raiseNmi(): void {
    this.setU32(this.layout.S_NMI_PENDING, 1);
  }
  setA20(enabled: boolean): void {
    if ((this.u32(this.layout.S_A20) !== 0) === enabled) return;
    this.setU32(this.layout.S_A20, enabled ? 1 : 0);
    this.core.flushTlb();
  }
  get a20(): boolean {
    return this.u32(this.layout.S_A20) !== 0;
  }
  /** Ask run() to return after the current instruction (from a device callback). */
  requestStop(): void {
    this.setU32(this.layout.S_STOP_REQUEST, 1);
  }
  /** CPUID switches and processor count, from the machine configuration. */
  configure(options: { apic: boolean; pae: boolean; cpuCount: number; cpuIndex: number }): void {
    this.setU32(this.layout.S_CPUID_SWITCHES, (options.apic ? this.layout.CPUID_APIC : 0) | (options.pae ? this.layout.CPUID_PAE : 0));
    this.setU32(this.layout.S_CPU_COUNT, options.cpuCount);
    this.setU32(this.layout.S_CPU_INDEX, options.cpuIndex);
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
    return `${regs} eip=${hex(this.eip)} eflags=${hex(this.eflags)} cs=${hex(cs.selector, 4)} cpl=${this.cpl} cr0=${hex(this.controlRegister(0))}`;
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
