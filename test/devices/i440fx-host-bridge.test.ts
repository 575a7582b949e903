import { describe, expect, it } from 'vitest';
import { IoBus } from '../../src/bus/io-bus.ts';
import { MmioMap } from '../../src/bus/mmio-map.ts';
import type { PciFunction } from '../../src/bus/pci.ts';
import { PciBus } from '../../src/bus/pci-bus.ts';
import { I440fxHostBridge } from '../../src/devices/i440fx-host-bridge.ts';

function setup() {
  const io = new IoBus();
  const pci = new PciBus({ io, mmio: new MmioMap() });
  const pam: [number, number, boolean, boolean][] = [];
  let rcr = 0;
  const rcrWrites: number[] = [];
  const bridge = new I440fxHostBridge({
    io,
    pci,
    onPamChange: (base, length, r, w) => pam.push([base, length, r, w]),
    resetControl: { read: () => rcr, write: (v) => { rcr = v; rcrWrites.push(v); } },
  });
  const addr = (dev: number, fn: number, reg: number, bus = 0) => (0x80000000 | (bus << 16) | (dev << 11) | (fn << 8) | reg) >>> 0;
  const cfgRead = (dev: number, fn: number, reg: number, size: 1 | 2 | 4) => {
    io.write(0xcf8, 4, addr(dev, fn, reg & 0xfc));
    return io.read(0xcfc + (reg & 3), size);
  };
  const cfgWrite = (dev: number, fn: number, reg: number, size: 1 | 2 | 4, value: number) => {
    io.write(0xcf8, 4, addr(dev, fn, reg & 0xfc));
    io.write(0xcfc + (reg & 3), size, value);
  };
  return { io, pci, bridge, pam, rcrWrites, addr, cfgRead, cfgWrite };
}

