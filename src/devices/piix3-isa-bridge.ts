/**
 * Intel 82371SB PIIX3 PCI-to-ISA bridge, PCI function 00:01.0 (8086:7000), as in QEMU's "pc"
 * machine. Follows the 82371FB/82371SB PIIX/PIIX3 datasheet (order 290550): the PIRQ route
 * control registers (0x60-0x63) that steer PCI INTA#-INTD# onto ISA IRQs, the register reset
 * values of section 2.2, and the reset control register at I/O port 0xCF9.
 *
 * Left out: the ISA bus itself (the PIC, PIT, DMA and other ISA devices are separate models;
 * ELCR 0x4D0/0x4D1 belongs to the PIC model), motherboard IRQ/DMA routing (MBIRQ, MBDMA are
 * stored only), SMI generation (no SMM), the APIC chip-select and X-bus decoding (stored only).
 *
 * How PCI interrupts travel: slot `d` pin `p` (1-4) drives PIRQ[(p - 1 + d) & 3] (the standard
 * swizzle of the "pc" board); each PIRQ is the wired-OR of the functions on it, and drives the
 * ISA line its route register names while bit 7 is clear and the IRQ number is a valid one.
 */
import { checkStateVersion, type Device, type DeviceState } from '../bus/device.ts';
import { IrqLine } from '../bus/irq-line.ts';
import type { PciFunction, PciFunctionInfo } from '../bus/pci.ts';
import type { IrqSource, PciBus } from '../bus/pci-bus.ts';

export interface Piix3IsaBridgeOptions {
  pci: PciBus;
  /** The 16 ISA interrupt lines (index = IRQ number), listened to by the PICs and the I/O APIC. */
  isaIrqs: readonly (IrqLine | undefined)[];
  /** PCI device number; 1 on the "pc" machine. */
  device?: number;
  /**
   * The guest asked for a reset through port 0xCF9 (bit 2). `hard` is the SRST bit: a full
   * system reset rather than a CPU INIT.
   */
  onReset?: (hard: boolean) => void;
}

export const PIIX3_PIRQRC = 0x60;
export const PIIX3_TOM = 0x69;

/** Route register bit 7: 1 = the PIRQ is not routed to any ISA IRQ. */
const PIRQ_DISABLE = 0x80;
/** ISA IRQs a PIRQ may be routed to; 0-2, 8 and 13 are reserved encodings. */
const ROUTABLE_IRQS = 0b1101_1110_1111_1000;

const RCR_SRST = 0x02;
const RCR_RCPU = 0x04;

/** Reset values of the device-specific registers (PIIX3 datasheet register summary). */
const REGISTER_RESET: [number, number][] = [
  [0x4c, 0x4d], // IORT: ISA I/O recovery timer
  [0x4e, 0x03], // XBCS: X-bus chip select
  [0x60, 0x80], [0x61, 0x80], [0x62, 0x80], [0x63, 0x80], // PIRQRC A-D: disabled
  [0x69, 0x02], // TOM: top of memory 1 MiB
  [0x70, 0x80], [0x71, 0x80], // MBIRQ0/1: disabled
  [0x76, 0x0c], [0x77, 0x0c], // MBDMA0/1
  [0x78, 0x02], // PCSC
  [0xa0, 0x08], // SMICNTL
  [0xa8, 0x0f], // FTMR
];

export class Piix3IsaBridge implements Device, PciFunction {
  readonly name = 'piix3';
  readonly info: PciFunctionInfo = { vendorId: 0x8086, deviceId: 0x7000, classCode: 0x060100, headerType: 0x80 };
  readonly config = new Uint8Array(256);
  /** The reset control register at 0xCF9, handed to the host bridge (which owns 0xCF8-0xCFB). */
  readonly resetControl: { read(): number; write(value: number): void };
  private readonly isaIrqs: readonly (IrqLine | undefined)[];
  private readonly onReset?: (hard: boolean) => void;
  private readonly pirqs: IrqLine[] = [];
  /** Per PIRQ: the ISA IRQ it currently drives high, or -1. */
  private readonly driven = [-1, -1, -1, -1];
  /** Per PIRQ: one driver of each ISA line, made when first needed (ISA lines may be shared). */
  private readonly outputs: Map<number, IrqSource>[] = [new Map(), new Map(), new Map(), new Map()];
  private rcr = 0;

