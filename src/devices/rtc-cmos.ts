/**
 * Motorola MC146818A real-time clock with 128 bytes of battery-backed CMOS RAM, at index port 0x70
 * and data port 0x71, on ISA IRQ 8. Bit 7 of a write to 0x70 is the PIIX3's NMI mask (NMI_EN# in
 * the RTC address register), exposed as `nmiMasked`.
 *
 * Follows the MC146818A datasheet: time, calendar and alarm registers in BCD or binary (register B
 * DM), 12/24-hour mode, the update-in-progress bit (set 244 us before each update), SET, the
 * divider chain reset (DV = 11x; the first update comes 500 ms after leaving reset), update-ended,
 * alarm (with don't-care bytes 0xC0-0xFF) and periodic interrupt flags in register C, cleared by
 * reading it, and register D's valid-RAM bit. The century lives in byte 0x32, as on PC BIOSes.
 *
 * Nothing ticks: the time is computed from the clock (startTime + guest time + the offset the
 * guest's writes introduce), interrupt flags are evaluated lazily when read, and events are
 * scheduled only while an enabled interrupt is due and IRQF is not already set.
 *
 * Left out: the square-wave output (SQWE is stored only), daylight saving (DSE is stored only), the
 * update cycle's 1984 us duration (registers change at the second boundary and UIP ends there),
 * the divider's test modes (DV = 011-101 stop the clock) and the PIIX extended CMOS bank at
 * 0x72/0x73. The RTC knows no time zone: it shows whatever wall time startTime counts from.
 */
import { checkStateVersion, type Device, type DeviceState } from '../bus/device.ts';
import type { Clock, TimerHandle } from '../bus/clock.ts';
import type { IoBus } from '../bus/io-bus.ts';
import type { IrqLine } from '../bus/irq-line.ts';

export interface RtcCmosOptions {
  io: IoBus;
  clock: Clock;
  /** ISA IRQ 8. */
  irq: IrqLine;
  /** Wall time at guest time 0, in seconds since 1970-01-01 00:00:00 (UTC, or local time for `localtime=1`). */
  startTime: number;
}

const REG_SECONDS = 0x00;
const REG_SECONDS_ALARM = 0x01;
const REG_MINUTES = 0x02;
const REG_MINUTES_ALARM = 0x03;
const REG_HOURS = 0x04;
const REG_HOURS_ALARM = 0x05;
const REG_WEEKDAY = 0x06;
const REG_DAY = 0x07;
const REG_MONTH = 0x08;
const REG_YEAR = 0x09;
const REG_A = 0x0a;
const REG_B = 0x0b;
const REG_C = 0x0c;
const REG_D = 0x0d;
export const CMOS_CENTURY = 0x32;

const A_UIP = 0x80;
const B_SET = 0x80;
const B_PIE = 0x40;
const B_AIE = 0x20;
const B_UIE = 0x10;
const B_SQWE = 0x08;
const B_DM_BINARY = 0x04;
const B_24H = 0x02;
const C_IRQF = 0x80;
const C_PF = 0x40;
const C_AF = 0x20;
const C_UF = 0x10;
const D_VRT = 0x80;

const NS = 1e9;
/** UIP rises this long before each update. */
export const UIP_LEAD_NS = 244_000;
/** After the divider chain leaves reset, the first update comes half a second later. */
const FIRST_UPDATE_NS = 500_000_000;
const TIME_REGISTERS = new Set([REG_SECONDS, REG_MINUTES, REG_HOURS, REG_WEEKDAY, REG_DAY, REG_MONTH, REG_YEAR, CMOS_CENTURY]);

// ---- calendar arithmetic (proleptic Gregorian, days since 1970-01-01) ----

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/** 32.768 kHz divider pulses in `ns` nanoseconds, exactly (split so products stay below 2^53). */
function pulsesIn(ns: number): number {
  const t = Math.floor(ns);
  const s = Math.floor(t / NS);
  const r = t - s * NS;
  return s * 32768 + Math.floor((r * 32768) / NS);
}

/** The first whole nanosecond at which pulsesIn() reaches `pulses`. */
function pulseTime(pulses: number): number {
  const s = Math.floor(pulses / 32768);
  return s * NS + Math.ceil((pulses - s * 32768) * (NS / 32768));
}

