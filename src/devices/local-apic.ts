/**
 * The local APIC of one virtual CPU, in xAPIC (memory-mapped) mode, following the Intel 64 and
 * IA-32 Architectures Software Developer's Manual, volume 3A, chapter "Advanced Programmable
 * Interrupt Controller (APIC)", for the integrated APIC of the P6 family / Pentium 4 generation.
 * The version register reads 0x00050014 (version 0x14, six LVT entries), as QEMU's APIC reports.
 *
 * What the model is:
 * - Registers at 16-byte aligned offsets of a 4 KiB window (the machine maps it at the address the
 *   APIC_BASE MSR names, 0xFEE00000 by default, and dispatches by the CPU that is running: every
 *   CPU sees its own APIC at the same address). Aligned 32-bit accesses are the only defined
 *   ones; narrower reads return the bytes of the register, narrower writes are ignored (as QEMU).
 * - Interrupt acceptance (IRR/ISR/TMR), TPR, PPR, arbitration priority, EOI with the EOI message
 *   to the I/O APICs for level-triggered vectors, the spurious vector, error status, the six LVT
 *   entries, LINT0/LINT1 inputs (fixed edge/level with remote IRR, NMI, ExtINT), the timer in
 *   one-shot and periodic modes with the divide configuration, and the ICR, which turns into an
 *   `IpiMessage` that the machine routes (see `apicDestinations`).
 * - The timer counts at APIC_BUS_HZ (1 GHz, as QEMU, so one count is one nanosecond at divide 1).
 *   The current count is computed from the clock, never ticked. Periodic interrupts are spaced at
 *   least MIN_TIMER_INTERRUPT_NS apart so a tiny initial count cannot flood the event queue; the
 *   count a guest reads is unaffected.
 * - Message delivery is instantaneous, so the ICR delivery status bit always reads idle.
 * - Power-on state for the bootstrap processor has LINT0 unmasked in ExtINT mode (virtual wire),
 *   as QEMU resets it because BIOSes expect it. ExtINT interrupts ignore the TPR/PPR and take their
 *   vector from the 8259 through `externalAcknowledge`.
 * - Hardware-disabled (APIC_BASE bit 11 clear, told by the machine with setHardwareEnabled) the
 *   APIC is gone: the window reads all ones, messages are ignored, and LINT0/LINT1 act as the
 *   CPU's INTR and NMI pins, as the SDM says.
 *
 * Left out: x2APIC, the TSC-deadline timer mode, CMCI, thermal and performance-counter events
 * (their LVT entries exist but nothing fires them), remote read, SMI handling beyond a callback,
 * arbitration IDs (lowest-priority ties go to the first APIC in the machine's list), and the
 * 4-bit APIC ID of older parts (IDs are 8 bits; physical destination 0xFF is broadcast).
 * The wait-for-SIPI state is the CPU's business: every accepted INIT calls onInit and every SIPI
 * onStartup, and the machine posts them to its vCPU (which ignores a SIPI unless it waits for one).
 */
import type { AccessRange, AccessSize } from '../bus/access-range.ts';
import type { Clock, TimerHandle } from '../bus/clock.ts';
import { checkStateVersion, type Device, type DeviceState } from '../bus/device.ts';
import type { IrqLine } from '../bus/irq-line.ts';

export const LOCAL_APIC_DEFAULT_BASE = 0xfee00000;
export const LOCAL_APIC_WINDOW = 0x1000;
/** Version register: version 0x14 in bits 7:0, (number of LVT entries - 1) in bits 23:16. */
export const LOCAL_APIC_VERSION = 0x00050014;
/** The APIC timer's input clock before the divider. */
export const APIC_BUS_HZ = 1_000_000_000;
/** Floor on the spacing of periodic timer interrupts, to keep the event queue bounded. */
export const MIN_TIMER_INTERRUPT_NS = 1000;

/** Delivery modes, as encoded in the ICR, the LVT entries and the I/O APIC redirection table. */
export const DeliveryMode = {
  Fixed: 0,
  LowestPriority: 1,
  Smi: 2,
  Nmi: 4,
  Init: 5,
  Startup: 6,
  ExtInt: 7,
} as const;

/** An interrupt message on the APIC bus (from an ICR write or from an I/O APIC). */
export interface IpiMessage {
  vector: number;
  /** A DeliveryMode value. */
  mode: number;
  /** 8-bit destination: an APIC ID (physical) or a logical destination (flat or cluster). */
  destination: number;
  destMode: 'physical' | 'logical';
  /** Assert (true) or de-assert (false); only INIT de-assert and ExtINT look at it. */
  level: boolean;
  trigger: 'edge' | 'level';
  shorthand: 'none' | 'self' | 'all' | 'others';
}

