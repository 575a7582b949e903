/**
 * The PC/AT pair of Intel 8259A programmable interrupt controllers: master at 0x20-0x21, slave at
 * 0xA0-0xA1 cascaded on the master's IR2, plus the PIIX3 Edge/Level Control Registers (ELCR) at
 * 0x4D0/0x4D1, which the PIIX3 uses instead of ICW1's LTIM bit to pick the trigger mode per input.
 *
 * Follows the Intel 8259A datasheet (order no. 231468) and the PIIX3 datasheet (82371SB, sections
 * on the interrupt controller and ELCR1/ELCR2).
 *
 * Left out: 8080/8085 mode (ICW4 bit 0 = 0 is accepted and treated as x86 mode), buffered mode,
 * ICW3 (the cascade wiring is fixed by the board, so what the guest writes there is ignored), single
 * mode's effect on the cascade (the slave stays wired to IR2), and the PIIX aliases of the PIC
 * ports at 0x24-0x3F/0xA4-0xBF.
 *
 * Edge-triggered inputs latch in IRR on a rising edge and stay latched if the line falls again
 * before the acknowledge (so a short IrqLine.pulse() is never lost, as in QEMU); level-triggered
 * inputs follow the line. The slave's INT output is the master's IR2 input, an edge input on the
 * PIIX3 (ELCR bit 2 is fixed at 0): a slave request that goes away after the master latched IR2
 * becomes a spurious IRQ15 (slave vector 7, master ISR2 set, slave ISR clear), as on the board.
 */
import type { AccessSize } from '../bus/access-range.ts';
import { checkStateVersion, type Device, type DeviceState } from '../bus/device.ts';
import type { IoBus } from '../bus/io-bus.ts';
import type { IrqLine } from '../bus/irq-line.ts';

export interface DualPic8259Options {
  io: IoBus;
  /** The master's INT output, wired to the CPU's INTR pin (or the local APIC's LINT0). */
  intr: IrqLine;
}

/** One 8259A. Plain data, so saving it is a field copy. */
interface Chip {
  irr: number;
  imr: number;
  isr: number;
  /** Current level of each IR input pin (the edge detector's memory). */
  inputs: number;
  /** ELCR: 1 = level-triggered input. */
  elcr: number;
  /** Which IR level currently has the lowest priority is (priorityAdd + 7) & 7. */
  priorityAdd: number;
  /** ICW2: vector of IR0; the low three bits come from the IR number. */
  vectorBase: number;
  /** 0: operational; 1, 2, 3: the next port-1 write is ICW2, ICW3, ICW4. */
  initStep: number;
  expectIcw4: boolean;
  singleMode: boolean;
  autoEoi: boolean;
  rotateOnAutoEoi: boolean;
  specialFullyNested: boolean;
  specialMask: boolean;
  /** OCW3 RIS: reads of the command port return ISR (true) or IRR (false). */
  readIsr: boolean;
  /** OCW3 P: the next read of the command port is a poll. */
  poll: boolean;
}

/** ELCR bits that exist on the PIIX3: IRQ 0, 1, 2 (master) and 8, 13 (slave) are always edge. */
const ELCR_WRITABLE = [0xf8, 0xde] as const;
const MASTER = 0;
const SLAVE = 1;
const CASCADE_IR = 2;

function freshChip(): Chip {
  return {
    irr: 0,
    imr: 0,
    isr: 0,
    inputs: 0,
    elcr: 0,
    priorityAdd: 0,
    vectorBase: 0,
    initStep: 0,
    expectIcw4: false,
    singleMode: false,
    autoEoi: false,
    rotateOnAutoEoi: false,
    specialFullyNested: false,
    specialMask: false,
    readIsr: false,
    poll: false,
  };
}

export class DualPic8259 implements Device {
  readonly name = 'pic';
  private readonly intr: IrqLine;
  private readonly chips: [Chip, Chip] = [freshChip(), freshChip()];
  private output = false;

