import { describe, expect, it } from 'vitest';
import { IoBus } from '../../src/bus/io-bus.ts';

describe('IoBus', () => {
  it('reads all ones from unclaimed ports and ignores writes', () => {
    const bus = new IoBus();
    expect(bus.read(0x300, 1)).toBe(0xff);
    expect(bus.read(0x300, 2)).toBe(0xffff);
    expect(bus.read(0x300, 4)).toBe(0xffffffff);
    bus.write(0x300, 1, 0x12);
  });

  it('passes offsets, not ports, and splits wide accesses for byte-only devices', () => {
    const bus = new IoBus();
    const regs = [0x11, 0x22, 0x33, 0x44];
    const seen: number[] = [];
    bus.register({
      owner: 'test',
      base: 0x100,
      length: 4,
      read: (off) => regs[off],
      write: (off, _size, v) => {
        seen.push(off);
        regs[off] = v;
      },
    });
    expect(bus.read(0x101, 1)).toBe(0x22);
    expect(bus.read(0x100, 4)).toBe(0x44332211);
    bus.write(0x102, 2, 0xbeef);
    expect(regs[2]).toBe(0xef);
    expect(regs[3]).toBe(0xbe);
    expect(seen).toEqual([2, 3]);
  });

  it('serves byte reads from a dword-only device out of the aligned dword', () => {
    const bus = new IoBus();
    bus.register({ owner: 'd', base: 0xcfc, length: 4, sizes: 4, read: () => 0xaabbccdd });
    expect(bus.read(0xcfe, 1)).toBe(0xbb);
  });

  it('refuses overlapping registrations, naming the owner', () => {
    const bus = new IoBus();
    bus.register({ owner: 'pic', base: 0x20, length: 2 });
    expect(() => bus.register({ owner: 'other', base: 0x21, length: 1 })).toThrow(/0x21.*pic/);
  });

  it('splits an access straddling two owners', () => {
    const bus = new IoBus();
    bus.register({ owner: 'a', base: 0x10, length: 1, read: () => 0x01 });
    bus.register({ owner: 'b', base: 0x11, length: 1, read: () => 0x02 });
    expect(bus.read(0x10, 2)).toBe(0x0201);
  });
});
