import { describe, expect, it } from 'vitest';
import { IoBus } from '../../src/bus/io-bus.ts';
import { IrqLine } from '../../src/bus/irq-line.ts';
import { StateVersionError } from '../../src/bus/device.ts';
import { EventClock } from '../../src/machine/event-clock.ts';
import { RtcCmos, UIP_LEAD_NS } from '../../src/devices/rtc-cmos.ts';

const S = 1e9;

function setup(startTime = Date.UTC(2024, 1, 29, 13, 45, 30) / 1000) {
  const io = new IoBus();
  const clock = new EventClock();
  const irq = new IrqLine('irq8');
  const rtc = new RtcCmos({ io, clock, irq, startTime });
  const read = (index: number) => {
    io.write(0x70, 1, index);
    return io.read(0x71, 1);
  };
  const write = (index: number, v: number) => {
    io.write(0x70, 1, index);
    io.write(0x71, 1, v);
  };
  /** seconds, minutes, hours, weekday, day, month, year, century */
  const clockRegs = () => [0, 2, 4, 6, 7, 8, 9, 0x32].map(read);
  /** Run events one at a time; whenever IRQ 8 is up, note the time and read C to acknowledge. */
  const collectInterrupts = (untilNs: number) => {
    const seen: { t: number; c: number }[] = [];
    for (;;) {
      const t = clock.nextEventTime();
      if (t > untilNs) break;
      clock.advanceTo(t);
      if (irq.level) seen.push({ t: clock.now(), c: read(0x0c) });
    }
    clock.advanceTo(untilNs);
    return seen;
  };
  return { io, clock, irq, rtc, read, write, clockRegs, collectInterrupts };
}

