/**
 * System Control Port A at I/O port 0x92 ("fast A20 and reset"), as in the Intel 82371SB
 * PIIX3 datasheet (Port 92h): bit 1 drives the A20 gate, a 0 -> 1 transition of bit 0 resets
 * the CPU (ALT_RST#). The other bits are reserved and read 0 here (the PS/2 fixed-disk LED and
 * password lock bits of IBM machines are left out).
 *
 * The A20 state belongs to the machine (the i8042 output port drives it too), so bit 1 reads
 * back whatever the machine's A20 gate currently is.
 */
import { checkStateVersion, type Device, type DeviceState } from '../bus/device.ts';
import type { IoBus } from '../bus/io-bus.ts';

export interface Port92Options {
  io: IoBus;
  setA20: (on: boolean) => void;
  requestReset: () => void;
  a20Enabled: () => boolean;
  name?: string;
}

const FAST_RESET = 0x01;
const FAST_A20 = 0x02;

export class Port92 implements Device {
  readonly name: string;
  private readonly setA20: (on: boolean) => void;
  private readonly requestReset: () => void;
  private readonly a20Enabled: () => boolean;
  /** Last value of bit 0: the reset fires on its rising edge only. */
  private resetBit = 0;

  constructor(options: Port92Options) {
    this.name = options.name ?? 'port92';
    this.setA20 = options.setA20;
    this.requestReset = options.requestReset;
    this.a20Enabled = options.a20Enabled;
    options.io.register({
      owner: this.name,
      base: 0x92,
      length: 1,
      read: () => this.read(),
      write: (_o, _s, v) => this.write(v & 0xff),
    });
  }

  reset(): void {
    this.resetBit = 0;
  }

  private read(): number {
    return (this.a20Enabled() ? FAST_A20 : 0) | this.resetBit;
  }

  private write(value: number): void {
    const a20 = (value & FAST_A20) !== 0;
    if (a20 !== this.a20Enabled()) this.setA20(a20);
    const rising = (value & FAST_RESET) !== 0 && this.resetBit === 0;
    this.resetBit = value & FAST_RESET;
    if (rising) this.requestReset();
  }

  saveState(): DeviceState {
    return { version: 1, resetBit: this.resetBit };
  }

  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
    this.resetBit = Number(state.resetBit) & FAST_RESET;
  }
}
