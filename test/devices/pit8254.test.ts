import { describe, expect, it } from 'vitest';
import { IoBus } from '../../src/bus/io-bus.ts';
import { IrqLine } from '../../src/bus/irq-line.ts';
import { StateVersionError } from '../../src/bus/device.ts';
import { EventClock } from '../../src/machine/event-clock.ts';
import { PIT_HZ, Pit8254, pitTickAt, pitTickTime } from '../../src/devices/pit8254.ts';

function setup() {
  const io = new IoBus();
  const clock = new EventClock();
  const irq0 = new IrqLine('irq0');
  const edges: { level: boolean; tick: number }[] = [];
  irq0.connect((level) => edges.push({ level, tick: pitTickAt(clock.now()) }));
  const pit = new Pit8254({ io, clock, irq0 });
  const toTick = (t: number) => clock.advanceTo(pitTickTime(t));
  const now = () => pitTickAt(clock.now());
  /** Program a channel: control word then the count in the chosen access mode. */
  const program = (channel: number, mode: number, count: number, opts: { bcd?: boolean; access?: number } = {}) => {
    const access = opts.access ?? 3;
    io.write(0x43, 1, (channel << 6) | (access << 4) | (mode << 1) | (opts.bcd ? 1 : 0));
    if (access & 1) io.write(0x40 + channel, 1, count & 0xff);
    if (access & 2) io.write(0x40 + channel, 1, (count >> 8) & 0xff);
  };
  const readCount = (channel: number) => {
    const lo = io.read(0x40 + channel, 1);
    return lo | (io.read(0x40 + channel, 1) << 8);
  };
  const latch = (channel: number) => io.write(0x43, 1, channel << 6);
  const status = (channel: number) => {
    io.write(0x43, 1, 0xe0 | (2 << channel)); // read-back, status only
    return io.read(0x40 + channel, 1);
  };
  return { io, clock, irq0, edges, pit, toTick, now, program, readCount, latch, status };
}

describe('PIT clock arithmetic', () => {
  it('maps ticks to nanoseconds and back exactly, even after days of uptime', () => {
    for (const k of [0, 1, 2, 1193, PIT_HZ - 1, PIT_HZ, PIT_HZ + 1, 123456789, 86400 * PIT_HZ * 30 + 77]) {
      const ns = pitTickTime(k);
      expect(pitTickAt(ns)).toBe(k);
      if (k > 0) expect(pitTickAt(ns - 1)).toBe(k - 1);
    }
    expect(pitTickAt(1e9)).toBe(PIT_HZ);
  });
});

