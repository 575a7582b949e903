/**
 * Intel 8254 programmable interval timer at ports 0x40-0x43, clocked at 1.193182 MHz as on every
 * PC. Channel 0 drives ISA IRQ 0; channel 1 (DRAM refresh on the original AT) only counts; channel
 * 2's gate and output are wired to port 0x61 (the speaker), which the machine connects through
 * setGate()/output().
 *
 * Follows the Intel 8254 datasheet (order no. 231164): the six counting modes, binary and BCD
 * counting, lobyte/hibyte/word access, the counter latch command and the read-back command with
 * status (OUT, null count).
 *
 * Nothing ticks: counter values and OUT are computed from the clock's time on demand, on an
 * absolute grid of PIT clock pulses, and the only event scheduled is channel 0's next OUT edge.
 *
 * Simplifications: in mode 3 a new count written while counting takes effect at the end of the
 * current full period (the part switches at the end of the current half cycle), and odd counts in
 * mode 3 read back as QEMU reports them; counts of 1 in mode 2 (illegal on the part) give no pulses;
 * after power-on the channels run in mode 3 with a count of 65536, as QEMU presents them (the real
 * part is undefined until programmed).
 */
import { checkStateVersion, type Device, type DeviceState } from '../bus/device.ts';
import type { Clock, TimerHandle } from '../bus/clock.ts';
import type { IoBus } from '../bus/io-bus.ts';
import type { IrqLine } from '../bus/irq-line.ts';

export interface Pit8254Options {
  io: IoBus;
  clock: Clock;
  /** Channel 0's OUT, wired to ISA IRQ 0. */
  irq0: IrqLine;
}

/** The PC's PIT input clock in Hz (the 14.31818 MHz crystal divided by 12). */
export const PIT_HZ = 1_193_182;

/**
 * Number of PIT clock pulses since guest time 0 at time `ns`. Split into whole seconds and the rest
 * so every product stays an exact integer below 2^53 for any plausible uptime.
 */
export function pitTickAt(ns: number): number {
  const t = Math.floor(ns);
  const s = Math.floor(t / 1e9);
  const r = t - s * 1e9;
  return s * PIT_HZ + Math.floor((r * PIT_HZ) / 1e9);
}

/** The first whole nanosecond at which pitTickAt() reaches `tick`. */
export function pitTickTime(tick: number): number {
  const s = Math.floor(tick / PIT_HZ);
  const rem = tick - s * PIT_HZ;
  return s * 1e9 + Math.ceil((rem * 1e9) / PIT_HZ);
}

interface Channel {
  /** Counting mode 0-5 (6 and 7 are stored as 2 and 3); modeBits keeps what was written for status. */
  mode: number;
  modeBits: number;
  bcd: boolean;
  /** RW field: 1 LSB only, 2 MSB only, 3 LSB then MSB. */
  access: number;
  /** The count register as last written (raw 16 bits, BCD digits in BCD mode). */
  countRegister: number;
  /** A complete count has been written since the last control word. */
  countWritten: boolean;
  /** The initial count N the counting element is working with (1-65536, or 1-10000 in BCD). */
  period: number;
  /** PIT tick at which the counting element was (or will be) loaded with `period`. */
  loadTick: number;
  /** The counting element holds a count and counts (possibly suspended by the gate). */
  running: boolean;
  /** A fresh load at loadTick has not happened yet (null count until it does). */
  loadPending: boolean;
  /** Counting suspended by a low gate: elapsed ticks are held at `frozenElapsed`. */
  frozen: boolean;
  frozenElapsed: number;
  gate: boolean;
  /** Counting element value while not counting. */
  heldCounter: number;
  nullCount: boolean;
  /** Modes 2 and 3: a count written during counting, loaded at pendingTick (0: none). */
  pendingPeriod: number;
  pendingTick: number;
  writeMsbNext: boolean;
  writeLsb: number;
  readMsbNext: boolean;
  /** Counter latch: 0 none, 1 LSB left, 2 MSB left, 3 LSB then MSB left. */
  latchState: number;
  latchValue: number;
  statusLatched: boolean;
  statusValue: number;
}