  constructor(options: Piix3IsaBridgeOptions) {
    this.isaIrqs = options.isaIrqs;
    this.onReset = options.onReset;
    for (let i = 0; i < 4; i++) {
      const line = new IrqLine(`PIRQ${'ABCD'[i]}`);
      line.connect(() => this.updatePirq(i));
      this.pirqs.push(line);
    }
    this.resetControl = {
      read: () => this.rcr,
      write: (value: number) => this.writeResetControl(value),
    };
    options.pci.addFunction(options.device ?? 1, 0, this, { command: 0x0007, status: 0x0200 });
    this.resetRegisters();
  }

  /**
   * The PciBus `routeInterrupt` of the "pc" board: a driver of the PIRQ that slot `device`'s
   * pin `pin` (1 = INTA#) is wired to.
   */
  routeInterrupt(device: number, pin: number): IrqSource {
    return this.pirqs[(pin - 1 + device) & 3].source();
  }

  /** Level of PIRQA-D (for an I/O APIC wiring that takes them directly). */
  /** The PIRQ wire itself, for an I/O APIC that takes PIRQA-D on pins 16-19. */
  pirqLine(pirq: number): IrqLine {
    return this.pirqs[pirq & 3];
  }

  pirqLevel(pirq: number): boolean {
    return this.pirqs[pirq & 3].level;
  }

  configWrite(offset: number, size: 1 | 2 | 4, value: number): boolean {
    if (offset + size <= PIIX3_PIRQRC || offset > PIIX3_PIRQRC + 3) return false;
    for (let i = 0; i < size; i++) {
      const reg = offset + i;
      const byte = (value >>> (8 * i)) & 0xff;
      if (reg >= PIIX3_PIRQRC && reg <= PIIX3_PIRQRC + 3) {
        this.config[reg] = byte & 0x8f; // bits 6:4 are reserved and read as 0
        this.updatePirq(reg - PIIX3_PIRQRC);
      } else {
        this.config[reg] = byte;
      }
    }
    return true;
  }

  reset(): void {
    this.rcr = 0;
    this.resetRegisters();
  }

  saveState(): DeviceState {
    return { version: 1, registers: this.config.slice(0x40), resetControl: this.rcr };
  }

  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
    this.config.set((state.registers as Uint8Array).subarray(0, 0xc0), 0x40);
    this.rcr = Number(state.resetControl) & RCR_SRST;
    for (let i = 0; i < 4; i++) this.updatePirq(i);
  }

  private resetRegisters(): void {
    this.config.fill(0, 0x40);
    for (const [reg, value] of REGISTER_RESET) this.config[reg] = value;
    for (let i = 0; i < 4; i++) this.updatePirq(i);
  }

  private writeResetControl(value: number): void {
    // RCPU asks for the reset; only SRST is kept, so the next write with RCPU resets again.
    this.rcr = value & RCR_SRST;
    if (value & RCR_RCPU) this.onReset?.((value & RCR_SRST) !== 0);
  }

  /** Re-drive the ISA line of one PIRQ after its level or its route changed. */
  private updatePirq(i: number): void {
    const route = this.config[PIIX3_PIRQRC + i];
    const irq = route & PIRQ_DISABLE || !((ROUTABLE_IRQS >> (route & 15)) & 1) ? -1 : route & 15;
    const target = this.pirqs[i].level ? irq : -1;
    if (target === this.driven[i]) return;
    if (this.driven[i] >= 0) this.output(i, this.driven[i])?.set(false);
    this.driven[i] = target;
    if (target >= 0) this.output(i, target)?.set(true);
  }

  private output(pirq: number, irq: number): IrqSource | undefined {
    let source = this.outputs[pirq].get(irq);
    if (!source) {
      const line = this.isaIrqs[irq];
      if (!line) return undefined;
      source = line.source();
      this.outputs[pirq].set(irq, source);
    }
    return source;
  }
}
