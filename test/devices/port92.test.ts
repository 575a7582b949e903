import { describe, expect, it } from 'vitest';
import { IoBus } from '../../src/bus/io-bus.ts';
import { StateVersionError } from '../../src/bus/device.ts';
import { Port92 } from '../../src/devices/port92.ts';

function setup() {
  const io = new IoBus();
  let a20 = false;
  let resets = 0;
  const calls: boolean[] = [];
  const port = new Port92({
    io,
    setA20: (on) => {
      calls.push(on);
      a20 = on;
    },
    requestReset: () => resets++,
    a20Enabled: () => a20,
  });
  return { io, port, calls, resets: () => resets, setA20: (on: boolean) => (a20 = on) };
}

describe('Port92', () => {
  it('reads the machine A20 state in bit 1', () => {
    const t = setup();
    expect(t.io.read(0x92, 1)).toBe(0x00);
    t.setA20(true); // changed by the keyboard controller
    expect(t.io.read(0x92, 1)).toBe(0x02);
  });

  it('switches A20 with bit 1', () => {
    const t = setup();
    t.io.write(0x92, 1, 0x02);
    expect(t.calls).toEqual([true]);
    expect(t.io.read(0x92, 1) & 0x02).toBe(0x02);
    t.io.write(0x92, 1, 0x00);
    expect(t.calls).toEqual([true, false]);
    expect(t.resets()).toBe(0);
  });

  it('resets the CPU only on a 0 -> 1 transition of bit 0', () => {
    const t = setup();
    t.io.write(0x92, 1, 0x03);
    expect(t.resets()).toBe(1);
    expect(t.io.read(0x92, 1)).toBe(0x03);
    t.io.write(0x92, 1, 0x03);
    expect(t.resets()).toBe(1);
    t.io.write(0x92, 1, 0x02);
    t.io.write(0x92, 1, 0x03);
    expect(t.resets()).toBe(2);
  });

  it('reads reserved bits as 0 and leaves neighbours open', () => {
    const t = setup();
    t.io.write(0x92, 1, 0xfe);
    expect(t.io.read(0x92, 1)).toBe(0x02);
    expect(t.io.read(0x93, 1)).toBe(0xff);
  });

  it('reset() clears the reset bit; state round-trips', () => {
    const t = setup();
    t.io.write(0x92, 1, 0x01);
    const saved = t.port.saveState();
    t.port.reset();
    expect(t.io.read(0x92, 1) & 1).toBe(0);
    t.port.loadState(saved);
    expect(t.io.read(0x92, 1) & 1).toBe(1);
    expect(() => t.port.loadState({ version: 2 })).toThrow(StateVersionError);
  });
});