function freshChannel(gate: boolean): Channel {
  return {
    mode: 0,
    modeBits: 0,
    bcd: false,
    access: 3,
    countRegister: 0,
    countWritten: false,
    period: 0x10000,
    loadTick: 0,
    running: false,
    loadPending: false,
    frozen: false,
    frozenElapsed: 0,
    gate,
    heldCounter: 0,
    nullCount: true,
    pendingPeriod: 0,
    pendingTick: 0,
    writeMsbNext: false,
    writeLsb: 0,
    readMsbNext: false,
    latchState: 0,
    latchValue: 0,
    statusLatched: false,
    statusValue: 0,
  };
}

function fromBcd(v: number): number {
  // Nibbles above 9 are nonsense on the part; weigh them like digits rather than failing.
  return (v >> 12) * 1000 + ((v >> 8) & 15) * 100 + ((v >> 4) & 15) * 10 + (v & 15);
}

function toBcd(v: number): number {
  return (Math.floor(v / 1000) % 10 << 12) | (Math.floor(v / 100) % 10 << 8) | (Math.floor(v / 10) % 10 << 4) | v % 10;
}

export class Pit8254 implements Device {
  readonly name = 'pit';
  private readonly clock: Clock;
  private readonly irq0: IrqLine;
  private channels: Channel[] = [];
  private irq0Level = false;
  private timer: TimerHandle | undefined;

  constructor(opts: Pit8254Options) {
    this.clock = opts.clock;
    this.irq0 = opts.irq0;
    opts.io.register({
      owner: 'pit',
      base: 0x40,
      length: 4,
      read: (off) => (off === 3 ? 0xff : this.readCounter(off)),
      write: (off, _size, v) => (off === 3 ? this.writeControl(v & 0xff) : this.writeCounter(off, v & 0xff)),
    });
    this.reset();
  }

  // ---- the machine's side ----

  /** Set a channel's GATE input (channel 2's comes from port 0x61 bit 0; 0 and 1 are tied high). */
  setGate(channel: number, level: boolean): void {
    const ch = this.channels[channel];
    if (!ch || ch.gate === level) return;
    const tick = this.tick();
    this.sync(ch, tick);
    ch.gate = level;
    switch (ch.mode) {
      case 0:
      case 4:
        // The gate suspends counting.
        if (!level && ch.running && !ch.frozen) {
          ch.frozen = true;
          ch.frozenElapsed = tick - ch.loadTick;
        } else if (level && ch.frozen) {
          ch.frozen = false;
          ch.loadTick = tick - ch.frozenElapsed;
        }
        break;
      case 1:
      case 5:
        // A rising edge (re)triggers: the count register goes into the counting element.
        if (level && ch.countWritten) {
          ch.period = this.initialCount(ch);
          ch.loadTick = tick;
          ch.running = true;
          ch.loadPending = false;
          ch.nullCount = false;
        }
        break;
      default:
        // Modes 2 and 3: low stops counting and forces OUT high; rising reloads the count.
        if (!level && ch.running && !ch.frozen) {
          ch.frozen = true;
          ch.frozenElapsed = tick - ch.loadTick;
        } else if (level && ch.running) {
          ch.frozen = false;
          ch.period = this.initialCount(ch);
          ch.pendingPeriod = 0;
          ch.loadTick = tick + 1;
          ch.loadPending = true;
        }
    }
    if (channel === 0) this.updateIrq0();
  }

  /** A channel's OUT pin now. */
  output(channel: number): boolean {
    const ch = this.channels[channel];
    if (!ch) return true;
    const tick = this.tick();
    this.sync(ch, tick);
    return this.out(ch, tick);
  }

  // ---- Device ----

  reset(): void {
    this.channels = [freshChannel(true), freshChannel(true), freshChannel(false)];
    for (const ch of this.channels) {
      ch.mode = ch.modeBits = 3;
      this.loadCount(ch, 0);
    }
    this.updateIrq0();
  }

