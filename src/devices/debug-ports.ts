/**
 * Two write-mostly diagnostic ports that firmware and test programs use to report progress.
 *
 * PostCodePort: port 0x80, where BIOSes write their power-on self-test (POST) codes. On the PIIX3
 * it is one of the ISA DMA page registers, so a read returns the last value written (QEMU's stub
 * reads 0xFF instead; nothing depends on either).
 *
 * DebugConsolePort: the Bochs/QEMU "debugcon" console. Every byte written to it is a character of
 * debug output; SeaBIOS writes its log to 0x402 and Bochs-style programs use 0xE9. A read returns
 * 0xE9, which is how SeaBIOS and others detect that the port exists (real hardware reads 0xFF).
 *
 * Left out: nothing of substance; these are emulator conveniences rather than chips.
 */
import { checkStateVersion, type Device, type DeviceState } from '../bus/device.ts';
import type { IoBus } from '../bus/io-bus.ts';

export interface PostCodePortOptions {
  io: IoBus;
  /** Called with every POST code written, for tracing boots. */
  onPostCode?: (code: number) => void;
}

export class PostCodePort implements Device {
  readonly name = 'post';
  private code = 0;
  private readonly onPostCode?: (code: number) => void;

  constructor(opts: PostCodePortOptions) {
    this.onPostCode = opts.onPostCode;
    opts.io.register({
      owner: 'post code',
      base: 0x80,
      length: 1,
      read: () => this.code,
      write: (_off, _size, v) => {
        this.code = v & 0xff;
        this.onPostCode?.(this.code);
      },
    });
  }

  /** The last POST code written. */
  get lastCode(): number {
    return this.code;
  }

  reset(): void {
    this.code = 0;
  }

  saveState(): DeviceState {
    return { version: 1, code: this.code };
  }

  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
    if (typeof state.code !== 'number') throw new Error(`${this.name}: saved state field code is missing or malformed`);
    this.code = state.code & 0xff;
  }
}

export interface DebugConsolePortOptions {
  io: IoBus;
  /** Receives each byte written to the console. */
  output: (byte: number) => void;
  /** Ports to answer; default 0xE9 (Bochs) and 0x402 (SeaBIOS on QEMU). */
  ports?: number[];
}

/** What a read of the console port returns: the Bochs/QEMU detection value. */
export const DEBUGCON_READBACK = 0xe9;

export class DebugConsolePort implements Device {
  readonly name = 'debugcon';

  constructor(opts: DebugConsolePortOptions) {
    const output = opts.output;
    for (const base of opts.ports ?? [0xe9, 0x402]) {
      opts.io.register({
        owner: 'debugcon',
        base,
        length: 1,
        read: () => DEBUGCON_READBACK,
        write: (_off, _size, v) => output(v & 0xff),
      });
    }
  }

  reset(): void {}

  saveState(): DeviceState {
    return { version: 1 };
  }

  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
  }
}
