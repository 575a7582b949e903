/**
 * Port 0x61, the PC/AT "port B" (in the PIIX3: the NMI Status and Control Register).
 *
 * Follows the PIIX3 datasheet (82371SB, NMI Status and Control Register at 61h) and the PC/AT
 * technical reference: bit 0 timer 2 gate (R/W), bit 1 speaker data enable (R/W), bit 2 PCI SERR#
 * NMI disable and bit 3 IOCHK# NMI disable (R/W, stored), bit 4 refresh cycle toggle (RO), bit 5
 * timer 2 output (RO), bit 6 IOCHK# NMI source and bit 7 SERR# NMI source (RO).
 *
 * Left out: NMI sources (no device raises SERR# or IOCHK#, so bits 6 and 7 read 0) and sound: the
 * speaker state is exposed for a future audio backend but nothing plays it.
 *
 * The device does not reach the PIT: the machine wires the timer 2 gate and output callbacks.
 */
import { checkStateVersion, type Device, type DeviceState } from '../bus/device.ts';
import type { Clock } from '../bus/clock.ts';
import type { IoBus } from '../bus/io-bus.ts';

export interface SystemControlPortOptions {
  io: IoBus;
  clock: Clock;
  /** Drives the PIT's channel 2 GATE input. */
  setTimer2Gate: (level: boolean) => void;
  /** Reads the PIT's channel 2 OUT pin. */
  timer2Output: () => boolean;
}

/** The refresh request toggles once per 15.085 us DRAM refresh period (an 18-pulse PIT channel 1 period). */
export const REFRESH_TOGGLE_NS = 15_085;

const WRITABLE = 0x0f;

export class SystemControlPort implements Device {
  readonly name = 'port61';
  private readonly clock: Clock;
  private readonly setTimer2Gate: (level: boolean) => void;
  private readonly timer2Output: () => boolean;
  /** Bits 0-3 as last written. */
  private control = 0;

  constructor(opts: SystemControlPortOptions) {
    this.clock = opts.clock;
    this.setTimer2Gate = opts.setTimer2Gate;
    this.timer2Output = opts.timer2Output;
    opts.io.register({
      owner: 'port61',
      base: 0x61,
      length: 1,
      read: () => this.read(),
      write: (_off, _size, v) => this.write(v & 0xff),
    });
  }

  /** Timer 2 gate (bit 0). */
  get timer2Gate(): boolean {
    return (this.control & 1) !== 0;
  }

  /** Speaker data enable (bit 1): the speaker sounds timer 2's output while this and the gate are set. */
  get speakerData(): boolean {
    return (this.control & 2) !== 0;
  }

  reset(): void {
    this.control = 0;
    this.setTimer2Gate(false);
  }

  saveState(): DeviceState {
    return { version: 1, control: this.control };
  }

  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
    if (typeof state.control !== 'number') throw new Error(`${this.name}: saved state field control is missing or malformed`);
    this.control = state.control & WRITABLE;
    this.setTimer2Gate(this.timer2Gate);
  }

  private read(): number {
    const refresh = Math.floor(this.clock.now() / REFRESH_TOGGLE_NS) & 1;
    return this.control | (refresh << 4) | (this.timer2Output() ? 0x20 : 0);
  }

  private write(v: number): void {
    const before = this.control;
    this.control = v & WRITABLE;
    if ((before ^ this.control) & 1) this.setTimer2Gate(this.timer2Gate);
  }
}