describe('Pit8254', () => {
  it('mode 2 on channel 0 gives one rising IRQ 0 edge per period, scheduled on the clock', () => {
    const { toTick, program, edges, irq0 } = setup();
    program(0, 2, 1193);
    edges.length = 0;
    toTick(11931);
    const rising = edges.filter((e) => e.level).map((e) => e.tick);
    // Loaded on the pulse after the write (tick 1), reloads every 1193 pulses.
    expect(rising).toEqual(Array.from({ length: 10 }, (_, i) => 1 + 1193 * (i + 1)));
    // OUT is low for exactly one pulse before each reload.
    const falling = edges.filter((e) => !e.level).map((e) => e.tick);
    expect(falling[0]).toBe(1 + 1192);
    expect(irq0.level).toBe(true);
  });

  it('mode 2 reads N - elapsed mod N and takes a new count at the end of the period', () => {
    const { toTick, program, readCount } = setup();
    program(0, 2, 1000);
    toTick(1 + 250);
    expect(readCount(0)).toBe(750);
    toTick(1 + 1000 + 10);
    expect(readCount(0)).toBe(990);
    program(0, 2, 100); // a control word and count restart counting at once
    toTick(1 + 1000 + 10 + 1 + 40);
    expect(readCount(0)).toBe(60);
  });

  it('mode 2 count written during counting is loaded at the next reload', () => {
    const { io, toTick, program, readCount, status } = setup();
    program(0, 2, 1000);
    toTick(1 + 300);
    io.write(0x40, 1, 0x64);
    io.write(0x40, 1, 0x00); // 100
    expect(status(0) & 0x40).toBe(0x40); // null count: not yet in the counting element
    toTick(1 + 999);
    expect(readCount(0)).toBe(1);
    toTick(1 + 1000 + 30);
    expect(readCount(0)).toBe(70);
    expect(status(0) & 0x40).toBe(0);
  });

  it('mode 0 raises OUT at terminal count and keeps it high while the count wraps', () => {
    const { toTick, program, readCount, edges, irq0, pit } = setup();
    program(0, 0, 500);
    expect(irq0.level).toBe(false);
    edges.length = 0;
    toTick(1 + 499);
    expect(irq0.level).toBe(false);
    expect(readCount(0)).toBe(1);
    toTick(1 + 500);
    expect(irq0.level).toBe(true);
    toTick(1 + 600);
    expect(readCount(0)).toBe(0x10000 - 100);
    expect(edges).toEqual([{ level: true, tick: 501 }]);
    expect(pit.output(0)).toBe(true);
  });

  it('mode 0: writing the first byte stops counting and drops OUT at once', () => {
    const { io, toTick, program, readCount, irq0 } = setup();
    program(0, 0, 100);
    toTick(200);
    expect(irq0.level).toBe(true);
    io.write(0x40, 1, 0x10);
    expect(irq0.level).toBe(false);
    const held = readCount(0);
    toTick(400);
    expect(readCount(0)).toBe(held);
    io.write(0x40, 1, 0x00); // count 0x0010
    toTick(400 + 1 + 16);
    expect(irq0.level).toBe(true);
  });

  it('latches the count: the latched value survives time passing until read', () => {
    const { io, toTick, program, latch, readCount } = setup();
    program(0, 2, 0); // 65536
    toTick(1 + 1000);
    latch(0);
    toTick(1 + 5000);
    latch(0); // ignored: the first latch is still unread
    expect(readCount(0)).toBe(0x10000 - 1000);
    expect(readCount(0)).toBe(0x10000 - 5000);
    // LSB-only access latches one byte.
    io.write(0x43, 1, 0x14);
    io.write(0x40, 1, 200);
    toTick(1 + 5000 + 1 + 50);
    latch(0);
    toTick(1 + 5000 + 1 + 60);
    expect(io.read(0x40, 1)).toBe(150);
    expect(io.read(0x40, 1)).toBe(140);
  });

  it('read-back status reports OUT, null count, access, mode and BCD; status comes before count', () => {
    const { io, toTick, status } = setup();
    io.write(0x43, 1, 0x36 | 0x01); // ch0, lo/hi, mode 3, BCD
    expect(status(0)).toBe(0x40 | 0x30 | 0x06 | 0x01 | 0x80);
    io.write(0x40, 1, 0x00);
    io.write(0x40, 1, 0x10); // 1000 in BCD
    expect(status(0) & 0x40).toBe(0x40);
    toTick(2);
    expect(status(0)).toBe(0x80 | 0x37);
    toTick(1 + 600); // low half of the square wave
    // Latch both status and count of channel 0 in one read-back command.
    io.write(0x43, 1, 0xc2);
    expect(io.read(0x40, 1)).toBe(0x37);
    const lo = io.read(0x40, 1);
    const hi = io.read(0x40, 1);
    expect((hi << 8) | lo).toBe(0x0800); // 1000 - 2*600 mod 1000 = 800, in BCD
  });

  it('mode 6 and 7 alias modes 2 and 3 and status reports what was written', () => {
    const { io, toTick, status, irq0 } = setup();
    io.write(0x43, 1, 0x3c); // mode 6
    io.write(0x40, 1, 10);
    io.write(0x40, 1, 0);
    expect(status(0) & 0x0e).toBe(0x0c);
    toTick(1 + 9);
    expect(irq0.level).toBe(false);
    toTick(1 + 10);
    expect(irq0.level).toBe(true);
  });

  it('counts in BCD', () => {
    const { toTick, program, readCount } = setup();
    program(0, 0, 0x1234, { bcd: true });
    toTick(1 + 34);
    expect(readCount(0)).toBe(0x1200);
    toTick(1 + 1234 + 1);
    expect(readCount(0)).toBe(0x9999); // wraps mod 10000
  });

  it('mode 3 square wave on channel 2 follows the gate', () => {
    const { toTick, now, program, pit } = setup();
    program(2, 3, 100);
    // Gate 2 is low after reset: counting held, OUT high.
    toTick(500);
    expect(pit.output(2)).toBe(true);
    pit.setGate(2, true);
    const start = now() + 1;
    toTick(start + 49);
    expect(pit.output(2)).toBe(true);
    toTick(start + 50);
    expect(pit.output(2)).toBe(false);
    toTick(start + 99);
    expect(pit.output(2)).toBe(false);
    toTick(start + 100);
    expect(pit.output(2)).toBe(true);
    toTick(start + 160);
    pit.setGate(2, false); // low forces OUT high
    expect(pit.output(2)).toBe(true);
  });

  it('mode 1 one-shot is triggered (and retriggered) by the gate', () => {
    const { toTick, now, program, pit, readCount } = setup();
    program(2, 1, 300);
    toTick(1000);
    expect(pit.output(2)).toBe(true); // waits for a trigger
    pit.setGate(2, true);
    const t = now();
    expect(pit.output(2)).toBe(false);
    toTick(t + 100);
    expect(readCount(2)).toBe(200);
    pit.setGate(2, false);
    pit.setGate(2, true); // retrigger restarts the count
    const t2 = now();
    toTick(t2 + 299);
    expect(pit.output(2)).toBe(false);
    toTick(t2 + 300);
    expect(pit.output(2)).toBe(true);
  });

  it('mode 4 strobes OUT low for one pulse at terminal count', () => {
    const { toTick, program, edges } = setup();
    program(0, 4, 50);
    edges.length = 0;
    toTick(1000);
    expect(edges).toEqual([
      { level: false, tick: 51 },
      { level: true, tick: 52 },
    ]);
  });

  it('mode 5 strobes after a gate trigger', () => {
    const { toTick, now, program, pit } = setup();
    program(2, 5, 20);
    toTick(100);
    expect(pit.output(2)).toBe(true);
    pit.setGate(2, true);
    const t = now();
    toTick(t + 19);
    expect(pit.output(2)).toBe(true);
    toTick(t + 20);
    expect(pit.output(2)).toBe(false);
    toTick(t + 21);
    expect(pit.output(2)).toBe(true);
  });

  it('mode 0 on channel 2 suspends counting while the gate is low', () => {
    const { toTick, now, program, pit, readCount } = setup();
    pit.setGate(2, true);
    program(2, 0, 1000);
    const t = now() + 1;
    toTick(t + 100);
    pit.setGate(2, false);
    toTick(t + 5000);
    expect(readCount(2)).toBe(900);
    expect(pit.output(2)).toBe(false);
    pit.setGate(2, true);
    toTick(now() + 899);
    expect(pit.output(2)).toBe(false);
    toTick(now() + 1);
    expect(pit.output(2)).toBe(true);
  });

  it('supports MSB-only access', () => {
    const { io, toTick, program, readCount } = setup();
    program(1, 2, 0x0300, { access: 2 });
    toTick(1 + 0x100);
    expect(io.read(0x41, 1)).toBe(0x02);
    program(1, 2, 0x1000);
    toTick(1 + 0x100 + 1 + 0x10);
    expect(readCount(1)).toBe(0x1000 - 0x10);
  });

  it('runs channel 0 in mode 3 at 18.2 Hz after reset', () => {
    const { clock, edges } = setup();
    clock.advanceTo(1e9);
    // OUT rises at power-on, then at every reload of the 65536 count.
    const rising = edges.filter((e) => e.level).map((e) => e.tick);
    expect(rising).toEqual([0, ...Array.from({ length: 18 }, (_, i) => 1 + 65536 * (i + 1))]);
  });

  it('survives nonsense writes and reads all ones from the control port', () => {
    const { io, clock, pit } = setup();
    for (let v = 0; v < 256; v++) {
      io.write(0x43, 1, v);
      io.write(0x40 + (v % 3), 1, v ^ 0x5a);
      io.write(0x40, 4, v * 0x01010101);
      io.read(0x40 + (v % 3), 1);
      clock.advanceBy(1000);
    }
    pit.setGate(7, true);
    expect(pit.output(9)).toBe(true);
    expect(io.read(0x43, 1)).toBe(0xff);
    clock.advanceBy(1e9);
  });

  it('saves and restores mid-count, rescheduling IRQ 0; refuses other versions', () => {
    const a = setup();
    a.program(0, 2, 1000);
    a.toTick(400);
    a.latch(0);
    const saved = a.pit.saveState();
    const b = setup();
    b.clock.setTime(a.clock.now());
    b.pit.loadState(structuredClone(saved));
    expect(b.readCount(0)).toBe(1000 - 399);
    b.edges.length = 0;
    b.toTick(1 + 2000);
    expect(b.edges.filter((e) => e.level).map((e) => e.tick)).toEqual([1001, 2001]);
    expect(() => b.pit.loadState({ ...saved, version: 9 })).toThrow(StateVersionError);
    expect(() => b.pit.loadState({ version: 1 })).toThrow(/mode/);
  });

  it('restoring drives IRQ 0 to the saved OUT level even where the fresh machine had it high', () => {
    const a = setup();
    a.program(0, 3, 1000);
    a.toTick(700); // the square wave's low half
    expect(a.irq0.level).toBe(false);
    const b = setup();
    b.program(0, 3, 1000); // OUT high here at load time
    expect(b.irq0.level).toBe(true);
    b.clock.setTime(a.clock.now());
    b.pit.loadState(structuredClone(a.pit.saveState()));
    expect(b.irq0.level).toBe(false);
    b.edges.length = 0;
    a.edges.length = 0;
    a.toTick(3000);
    b.toTick(3000);
    expect(b.edges.filter((e) => e.level).length).toBeGreaterThan(0);
    expect(b.edges).toEqual(a.edges);
  });
});
