import { describe, expect, it } from 'vitest';
import { IoBus } from '../../src/bus/io-bus.ts';
import { IrqLine } from '../../src/bus/irq-line.ts';
import { StateVersionError } from '../../src/bus/device.ts';
import { I8042 } from '../../src/devices/i8042.ts';
import { Ps2Mouse } from '../../src/devices/ps2-mouse.ts';

/** The mouse behind a real i8042 on a real IoBus. */
function setup() {
  const io = new IoBus();
  const irq12 = new IrqLine('irq12');
  const mouse = new Ps2Mouse();
  new I8042({ io, irqKeyboard: new IrqLine('irq1'), irqMouse: irq12, setA20: () => {}, requestReset: () => {}, mouse });
  const drain = () => {
    const out: number[] = [];
    while (io.read(0x64, 1) & 1) {
      expect(io.read(0x64, 1) & 0x20).toBe(0x20);
      out.push(io.read(0x60, 1));
    }
    return out;
  };
  const send = (...bytes: number[]) => {
    for (const b of bytes) {
      io.write(0x64, 1, 0xd4);
      io.write(0x60, 1, b);
    }
    return drain();
  };
  return { io, irq12, mouse, drain, send };
}

const s8 = (b: number) => (b << 24) >> 24;

describe('Ps2Mouse', () => {
  it('resets with ACK, self-test passed and ID 0', () => {
    expect(setup().send(0xff)).toEqual([0xfa, 0xaa, 0x00]);
  });

  it('sends nothing until reporting is enabled', () => {
    const t = setup();
    t.mouse.move(5, 5, 0, 0);
    expect(t.drain()).toEqual([]);
    expect(t.send(0xf4)).toEqual([0xfa]);
    t.mouse.move(5, -3, 0, 1);
    expect(t.irq12.level).toBe(true);
    const p = t.drain();
    expect(p).toEqual([0x09, 5, 3]);
  });

  it('sets sign bits for left and down motion', () => {
    const t = setup();
    t.send(0xf4);
    t.mouse.move(-2, 4, 0, 0); // DOM: 4 down -> PS/2 y = -4
    const [b0, x, y] = t.drain();
    expect(b0 & 0x30).toBe(0x30);
    expect(b0 & 0x08).toBe(0x08);
    expect(s8(x)).toBe(-2);
    expect(s8(y)).toBe(-4);
  });

  it('reports button changes without motion, in PS/2 bit order', () => {
    const t = setup();
    t.send(0xf4);
    t.mouse.move(0, 0, 0, 0b110); // right + middle
    expect(t.drain()).toEqual([0x0e, 0, 0]);
    t.mouse.move(0, 0, 0, 0b110);
    expect(t.drain()).toEqual([]);
  });

  it('splits a large move into in-range packets without overflow bits', () => {
    const t = setup();
    t.send(0xf4);
    t.mouse.move(600, 0, 0, 0);
    const bytes = t.drain();
    expect(bytes.length).toBe(9);
    let total = 0;
    for (let i = 0; i < bytes.length; i += 3) {
      expect(bytes[i] & 0xc0).toBe(0);
      total += bytes[i] & 0x10 ? bytes[i + 1] - 256 : bytes[i + 1];
    }
    expect(total).toBe(600);
  });

  it('coalesces motion while the buffer is full and delivers all of it later', () => {
    const t = setup();
    t.send(0xf4);
    t.io.write(0x64, 1, 0xa7); // controller holds mouse bytes
    for (let i = 0; i < 50; i++) t.mouse.move(3, 0, 0, 0);
    t.io.write(0x64, 1, 0xa8);
    const bytes = t.drain();
    expect(bytes.length % 3).toBe(0);
    let total = 0;
    for (let i = 0; i < bytes.length; i += 3) {
      expect(bytes[i] & 0x08).toBe(0x08);
      total += bytes[i + 1];
    }
    expect(total).toBe(150);
    expect(bytes.length).toBeLessThan(150);
  });

  it('switches to ID 3 after the 200,100,80 knock and sends a wheel byte', () => {
    const t = setup();
    expect(t.send(0xf3, 200, 0xf3, 100, 0xf3, 80)).toEqual(Array(6).fill(0xfa));
    expect(t.send(0xf2)).toEqual([0xfa, 0x03]);
    expect(t.mouse.id).toBe(3);
    t.send(0xf4);
    t.mouse.move(1, 0, -2, 0);
    const p = t.drain();
    expect(p.length).toBe(4);
    expect(s8(p[3])).toBe(-2);
  });

  it('switches to ID 4 after 200,200,80 and reports buttons 4/5 in the fourth byte', () => {
    const t = setup();
    t.send(0xf3, 200, 0xf3, 100, 0xf3, 80, 0xf3, 200, 0xf3, 200, 0xf3, 80);
    expect(t.send(0xf2)).toEqual([0xfa, 0x04]);
    t.send(0xf4);
    t.mouse.move(0, 0, 1, 0b01000);
    const p = t.drain();
    expect(p).toEqual([0x08, 0, 0, 0x11]);
  });

  it('does not take the knock in the wrong order, and reset returns to ID 0', () => {
    const t = setup();
    t.send(0xf3, 100, 0xf3, 200, 0xf3, 80);
    expect(t.send(0xf2)).toEqual([0xfa, 0x00]);
    t.send(0xf3, 200, 0xf3, 100, 0xf3, 80);
    expect(t.send(0xf2)).toEqual([0xfa, 0x03]);
    t.send(0xff);
    expect(t.send(0xf2)).toEqual([0xfa, 0x00]);
  });

  it('refuses invalid sample rates and resolutions with 0xFE', () => {
    const t = setup();
    expect(t.send(0xf3, 33)).toEqual([0xfa, 0xfe]);
    expect(t.send(0xe8, 9)).toEqual([0xfa, 0xfe]);
    expect(t.send(0xe8, 3)).toEqual([0xfa, 0xfa]);
    expect(t.send(0xf3, 40)).toEqual([0xfa, 0xfa]);
    expect(t.send(0xe9)).toEqual([0xfa, 0x00, 3, 40]);
  });

  it('reports status: remote mode, enabled, scaling and buttons', () => {
    const t = setup();
    t.send(0xf4, 0xe7);
    t.mouse.move(0, 0, 0, 0b001);
    t.drain();
    expect(t.send(0xe9)).toEqual([0xfa, 0x34, 2, 100]);
    t.send(0xf0, 0xe6);
    expect(t.send(0xe9)[1] & 0x50).toBe(0x40);
  });

  it('applies 2:1 scaling in stream mode', () => {
    const t = setup();
    t.send(0xe7, 0xf4);
    t.mouse.move(4, 0, 0, 0);
    expect(t.drain()[1]).toBe(6);
    t.mouse.move(2, 0, 0, 0);
    expect(t.drain()[1]).toBe(1);
    t.mouse.move(200, 0, 0, 0);
    const p = t.drain();
    expect(p[0] & 0x40).toBe(0x40); // 400 does not fit in 9 bits
  });

  it('accumulates in remote mode and answers 0xEB with one packet, overflowing if needed', () => {
    const t = setup();
    t.send(0xf0);
    t.mouse.move(10, 0, 0, 0);
    t.mouse.move(10, -5, 0, 0);
    expect(t.drain()).toEqual([]);
    expect(t.send(0xeb)).toEqual([0xfa, 0x08, 20, 5]);
    expect(t.send(0xeb)).toEqual([0xfa, 0x08, 0, 0]);
    t.mouse.move(-1000, 0, 0, 0);
    const p = t.send(0xeb);
    expect(p[1] & 0x50).toBe(0x50);
  });

  it('echoes bytes in wrap mode until 0xEC', () => {
    const t = setup();
    expect(t.send(0xee)).toEqual([0xfa]);
    expect(t.send(0x12, 0xf2)).toEqual([0x12, 0xf2]);
    expect(t.send(0xec)).toEqual([0xfa]);
    expect(t.send(0xf2)).toEqual([0xfa, 0x00]);
  });

  it('stops reporting on 0xF5 and on defaults, and discards unsent packets on a command', () => {
    const t = setup();
    t.send(0xf4);
    t.io.write(0x64, 1, 0xa7);
    t.mouse.move(1, 1, 0, 0);
    t.io.write(0x64, 1, 0xa8);
    // The packet is still in the mouse when the next command arrives.
    t.io.write(0x64, 1, 0xd4);
    t.io.write(0x60, 1, 0xf5);
    // The first packet byte had already reached the controller's buffer.
    const got = t.drain();
    expect(got[got.length - 1]).toBe(0xfa);
    expect(got.length).toBeLessThanOrEqual(2);
    t.mouse.move(1, 1, 0, 0);
    expect(t.drain()).toEqual([]);
  });

  it('answers unknown commands with 0xFE and resends the last byte', () => {
    const t = setup();
    expect(t.send(0x55)).toEqual([0xfe]);
    t.send(0xf2);
    expect(t.send(0xfe)).toEqual([0x00]);
  });

  it('saves and restores its state, refusing other versions', () => {
    const t = setup();
    t.send(0xf3, 200, 0xf3, 100, 0xf3, 80, 0xf4);
    const saved = t.mouse.saveState();
    t.mouse.reset();
    expect(t.mouse.id).toBe(0);
    t.mouse.loadState(saved);
    expect(t.mouse.id).toBe(3);
    t.mouse.move(1, 0, 0, 0);
    expect(t.drain().length).toBe(4);
    expect(() => t.mouse.loadState({ version: 9 })).toThrow(StateVersionError);
  });
});