describe('I440fxHostBridge', () => {
  it('answers configuration mechanism #1 with its ids and reset values', () => {
    const { cfgRead } = setup();
    expect(cfgRead(0, 0, 0, 4)).toBe(0x12378086);
    expect(cfgRead(0, 0, 4, 4)).toBe(0x02800006);
    expect(cfgRead(0, 0, 8, 4)).toBe(0x06000002);
    expect(cfgRead(0, 0, 0x72, 1)).toBe(0x02);
    expect(cfgRead(0, 0, 0x59, 1)).toBe(0);
    // Byte and word reads at any offset of the data window.
    expect(cfgRead(0, 0, 2, 2)).toBe(0x1237);
    expect(cfgRead(0, 0, 3, 1)).toBe(0x12);
    expect(cfgRead(0, 0, 0x0b, 1)).toBe(0x06);
  });

  it('keeps CONFADD as a dword register with the reserved bits clear', () => {
    const { io } = setup();
    io.write(0xcf8, 4, 0xffffffff);
    expect(io.read(0xcf8, 4)).toBe(0x80fffffc);
    io.write(0xcf8, 4, 0x80000000);
    io.write(0xcfb, 1, 0x01); // Linux's mechanism probe writes a byte here: not CONFADD
    expect(io.read(0xcf8, 4)).toBe(0x80000000);
    expect(io.read(0xcf8, 2)).toBe(0xffff);
  });

  it('reads all ones for absent devices, other buses and with the enable bit clear', () => {
    const { io, cfgRead, addr } = setup();
    expect(cfgRead(7, 0, 0, 4)).toBe(0xffffffff);
    expect(cfgRead(0, 0, 0, 2)).toBe(0x8086);
    io.write(0xcf8, 4, addr(0, 0, 0, 1));
    expect(io.read(0xcfc, 4)).toBe(0xffffffff);
    io.write(0xcf8, 4, 0x00000000);
    expect(io.read(0xcfc, 4)).toBe(0xffffffff);
    io.write(0xcfc, 4, 0x12345678); // ignored
    expect(cfgRead(0, 0, 0, 4)).toBe(0x12378086);
  });

  it('sizes and maps a BAR of another function through configuration cycles', () => {
    const { io, pci, cfgRead, cfgWrite } = setup();
    const regs = new Uint8Array(0x100);
    const nic: PciFunction = {
      info: {
        vendorId: 0x10ec, deviceId: 0x8139, classCode: 0x020000, interruptPin: 1,
        bars: [{ kind: 'io', size: 0x100, range: { owner: 'rtl8139', read: (o) => regs[o], write: (o, _s, v) => { regs[o] = v; } } }],
      },
      config: new Uint8Array(256),
    };
    pci.addFunction(3, 0, nic);
    expect(cfgRead(3, 0, 0, 4)).toBe(0x813910ec);
    cfgWrite(3, 0, 0x10, 4, 0xffffffff);
    expect(cfgRead(3, 0, 0x10, 4)).toBe(0xffffff01);
    cfgWrite(3, 0, 0x10, 4, 0xc000);
    cfgWrite(3, 0, 0x04, 2, 0x0001);
    io.write(0xc037, 1, 0x10);
    expect(regs[0x37]).toBe(0x10);
    expect(io.read(0xc037, 1)).toBe(0x10);
    cfgWrite(3, 0, 0x04, 2, 0x0000);
    expect(io.read(0xc037, 1)).toBe(0xff);
    expect(cfgRead(3, 1, 0, 4)).toBe(0xffffffff);
  });

  it('passes byte accesses at 0xCF9 to the reset control register', () => {
    const { io, rcrWrites } = setup();
    io.write(0xcf9, 1, 0x06);
    expect(rcrWrites).toEqual([0x06]);
    expect(io.read(0xcf9, 1)).toBe(0x06);
  });

  it('reports PAM changes in the datasheet granularity', () => {
    const { cfgWrite, cfgRead, pam, bridge } = setup();
    expect(pam).toEqual([]);
    cfgWrite(0, 0, 0x59, 1, 0x30); // F0000-FFFFF read/write DRAM
    expect(pam).toEqual([[0xf0000, 0x10000, true, true]]);
    pam.length = 0;
    cfgWrite(0, 0, 0x5a, 1, 0x21); // C0000 read-only DRAM, C4000 write-only DRAM
    expect(pam).toEqual([[0xc0000, 0x4000, true, false], [0xc4000, 0x4000, false, true]]);
    pam.length = 0;
    cfgWrite(0, 0, 0x5c, 4, 0x33333333); // PAM3-6 at once: D0000-EFFFF
    expect(pam.map((p) => p[0])).toEqual([0xd0000, 0xd4000, 0xd8000, 0xdc000, 0xe0000, 0xe4000, 0xe8000, 0xec000]);
    expect(pam.every((p) => p[1] === 0x4000 && p[2] && p[3])).toBe(true);
    pam.length = 0;
    cfgWrite(0, 0, 0x59, 1, 0xff); // reserved bits are not stored; no change, no call
    expect(cfgRead(0, 0, 0x59, 1)).toBe(0x70);
    expect(pam).toEqual([]);
    expect(bridge.pamSegments()[0]).toEqual({ base: 0xf0000, length: 0x10000, readRam: true, writeRam: true });
    bridge.reset();
    expect(pam.length).toBe(11); // every segment that was shadowed goes back to ROM
    expect(pam.every((p) => !p[2] && !p[3])).toBe(true);
  });

  it('keeps the SMRAM value, its fixed base segment and D_LCK', () => {
    const { cfgWrite, cfgRead } = setup();
    cfgWrite(0, 0, 0x72, 1, 0x48); // D_OPEN + G_SMRAME
    expect(cfgRead(0, 0, 0x72, 1)).toBe(0x4a);
    cfgWrite(0, 0, 0x72, 1, 0x58); // lock: D_OPEN forced off
    expect(cfgRead(0, 0, 0x72, 1)).toBe(0x1a);
    cfgWrite(0, 0, 0x72, 1, 0x40);
    expect(cfgRead(0, 0, 0x72, 1)).toBe(0x12);
  });

  it('saves and restores CONFADD and its registers', () => {
    const a = setup();
    a.cfgWrite(0, 0, 0x59, 1, 0x10);
    a.io.write(0xcf8, 4, a.addr(0, 0, 0x58));
    const saved = a.bridge.saveState();
    const b = setup();
    b.bridge.loadState(saved);
    expect(b.io.read(0xcf8, 4)).toBe(a.addr(0, 0, 0x58));
    expect(b.io.read(0xcfd, 1)).toBe(0x10);
    expect(b.pam[0]).toEqual([0xf0000, 0x10000, true, false]);
    expect(() => b.bridge.loadState({ version: 2 })).toThrow();
  });
});