export class RtcCmos implements Device {
  readonly name = 'rtc';
  private readonly clock: Clock;
  private readonly irq: IrqLine;
  private cmos = new Uint8Array(128);
  private index = 0;
  private nmiMask = false;
  /** While running, wall seconds at guest time t are baseSeconds + floor((t - baseNs) / 1e9). */
  private baseSeconds = 0;
  private baseNs = 0;
  /** Guest time at which the divider chain last left reset: the periodic interrupt's phase. */
  private dividerStartNs = 0;
  /** Interrupt flags in register C are up to date as of this guest time. */
  private syncedNs = 0;
  private irqLevel = false;
  private timer: TimerHandle | undefined;

  constructor(opts: RtcCmosOptions) {
    if (!Number.isFinite(opts.startTime)) throw new RangeError(`rtc: startTime ${opts.startTime} is not a number of seconds`);
    this.clock = opts.clock;
    this.irq = opts.irq;
    this.cmos[REG_A] = 0x26; // 32.768 kHz time base, 1024 Hz periodic rate
    this.cmos[REG_B] = B_24H;
    this.cmos[REG_D] = D_VRT;
    this.baseSeconds = Math.floor(opts.startTime);
    this.baseNs = -Math.round((opts.startTime - this.baseSeconds) * NS);
    this.syncedNs = this.clock.now();
    opts.io.register({
      owner: 'rtc',
      base: 0x70,
      length: 2,
      // The index register is write-only on the PIIX3.
      read: (off) => (off === 0 ? 0xff : this.readRegister(this.index, true)),
      write: (off, _size, v) => {
        if (off === 0) {
          this.index = v & 0x7f;
          this.nmiMask = (v & 0x80) !== 0;
        } else {
          this.writeRegister(this.index, v & 0xff);
        }
      },
    });
  }

  // ---- the machine's side ----

  /** NMI mask (bit 7 of the last write to port 0x70): while set, the board blocks NMI to the CPU. */
  get nmiMasked(): boolean {
    return this.nmiMask;
  }

  /** Read a CMOS byte as the guest would see it, without the side effect of reading register C. */
  getByte(index: number): number {
    return this.readRegister(index & 0x7f, false);
  }

  /** Store a CMOS byte (memory sizes, boot order, disk types). Bytes 0-0x0D act as guest writes. */
  setByte(index: number, value: number): void {
    this.writeRegister(index & 0x7f, value & 0xff);
  }

  /** The RTC's current wall time in seconds since 1970, as the guest's registers show it. */
  get time(): number {
    return this.running() ? this.secondsAt(this.clock.now()) : this.registerSeconds();
  }

  // ---- Device ----

  /** The RESET pin: interrupt enables and flags clear; time, registers A and D and the RAM stay. */
  reset(): void {
    this.sync();
    this.cmos[REG_B] &= ~(B_PIE | B_AIE | B_UIE | B_SQWE);
    this.cmos[REG_C] = 0;
    this.index = 0;
    this.nmiMask = false;
    this.updateIrq();
  }

