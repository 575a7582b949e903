/**
 * The Intel 82093AA I/O Advanced Programmable Interrupt Controller, following its datasheet
 * (order no. 290566): 24 interrupt input pins, a redirection table entry per pin, the indirect
 * register window IOREGSEL (offset 0x00) / IOWIN (offset 0x10), and the ID (0x00), version
 * (0x01: 0x00170011, version 0x11 with 24 entries) and arbitration ID (0x02) registers.
 * Mapped at 0xFEC00000 by default, in a 4 KiB window as QEMU maps it.
 *
 * Inputs are wires (`setPin`), interpreted through each entry: polarity, edge or level trigger,
 * mask. An unmasked pin sends an interrupt message through the `deliver` callback; the machine
 * routes it to the local APICs. Level-triggered fixed and lowest-priority interrupts set the
 * entry's remote IRR when sent and send again only after the local APIC's EOI for that vector
 * comes back through `eoi(vector)` while the pin is still asserted.
 *
 * Quirks kept on purpose:
 * - Edges on a masked pin are lost, and level changes on a masked pin have no side effects, as
 *   the datasheet says (QEMU remembers masked edges; the hardware does not).
 * - Writing an entry as edge-triggered clears its remote IRR. Linux relies on this to clear a
 *   stuck remote IRR on I/O APICs without an EOI register (versions below 0x20).
 * - NMI, SMI and INIT entries are edge-triggered whatever the trigger bit says.
 * - ExtINT entries forward the 8259's INT level (an assert message when the pin becomes asserted,
 *   a de-assert when it stops or the entry is masked or re-pointed) instead of a single edge,
 *   because the 8259 holds INT high across back-to-back requests and an edge would lose them.
 *
 * Left out: the delivery status bit (delivery is instantaneous, so it always reads idle), the
 * APIC serial bus and its arbitration, and the EOI register of version 0x20 I/O APICs.
 */
import type { AccessSize } from '../bus/access-range.ts';
import { checkStateVersion, type Device, type DeviceState } from '../bus/device.ts';
import type { IrqLine } from '../bus/irq-line.ts';
import type { MmioMap } from '../bus/mmio-map.ts';

export const IO_APIC_DEFAULT_BASE = 0xfec00000;
export const IO_APIC_WINDOW = 0x1000;
export const IO_APIC_PINS = 24;
/** Version register: version 0x11, maximum redirection entry 23 in bits 23:16. */
export const IO_APIC_VERSION = 0x00170011;

/** An interrupt message for the APIC bus; the same shape as the local APIC's IpiMessage. */
export interface IoApicMessage {
  vector: number;
  /** Delivery mode: 0 fixed, 1 lowest priority, 2 SMI, 4 NMI, 5 INIT, 7 ExtINT. */
  mode: number;
  destination: number;
  destMode: 'physical' | 'logical';
  level: boolean;
  trigger: 'edge' | 'level';
  shorthand: 'none';
}

export interface IoApicOptions {
  mmio: MmioMap;
  /** Send a message onto the APIC bus (the machine routes it to the local APICs). */
  deliver: (message: IoApicMessage) => void;
  base?: number;
  /** Initial I/O APIC ID (4 bits), as the MP table / MADT announce it. */
  id?: number;
  name?: string;
}

const REG_ID = 0x00;
const REG_VERSION = 0x01;
const REG_ARBITRATION = 0x02;
const REG_REDIRECTION = 0x10;

const IOREGSEL = 0x00;
const IOWIN = 0x10;

const MODE_FIXED = 0;
const MODE_LOWEST_PRIORITY = 1;
const MODE_EXTINT = 7;

const RTE_DEST_LOGICAL = 1 << 11;
const RTE_ACTIVE_LOW = 1 << 13;
const RTE_REMOTE_IRR = 1 << 14;
const RTE_LEVEL = 1 << 15;
const RTE_MASKED = 1 << 16;
const RTE_LOW_WRITABLE = 0x1afff;
const RTE_HIGH_WRITABLE = 0xff000000;

export class IoApic implements Device {
  readonly name: string;
  private readonly deliver: (message: IoApicMessage) => void;
  private readonly initialId: number;
  private id = 0;
  private ioregsel = 0;
  private readonly low = new Uint32Array(IO_APIC_PINS);
  private readonly high = new Uint32Array(IO_APIC_PINS);
  /** Levels of the input pins, one bit per pin (the wires, kept across reset). */
  private pins = 0;