export interface LocalApicOptions {
  clock: Clock;
  /** Initial APIC ID (the CPU index on this machine). */
  id: number;
  /** The bootstrap processor: LINT0 starts in ExtINT mode (virtual wire). */
  bsp?: boolean;
  /** This APIC's interrupt request to its CPU core: high while an interrupt is deliverable. */
  intr: IrqLine;
  /** An ICR write: the machine routes the message (apicDestinations) and calls accept() on each target. */
  send: (message: IpiMessage) => void;
  /** An INIT was accepted: the APIC has already reset itself; the machine resets the CPU into wait-for-SIPI. */
  onInit: () => void;
  /** A start-up IPI was accepted: start the CPU at vector * 0x1000 if it waits for SIPI. */
  onStartup: (vector: number) => void;
  onNmi?: () => void;
  onSmi?: () => void;
  /** EOI of a level-triggered vector: the machine broadcasts it to the I/O APICs (IoApic.eoi). */
  onLevelEoi?: (vector: number) => void;
  /** The INTA cycle on the 8259 for ExtINT interrupts: returns its vector. */
  externalAcknowledge?: () => number;
  name?: string;
}

// Register indices (offset >> 4).
const REG_ID = 0x02;
const REG_VERSION = 0x03;
const REG_TPR = 0x08;
const REG_APR = 0x09;
const REG_PPR = 0x0a;
const REG_EOI = 0x0b;
const REG_RRD = 0x0c;
const REG_LDR = 0x0d;
const REG_DFR = 0x0e;
const REG_SVR = 0x0f;
const REG_ISR = 0x10;
const REG_TMR = 0x18;
const REG_IRR = 0x20;
const REG_ESR = 0x28;
const REG_ICR_LOW = 0x30;
const REG_ICR_HIGH = 0x31;
const REG_LVT = 0x32;
const REG_INITIAL_COUNT = 0x38;
const REG_CURRENT_COUNT = 0x39;
const REG_DIVIDE = 0x3e;

export const LVT_TIMER = 0;
export const LVT_THERMAL = 1;
export const LVT_PERFORMANCE = 2;
export const LVT_LINT0 = 3;
export const LVT_LINT1 = 4;
export const LVT_ERROR = 5;
const LVT_COUNT = 6;

const LVT_MASKED = 1 << 16;
const LVT_LEVEL = 1 << 15;
const LVT_REMOTE_IRR = 1 << 14;
const LVT_ACTIVE_LOW = 1 << 13;
const LVT_PERIODIC = 1 << 17;
/** Guest-writable bits per LVT entry (delivery status and remote IRR are read-only). */
const LVT_WRITABLE = [0x300ff, 0x107ff, 0x107ff, 0x1a7ff, 0x1a7ff, 0x100ff] as const;

const SVR_ENABLED = 1 << 8;
const SVR_FOCUS_DISABLED = 1 << 9;

const ICR_LOW_WRITABLE = 0x000ccfff;
const SHORTHANDS = ['none', 'self', 'all', 'others'] as const;

export const ESR_SEND_ILLEGAL_VECTOR = 1 << 5;
export const ESR_RECEIVE_ILLEGAL_VECTOR = 1 << 6;
export const ESR_ILLEGAL_REGISTER = 1 << 7;

/** Highest set bit of a 256-bit vector set, or -1. */
function highestVector(bits: Uint32Array): number {
  for (let i = 7; i >= 0; i--) if (bits[i]) return i * 32 + 31 - Math.clz32(bits[i]);
  return -1;
}

function testBit(bits: Uint32Array, v: number): boolean {
  return (bits[v >> 5] & (1 << (v & 31))) !== 0;
}

function setBit(bits: Uint32Array, v: number, on: boolean): void {
  if (on) bits[v >> 5] |= 1 << (v & 31);
  else bits[v >> 5] &= ~(1 << (v & 31));
}

export class LocalApic implements Device {
  readonly name: string;
  /** The register window, as offsets; the machine maps it for this CPU. */
  readonly mmio: AccessRange;

  private readonly clock: Clock;
  private readonly bsp: boolean;
  private readonly intr: IrqLine;
  private readonly send: (message: IpiMessage) => void;
  private readonly onInit: () => void;
  private readonly onStartup: (vector: number) => void;
  private readonly onNmi?: () => void;
  private readonly onSmi?: () => void;
  private readonly onLevelEoi?: (vector: number) => void;
  private readonly externalAcknowledge?: () => number;