describe('RtcCmos', () => {
  it('shows startTime in BCD, 24-hour, with the century in 0x32', () => {
    const { clockRegs, read } = setup();
    // 2024-02-29 was a Thursday (weekday 5 with Sunday = 1).
    expect(clockRegs()).toEqual([0x30, 0x45, 0x13, 5, 0x29, 0x02, 0x24, 0x20]);
    expect(read(0x0a)).toBe(0x26);
    expect(read(0x0b)).toBe(0x02);
    expect(read(0x0d)).toBe(0x80);
  });

  it('keeps counting with guest time, across midnight, month, year and century', () => {
    const { clock, clockRegs, rtc } = setup(Date.UTC(1999, 11, 31, 23, 59, 58) / 1000);
    clock.advanceTo(1.5 * S);
    expect(clockRegs()).toEqual([0x59, 0x59, 0x23, 6, 0x31, 0x12, 0x99, 0x19]);
    clock.advanceTo(2 * S);
    expect(clockRegs()).toEqual([0x00, 0x00, 0x00, 7, 0x01, 0x01, 0x00, 0x20]);
    expect(rtc.time).toBe(Date.UTC(2000, 0, 1) / 1000);
  });

  it('honours a fractional startTime: the first update comes when the wall second ends', () => {
    const { clock, read } = setup(Date.UTC(2024, 1, 29, 13, 45, 30) / 1000 + 0.75);
    clock.advanceTo(0.25 * S - 1);
    expect(read(0)).toBe(0x30);
    clock.advanceTo(0.25 * S);
    expect(read(0)).toBe(0x31);
  });

  it('reads binary and 12-hour formats per register B', () => {
    const { write, clockRegs, read } = setup();
    write(0x0b, 0x06); // binary, 24 h
    expect(clockRegs()).toEqual([30, 45, 13, 5, 29, 2, 24, 20]);
    write(0x0b, 0x04); // binary, 12 h: 13:45 is 1 PM
    expect(read(4)).toBe(0x81);
    write(0x0b, 0x00); // BCD, 12 h
    expect(read(4)).toBe(0x81);
  });

  it('shows 12 AM and 12 PM correctly in 12-hour mode', () => {
    const midnight = setup(Date.UTC(2024, 0, 1, 0, 5, 0) / 1000);
    midnight.write(0x0b, 0x00);
    expect(midnight.read(4)).toBe(0x12);
    const noon = setup(Date.UTC(2024, 0, 1, 12, 5, 0) / 1000);
    noon.write(0x0b, 0x00);
    expect(noon.read(4)).toBe(0x92);
  });

  it('sets UIP 244 us before each update and clears it at the update', () => {
    const { clock, read } = setup();
    clock.advanceTo(S - UIP_LEAD_NS - 1);
    expect(read(0x0a) & 0x80).toBe(0);
    clock.advanceTo(S - UIP_LEAD_NS);
    expect(read(0x0a) & 0x80).toBe(0x80);
    expect(read(0)).toBe(0x30);
    clock.advanceTo(S);
    expect(read(0x0a) & 0x80).toBe(0);
    expect(read(0)).toBe(0x31);
  });

  it('SET stops updates while the guest writes the time, then counts on with the same phase', () => {
    const { clock, read, write, clockRegs } = setup();
    write(0x0b, 0x82);
    clock.advanceTo(S - 1000);
    expect(read(0x0a) & 0x80).toBe(0); // no UIP in SET mode
    write(0, 0x00);
    write(2, 0x30);
    write(4, 0x08);
    write(7, 0x04);
    write(8, 0x07);
    write(9, 0x01);
    write(0x32, 0x20);
    clock.advanceTo(5.3 * S);
    expect(read(0)).toBe(0x00);
    write(0x0b, 0x02);
    clock.advanceTo(6 * S - 1);
    expect(read(0)).toBe(0x00);
    clock.advanceTo(6 * S);
    // 2001-07-04 was a Wednesday.
    expect(clockRegs()).toEqual([0x01, 0x30, 0x08, 4, 0x04, 0x07, 0x01, 0x20]);
  });

  it('a time write while running takes effect at once', () => {
    const { clock, read, write } = setup();
    clock.advanceTo(0.4 * S);
    write(2, 0x10);
    expect(read(2)).toBe(0x10);
    expect(read(0)).toBe(0x30);
    clock.advanceTo(1 * S);
    expect(read(0)).toBe(0x31);
    expect(read(2)).toBe(0x10);
  });

  it('holds the time while the divider is in reset; the first update is 500 ms after release', () => {
    const { clock, read, write } = setup();
    clock.advanceTo(0.2 * S);
    write(0x0a, 0x76);
    clock.advanceTo(10 * S);
    expect(read(0)).toBe(0x30);
    write(0x0a, 0x26);
    clock.advanceTo(10.5 * S - 1);
    expect(read(0)).toBe(0x30);
    clock.advanceTo(10.5 * S);
    expect(read(0)).toBe(0x31);
  });

  it('raises IRQ 8 on update-ended; reading C returns IRQF|UF, clears it and lowers the line', () => {
    const { clock, irq, read, write } = setup();
    clock.advanceTo(0.5 * S);
    write(0x0b, 0x12);
    expect(irq.level).toBe(false);
    clock.advanceTo(S - 1);
    expect(irq.level).toBe(false);
    clock.advanceTo(S);
    expect(irq.level).toBe(true);
    // PF is set too: the 1024 Hz periodic flag runs whether or not PIE is set.
    expect(read(0x0c)).toBe(0xd0);
    expect(irq.level).toBe(false);
    expect(read(0x0c)).toBe(0x00);
    clock.advanceTo(2 * S);
    expect(irq.level).toBe(true);
  });

  it('setting SET clears UIE', () => {
    const { read, write } = setup();
    write(0x0b, 0x92);
    expect(read(0x0b)).toBe(0x82);
  });

  it('delivers periodic interrupts at the rate register A selects', () => {
    const { write, collectInterrupts } = setup();
    write(0x0b, 0x42); // PIE
    const seen = collectInterrupts(10e6);
    // 1024 Hz: every 32 pulses of 32.768 kHz, 976562.5 ns.
    expect(seen.map((e) => e.t)).toEqual(Array.from({ length: 10 }, (_, i) => Math.ceil((i + 1) * 976562.5)));
    expect(seen.every((e) => e.c === 0xc0)).toBe(true);
  });

  it('periodic rates 1 and 2 mean 256 and 128 Hz; rate 0 stops it', () => {
    const { write, collectInterrupts } = setup();
    write(0x0a, 0x21);
    write(0x0b, 0x42);
    expect(collectInterrupts(20e6).map((e) => e.t)).toEqual([3906250, 7812500, 11718750, 15625000, 19531250]);
    write(0x0a, 0x22); // the divider keeps its phase: 128 Hz boundaries are multiples of 7.8125 ms
    expect(collectInterrupts(40e6).map((e) => e.t)).toEqual([23437500, 31250000, 39062500]);
    write(0x0a, 0x20);
    expect(collectInterrupts(100e6).length).toBe(0);
  });

  it('sets PF, UF and AF without interrupts for a guest that polls register C', () => {
    const { clock, irq, read, write } = setup();
    write(1, 0xff);
    write(3, 0xff);
    write(5, 0xff);
    clock.advanceTo(0.5 * S);
    expect(read(0x0c)).toBe(0x40); // periodic flag only
    clock.advanceTo(1.5 * S);
    expect(read(0x0c)).toBe(0x70);
    expect(irq.level).toBe(false);
    write(0x0a, 0x20);
    clock.advanceTo(1.9 * S);
    expect(read(0x0c)).toBe(0x00);
  });

  it('raises the alarm interrupt when the time matches, with don\'t-care bytes', () => {
    const { write, collectInterrupts } = setup();
    write(1, 0x35);
    write(3, 0x45);
    write(5, 0x13);
    write(0x0b, 0x22); // AIE
    const seen = collectInterrupts(70 * S);
    expect(seen).toEqual([{ t: 5 * S, c: 0xf0 }]); // IRQF, PF, AF, UF
    write(3, 0xc0); // any minute: 13:xx:35 matches every minute
    expect(collectInterrupts(200 * S).map((e) => e.t)).toEqual([125 * S, 185 * S]);
  });

  it('an alarm byte no time encodes to never matches', () => {
    const { write, collectInterrupts } = setup();
    write(1, 0x3a); // not BCD
    write(3, 0xff);
    write(5, 0xff);
    write(0x0b, 0x22);
    expect(collectInterrupts(100 * S)).toEqual([]);
  });

  it('finds a 12-hour PM alarm on the next day', () => {
    const { write, collectInterrupts } = setup(Date.UTC(2024, 0, 1, 14, 0, 0) / 1000);
    write(0x0b, 0x20); // AIE, BCD, 12 h
    write(1, 0x00);
    write(3, 0x00);
    write(5, 0x81); // 1 PM: tomorrow, 23 hours away
    expect(collectInterrupts(24 * 3600 * S).map((e) => e.t)).toEqual([23 * 3600 * S]);
  });

  it('enabling an interrupt whose flag is already set raises IRQ 8 at once', () => {
    const { clock, irq, write } = setup();
    clock.advanceTo(1.5 * S);
    expect(irq.level).toBe(false);
    write(0x0b, 0x12);
    expect(irq.level).toBe(true);
  });

  it('port 0x70 bit 7 masks NMI and the index wraps into 128 bytes', () => {
    const { io, rtc, read, write } = setup();
    io.write(0x70, 1, 0x8f);
    expect(rtc.nmiMasked).toBe(true);
    io.write(0x71, 1, 0x0a);
    expect(rtc.getByte(0x0f)).toBe(0x0a);
    io.write(0x70, 1, 0x0f);
    expect(rtc.nmiMasked).toBe(false);
    expect(io.read(0x70, 1)).toBe(0xff);
    write(0x7f, 0x5a);
    expect(read(0x7f)).toBe(0x5a);
  });

  it('lets the machine fill CMOS bytes, which survive reset while the time keeps running', () => {
    const { clock, rtc, read, write, irq } = setup();
    rtc.setByte(0x10, 0x40);
    rtc.setByte(0x15, 0x80);
    rtc.setByte(0x34, 0x12);
    rtc.setByte(0x3d, 0x21);
    rtc.setByte(0x5b, 0xff);
    expect(read(0x10)).toBe(0x40);
    expect(rtc.getByte(0x15)).toBe(0x80);
    write(0x0b, 0x72);
    clock.advanceTo(1.5 * S);
    expect(irq.level).toBe(true);
    rtc.reset();
    expect(irq.level).toBe(false);
    expect(read(0x0b)).toBe(0x02);
    expect(read(0x0c)).toBe(0);
    expect([0x10, 0x15, 0x34, 0x3d, 0x5b].map(read)).toEqual([0x40, 0x80, 0x12, 0x21, 0xff]);
    clock.advanceTo(3 * S);
    expect(read(0)).toBe(0x33);
  });

  it('ignores writes to C and D', () => {
    const { read, write } = setup();
    write(0x0c, 0xff);
    write(0x0d, 0x00);
    expect(read(0x0c)).toBe(0);
    expect(read(0x0d)).toBe(0x80);
  });

  it('getByte does not clear register C', () => {
    const { clock, rtc, read } = setup();
    clock.advanceTo(1.5 * S);
    expect(rtc.getByte(0x0c)).toBe(0x50);
    expect(read(0x0c)).toBe(0x50);
    expect(read(0x0c)).toBe(0);
  });

  it('survives nonsense in every register without throwing', () => {
    const { clock, io, rtc } = setup();
    for (let i = 0; i < 0x40; i++) {
      for (const v of [0x00, 0xff, 0x7a, 0x99, 0xc5, 0x60]) {
        io.write(0x70, 1, i);
        io.write(0x71, 1, v);
        io.read(0x71, 1);
        clock.advanceBy(1234567);
      }
    }
    expect(Number.isFinite(rtc.time)).toBe(true);
    expect(() => new RtcCmos({ io: new IoBus(), clock, irq: new IrqLine('x'), startTime: NaN })).toThrow(RangeError);
  });

  it('saves and restores the time, flags and RAM; refuses other versions', () => {
    const a = setup();
    a.rtc.setByte(0x38, 0x20);
    a.write(0x0b, 0x12);
    a.clock.advanceTo(0.7 * S);
    const saved = a.rtc.saveState();
    const b = setup(0);
    b.clock.setTime(a.clock.now());
    b.rtc.loadState(structuredClone(saved));
    expect(b.read(0x38)).toBe(0x20);
    expect(b.read(0)).toBe(0x30);
    b.clock.advanceTo(S);
    expect(b.irq.level).toBe(true);
    expect(b.read(0)).toBe(0x31);
    expect(() => b.rtc.loadState({ ...saved, version: 2 })).toThrow(StateVersionError);
    expect(() => b.rtc.loadState({ version: 1 })).toThrow(/cmos/);
  });

  it('restoring drives the IRQ line to the saved flags even where the fresh machine had it high', () => {
    const a = setup();
    const b = setup();
    b.write(0x0b, 0x12); // update-ended interrupts on...
    b.clock.advanceTo(1.5 * S); // ...and one pending: the line is high
    expect(b.irq.level).toBe(true);
    a.clock.advanceTo(1.5 * S); // no interrupts enabled: the line is low
    b.rtc.loadState(structuredClone(a.rtc.saveState()));
    expect(b.irq.level).toBe(false);
  });
});
