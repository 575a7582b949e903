import { describe, expect, it } from 'vitest';
import { IoBus } from '../../src/bus/io-bus.ts';
import { MmioMap } from '../../src/bus/mmio-map.ts';
import { EventClock } from '../../src/machine/event-clock.ts';
import { StdVga } from '../../src/devices/vga.ts';
import { VgaPlanarMemory } from '../../src/devices/vga-memory.ts';

/** A card in mode 12h-style planar addressing at 0xA0000, driven through its ports. */
function planar() {
  const io = new IoBus();
  const mmio = new MmioMap();
  const vram = new Uint8Array(1 << 20);
  new StdVga({ io, mmio, clock: new EventClock(), vram });
  io.write(0x3c2, 1, 0xe3);
  io.write(0x3c4, 2, 0x0f02); // all planes
  io.write(0x3c4, 2, 0x0604); // odd/even off, chain-4 off
  io.write(0x3ce, 2, 0x0005); // write mode 0, read mode 0
  io.write(0x3ce, 2, 0x0506); // graphics, map 1 (A0000-AFFFF)
  io.write(0x3ce, 2, 0xff08);
  const gr = (index: number, value: number) => io.write(0x3ce, 2, (value << 8) | index);
  const plane = (p: number, offset: number) => vram[offset * 4 + p];
  const setPlanes = (offset: number, bytes: number[]) => bytes.forEach((b, p) => (vram[offset * 4 + p] = b));
  return { io, mmio, vram, gr, plane, setPlanes };
}

