/**
 * The Interrupt Mode Configuration Register of the MultiProcessor Specification 1.4 (section
 * 3.6.2.1, "PIC Mode"): port 0x22 selects a register (0x70 is the IMCR), port 0x23 reads and
 * writes the selected one. IMCR bit 0 = 0 is PIC mode: the 8259's INTR goes straight to the
 * bootstrap processor, bypassing the APICs. Bit 0 = 1 is symmetric I/O mode: the 8259's INTR is
 * cut off from the processor and interrupts go through the I/O APIC and local APICs.
 * The register resets to PIC mode. The machine rewires the 8259's output when onModeChange fires.
 *
 * Left out: other chipset registers that share the 0x22/0x23 index/data pair (the select port
 * reads as open bus, and data accesses with any other index read 0xFF and are ignored).
 */
import { checkStateVersion, type Device, type DeviceState } from '../bus/device.ts';
import type { IoBus } from '../bus/io-bus.ts';

export interface ImcrOptions {
  io: IoBus;
  /** Called when the mode changes: true = symmetric I/O mode, false = PIC mode. */
  onModeChange: (symmetricIo: boolean) => void;
  name?: string;
}

export const IMCR_SELECT_PORT = 0x22;
export const IMCR_INDEX = 0x70;

export class Imcr implements Device {
  readonly name: string;
  private readonly onModeChange: (symmetricIo: boolean) => void;
  private select = 0;
  private value = 0;

  constructor(options: ImcrOptions) {
    this.name = options.name ?? 'imcr';
    this.onModeChange = options.onModeChange;
    options.io.register({
      owner: this.name,
      base: IMCR_SELECT_PORT,
      length: 2,
      read: (offset) => (offset === 1 && this.select === IMCR_INDEX ? this.value : 0xff),
      write: (offset, _size, v) => this.write(offset, v & 0xff),
    });
  }

  /** True in symmetric I/O mode, false in PIC mode. */
  get symmetricIo(): boolean {
    return (this.value & 1) === 1;
  }

  private write(offset: number, v: number): void {
    if (offset === 0) {
      this.select = v;
      return;
    }
    if (this.select === IMCR_INDEX) this.setValue(v & 1);
  }

  private setValue(v: number): void {
    const before = this.value;
    this.value = v;
    if (before !== v) this.onModeChange(v === 1);
  }

  reset(): void {
    this.select = 0;
    this.setValue(0);
  }

  saveState(): DeviceState {
    return { version: 1, select: this.select, value: this.value };
  }

  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
    this.select = Number(state.select) & 0xff;
    this.setValue(Number(state.value) & 1);
  }
}