  private hardwareEnabled = true;
  private apicId: number;
  private tpr = 0;
  private ldr = 0;
  private dfr = 0xffffffff;
  private svr = 0xff;
  private readonly irr = new Uint32Array(8);
  private readonly isr = new Uint32Array(8);
  private readonly tmr = new Uint32Array(8);
  /** The ESR as last latched by a write, and the errors found since. */
  private esr = 0;
  private errorPending = 0;
  private icrLow = 0;
  private icrHigh = 0;
  private readonly lvt = new Array<number>(LVT_COUNT).fill(LVT_MASKED);
  private initialCount = 0;
  private divideConfig = 0;
  /** Clock time at which the current count equalled initialCount (continuous across divide changes). */
  private timerStart = 0;
  /** A count is running (cleared when a one-shot count reaches zero). */
  private timerArmed = false;
  private timerHandle: TimerHandle | undefined;
  /** Levels of the LINT0/LINT1 pins, and whether each was asserted as the LVT sees it. */
  private readonly lintLevel = [false, false];
  private readonly lintAsserted = [false, false];
  /** ExtINT asserted by a message (an I/O APIC pin in ExtINT mode forwards the 8259's INT level). */
  private extIntMessage = false;
  private deliveringError = false;
  private intrLevel = false;

  constructor(options: LocalApicOptions) {
    this.name = options.name ?? `local-apic${options.id}`;
    this.clock = options.clock;
    this.apicId = options.id & 0xff;
    this.bsp = options.bsp ?? false;
    this.intr = options.intr;
    this.send = options.send;
    this.onInit = options.onInit;
    this.onStartup = options.onStartup;
    this.onNmi = options.onNmi;
    this.onSmi = options.onSmi;
    this.onLevelEoi = options.onLevelEoi;
    this.externalAcknowledge = options.externalAcknowledge;
    this.mmio = {
      owner: this.name,
      base: LOCAL_APIC_DEFAULT_BASE,
      length: LOCAL_APIC_WINDOW,
      sizes: 1 | 2 | 4,
      read: (offset, size) => this.readMmio(offset, size),
      write: (offset, size, value) => this.writeMmio(offset, size, value),
    };
    this.reset();
  }

  // ---- the machine's side ----

  /** The current APIC ID (the guest can change it). */
  get id(): number {
    return this.apicId;
  }

  get enabled(): boolean {
    return this.hardwareEnabled && (this.svr & SVR_ENABLED) !== 0;
  }

  /**
   * The CPU wrote its IA32_APIC_BASE MSR: bit 11 is the global enable, bit 8 (read-only) marks
   * the bootstrap processor. Relocating the window (bits 12-35) is the machine's business.
   */
  apicBaseWritten(value: number): void {
    this.setHardwareEnabled((value & 0x800) !== 0);
  }

  /** Whether this is the bootstrap processor's APIC (its LINT0 starts as a virtual wire). */
  get bootstrapProcessor(): boolean {
    return this.bsp;
  }

  /** APIC_BASE MSR bit 11. Disabling returns the registers to their power-on state. */
  setHardwareEnabled(enabled: boolean): void {
    if (enabled === this.hardwareEnabled) return;
    this.hardwareEnabled = enabled;
    if (!enabled) this.clearRegisters();
    this.update();
  }

  /** Drive the LINT0 (pin 0) or LINT1 (pin 1) input. */
  setLint(pin: number, level: boolean): void {
    if (pin !== 0 && pin !== 1) return;
    const wasLevel = this.lintLevel[pin];
    this.lintLevel[pin] = level;
    if (!this.hardwareEnabled) {
      // The pins are the CPU's INTR and NMI.
      if (pin === 1 && level && !wasLevel) this.onNmi?.();
      this.update();
      return;
    }
    this.evaluateLint(pin, true);
    this.update();
  }

  /** Whether the APIC asks its CPU for an interrupt now (the level of `intr`). */
  get interruptPending(): boolean {
    if (!this.hardwareEnabled) return this.lintLevel[0];
    return this.deliverableVector() >= 0 || this.extIntAsserted();
  }

  /**
   * The INTA cycle: the highest-priority deliverable vector moves from IRR to ISR and is returned.
   * ExtINT takes the 8259's vector. With nothing left to deliver (the TPR rose, the request went
   * away) the answer is the spurious vector, and the ISR is untouched.
   */
  acknowledge(): number {
    let vector: number;
    const v = this.hardwareEnabled ? this.deliverableVector() : -1;
    if (v >= 0) {
      setBit(this.irr, v, false);
      setBit(this.isr, v, true);
      vector = v;
    } else if (!this.hardwareEnabled ? this.lintLevel[0] : this.extIntAsserted()) {
      vector = this.externalAcknowledge ? this.externalAcknowledge() & 0xff : this.svr & 0xff;
    } else {
      vector = this.svr & 0xff;
    }
    this.update();
    return vector;
  }