describe('VGA planar memory through the 0xA0000 window', () => {
  it('write mode 0 writes the byte to every plane enabled in the map mask', () => {
    const { io, mmio, plane } = planar();
    io.write(0x3c4, 2, 0x0502); // planes 0 and 2
    mmio.write(0xa0010, 1, 0xa5);
    expect([plane(0, 0x10), plane(1, 0x10), plane(2, 0x10), plane(3, 0x10)]).toEqual([0xa5, 0, 0xa5, 0]);
  });

  it('write mode 0 uses set/reset for planes with enable set/reset', () => {
    const { mmio, gr, plane } = planar();
    gr(0, 0x0a); // set/reset: planes 1 and 3 ones
    gr(1, 0x03); // enable set/reset on planes 0 and 1
    mmio.write(0xa0000, 1, 0x3c);
    expect([plane(0, 0), plane(1, 0), plane(2, 0), plane(3, 0)]).toEqual([0x00, 0xff, 0x3c, 0x3c]);
  });

  it('write mode 0 rotates the data and applies the bit mask against the latches', () => {
    const { mmio, gr, plane, setPlanes } = planar();
    setPlanes(5, [0xf0, 0xf0, 0xf0, 0xf0]);
    expect(mmio.read(0xa0005, 1)).toBe(0xf0); // loads latches
    gr(3, 0x01); // rotate right by 1
    gr(8, 0x0f); // only the low nibble comes from the data
    mmio.write(0xa0005, 1, 0x03); // rotated: 0x81
    expect(plane(0, 5)).toBe(0xf1);
    expect(plane(3, 5)).toBe(0xf1);
  });

  it('applies the ALU function select (AND, OR, XOR with the latches)', () => {
    const { mmio, gr, plane, setPlanes } = planar();
    for (const [func, expected] of [
      [1, 0x0c & 0x0a],
      [2, 0x0c | 0x0a],
      [3, 0x0c ^ 0x0a],
    ] as const) {
      setPlanes(0, [0x0a, 0x0a, 0x0a, 0x0a]);
      mmio.read(0xa0000, 1);
      gr(3, func << 3);
      mmio.write(0xa0000, 1, 0x0c);
      expect(plane(1, 0)).toBe(expected);
    }
  });

  it('write mode 1 copies the latches loaded by a read', () => {
    const { mmio, gr, plane, setPlanes } = planar();
    setPlanes(0x100, [1, 2, 3, 4]);
    mmio.read(0xa0100, 1);
    gr(5, 0x01);
    gr(8, 0x00); // bit mask does not apply in write mode 1
    mmio.write(0xa0200, 1, 0xee);
    expect([plane(0, 0x200), plane(1, 0x200), plane(2, 0x200), plane(3, 0x200)]).toEqual([1, 2, 3, 4]);
  });

  it('write mode 2 expands the low colour nibble to whole planes under the bit mask', () => {
    const { mmio, gr, plane, setPlanes } = planar();
    setPlanes(7, [0xff, 0x00, 0xff, 0x00]);
    mmio.read(0xa0007, 1);
    gr(5, 0x02);
    gr(8, 0x81);
    mmio.write(0xa0007, 1, 0x06); // colour 6: planes 1 and 2 set
    expect([plane(0, 7), plane(1, 7), plane(2, 7), plane(3, 7)]).toEqual([0x7e, 0x81, 0xff, 0x00]);
  });

  it('write mode 3 uses the rotated data ANDed with the bit mask and the set/reset colour', () => {
    const { mmio, gr, plane } = planar();
    mmio.read(0xa0009, 1); // latches zero
    gr(5, 0x03);
    gr(0, 0x09); // colour 9: planes 0 and 3
    gr(8, 0xf0);
    mmio.write(0xa0009, 1, 0xcc);
    expect([plane(0, 9), plane(1, 9), plane(2, 9), plane(3, 9)]).toEqual([0xc0, 0, 0, 0xc0]);
  });

  it('read mode 0 returns the plane chosen by the read map select', () => {
    const { mmio, gr, setPlanes } = planar();
    setPlanes(3, [0x10, 0x20, 0x30, 0x40]);
    gr(4, 2);
    expect(mmio.read(0xa0003, 1)).toBe(0x30);
    gr(4, 0x07); // only bits 0-1 count
    expect(mmio.read(0xa0003, 1)).toBe(0x40);
  });

  it('read mode 1 compares colours, ignoring planes marked do not care', () => {
    const { mmio, gr, setPlanes } = planar();
    setPlanes(0, [0b1100, 0b1010, 0b0000, 0b1111]);
    gr(5, 0x08);
    gr(2, 0x0b); // colour 1011
    gr(7, 0x0f);
    // pixel bits: 3 -> (1,1,0,1) = colour 1011 matches; 2 -> (1,0,0,1) = 1001; 1 -> (0,1,0,1) = 1010; 0 -> 1000.
    expect(mmio.read(0xa0000, 1)).toBe(0b1000);
    gr(7, 0x0c); // only planes 2 and 3 compared (colour bits 0 and 1: plane2=0, plane3=1)
    expect(mmio.read(0xa0000, 1)).toBe(0b1111);
  });

  it('stores chain-4 bytes in plane A&3 at plane offset A&~3 and reads them back', () => {
    const { io, mmio, plane } = planar();
    io.write(0x3c4, 2, 0x0e04); // chain-4
    io.write(0x3ce, 2, 0x4005);
    for (let a = 0; a < 8; a++) mmio.write(0xa0000 + a, 1, 0x80 + a);
    expect(plane(0, 0)).toBe(0x80);
    expect(plane(3, 0)).toBe(0x83);
    expect(plane(1, 4)).toBe(0x85);
    expect(mmio.read(0xa0006, 1)).toBe(0x86);
    expect(mmio.read(0xa0000, 4)).toBe(0x83828180);
  });

  it('respects the map mask in chain-4', () => {
    const { io, mmio, plane } = planar();
    io.write(0x3c4, 2, 0x0e04);
    io.write(0x3c4, 2, 0x0102); // plane 0 only
    mmio.write(0xa0000, 4, 0x44332211);
    expect([plane(0, 0), plane(1, 0), plane(2, 0), plane(3, 0)]).toEqual([0x11, 0, 0, 0]);
  });

  it('odd/even: even addresses reach planes 0/2, odd addresses planes 1/3, reads pick by A0', () => {
    const { io, mmio, gr, plane } = planar();
    io.write(0x3c4, 2, 0x0f02);
    io.write(0x3c4, 2, 0x0204); // odd/even writes
    gr(5, 0x10); // odd/even reads
    mmio.write(0xa0020, 1, 0x41);
    mmio.write(0xa0021, 1, 0x07);
    expect([plane(0, 0x20), plane(1, 0x20), plane(2, 0x20), plane(3, 0x20)]).toEqual([0x41, 0x07, 0x41, 0x07]);
    expect(mmio.read(0xa0020, 1)).toBe(0x41);
    expect(mmio.read(0xa0021, 1)).toBe(0x07);
    gr(4, 2); // read planes 2/3
    expect(mmio.read(0xa0021, 1)).toBe(0x07);
  });

  it('refuses unaligned video memory', () => {
    const buf = new Uint8Array(1028);
    expect(() => new VgaPlanarMemory(buf.subarray(2, 1026))).toThrow(/aligned/);
  });
});