  saveState(): DeviceState {
    this.sync();
    return {
      version: 1,
      cmos: this.cmos.slice(),
      index: this.index,
      nmiMasked: this.nmiMask,
      baseSeconds: this.baseSeconds,
      baseNs: this.baseNs,
      dividerStartNs: this.dividerStartNs,
      syncedNs: this.syncedNs,
    };
  }

  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
    const cmos = state.cmos;
    if (!(cmos instanceof Uint8Array) || cmos.length !== 128) throw new Error(`${this.name}: saved state field cmos is missing or malformed`);
    for (const k of ['index', 'baseSeconds', 'baseNs', 'dividerStartNs', 'syncedNs']) {
      if (typeof state[k] !== 'number') throw new Error(`${this.name}: saved state field ${k} is missing or malformed`);
    }
    this.cmos = cmos.slice();
    this.index = (state.index as number) & 0x7f;
    this.nmiMask = state.nmiMasked === true;
    this.baseSeconds = state.baseSeconds as number;
    this.baseNs = state.baseNs as number;
    this.dividerStartNs = state.dividerStartNs as number;
    this.syncedNs = state.syncedNs as number;
    this.updateIrq(true); // the line takes the restored flags, whatever it was before
  }

  // ---- registers ----

  private readRegister(index: number, guest: boolean): number {
    switch (index) {
      case REG_A: {
        const now = this.clock.now();
        const uip = this.running() && mod(now - this.baseNs, NS) >= NS - UIP_LEAD_NS;
        return (this.cmos[REG_A] & 0x7f) | (uip ? A_UIP : 0);
      }
      case REG_C: {
        this.sync();
        const value = this.cmos[REG_C] | (this.irqf() ? C_IRQF : 0);
        if (guest) {
          this.cmos[REG_C] = 0;
          this.updateIrq();
        }
        return value;
      }
      case REG_D:
        return D_VRT;
      default:
        if (TIME_REGISTERS.has(index) && this.running()) this.refreshTimeRegisters();
        return this.cmos[index];
    }
  }

  private writeRegister(index: number, v: number): void {
    switch (index) {
      case REG_A: {
        this.sync();
        const wasRunning = this.running();
        const wasReset = (this.cmos[REG_A] & 0x60) === 0x60;
        if (wasRunning) this.refreshTimeRegisters();
        this.cmos[REG_A] = v & 0x7f;
        const now = Math.floor(this.clock.now());
        if (wasReset && !this.dividerReset()) {
          this.dividerStartNs = now;
          this.baseNs = now + FIRST_UPDATE_NS - NS;
          this.baseSeconds = this.registerSeconds();
        } else if (!wasRunning && this.running()) {
          this.resumeFromRegisters();
        }
        break;
      }
      case REG_B: {
        this.sync();
        const wasRunning = this.running();
        if (wasRunning) this.refreshTimeRegisters();
        // Setting SET aborts any update in progress and disables update-ended interrupts.
        this.cmos[REG_B] = v & B_SET ? v & ~B_UIE : v;
        if (!wasRunning && this.running()) this.resumeFromRegisters();
        break;
      }
      case REG_C:
      case REG_D:
        return; // read-only
      default:
        if (TIME_REGISTERS.has(index) && this.running()) {
          // A write while the clock runs sets the time at once, keeping the divider's phase.
          this.sync();
          this.refreshTimeRegisters();
          this.cmos[index] = v;
          this.resumeFromRegisters();
        } else {
          if (index === REG_SECONDS_ALARM || index === REG_MINUTES_ALARM || index === REG_HOURS_ALARM) this.sync();
          this.cmos[index] = v;
        }
    }
    this.updateIrq();
  }

  // ---- time ----

  private dividerReset(): boolean {
    return (this.cmos[REG_A] & 0x70) > 0x20;
  }

  /** Updates happen: SET clear and the divider chain counting. */
  private running(): boolean {
    return !(this.cmos[REG_B] & B_SET) && !this.dividerReset();
  }

  private secondsAt(now: number): number {
    return this.baseSeconds + Math.floor((now - this.baseNs) / NS);
  }

  private binary(): boolean {
    return (this.cmos[REG_B] & B_DM_BINARY) !== 0;
  }

  private encode(v: number): number {
    return this.binary() ? v & 0xff : ((Math.floor(v / 10) % 10) << 4) | v % 10;
  }

  private decode(b: number): number {
    return this.binary() ? b : (b >> 4) * 10 + (b & 15);
  }

  private encodeHour(h: number): number {
    if (this.cmos[REG_B] & B_24H) return this.encode(h);
    return this.encode(h % 12 || 12) | (h >= 12 ? 0x80 : 0);
  }

  private decodeHour(b: number): number {
    if (this.cmos[REG_B] & B_24H) return this.decode(b);
    return (this.decode(b & 0x7f) % 12) + (b & 0x80 ? 12 : 0);
  }

  /** Write the current time into the time and calendar registers in the current format. */
  private refreshTimeRegisters(): void {
    const s = this.secondsAt(this.clock.now());
    const days = Math.floor(s / 86400);
    const sod = s - days * 86400;
    const { year, month, day } = civilFromDays(days);
    const c = this.cmos;
    c[REG_SECONDS] = this.encode(sod % 60);
    c[REG_MINUTES] = this.encode(Math.floor(sod / 60) % 60);
    c[REG_HOURS] = this.encodeHour(Math.floor(sod / 3600));
    c[REG_WEEKDAY] = mod(days + 4, 7) + 1; // 1970-01-01 was a Thursday; Sunday is 1
    c[REG_DAY] = this.encode(day);
    c[REG_MONTH] = this.encode(month);
    c[REG_YEAR] = this.encode(mod(year, 100));
    c[CMOS_CENTURY] = this.encode(mod(Math.floor(year / 100), 100));
  }

  /** The time the registers hold. Nonsense values count on arithmetically rather than failing. */
  private registerSeconds(): number {
    const c = this.cmos;
    const year = this.decode(c[CMOS_CENTURY]) * 100 + this.decode(c[REG_YEAR]);
    const days = daysFromCivil(year, this.decode(c[REG_MONTH]), this.decode(c[REG_DAY]));
    return days * 86400 + this.decodeHour(c[REG_HOURS]) * 3600 + this.decode(c[REG_MINUTES]) * 60 + this.decode(c[REG_SECONDS]);
  }

  /** Start counting from the registers' time, keeping the phase of the divider's one-second stage. */
  private resumeFromRegisters(): void {
    const now = this.clock.now();
    this.baseNs += Math.floor((now - this.baseNs) / NS) * NS;
    this.baseSeconds = this.registerSeconds();
  }

  // ---- interrupts ----

  /** Periodic interrupt period in 32.768 kHz pulses, or 0 when RS selects none. */
  private periodPulses(): number {
    const rs = this.cmos[REG_A] & 0x0f;
    if (rs === 0) return 0;
    return 1 << ((rs <= 2 ? rs + 7 : rs) - 1);
  }

  private periodIndex(now: number, period: number): number {
    return Math.floor(pulsesIn(now - this.dividerStartNs) / period);
  }

  /** Bring register C's flags up to the present. */
  private sync(): void {
    const now = this.clock.now();
    const from = this.syncedNs;
    if (now <= from) return;
    this.syncedNs = now;
    let flags = this.cmos[REG_C];
    if (this.running()) {
      const before = this.secondsAt(from);
      const after = this.secondsAt(now);
      if (after > before) {
        flags |= C_UF;
        if (this.nextAlarm(before + 1) <= after) flags |= C_AF;
      }
    }
    const period = this.periodPulses();
    if (period && !this.dividerReset() && now >= this.dividerStartNs) {
      if (this.periodIndex(now, period) > this.periodIndex(Math.max(from, this.dividerStartNs), period)) flags |= C_PF;
    }
    this.cmos[REG_C] = flags;
  }

  private irqf(): boolean {
    return (this.cmos[REG_C] & this.cmos[REG_B] & (C_PF | C_AF | C_UF)) !== 0;
  }

  /** Drive IRQ 8 from IRQF and schedule the next moment an enabled flag would set it. */
  private updateIrq(forceLine = false): void {
    const level = this.irqf();
    if (forceLine || level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
    this.clock.cancel(this.timer);
    this.timer = undefined;
    // While IRQF is set, more flags cannot change the line: wait for the guest to read C.
    if (level) return;
    const now = this.clock.now();
    const b = this.cmos[REG_B];
    let next = Infinity;
    if (this.running() && b & (B_UIE | B_AIE)) {
      const current = this.secondsAt(now);
      const target = b & B_UIE ? current + 1 : this.nextAlarm(current + 1);
      if (target !== Infinity) next = this.baseNs + (target - this.baseSeconds) * NS;
    }
    const period = this.periodPulses();
    if (b & B_PIE && period && !this.dividerReset()) {
      const k = now >= this.dividerStartNs ? this.periodIndex(now, period) + 1 : 1;
      next = Math.min(next, this.dividerStartNs + pulseTime(k * period));
    }
    if (next === Infinity) return;
    this.timer = this.clock.schedule(Math.max(next, Math.floor(now) + 1), () => {
      this.sync();
      this.updateIrq();
    });
  }

  /**
   * The first wall second at or after `from` whose time of day matches the alarm registers (bytes
   * 0xC0-0xFF match anything; a byte that no time encodes to never matches), or Infinity.
   */
  private nextAlarm(from: number): number {
    const hours = this.alarmCandidates(this.cmos[REG_HOURS_ALARM], 24, (h) => this.encodeHour(h));
    const minutes = this.alarmCandidates(this.cmos[REG_MINUTES_ALARM], 60, (m) => this.encode(m));
    const seconds = this.alarmCandidates(this.cmos[REG_SECONDS_ALARM], 60, (s) => this.encode(s));
    const day = Math.floor(from / 86400);
    const sod = from - day * 86400;
    const first = (start: number): number => {
      const sh = Math.floor(start / 3600);
      const sm = Math.floor(start / 60) % 60;
      const ss = start % 60;
      for (const h of hours) {
        if (h < sh) continue;
        for (const m of minutes) {
          if (h === sh && m < sm) continue;
          const minS = h === sh && m === sm ? ss : 0;
          const s = seconds.find((x) => x >= minS);
          if (s !== undefined) return h * 3600 + m * 60 + s;
        }
      }
      return -1;
    };
    const today = first(sod);
    if (today >= 0) return day * 86400 + today;
    const tomorrow = first(0);
    return tomorrow >= 0 ? (day + 1) * 86400 + tomorrow : Infinity;
  }

  private alarmCandidates(byte: number, count: number, encode: (v: number) => number): number[] {
    const all = Array.from({ length: count }, (_, i) => i);
    if ((byte & 0xc0) === 0xc0) return all;
    return all.filter((v) => encode(v) === byte);
  }
}