  /** Accept a message the machine routed to this APIC. */
  accept(message: IpiMessage): void {
    if (!this.hardwareEnabled) return;
    switch (message.mode) {
      case DeliveryMode.Fixed:
      case DeliveryMode.LowestPriority:
        // A de-assert of a level-triggered interrupt carries no request.
        if (message.trigger === 'level' && !message.level) return;
        // Software-disabled APICs do not accept fixed interrupts (SDM "Local APIC state after it
        // has been software disabled").
        if (!(this.svr & SVR_ENABLED)) return;
        this.acceptVector(message.vector & 0xff, message.trigger === 'level');
        break;
      case DeliveryMode.Nmi:
        this.onNmi?.();
        break;
      case DeliveryMode.Smi:
        this.onSmi?.();
        break;
      case DeliveryMode.Init:
        // INIT level de-assert only synchronises arbitration IDs, which this model does not keep.
        if (message.trigger === 'level' && !message.level) return;
        this.init();
        break;
      case DeliveryMode.Startup:
        this.onStartup(message.vector & 0xff);
        break;
      case DeliveryMode.ExtInt:
        this.extIntMessage = message.level;
        this.update();
        break;
      default:
        break;
    }
  }

  /** The INIT reset: as power-on, except that the APIC ID and APIC_BASE are kept. */
  init(): void {
    this.clearRegisters();
    this.update();
    this.onInit();
  }

  /** Whether this APIC is a target of `destination` in the given mode (shorthand none). */
  matchesDestination(destination: number, destMode: 'physical' | 'logical'): boolean {
    if (!this.hardwareEnabled) return false;
    destination &= 0xff;
    if (destMode === 'physical') return destination === 0xff || destination === this.apicId;
    const logicalId = this.ldr >>> 24;
    const model = this.dfr >>> 28;
    if (model === 0xf) return (logicalId & destination) !== 0;
    if (model === 0) {
      const cluster = destination >> 4;
      return (cluster === 0xf || cluster === logicalId >> 4) && (logicalId & destination & 0xf) !== 0;
    }
    return false;
  }

  /** The arbitration priority (APR), which lowest-priority delivery minimises. */
  get arbitrationPriority(): number {
    const isrv = highestVector(this.isr);
    const irrv = highestVector(this.irr);
    const tprClass = this.tpr >> 4;
    if (tprClass >= irrv >> 4 && tprClass > isrv >> 4) return this.tpr;
    return Math.max(this.tpr & 0xf0, isrv < 0 ? 0 : isrv & 0xf0, irrv < 0 ? 0 : irrv & 0xf0);
  }

  /** The focus processor of a lowest-priority vector: it already has it in service or pending. */
  isFocusFor(vector: number): boolean {
    if (this.svr & SVR_FOCUS_DISABLED) return false;
    return testBit(this.isr, vector & 0xff) || testBit(this.irr, vector & 0xff);
  }

  /** Whether fixed and lowest-priority interrupts can be accepted (hardware and software enabled). */
  get acceptsInterrupts(): boolean {
    return this.enabled;
  }

  // ---- Device ----

  reset(): void {
    this.hardwareEnabled = true;
    this.clearRegisters();
    if (this.bsp) this.lvt[LVT_LINT0] = DeliveryMode.ExtInt << 8;
    this.evaluateLint(0);
    this.update();
  }