  saveState(): DeviceState {
    const state: DeviceState = { version: 1 };
    for (const k of Object.keys(this.channels[0]) as (keyof Channel)[]) state[k] = this.channels.map((ch) => ch[k]);
    return state;
  }

  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
    const channels = [freshChannel(true), freshChannel(true), freshChannel(false)];
    for (const k of Object.keys(channels[0]) as (keyof Channel)[]) {
      const values = state[k] as unknown[] | undefined;
      for (let i = 0; i < 3; i++) {
        const v = values?.[i];
        if (typeof v !== typeof channels[i][k]) throw new Error(`${this.name}: saved state field ${k} is missing or malformed`);
        (channels[i] as unknown as Record<string, unknown>)[k] = v;
      }
    }
    this.channels = channels;
    this.updateIrq0(true); // the line takes the restored OUT, whatever it was before
  }

  // ---- ports ----

  private writeControl(v: number): void {
    const sc = v >> 6;
    if (sc === 3) {
      this.readBack(v);
      return;
    }
    const ch = this.channels[sc];
    const tick = this.tick();
    this.sync(ch, tick);
    const rw = (v >> 4) & 3;
    if (rw === 0) {
      // Counter latch command; a second latch before the first is read is ignored.
      if (!ch.latchState) this.latchCount(ch, tick);
      return;
    }
    // A control word stops the counter until a new count arrives; OUT goes to its initial state.
    ch.heldCounter = this.counterValue(ch, tick);
    ch.access = rw;
    ch.modeBits = (v >> 1) & 7;
    ch.mode = ch.modeBits > 5 ? ch.modeBits - 4 : ch.modeBits;
    ch.bcd = (v & 1) !== 0;
    ch.running = false;
    ch.countWritten = false;
    ch.loadPending = false;
    ch.frozen = false;
    ch.pendingPeriod = 0;
    ch.nullCount = true;
    ch.writeMsbNext = false;
    ch.readMsbNext = false;
    if (sc === 0) this.updateIrq0();
  }

  private readBack(v: number): void {
    const tick = this.tick();
    for (let i = 0; i < 3; i++) {
      if (!(v & (2 << i))) continue;
      const ch = this.channels[i];
      this.sync(ch, tick);
      if (!(v & 0x20) && !ch.latchState) this.latchCount(ch, tick);
      if (!(v & 0x10) && !ch.statusLatched) {
        ch.statusLatched = true;
        ch.statusValue =
          (this.out(ch, tick) ? 0x80 : 0) | (ch.nullCount ? 0x40 : 0) | (ch.access << 4) | (ch.modeBits << 1) | (ch.bcd ? 1 : 0);
      }
    }
  }

  private latchCount(ch: Channel, tick: number): void {
    ch.latchValue = this.encode(ch, this.counterValue(ch, tick));
    ch.latchState = ch.access;
  }

  private writeCounter(index: number, v: number): void {
    const ch = this.channels[index];
    let count: number;
    switch (ch.access) {
      case 1:
        count = v;
        break;
      case 2:
        count = v << 8;
        break;
      default:
        if (!ch.writeMsbNext) {
          ch.writeLsb = v;
          ch.writeMsbNext = true;
          if (ch.mode === 0) {
            // Mode 0: writing the first byte stops counting and sets OUT low at once.
            const tick = this.tick();
            this.sync(ch, tick);
            ch.heldCounter = this.counterValue(ch, tick);
            ch.running = false;
            ch.frozen = false;
            if (index === 0) this.updateIrq0();
          }
          return;
        }
        ch.writeMsbNext = false;
        count = ch.writeLsb | (v << 8);
    }
    this.loadCount(ch, count);
    if (index === 0) this.updateIrq0();
  }

  private readCounter(index: number): number {
    const ch = this.channels[index];
    if (ch.statusLatched) {
      ch.statusLatched = false;
      return ch.statusValue;
    }
    if (ch.latchState) {
      const value = ch.latchValue;
      switch (ch.latchState) {
        case 1:
          ch.latchState = 0;
          return value & 0xff;
        case 2:
          ch.latchState = 0;
          return value >> 8;
        default:
          ch.latchState = 2;
          return value & 0xff;
      }
    }
    const tick = this.tick();
    this.sync(ch, tick);
    const value = this.encode(ch, this.counterValue(ch, tick));
    switch (ch.access) {
      case 1:
        return value & 0xff;
      case 2:
        return value >> 8;
      default:
        ch.readMsbNext = !ch.readMsbNext;
        return ch.readMsbNext ? value & 0xff : value >> 8;
    }
  }

  // ---- counting ----

  private tick(): number {
    return pitTickAt(this.clock.now());
  }

  /** The count register as an initial count: 0 means the largest count. */
  private initialCount(ch: Channel): number {
    if (ch.bcd) return fromBcd(ch.countRegister) || 10000;
    return ch.countRegister || 0x10000;
  }

  private loadCount(ch: Channel, count: number): void {
    const tick = this.tick();
    this.sync(ch, tick);
    ch.countRegister = count & 0xffff;
    ch.countWritten = true;
    ch.nullCount = true;
    const n = this.initialCount(ch);
    switch (ch.mode) {
      case 1:
      case 5:
        // Loaded by the next gate trigger.
        return;
      case 2:
      case 3:
        if (ch.running && !ch.frozen && tick >= ch.loadTick) {
          // Counting continues with the old count; the new one starts the next period.
          const d = tick - ch.loadTick;
          ch.pendingPeriod = n;
          ch.pendingTick = ch.loadTick + (Math.floor(d / ch.period) + 1) * ch.period;
          return;
        }
        break;
    }
    // The counting element loads on the next clock pulse; a low gate holds it there.
    ch.period = n;
    ch.pendingPeriod = 0;
    ch.running = true;
    ch.loadPending = true;
    ch.loadTick = tick + 1;
    ch.frozen = !ch.gate;
    ch.frozenElapsed = -1;
  }

  /** Apply loads that have happened by `tick`. */
  private sync(ch: Channel, tick: number): void {
    if (ch.pendingPeriod && tick >= ch.pendingTick) {
      ch.period = ch.pendingPeriod;
      ch.loadTick = ch.pendingTick;
      ch.pendingPeriod = 0;
      ch.nullCount = false;
    }
    if (ch.loadPending && ch.running && !ch.frozen && tick >= ch.loadTick) {
      ch.loadPending = false;
      ch.nullCount = false;
    }
  }

  private elapsed(ch: Channel, tick: number): number {
    return ch.frozen ? ch.frozenElapsed : tick - ch.loadTick;
  }

  /** The counting element's value (binary, before BCD encoding). */
  private counterValue(ch: Channel, tick: number): number {
    const d = this.elapsed(ch, tick);
    if (!ch.running || d < 0) return ch.heldCounter;
    const n = ch.period;
    const wrap = ch.bcd ? 10000 : 0x10000;
    let v: number;
    switch (ch.mode) {
      case 2:
        v = n - (d % n);
        break;
      case 3:
        v = n - ((2 * d) % n);
        break;
      default:
        v = n - d;
    }
    return ((v % wrap) + wrap) % wrap;
  }

  private encode(ch: Channel, value: number): number {
    return ch.bcd ? toBcd(value) : value;
  }

  private out(ch: Channel, tick: number): boolean {
    if (!ch.running) return ch.mode !== 0;
    const d = this.elapsed(ch, tick);
    const n = ch.period;
    switch (ch.mode) {
      case 0:
        return d >= n;
      case 1:
        return d < 0 || d >= n;
      case 2:
        return ch.frozen || d < 0 || n < 2 || d % n !== n - 1;
      case 3:
        return ch.frozen || d < 0 || d % n < (n + 1) >> 1;
      default:
        return d !== n;
    }
  }

  /** The next tick after `tick` at which OUT (or the count in use) changes, or Infinity. */
  private nextChange(ch: Channel, tick: number): number {
    if (!ch.running || ch.frozen) return Infinity;
    const d = tick - ch.loadTick;
    const n = ch.period;
    let next = Infinity;
    switch (ch.mode) {
      case 0:
      case 1:
        if (d < n) next = ch.loadTick + n;
        break;
      case 2:
      case 3: {
        if (n < 2) break;
        const fall = ch.mode === 2 ? n - 1 : (n + 1) >> 1;
        if (d < 0) {
          next = ch.loadTick + fall;
        } else {
          const p = d % n;
          const base = ch.loadTick + d - p;
          next = p < fall ? base + fall : base + n;
        }
        break;
      }
      default:
        if (d < n) next = ch.loadTick + n;
        else if (d === n) next = ch.loadTick + n + 1;
    }
    if (ch.pendingPeriod) next = Math.min(next, ch.pendingTick);
    return next;
  }

  /** Drive IRQ 0 from channel 0's OUT and schedule the next edge. */
  private updateIrq0(forceLine = false): void {
    const ch = this.channels[0];
    const tick = this.tick();
    this.sync(ch, tick);
    const level = this.out(ch, tick);
    if (forceLine || level !== this.irq0Level) {
      this.irq0Level = level;
      this.irq0.set(level);
    }
    this.clock.cancel(this.timer);
    this.timer = undefined;
    const next = this.nextChange(ch, tick);
    if (next !== Infinity) this.timer = this.clock.schedule(pitTickTime(next), () => this.updateIrq0());
  }
}