  constructor(options: IoApicOptions) {
    this.name = options.name ?? 'io-apic';
    this.deliver = options.deliver;
    this.initialId = (options.id ?? 0) & 0xf;
    options.mmio.register({
      owner: this.name,
      base: options.base ?? IO_APIC_DEFAULT_BASE,
      length: IO_APIC_WINDOW,
      sizes: 1 | 2 | 4,
      read: (offset, size) => this.readMmio(offset, size),
      write: (offset, size, value) => this.writeMmio(offset, size, value),
    });
    this.reset();
  }

  // ---- the machine's side ----

  /** Drive input `pin` from an IrqLine, starting from its current level. */
  connect(pin: number, line: IrqLine): void {
    line.connect((level) => this.setPin(pin, level));
    this.setPin(pin, line.level);
  }

  /** Set the level of input pin 0-23; other pin numbers are ignored. */
  setPin(pin: number, level: boolean): void {
    if (!Number.isInteger(pin) || pin < 0 || pin >= IO_APIC_PINS) return;
    const bit = 1 << pin;
    if (((this.pins & bit) !== 0) === level) return;
    const before = this.asserted(pin);
    this.pins = level ? this.pins | bit : this.pins & ~bit;
    const after = this.asserted(pin);
    if (before === after) return;
    const low = this.low[pin];
    if (low & RTE_MASKED) return;
    const mode = (low >> 8) & 7;
    if (mode === MODE_EXTINT) this.send(pin, after);
    else if (this.levelTriggered(low)) this.serviceLevel(pin);
    else if (after) this.send(pin, true);
  }

  /** The EOI message for `vector`: clear remote IRR of the entries using it, and resend if still asserted. */
  eoi(vector: number): void {
    vector &= 0xff;
    for (let pin = 0; pin < IO_APIC_PINS; pin++) {
      const low = this.low[pin];
      if (!(low & RTE_REMOTE_IRR) || (low & 0xff) !== vector) continue;
      this.low[pin] = low & ~RTE_REMOTE_IRR;
      this.serviceLevel(pin);
    }
  }

  /** Redirection entry `pin` as a 64-bit pair, for the machine's debugging views. */
  redirectionEntry(pin: number): { low: number; high: number } {
    return { low: this.low[pin], high: this.high[pin] };
  }

  // ---- Device ----

  reset(): void {
    this.id = this.initialId;
    this.ioregsel = 0;
    this.low.fill(RTE_MASKED);
    this.high.fill(0);
  }