  constructor(opts: DualPic8259Options) {
    this.intr = opts.intr;
    const io = opts.io;
    io.register({
      owner: 'pic master',
      base: 0x20,
      length: 2,
      read: (off) => this.readPort(MASTER, off),
      write: (off, _size, v) => this.writePort(MASTER, off, v & 0xff),
    });
    io.register({
      owner: 'pic slave',
      base: 0xa0,
      length: 2,
      read: (off) => this.readPort(SLAVE, off),
      write: (off, _size, v) => this.writePort(SLAVE, off, v & 0xff),
    });
    io.register({
      owner: 'pic elcr',
      base: 0x4d0,
      length: 2,
      read: (off: number, _size: AccessSize) => this.chips[off].elcr,
      write: (off: number, _size: AccessSize, v: number) => this.writeElcr(off, v & 0xff),
    });
  }

  // ---- the machine's side ----

  /** Drive ISA interrupt input `irq` (0-15) from an IrqLine, starting from its current level. */
  connect(irq: number, line: IrqLine): void {
    line.connect((level) => this.setInput(irq, level));
    this.setInput(irq, line.level);
  }

  /**
   * Set the level of ISA interrupt input `irq` (0-15). IRQ 2 is the cascade on a PC (ISA IRQ 2 is
   * routed to IRQ 9 by the board), so input 2 is ignored; out-of-range numbers are ignored too.
   */
  setInput(irq: number, level: boolean): void {
    if (!Number.isInteger(irq) || irq < 0 || irq > 15 || irq === CASCADE_IR) return;
    const chip = this.chips[irq >> 3];
    const bit = 1 << (irq & 7);
    if (level) {
      // Level inputs request while high; edge inputs latch a request on the rising edge only.
      if (chip.elcr & bit || !(chip.inputs & bit)) chip.irr |= bit;
      chip.inputs |= bit;
    } else {
      if (chip.elcr & bit) chip.irr &= ~bit;
      chip.inputs &= ~bit;
    }
    this.update();
  }

  /** Whether the master's INT output (the CPU's INTR) is asserted now. */
  get asserted(): boolean {
    return this.output;
  }

  /**
   * The INTA cycle: the CPU takes the interrupt and gets the vector. With nothing to deliver
   * (the request went away, or was masked, after INTR was sampled) the 8259A answers with its IR7
   * vector without setting ISR: the spurious interrupt every PC OS knows about.
   */
  acknowledge(): number {
    const master = this.chips[MASTER];
    const irq = this.highestRequest(MASTER);
    let vector: number;
    if (irq < 0) {
      vector = master.vectorBase | 7;
    } else {
      this.intack(MASTER, irq);
      if (irq === CASCADE_IR) {
        const slave = this.chips[SLAVE];
        const irq2 = this.highestRequest(SLAVE);
        if (irq2 < 0) {
          vector = slave.vectorBase | 7;
        } else {
          this.intack(SLAVE, irq2);
          vector = slave.vectorBase | irq2;
        }
        // The slave's INT drops during INTA; if it still has a request (automatic EOI, special
        // mask) it rises again, which the master latches as a new IR2 edge in update().
        master.inputs &= ~(1 << CASCADE_IR);
      } else {
        vector = master.vectorBase | irq;
      }
    }
    this.update();
    return vector;
  }

  // ---- Device ----

  reset(): void {
    this.chips[MASTER] = { ...freshChip(), inputs: this.chips[MASTER].inputs };
    this.chips[SLAVE] = { ...freshChip(), inputs: this.chips[SLAVE].inputs };
    this.update();
  }

