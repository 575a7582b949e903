/**
 * An interrupt wire from a device to whatever listens (the PIC pair and the I/O APIC both listen
 * to the ISA lines). The device only says "my output is high/low"; edge or level semantics are
 * the listener's business, as on the board. Several devices may share a line (PCI INTx): each
 * source drives its own IrqSource and the line is the wired-OR of them.
 */
export type IrqListener = (level: boolean) => void;

export class IrqLine {
  private listeners: IrqListener[] = [];
  private sources = 0;
  private nextSourceBit = 1;
  private ownLevel = false;

  constructor(readonly name: string) {}

  /** The current level of the wire. */
  get level(): boolean {
    return this.ownLevel || this.sources !== 0;
  }

  connect(listener: IrqListener): void {
    this.listeners.push(listener);
  }

  raise(): void {
    this.set(true);
  }

  lower(): void {
    this.set(false);
  }

  set(level: boolean): void {
    const before = this.level;
    this.ownLevel = level;
    if (this.level !== before) this.notify();
  }

  /** A rising then falling edge, for edge-triggered sources such as the PIT output to IRQ 0. */
  pulse(): void {
    this.set(true);
    this.set(false);
  }

  /** A separate driver of this wire, for shared lines: the line is high while any source is. */
  source(): { set(level: boolean): void } {
    const bit = this.nextSourceBit;
    this.nextSourceBit *= 2;
    return {
      set: (level: boolean) => {
        const before = this.level;
        this.sources = level ? this.sources | bit : this.sources & ~bit;
        if (this.level !== before) this.notify();
      },
    };
  }

  private notify(): void {
    const level = this.level;
    for (const l of this.listeners) l(level);
  }
}
