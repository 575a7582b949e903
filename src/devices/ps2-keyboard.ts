/**
 * PS/2 (MF II) keyboard behind the i8042's keyboard port (IBM PS/2 Hardware Interface
 * Technical Reference, "Keyboard"; command set as in the Microsoft Keyboard Scan Code
 * Specification). The keyboard speaks scan code set 2 by default; the controller translates
 * to set 1 when its command byte asks for it.
 *
 * Model choices and what is left out:
 * - The self-test after 0xFF completes at once (a real keyboard takes ~500 ms).
 * - Typematic repeat is not generated here: the host's own auto-repeat keydown events are
 *   forwarded instead. The typematic byte is stored and reset as the hardware does.
 * - Set 1 is produced through the 8042 translation table; set 3 can be selected and is
 *   reported by 0xF0 0x00, but key events keep set 2 codes (no set 3 key table). The set 3
 *   per-key commands 0xF7-0xFD are acknowledged and their key lists ignored.
 * - Output buffer of 16 bytes, like the keyboard's own FIFO; a key event that does not fit
 *   replaces the last byte with the overflow code (0x00 in sets 2/3, 0xFF in set 1) and
 *   further events are dropped until there is room. Command replies are always kept.
 */
import { checkStateVersion, type Device, type DeviceState } from '../bus/device.ts';
import { set2ForCode, translateSet2Sequence } from './ps2-scancodes.ts';

export interface Ps2KeyboardOptions {
  name?: string;
}

const QUEUE_SIZE = 16;
const ACK = 0xfa;
const RESEND = 0xfe;
const BAT_OK = 0xaa;
const DEFAULT_TYPEMATIC = 0x2b; // 10.9 characters/s after 500 ms

/** Commands that take one argument byte. */
const WITH_ARGUMENT = new Set([0xed, 0xf0, 0xf3]);

export class Ps2Keyboard implements Device {
  readonly name: string;
  private queue: number[] = [];
  private onOutput: () => void = () => {};
  /** Command waiting for its argument byte, or -1. */
  private pendingCommand = -1;
  /** Inside an 0xFB/0xFC/0xFD key list (set 3 per-key types). */
  private inKeyList = false;
  private scanning = true;
  private scancodeSet = 2;
  private leds = 0;
  private typematic = DEFAULT_TYPEMATIC;
  /** Last byte sent to the controller, for 0xFE (resend). */
  private lastSent = 0;
  /** The queue overflowed: key events are dropped until the guest drains it. */
  private overflowed = false;

  constructor(options: Ps2KeyboardOptions = {}) {
    this.name = options.name ?? 'ps2-keyboard';
  }

  reset(): void {
    this.queue = [];
    this.pendingCommand = -1;
    this.inKeyList = false;
    this.overflowed = false;
    this.lastSent = 0;
    this.setDefaults();
    this.scanning = true;
    this.leds = 0;
  }

  private setDefaults(): void {
    this.scancodeSet = 2;
    this.typematic = DEFAULT_TYPEMATIC;
  }

  /** Keyboard LED state as set by the guest: bit 0 Scroll Lock, bit 1 Num Lock, bit 2 Caps Lock. */
  get ledState(): number {
    return this.leds;
  }

  /** The scan code set the guest selected (1, 2 or 3). */
  get currentScancodeSet(): number {
    return this.scancodeSet;
  }

  get typematicByte(): number {
    return this.typematic;
  }

  // ---- host side -------------------------------------------------------------------------

  /**
   * A key went down: a `KeyboardEvent.code` name or a raw set 2 make sequence.
   * Returns false for key names a PC keyboard does not have (nothing is sent).
   */
  keyDown(code: string | readonly number[]): boolean {
    const bytes = typeof code === 'string' ? set2ForCode(code)?.make : code;
    if (!bytes) return false;
    this.sendKeyBytes(bytes);
    return true;
  }

  /** A key went up: a `KeyboardEvent.code` name or a raw set 2 break sequence. */
  keyUp(code: string | readonly number[]): boolean {
    const bytes = typeof code === 'string' ? set2ForCode(code)?.break : code;
    if (!bytes) return false;
    this.sendKeyBytes(bytes);
    return true;
  }