  saveState(): DeviceState {
    const field = <K extends keyof Chip>(k: K): Chip[K][] => [this.chips[MASTER][k], this.chips[SLAVE][k]];
    return {
      version: 1,
      irr: field('irr'),
      imr: field('imr'),
      isr: field('isr'),
      inputs: field('inputs'),
      elcr: field('elcr'),
      priorityAdd: field('priorityAdd'),
      vectorBase: field('vectorBase'),
      initStep: field('initStep'),
      expectIcw4: field('expectIcw4'),
      singleMode: field('singleMode'),
      autoEoi: field('autoEoi'),
      rotateOnAutoEoi: field('rotateOnAutoEoi'),
      specialFullyNested: field('specialFullyNested'),
      specialMask: field('specialMask'),
      readIsr: field('readIsr'),
      poll: field('poll'),
    };
  }

  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
    for (const c of [MASTER, SLAVE]) {
      const chip = freshChip();
      for (const k of Object.keys(chip) as (keyof Chip)[]) {
        const saved = (state[k] as unknown[] | undefined)?.[c];
        if (typeof saved !== typeof chip[k]) throw new Error(`${this.name}: saved state field ${k} is missing or malformed`);
        (chip as unknown as Record<string, unknown>)[k] = saved;
      }
      this.chips[c] = chip;
    }
    this.update();
  }

  // ---- ports ----

  private readPort(c: number, off: number): number {
    const chip = this.chips[c];
    if (off === 1) return chip.imr;
    if (chip.poll) {
      chip.poll = false;
      return this.pollRead(c);
    }
    return chip.readIsr ? chip.isr : chip.irr;
  }

  private writePort(c: number, off: number, v: number): void {
    const chip = this.chips[c];
    if (off === 0) {
      if (v & 0x10) this.icw1(chip, v);
      else if (v & 0x08) this.ocw3(chip, v);
      else this.ocw2(c, v);
    } else {
      switch (chip.initStep) {
        case 1: // ICW2; in x86 mode the low three bits are the IR number, so they are ignored.
          chip.vectorBase = v & 0xf8;
          chip.initStep = chip.singleMode ? (chip.expectIcw4 ? 3 : 0) : 2;
          break;
        case 2: // ICW3: the cascade wiring is fixed on the board.
          chip.initStep = chip.expectIcw4 ? 3 : 0;
          break;
        case 3: // ICW4
          chip.autoEoi = (v & 0x02) !== 0;
          chip.specialFullyNested = (v & 0x10) !== 0;
          chip.initStep = 0;
          break;
        default: // OCW1
          chip.imr = v;
      }
    }
    this.update();
  }

  /**
   * ICW1 starts initialization: IMR, ISR and the edge detectors are cleared, IR7 becomes lowest
   * priority, special mask mode ends and reads return IRR. Clearing the edge detectors means a line
   * that is already high must go low and high again to request, so only level requests survive.
   * LTIM (bit 3) is ignored: the PIIX3 takes the trigger mode from ELCR.
   */
  private icw1(chip: Chip, v: number): void {
    chip.irr = chip.inputs & chip.elcr;
    chip.imr = 0;
    chip.isr = 0;
    chip.priorityAdd = 0;
    chip.specialMask = false;
    chip.readIsr = false;
    chip.poll = false;
    chip.expectIcw4 = (v & 0x01) !== 0;
    chip.singleMode = (v & 0x02) !== 0;
    // "If IC4 = 0, all functions selected in ICW4 are set to zero."
    chip.autoEoi = false;
    chip.specialFullyNested = false;
    chip.rotateOnAutoEoi = false;
    chip.initStep = 1;
  }

  private ocw2(c: number, v: number): void {
    const chip = this.chips[c];
    const level = v & 7;
    switch (v >> 5) {
      case 0: // clear rotate in automatic EOI mode
        chip.rotateOnAutoEoi = false;
        break;
      case 4: // set rotate in automatic EOI mode
        chip.rotateOnAutoEoi = true;
        break;
      case 1: // non-specific EOI
      case 5: {
        // rotate on non-specific EOI
        const ir = this.highestInService(c);
        if (ir >= 0) {
          chip.isr &= ~(1 << ir);
          if (v >> 5 === 5) chip.priorityAdd = (ir + 1) & 7;
        }
        break;
      }
      case 3: // specific EOI
        chip.isr &= ~(1 << level);
        break;
      case 7: // rotate on specific EOI
        chip.isr &= ~(1 << level);
        chip.priorityAdd = (level + 1) & 7;
        break;
      case 6: // set priority: `level` becomes the lowest priority
        chip.priorityAdd = (level + 1) & 7;
        break;
      default: // 2: no operation
        break;
    }
  }

  private ocw3(chip: Chip, v: number): void {
    if (v & 0x04) chip.poll = true;
    if (v & 0x02) chip.readIsr = (v & 0x01) !== 0;
    if (v & 0x40) chip.specialMask = (v & 0x20) !== 0;
  }

  private writeElcr(c: number, v: number): void {
    const chip = this.chips[c];
    chip.elcr = v & ELCR_WRITABLE[c];
    // Inputs that became level-triggered request exactly while their line is high.
    chip.irr = (chip.irr & ~chip.elcr) | (chip.inputs & chip.elcr);
    this.update();
  }

  /**
   * Poll command: the read acts as an interrupt acknowledge and returns 0x80 | level when a request
   * is pending, 0 otherwise. Polling the master for a cascaded request returns level 2; the
   * software then polls the slave, as with the real parts.
   */
  private pollRead(c: number): number {
    const irq = this.highestRequest(c);
    if (irq < 0) return 0;
    this.intack(c, irq);
    this.update();
    return 0x80 | irq;
  }

  // ---- priority logic ----

  /** The chip's pending requests: IRR less masked levels. */
  private requests(c: number): number {
    const chip = this.chips[c];
    return chip.irr & ~chip.imr;
  }

  /** Priority rank (0 = highest) of the highest-priority bit of `mask`, or 8 if none. */
  private rank(chip: Chip, mask: number): number {
    if (!mask) return 8;
    let p = 0;
    while (!(mask & (1 << ((p + chip.priorityAdd) & 7)))) p++;
    return p;
  }

  private highestInService(c: number): number {
    const chip = this.chips[c];
    const p = this.rank(chip, chip.isr);
    return p === 8 ? -1 : (p + chip.priorityAdd) & 7;
  }

  /** The IR level the chip would deliver now, or -1 if nothing beats what is in service. */
  private highestRequest(c: number): number {
    const chip = this.chips[c];
    const p = this.rank(chip, this.requests(c));
    if (p === 8) return -1;
    let blocking = chip.isr;
    // Special mask mode: a masked in-service level no longer blocks lower priorities.
    if (chip.specialMask) blocking &= ~chip.imr;
    // Special fully nested mode: the master lets a higher slave request through while IR2 is in service.
    if (c === MASTER && chip.specialFullyNested) blocking &= ~(1 << CASCADE_IR);
    return p < this.rank(chip, blocking) ? (p + chip.priorityAdd) & 7 : -1;
  }

  private intack(c: number, ir: number): void {
    const chip = this.chips[c];
    const bit = 1 << ir;
    if (chip.autoEoi) {
      if (chip.rotateOnAutoEoi) chip.priorityAdd = (ir + 1) & 7;
    } else {
      chip.isr |= bit;
    }
    // An edge request is consumed by the acknowledge; a level request stays while the line is high.
    if (!(chip.elcr & bit)) chip.irr &= ~bit;
  }

  private update(): void {
    const master = this.chips[MASTER];
    const cascade = 1 << CASCADE_IR;
    if (this.highestRequest(SLAVE) >= 0) {
      if (!(master.inputs & cascade)) master.irr |= cascade;
      master.inputs |= cascade;
    } else {
      master.inputs &= ~cascade;
    }
    const out = this.highestRequest(MASTER) >= 0;
    if (out !== this.output) {
      this.output = out;
      this.intr.set(out);
    }
  }
}