  saveState(): DeviceState {
    return {
      version: 1,
      hardwareEnabled: this.hardwareEnabled,
      id: this.apicId,
      tpr: this.tpr,
      ldr: this.ldr,
      dfr: this.dfr,
      svr: this.svr,
      irr: Array.from(this.irr),
      isr: Array.from(this.isr),
      tmr: Array.from(this.tmr),
      esr: this.esr,
      errorPending: this.errorPending,
      icrLow: this.icrLow,
      icrHigh: this.icrHigh,
      lvt: [...this.lvt],
      initialCount: this.initialCount,
      divideConfig: this.divideConfig,
      timerStart: this.timerStart,
      timerArmed: this.timerArmed,
      lintLevel: [...this.lintLevel],
      lintAsserted: [...this.lintAsserted],
      extIntMessage: this.extIntMessage,
    };
  }

  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
    const num = (k: string): number => {
      const v = state[k];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${this.name}: saved state field ${k} is missing or malformed`);
      return v;
    };
    const bool = (k: string): boolean => {
      const v = state[k];
      if (typeof v !== 'boolean') throw new Error(`${this.name}: saved state field ${k} is missing or malformed`);
      return v;
    };
    const list = (k: string, length: number): unknown[] => {
      const v = state[k];
      if (!Array.isArray(v) || v.length !== length) throw new Error(`${this.name}: saved state field ${k} is missing or malformed`);
      return v;
    };
    const numbers = (k: string, length: number): number[] => list(k, length).map((x) => (typeof x === 'number' ? x >>> 0 : 0));
    this.clock.cancel(this.timerHandle);
    this.timerHandle = undefined;
    this.hardwareEnabled = bool('hardwareEnabled');
    this.apicId = num('id') & 0xff;
    this.tpr = num('tpr') & 0xff;
    this.ldr = num('ldr') & 0xff000000;
    this.dfr = (num('dfr') | 0x0fffffff) >>> 0;
    this.svr = num('svr') & 0x3ff;
    this.irr.set(numbers('irr', 8));
    this.isr.set(numbers('isr', 8));
    this.tmr.set(numbers('tmr', 8));
    this.esr = num('esr') & 0xff;
    this.errorPending = num('errorPending') & 0xff;
    this.icrLow = num('icrLow') & ICR_LOW_WRITABLE;
    this.icrHigh = num('icrHigh') & 0xff000000;
    const lvt = numbers('lvt', LVT_COUNT);
    for (let i = 0; i < LVT_COUNT; i++) this.lvt[i] = lvt[i] & (LVT_WRITABLE[i] | LVT_REMOTE_IRR);
    this.initialCount = num('initialCount') >>> 0;
    this.divideConfig = num('divideConfig') & 0xb;
    this.timerStart = num('timerStart');
    this.timerArmed = bool('timerArmed');
    const levels = list('lintLevel', 2);
    const asserted = list('lintAsserted', 2);
    for (let i = 0; i < 2; i++) {
      this.lintLevel[i] = levels[i] === true;
      this.lintAsserted[i] = asserted[i] === true;
    }
    this.extIntMessage = bool('extIntMessage');
    this.scheduleTimer(false);
    this.update();
  }

  // ---- registers ----

  private readMmio(offset: number, size: AccessSize): number {
    if (!this.hardwareEnabled) return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    const within = offset & 0xf;
    // Only the first dword of each 16-byte slot is a register; the rest read as zero.
    const value = within < 4 ? this.readRegister(offset >> 4) : 0;
    if (size === 4) return value >>> 0;
    return (value >>> ((within & 3) * 8)) & (size === 2 ? 0xffff : 0xff);
  }

  private writeMmio(offset: number, size: AccessSize, value: number): void {
    if (!this.hardwareEnabled || size !== 4 || (offset & 0xf) !== 0) return;
    this.writeRegister(offset >> 4, value >>> 0);
  }

  private readRegister(index: number): number {
    switch (index) {
      case REG_ID: return (this.apicId << 24) >>> 0;
      case REG_VERSION: return LOCAL_APIC_VERSION;
      case REG_TPR: return this.tpr;
      case REG_APR: return this.arbitrationPriority;
      case REG_PPR: return this.processorPriority();
      case REG_EOI: return 0;
      case REG_RRD: return 0;
      case REG_LDR: return this.ldr;
      case REG_DFR: return this.dfr;
      case REG_SVR: return this.svr;
      case REG_ESR: return this.esr;
      case REG_ICR_LOW: return this.icrLow;
      case REG_ICR_HIGH: return this.icrHigh;
      case REG_INITIAL_COUNT: return this.initialCount;
      case REG_CURRENT_COUNT: return this.currentCount();
      case REG_DIVIDE: return this.divideConfig;
      default:
        if (index >= REG_ISR && index < REG_ISR + 8) return this.isr[index - REG_ISR];
        if (index >= REG_TMR && index < REG_TMR + 8) return this.tmr[index - REG_TMR];
        if (index >= REG_IRR && index < REG_IRR + 8) return this.irr[index - REG_IRR];
        if (index >= REG_LVT && index < REG_LVT + LVT_COUNT) return this.lvt[index - REG_LVT];
        this.signalError(ESR_ILLEGAL_REGISTER);
        return 0;
    }
  }

  private writeRegister(index: number, value: number): void {
    switch (index) {
      case REG_ID:
        this.apicId = value >>> 24;
        return;
      case REG_TPR:
        this.tpr = value & 0xff;
        this.update();
        return;
      case REG_EOI:
        this.endOfInterrupt();
        return;
      case REG_LDR:
        this.ldr = (value & 0xff000000) >>> 0;
        return;
      case REG_DFR:
        this.dfr = (value | 0x0fffffff) >>> 0;
        return;
      case REG_SVR:
        this.writeSpuriousVector(value);
        return;
      case REG_ESR:
        // A write latches the errors found since the last write, and clears them.
        this.esr = this.errorPending;
        this.errorPending = 0;
        return;
      case REG_ICR_LOW:
        this.icrLow = value & ICR_LOW_WRITABLE;
        this.sendIpi();
        return;
      case REG_ICR_HIGH:
        this.icrHigh = (value & 0xff000000) >>> 0;
        return;
      case REG_INITIAL_COUNT:
        this.initialCount = value >>> 0;
        this.timerStart = this.clock.now();
        this.timerArmed = this.initialCount !== 0;
        this.scheduleTimer(false);
        return;
      case REG_DIVIDE:
        this.writeDivide(value);
        return;
      case REG_VERSION:
      case REG_APR:
      case REG_PPR:
      case REG_RRD:
      case REG_CURRENT_COUNT:
        return; // read-only
      default:
        if (index >= REG_ISR && index < REG_IRR + 8) return; // ISR, TMR, IRR are read-only
        if (index >= REG_LVT && index < REG_LVT + LVT_COUNT) {
          this.writeLvt(index - REG_LVT, value);
          return;
        }
        this.signalError(ESR_ILLEGAL_REGISTER);
    }
  }

  private writeSpuriousVector(value: number): void {
    const wasEnabled = (this.svr & SVR_ENABLED) !== 0;
    this.svr = value & 0x3ff;
    if (wasEnabled && !(this.svr & SVR_ENABLED)) {
      // Software disable masks every LVT entry; the timer keeps counting.
      for (let i = 0; i < LVT_COUNT; i++) this.lvt[i] |= LVT_MASKED;
      this.scheduleTimer(false);
      this.evaluateLint(0);
      this.evaluateLint(1);
    }
    this.update();
  }

  private writeLvt(n: number, value: number): void {
    const old = this.lvt[n];
    let v = (value & LVT_WRITABLE[n]) | (old & LVT_REMOTE_IRR);
    // While software-disabled the mask bits cannot be cleared.
    if (!(this.svr & SVR_ENABLED)) v |= LVT_MASKED;
    if (n === LVT_TIMER) {
      // A one-shot count that already ran out stays out when the mode changes.
      if (!(old & LVT_PERIODIC) && this.timerArmed && this.countsElapsed() >= this.initialCount) this.timerArmed = false;
      this.lvt[n] = v;
      this.scheduleTimer(false);
    } else {
      // Remote IRR only has a meaning for level-triggered fixed LINT interrupts.
      if ((v & LVT_LEVEL) === 0 || ((v >> 8) & 7) !== DeliveryMode.Fixed) v &= ~LVT_REMOTE_IRR;
      this.lvt[n] = v;
      if (n === LVT_LINT0 || n === LVT_LINT1) this.evaluateLint(n - LVT_LINT0);
    }
    this.update();
  }

  private writeDivide(value: number): void {
    const counts = this.countsElapsed();
    this.divideConfig = value & 0xb;
    // Keep the count where it is; only the rate changes from now on.
    this.timerStart = this.clock.now() - counts * this.nsPerCount();
    this.scheduleTimer(false);
  }

  // ---- priorities and acceptance ----

  private processorPriority(): number {
    const isrv = highestVector(this.isr);
    const isrClass = isrv < 0 ? 0 : isrv & 0xf0;
    return (this.tpr & 0xf0) >= isrClass ? this.tpr : isrClass;
  }

  /** The IRR vector the CPU would take now, or -1. */
  private deliverableVector(): number {
    if (!(this.svr & SVR_ENABLED)) return -1;
    const v = highestVector(this.irr);
    if (v < 0) return -1;
    return (v & 0xf0) > (this.processorPriority() & 0xf0) ? v : -1;
  }

  private extIntAsserted(): boolean {
    if (this.extIntMessage) return true;
    const lvt = this.lvt[LVT_LINT0];
    return (lvt & LVT_MASKED) === 0 && ((lvt >> 8) & 7) === DeliveryMode.ExtInt && this.lintAsserted[0];
  }

  private acceptVector(vector: number, level: boolean): void {
    if (vector < 16) {
      this.signalError(ESR_RECEIVE_ILLEGAL_VECTOR);
      return;
    }
    setBit(this.irr, vector, true);
    setBit(this.tmr, vector, level);
    this.update();
  }

  private endOfInterrupt(): void {
    const v = highestVector(this.isr);
    if (v < 0) return;
    setBit(this.isr, v, false);
    if (testBit(this.tmr, v)) {
      for (const pin of [0, 1]) {
        const n = LVT_LINT0 + pin;
        if (this.lvt[n] & LVT_REMOTE_IRR && (this.lvt[n] & 0xff) === v) {
          this.lvt[n] &= ~LVT_REMOTE_IRR;
          this.evaluateLint(pin);
        }
      }
      this.onLevelEoi?.(v);
    }
    this.update();
  }

  private signalError(bit: number): void {
    this.errorPending |= bit;
    // An error while delivering the error interrupt (an illegal error vector) is only logged.
    if (this.deliveringError) return;
    this.deliveringError = true;
    this.fireLocal(LVT_ERROR);
    this.deliveringError = false;
  }

  /** Deliver a local interrupt source through its LVT entry (timer, thermal, performance, error). */
  private fireLocal(n: number): void {
    const lvt = this.lvt[n];
    if (lvt & LVT_MASKED || !this.hardwareEnabled) return;
    const mode = n === LVT_TIMER || n === LVT_ERROR ? DeliveryMode.Fixed : (lvt >> 8) & 7;
    this.deliverLocalMode(mode, lvt & 0xff, false);
  }

  private deliverLocalMode(mode: number, vector: number, level: boolean): void {
    switch (mode) {
      case DeliveryMode.Fixed:
        this.acceptVector(vector, level);
        break;
      case DeliveryMode.Nmi:
        this.onNmi?.();
        break;
      case DeliveryMode.Smi:
        this.onSmi?.();
        break;
      case DeliveryMode.Init:
        this.init();
        break;
      default:
        break; // ExtINT is a level on LINT0 (extIntAsserted); other modes are reserved
    }
  }

  /**
   * Follow a LINT pin through its LVT entry after the pin or the entry changed. Edges come from
   * the pin only (`pinChanged`): rewriting the entry, even its polarity, makes no edge.
   */
  private evaluateLint(pin: number, pinChanged = false): void {
    const lvt = this.lvt[LVT_LINT0 + pin];
    const asserted = this.lintLevel[pin] !== ((lvt & LVT_ACTIVE_LOW) !== 0);
    const rising = asserted && !this.lintAsserted[pin];
    this.lintAsserted[pin] = asserted;
    if (lvt & LVT_MASKED || !this.hardwareEnabled) return;
    const mode = (lvt >> 8) & 7;
    if (mode === DeliveryMode.Fixed && lvt & LVT_LEVEL) {
      // Level-triggered: request while asserted, once per EOI (remote IRR).
      if (asserted && !(lvt & LVT_REMOTE_IRR) && (lvt & 0xff) >= 16) {
        this.lvt[LVT_LINT0 + pin] |= LVT_REMOTE_IRR;
        this.acceptVector(lvt & 0xff, true);
      } else if (asserted && !(lvt & LVT_REMOTE_IRR)) {
        this.signalError(ESR_RECEIVE_ILLEGAL_VECTOR);
      }
    } else if (rising && pinChanged && mode !== DeliveryMode.ExtInt) {
      // NMI, SMI and INIT are always edge-triggered; fixed edge-triggered takes the rising edge.
      this.deliverLocalMode(mode, lvt & 0xff, false);
    }
  }

  // ---- inter-processor interrupts ----

  private sendIpi(): void {
    const low = this.icrLow;
    const mode = (low >> 8) & 7;
    const vector = low & 0xff;
    // Delivery modes 3 and ExtINT are reserved in the ICR: nothing is sent.
    if (mode === 3 || mode === DeliveryMode.ExtInt) return;
    if ((mode === DeliveryMode.Fixed || mode === DeliveryMode.LowestPriority) && vector < 16) {
      this.signalError(ESR_SEND_ILLEGAL_VECTOR);
      return;
    }
    this.send({
      vector,
      mode,
      destination: this.icrHigh >>> 24,
      destMode: low & 0x800 ? 'logical' : 'physical',
      level: (low & 0x4000) !== 0,
      trigger: low & 0x8000 ? 'level' : 'edge',
      shorthand: SHORTHANDS[(low >> 18) & 3],
    });
  }

  // ---- timer ----

  private nsPerCount(): number {
    const code = (this.divideConfig & 3) | ((this.divideConfig >> 1) & 4);
    const divide = code === 7 ? 1 : 2 << code;
    return (divide * 1e9) / APIC_BUS_HZ;
  }

  /** Counts since the timer was (re)started. */
  private countsElapsed(): number {
    return Math.max(0, Math.floor((this.clock.now() - this.timerStart) / this.nsPerCount()));
  }

  private currentCount(): number {
    if (!this.timerArmed || this.initialCount === 0) return 0;
    const elapsed = this.countsElapsed();
    if (this.lvt[LVT_TIMER] & LVT_PERIODIC) return this.initialCount - (elapsed % this.initialCount);
    return elapsed >= this.initialCount ? 0 : this.initialCount - elapsed;
  }

  /**
   * Put the next timer interrupt on the clock. Nothing is scheduled while the entry is masked:
   * a masked timer still counts (the count is computed from the clock), it only interrupts nobody.
   */
  private scheduleTimer(afterFire: boolean): void {
    this.clock.cancel(this.timerHandle);
    this.timerHandle = undefined;
    if (!this.timerArmed || this.initialCount === 0 || this.lvt[LVT_TIMER] & LVT_MASKED || !this.hardwareEnabled) return;
    const now = this.clock.now();
    const period = this.initialCount * this.nsPerCount();
    let at: number;
    if (this.lvt[LVT_TIMER] & LVT_PERIODIC) {
      at = this.timerStart + (Math.floor((now - this.timerStart) / period) + 1) * period;
      if (at <= now) at += period;
      if (afterFire) at = Math.max(at, now + MIN_TIMER_INTERRUPT_NS);
    } else {
      at = this.timerStart + period;
      // A one-shot count that ran out while masked interrupts nobody when unmasked later.
      if (at <= now) {
        this.timerArmed = false;
        return;
      }
    }
    this.timerHandle = this.clock.schedule(at, () => this.timerExpired());
  }

  private timerExpired(): void {
    this.timerHandle = undefined;
    if (!(this.lvt[LVT_TIMER] & LVT_PERIODIC)) this.timerArmed = false;
    this.fireLocal(LVT_TIMER);
    this.scheduleTimer(true);
  }

  // ---- common ----

  /** Power-on register values (SDM "Local APIC State After Power-Up or Reset"), keeping the ID. */
  private clearRegisters(): void {
    this.tpr = 0;
    this.ldr = 0;
    this.dfr = 0xffffffff;
    this.svr = 0xff;
    this.irr.fill(0);
    this.isr.fill(0);
    this.tmr.fill(0);
    this.esr = 0;
    this.errorPending = 0;
    this.icrLow = 0;
    this.icrHigh = 0;
    this.lvt.fill(LVT_MASKED);
    this.initialCount = 0;
    this.divideConfig = 0;
    this.timerArmed = false;
    this.timerStart = this.clock.now();
    this.clock.cancel(this.timerHandle);
    this.timerHandle = undefined;
    this.extIntMessage = false;
    for (const pin of [0, 1]) this.lintAsserted[pin] = this.lintLevel[pin];
  }

  private update(): void {
    const level = this.interruptPending;
    if (level !== this.intrLevel) {
      this.intrLevel = level;
      this.intr.set(level);
    }
  }
}

/**
 * The APIC bus: which local APICs a message reaches. `sender` is the APIC whose ICR sent it
 * (needed for the self and all-excluding-self shorthands; absent for I/O APIC messages).
 * Lowest-priority delivery picks one target: the focus processor if there is one, else the
 * lowest arbitration priority, ties going to the earliest in `apics`.
 */
export function apicDestinations(message: IpiMessage, apics: readonly LocalApic[], sender?: LocalApic): LocalApic[] {
  let targets: LocalApic[];
  switch (message.shorthand) {
    case 'self':
      targets = sender ? [sender] : [];
      break;
    case 'all':
      targets = [...apics];
      break;
    case 'others':
      targets = apics.filter((a) => a !== sender);
      break;
    default:
      targets = apics.filter((a) => a.matchesDestination(message.destination, message.destMode));
  }
  if (message.mode !== DeliveryMode.LowestPriority || targets.length <= 1) return targets;
  const willing = targets.filter((a) => a.acceptsInterrupts);
  if (willing.length === 0) return [];
  const focus = willing.find((a) => a.isFocusFor(message.vector));
  if (focus) return [focus];
  let best = willing[0];
  for (const a of willing) if (a.arbitrationPriority < best.arbitrationPriority) best = a;
  return [best];
}

/** Route a message over the APIC bus and have every target accept it. */
export function deliverApicMessage(message: IpiMessage, apics: readonly LocalApic[], sender?: LocalApic): void {
  for (const target of apicDestinations(message, apics, sender)) target.accept(message);
}