  private sendKeyBytes(set2: readonly number[]): void {
    if (!this.scanning || set2.length === 0) return;
    const bytes = this.scancodeSet === 1 ? translateSet2Sequence(set2) : set2.map((b) => b & 0xff);
    if (this.overflowed) return;
    if (this.queue.length + bytes.length > QUEUE_SIZE) {
      // No room for the whole event: the last byte of the buffer becomes the overflow code.
      if (this.queue.length === 0) return;
      this.queue[Math.min(this.queue.length, QUEUE_SIZE) - 1] = this.scancodeSet === 1 ? 0xff : 0x00;
      this.overflowed = true;
      return;
    }
    this.queue.push(...bytes);
    this.onOutput();
  }

  // ---- controller side (Ps2PortDevice) ---------------------------------------------------

  connect(onOutput: () => void): void {
    this.onOutput = onOutput;
  }

  hasOutput(): boolean {
    return this.queue.length > 0;
  }

  readOutput(): number {
    const byte = this.queue.shift() ?? 0;
    this.lastSent = byte;
    if (this.queue.length === 0) this.overflowed = false;
    return byte;
  }

  writeFromController(byte: number): void {
    byte &= 0xff;
    const command = this.pendingCommand;
    if (command !== -1) {
      this.pendingCommand = -1;
      // A command code where an argument belongs starts that command; the old one is dropped.
      if (byte < 0xed) {
        this.argument(command, byte);
        this.onOutput();
        return;
      }
    }
    if (this.inKeyList && byte < 0xed) {
      this.reply(ACK);
      this.onOutput();
      return;
    }
    this.inKeyList = false;
    this.command(byte);
    this.onOutput();
  }

  private reply(...bytes: number[]): void {
    // Replies may push the buffer past its size: the keyboard always answers a command.
    this.queue.push(...bytes);
  }

  private clearOutput(): void {
    this.queue = [];
    this.overflowed = false;
  }

  private command(byte: number): void {
    if (WITH_ARGUMENT.has(byte)) {
      this.pendingCommand = byte;
      this.reply(ACK);
      return;
    }
    switch (byte) {
      case 0xee: // echo
        this.reply(0xee);
        return;
      case 0xf2: // identify: MF II keyboard
        this.reply(ACK, 0xab, 0x83);
        return;
      case 0xf4: // enable scanning
        this.clearOutput();
        this.scanning = true;
        this.reply(ACK);
        return;
      case 0xf5: // default and disable
        this.clearOutput();
        this.setDefaults();
        this.scanning = false;
        this.reply(ACK);
        return;
      case 0xf6: // set defaults, keep scanning state
        this.clearOutput();
        this.setDefaults();
        this.reply(ACK);
        return;
      case 0xf7:
      case 0xf8:
      case 0xf9:
      case 0xfa:
        this.reply(ACK);
        return;
      case 0xfb:
      case 0xfc:
      case 0xfd:
        this.inKeyList = true;
        this.reply(ACK);
        return;
      case 0xfe: // resend the last byte
        this.reply(this.lastSent);
        return;
      case 0xff: // reset and self-test
        this.reset();
        this.reply(ACK, BAT_OK);
        return;
      default:
        this.reply(RESEND);
        return;
    }
  }

  private argument(command: number, value: number): void {
    switch (command) {
      case 0xed:
        this.leds = value & 0x07;
        this.reply(ACK);
        return;
      case 0xf3:
        this.typematic = value & 0x7f;
        this.reply(ACK);
        return;
      case 0xf0:
        if (value === 0) {
          this.reply(ACK, this.scancodeSet);
        } else if (value >= 1 && value <= 3) {
          this.scancodeSet = value;
          this.reply(ACK);
        } else {
          this.reply(RESEND);
        }
        return;
    }
  }

  // ---- state -----------------------------------------------------------------------------

  saveState(): DeviceState {
    return {
      version: 1,
      queue: this.queue.slice(),
      pendingCommand: this.pendingCommand,
      inKeyList: this.inKeyList,
      scanning: this.scanning,
      scancodeSet: this.scancodeSet,
      leds: this.leds,
      typematic: this.typematic,
      lastSent: this.lastSent,
      overflowed: this.overflowed,
    };
  }

  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
    this.queue = Array.from(state.queue as ArrayLike<number>, (b) => b & 0xff);
    this.pendingCommand = Number(state.pendingCommand);
    this.inKeyList = Boolean(state.inKeyList);
    this.scanning = Boolean(state.scanning);
    this.scancodeSet = Number(state.scancodeSet);
    this.leds = Number(state.leds);
    this.typematic = Number(state.typematic);
    this.lastSent = Number(state.lastSent);
    this.overflowed = Boolean(state.overflowed);
  }
}
