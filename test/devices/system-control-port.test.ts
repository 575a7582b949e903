import { describe, expect, it } from 'vitest';
import { IoBus } from '../../src/bus/io-bus.ts';
import { IrqLine } from '../../src/bus/irq-line.ts';
import { StateVersionError } from '../../src/bus/device.ts';
import { EventClock } from '../../src/machine/event-clock.ts';
import { REFRESH_TOGGLE_NS, SystemControlPort } from '../../src/devices/system-control-port.ts';
import { Pit8254, pitTickAt, pitTickTime } from '../../src/devices/pit8254.ts';

function setup() {
  const io = new IoBus();
  const clock = new EventClock();
  const gates: boolean[] = [];
  let out = false;
  const port = new SystemControlPort({
    io,
    clock,
    setTimer2Gate: (l) => gates.push(l),
    timer2Output: () => out,
  });
  return { io, clock, gates, port, setOut: (v: boolean) => (out = v) };
}

describe('SystemControlPort', () => {
  it('stores bits 0-3, drives the timer 2 gate on changes only, and ignores read-only bits', () => {
    const { io, gates, port } = setup();
    io.write(0x61, 1, 0xff);
    expect(io.read(0x61, 1) & 0xcf).toBe(0x0f);
    expect(gates).toEqual([true]);
    expect(port.timer2Gate).toBe(true);
    expect(port.speakerData).toBe(true);
    io.write(0x61, 1, 0x03);
    expect(gates).toEqual([true]);
    io.write(0x61, 1, 0x02);
    expect(gates).toEqual([true, false]);
    expect(port.speakerData).toBe(true);
  });

  it('reports the timer 2 output in bit 5', () => {
    const { io, setOut } = setup();
    expect(io.read(0x61, 1) & 0x20).toBe(0);
    setOut(true);
    expect(io.read(0x61, 1) & 0x20).toBe(0x20);
  });

  it('toggles the refresh bit every 15.085 us of guest time', () => {
    const { io, clock } = setup();
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      clock.advanceTo(i * REFRESH_TOGGLE_NS + 100);
      seen.push(io.read(0x61, 1) & 0x10);
    }
    expect(seen).toEqual([0, 0x10, 0, 0x10, 0, 0x10]);
    clock.advanceTo(6 * REFRESH_TOGGLE_NS - 1);
    expect(io.read(0x61, 1) & 0x10).toBe(0x10);
  });

  it('reset clears the register and lowers the gate; state round-trips', () => {
    const { io, gates, port } = setup();
    io.write(0x61, 1, 0x01);
    const saved = port.saveState();
    port.reset();
    expect(io.read(0x61, 1) & 0x0f).toBe(0);
    expect(gates.at(-1)).toBe(false);
    port.loadState(structuredClone(saved));
    expect(io.read(0x61, 1) & 0x0f).toBe(0x01);
    expect(gates.at(-1)).toBe(true);
    expect(() => port.loadState({ version: 2, control: 0 })).toThrow(StateVersionError);
    expect(() => port.loadState({ version: 1 })).toThrow(/control/);
  });

  it('times a PIT channel 2 one-shot the way BIOSes calibrate delays', () => {
    const io = new IoBus();
    const clock = new EventClock();
    const pit = new Pit8254({ io, clock, irq0: new IrqLine('irq0') });
    new SystemControlPort({
      io,
      clock,
      setTimer2Gate: (l) => pit.setGate(2, l),
      timer2Output: () => pit.output(2),
    });
    io.write(0x61, 1, 0x00);
    io.write(0x43, 1, 0xb0); // channel 2, lo/hi, mode 0
    io.write(0x42, 1, 0xe8);
    io.write(0x42, 1, 0x03); // 1000
    io.write(0x61, 1, 0x01); // gate on
    const start = pitTickAt(clock.now());
    clock.advanceTo(pitTickTime(start + 1000));
    expect(io.read(0x61, 1) & 0x20).toBe(0);
    clock.advanceTo(pitTickTime(start + 1001));
    expect(io.read(0x61, 1) & 0x20).toBe(0x20);
  });
});