  saveState(): DeviceState {
    return {
      version: 1,
      id: this.id,
      ioregsel: this.ioregsel,
      redirectionLow: Array.from(this.low),
      redirectionHigh: Array.from(this.high),
      pins: this.pins,
    };
  }

  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
    const bad = (k: string) => new Error(`${this.name}: saved state field ${k} is missing or malformed`);
    const num = (k: string): number => {
      const v = state[k];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(k);
      return v;
    };
    const table = (k: string): number[] => {
      const v = state[k];
      if (!Array.isArray(v) || v.length !== IO_APIC_PINS || v.some((x) => typeof x !== 'number')) throw bad(k);
      return v as number[];
    };
    const low = table('redirectionLow');
    const high = table('redirectionHigh');
    this.id = num('id') & 0xf;
    this.ioregsel = num('ioregsel') & 0xff;
    this.pins = num('pins') & 0xffffff;
    for (let i = 0; i < IO_APIC_PINS; i++) {
      this.low[i] = low[i] & (RTE_LOW_WRITABLE | RTE_REMOTE_IRR);
      this.high[i] = high[i] & RTE_HIGH_WRITABLE;
    }
  }

  // ---- registers ----

  private readMmio(offset: number, size: AccessSize): number {
    const reg = offset & ~3;
    let value: number;
    if (reg === IOREGSEL) value = this.ioregsel;
    else if (reg === IOWIN) value = this.readRegister(this.ioregsel);
    else return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    if (size === 4) return value >>> 0;
    return (value >>> ((offset & 3) * 8)) & (size === 2 ? 0xffff : 0xff);
  }

  private writeMmio(offset: number, size: AccessSize, value: number): void {
    const reg = offset & ~3;
    const shift = (offset & 3) * 8;
    if (reg === IOREGSEL) {
      // The index is the low byte; writes that miss it leave it alone.
      if (shift === 0) this.ioregsel = value & 0xff;
      return;
    }
    if (reg !== IOWIN) return;
    if (size !== 4) {
      // A narrow write replaces its byte lanes of the selected register.
      const laneMask = (size === 2 ? 0xffff : 0xff) << shift;
      const old = this.readRegister(this.ioregsel);
      value = (old & ~laneMask) | ((value << shift) & laneMask);
    }
    this.writeRegister(this.ioregsel, value >>> 0);
  }

  private readRegister(index: number): number {
    if (index === REG_ID) return this.id << 24;
    if (index === REG_VERSION) return IO_APIC_VERSION;
    if (index === REG_ARBITRATION) return this.id << 24;
    if (index >= REG_REDIRECTION && index < REG_REDIRECTION + 2 * IO_APIC_PINS) {
      const pin = (index - REG_REDIRECTION) >> 1;
      return index & 1 ? this.high[pin] : this.low[pin];
    }
    return 0;
  }

  private writeRegister(index: number, value: number): void {
    if (index === REG_ID) {
      this.id = (value >>> 24) & 0xf;
      return;
    }
    if (index < REG_REDIRECTION || index >= REG_REDIRECTION + 2 * IO_APIC_PINS) return; // read-only or reserved
    const pin = (index - REG_REDIRECTION) >> 1;
    const oldLow = this.low[pin];
    const oldHigh = this.high[pin];
    let low = oldLow;
    let high = oldHigh;
    if (index & 1) {
      high = value & RTE_HIGH_WRITABLE;
    } else {
      low = (value & RTE_LOW_WRITABLE) | (oldLow & RTE_REMOTE_IRR);
      if (!this.levelTriggered(low)) low &= ~RTE_REMOTE_IRR;
    }
    // An ExtINT assertion in flight is withdrawn from where it went before the entry changes.
    const extIntBefore = this.extIntActive(pin, oldLow);
    if (extIntBefore && (low !== oldLow || high !== oldHigh)) this.send(pin, false);
    this.low[pin] = low >>> 0;
    this.high[pin] = high >>> 0;
    if (this.extIntActive(pin, low)) {
      if (!extIntBefore || low !== oldLow || high !== oldHigh) this.send(pin, true);
    } else {
      // Unmasking (or switching to level) a pin that is asserted sends its level interrupt now.
      this.serviceLevel(pin);
    }
  }

  // ---- delivery ----

  private asserted(pin: number): boolean {
    return ((this.pins >> pin) & 1) === 1 !== ((this.low[pin] & RTE_ACTIVE_LOW) !== 0);
  }

  /** Level semantics with remote IRR apply to fixed and lowest-priority entries only. */
  private levelTriggered(low: number): boolean {
    const mode = (low >> 8) & 7;
    return (low & RTE_LEVEL) !== 0 && (mode === MODE_FIXED || mode === MODE_LOWEST_PRIORITY);
  }

  private extIntActive(pin: number, low: number): boolean {
    if (((low >> 8) & 7) !== MODE_EXTINT || low & RTE_MASKED) return false;
    return ((this.pins >> pin) & 1) === 1 !== ((low & RTE_ACTIVE_LOW) !== 0);
  }

  private serviceLevel(pin: number): void {
    const low = this.low[pin];
    if (!this.levelTriggered(low) || low & (RTE_MASKED | RTE_REMOTE_IRR) || !this.asserted(pin)) return;
    this.low[pin] = low | RTE_REMOTE_IRR;
    this.send(pin, true);
  }

  private send(pin: number, level: boolean): void {
    const low = this.low[pin];
    const mode = (low >> 8) & 7;
    if (mode === 3 || mode === 6) return; // reserved delivery modes
    this.deliver({
      vector: low & 0xff,
      mode,
      destination: this.high[pin] >>> 24,
      destMode: low & RTE_DEST_LOGICAL ? 'logical' : 'physical',
      level,
      trigger: this.levelTriggered(low) ? 'level' : 'edge',
      shorthand: 'none',
    });
  }
}
