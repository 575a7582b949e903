import { describe, expect, it } from 'vitest';
import { IoBus } from '../../src/bus/io-bus.ts';
import { IrqLine } from '../../src/bus/irq-line.ts';
import { MmioMap } from '../../src/bus/mmio-map.ts';
import type { PciFunction, PciFunctionInfo } from '../../src/bus/pci.ts';
import { PciBus } from '../../src/bus/pci-bus.ts';

function fn(info: PciFunctionInfo, extra: Partial<PciFunction> = {}): PciFunction {
  return { info, config: new Uint8Array(256), ...extra };
}

function setup(options: { routeInterrupt?: (d: number, p: number) => { set(l: boolean): void }; direct?: (a: number, b: Uint8Array | null) => void } = {}) {
  const io = new IoBus();
  const mmio = new MmioMap();
  const pci = new PciBus({ io, mmio, routeInterrupt: options.routeInterrupt, onDirectMemoryMap: options.direct });
  return { io, mmio, pci };
}

describe('PciBus', () => {
  it('fills the type-0 header from the function info', () => {
    const { pci } = setup();
    pci.addFunction(3, 0, fn({ vendorId: 0x10ec, deviceId: 0x8139, classCode: 0x020000, revision: 0x20, subsystemVendorId: 0x1af4, subsystemId: 0x1100, interruptPin: 1 }));
    expect(pci.configRead(0, 3, 0, 0, 4)).toBe(0x813910ec);
    expect(pci.configRead(0, 3, 0, 8, 4)).toBe(0x02000020);
    expect(pci.configRead(0, 3, 0, 0x2c, 4)).toBe(0x11001af4);
    expect(pci.configRead(0, 3, 0, 0x3d, 1)).toBe(1);
    expect(pci.configRead(0, 3, 0, 0x0e, 1)).toBe(0);
  });

  it('reads absent functions and other buses as all ones', () => {
    const { pci } = setup();
    pci.addFunction(0, 0, fn({ vendorId: 0x8086, deviceId: 0x1237, classCode: 0x060000 }));
    expect(pci.configRead(0, 5, 0, 0, 4)).toBe(0xffffffff);
    expect(pci.configRead(0, 0, 1, 0, 2)).toBe(0xffff);
    expect(pci.configRead(1, 0, 0, 0, 4)).toBe(0xffffffff);
    pci.configWrite(0, 5, 0, 4, 2, 0xffff); // no exception
  });

  it('keeps ids read-only and the interrupt line writable', () => {
    const { pci } = setup();
    pci.addFunction(2, 0, fn({ vendorId: 0x1234, deviceId: 0x1111, classCode: 0x030000, interruptPin: 2 }));
    pci.configWrite(0, 2, 0, 0, 4, 0xdeadbeef);
    pci.configWrite(0, 2, 0, 0x3c, 2, 0xff0b);
    expect(pci.configRead(0, 2, 0, 0, 4)).toBe(0x11111234);
    expect(pci.configRead(0, 2, 0, 0x3c, 1)).toBe(0x0b);
    expect(pci.configRead(0, 2, 0, 0x3d, 1)).toBe(2);
  });

  it('sets the multi-function bit when a device has functions above 0', () => {
    const { pci } = setup();
    pci.addFunction(1, 0, fn({ vendorId: 0x8086, deviceId: 0x7000, classCode: 0x060100 }));
    expect(pci.configRead(0, 1, 0, 0x0e, 1)).toBe(0x00);
    pci.addFunction(1, 1, fn({ vendorId: 0x8086, deviceId: 0x7010, classCode: 0x010180 }));
    expect(pci.configRead(0, 1, 0, 0x0e, 1)).toBe(0x80);
    expect(pci.configRead(0, 1, 1, 0x0e, 1)).toBe(0x80);
    expect(() => pci.addFunction(1, 1, fn({ vendorId: 1, deviceId: 1, classCode: 0 }))).toThrow(/already present/);
  });

  it('masks command bits and clears status error bits by writing ones', () => {
    const { pci } = setup();
    const f = fn({ vendorId: 0x8086, deviceId: 0x1237, classCode: 0x060000 });
    pci.addFunction(0, 0, f, { status: 0x0280 });
    pci.configWrite(0, 0, 0, 4, 2, 0xffff);
    expect(pci.configRead(0, 0, 0, 4, 2)).toBe(0x0547);
    f.config[7] |= 0x30; // received target abort / master abort
    expect(pci.configRead(0, 0, 0, 6, 2)).toBe(0x3280);
    pci.configWrite(0, 0, 0, 6, 2, 0x1000 | 0x0280);
    expect(pci.configRead(0, 0, 0, 6, 2)).toBe(0x2280);
    // A dword write to command/status does both.
    pci.configWrite(0, 0, 0, 4, 4, 0x20000000);
    expect(pci.configRead(0, 0, 0, 4, 4)).toBe(0x02800000);
  });

  it('reports a capability list in status when the function has one', () => {
    const { pci } = setup();
    const f = fn({ vendorId: 0x8086, deviceId: 0x1237, classCode: 0x060000 });
    pci.addFunction(0, 0, f);
    expect(pci.configRead(0, 0, 0, 6, 2) & 0x10).toBe(0);
    f.config[0x34] = 0x40;
    expect(pci.configRead(0, 0, 0, 6, 2) & 0x10).toBe(0x10);
    pci.configWrite(0, 0, 0, 0x34, 1, 0x80); // read-only
    pci.reset(); // and the device's own, kept across reset
    expect(pci.configRead(0, 0, 0, 0x34, 1)).toBe(0x40);
  });

  it('sizes BARs: all ones read back the size mask with the type bits', () => {
    const { pci } = setup();
    pci.addFunction(4, 0, fn({
      vendorId: 1, deviceId: 2, classCode: 0,
      bars: [
        { kind: 'io', size: 0x100, range: { owner: 'io' } },
        { kind: 'memory', size: 0x1000, range: { owner: 'mem' }, prefetchable: true },
      ],
    }));
    expect(pci.configRead(0, 4, 0, 0x10, 4)).toBe(0x00000001);
    pci.configWrite(0, 4, 0, 0x10, 4, 0xffffffff);
    pci.configWrite(0, 4, 0, 0x14, 4, 0xffffffff);
    pci.configWrite(0, 4, 0, 0x18, 4, 0xffffffff); // unimplemented BAR2 stays 0
    expect(pci.configRead(0, 4, 0, 0x10, 4)).toBe(0xffffff01);
    expect(pci.configRead(0, 4, 0, 0x14, 4)).toBe(0xfffff008);
    expect(pci.configRead(0, 4, 0, 0x18, 4)).toBe(0);
  });

  it('maps an I/O BAR when decoding is enabled, moves it and unmaps it', () => {
    const { io, pci } = setup();
    const regs = new Uint8Array(0x20);
    pci.addFunction(3, 0, fn({
      vendorId: 0x10ec, deviceId: 0x8139, classCode: 0x020000,
      bars: [{ kind: 'io', size: 0x20, range: { owner: 'nic', read: (o) => regs[o], write: (o, _s, v) => { regs[o] = v; } } }],
    }));
    pci.configWrite(0, 3, 0, 0x10, 4, 0xc001);
    expect(io.read(0xc000, 1)).toBe(0xff); // command I/O bit still off
    pci.configWrite(0, 3, 0, 4, 2, 1);
    io.write(0xc005, 1, 0x5a);
    expect(regs[5]).toBe(0x5a);
    expect(io.read(0xc005, 1)).toBe(0x5a);
    pci.configWrite(0, 3, 0, 0x10, 4, 0xc100);
    expect(io.read(0xc005, 1)).toBe(0xff);
    expect(io.read(0xc105, 1)).toBe(0x5a);
    pci.configWrite(0, 3, 0, 4, 2, 0);
    expect(io.read(0xc105, 1)).toBe(0xff);
    expect(io.ownerOf(0xc105)).toBeUndefined();
  });

  it('leaves a BAR unmapped while it overlaps another owner, then maps it once moved', () => {
    const { io, pci } = setup();
    io.register({ owner: 'pic', base: 0x20, length: 2, read: () => 0x11 });
    pci.addFunction(3, 0, fn({ vendorId: 1, deviceId: 2, classCode: 0, bars: [{ kind: 'io', size: 4, range: { owner: 'dev', read: () => 0x77 } }] }));
    pci.configWrite(0, 3, 0, 4, 2, 1);
    expect(() => pci.configWrite(0, 3, 0, 0x10, 4, 0x20)).not.toThrow();
    expect(io.read(0x20, 1)).toBe(0x11);
    pci.configWrite(0, 3, 0, 0x10, 4, 0x1000);
    expect(io.read(0x1000, 1)).toBe(0x77);
  });

  it('maps memory BARs on the MmioMap, and backed BARs through onDirectMemoryMap', () => {
    const calls: [number, Uint8Array | null][] = [];
    const { mmio, pci } = setup({ direct: (a, b) => calls.push([a, b]) });
    const fb = new Uint8Array(0x10000);
    pci.addFunction(2, 0, fn({
      vendorId: 0x1234, deviceId: 0x1111, classCode: 0x030000,
      bars: [
        { kind: 'memory', size: 0x10000, range: { owner: 'vram' }, backing: fb, prefetchable: true },
        undefined,
        { kind: 'memory', size: 0x1000, range: { owner: 'mmio', sizes: 4, read: (o) => 0xabc00000 + o } },
      ],
    }));
    pci.configWrite(0, 2, 0, 0x10, 4, 0xfd000000);
    pci.configWrite(0, 2, 0, 0x18, 4, 0xfebf0000);
    expect(calls).toEqual([]);
    pci.configWrite(0, 2, 0, 4, 2, 2);
    expect(calls).toEqual([[0xfd000000, fb]]);
    expect(mmio.read(0xfebf0010, 4)).toBe(0xabc00010);
    pci.configWrite(0, 2, 0, 0x10, 4, 0xfc000000);
    expect(calls.slice(1)).toEqual([[0xfd000000, null], [0xfc000000, fb]]);
    pci.configWrite(0, 2, 0, 4, 2, 0);
    expect(calls[3]).toEqual([0xfc000000, null]);
    expect(mmio.read(0xfebf0010, 4)).toBe(0xffffffff);
  });

  it('serves a backed BAR through MMIO when the machine does not map it directly', () => {
    const { mmio, pci } = setup();
    const plain = new Uint8Array(0x1000);
    const handled = new Uint8Array(0x1000);
    const seen: number[] = [];
    pci.addFunction(2, 0, fn({
      vendorId: 1, deviceId: 2, classCode: 0x030000,
      bars: [
        { kind: 'memory', size: 0x1000, range: { owner: 'plain' }, backing: plain },
        { kind: 'memory', size: 0x1000, range: { owner: 'handled', read: (o) => (seen.push(o), 0x42) }, backing: handled },
      ],
    }));
    pci.configWrite(0, 2, 0, 0x10, 4, 0xe0000000);
    pci.configWrite(0, 2, 0, 0x14, 4, 0xe0001000);
    pci.configWrite(0, 2, 0, 4, 2, 2);
    mmio.write(0xe0000010, 4, 0x11223344);
    expect(Array.from(plain.subarray(0x10, 0x14))).toEqual([0x44, 0x33, 0x22, 0x11]);
    expect(mmio.read(0xe0000012, 2)).toBe(0x1122);
    expect(mmio.read(0xe0001008, 1)).toBe(0x42);
    expect(seen).toEqual([8]);
  });

  it('exposes the expansion ROM when its enable bit and memory decoding are on', () => {
    const { mmio, pci } = setup();
    const rom = new Uint8Array(3000);
    rom[0] = 0x55;
    rom[1] = 0xaa;
    pci.addFunction(2, 0, fn({ vendorId: 1, deviceId: 2, classCode: 0x030000, rom }));
    pci.configWrite(0, 2, 0, 0x30, 4, 0xffffffff);
    expect(pci.configRead(0, 2, 0, 0x30, 4)).toBe(0xfffff001); // 4 KiB window
    pci.configWrite(0, 2, 0, 0x30, 4, 0xfeb00001);
    pci.configWrite(0, 2, 0, 4, 2, 2);
    expect(mmio.read(0xfeb00000, 2)).toBe(0xaa55);
    expect(mmio.read(0xfeb00ffc, 4)).toBe(0xffffffff); // past the image
    pci.configWrite(0, 2, 0, 0x30, 4, 0xfeb00000);
    expect(mmio.find(0xfeb00000)).toBeUndefined();
  });

  it('routes INTx through routeInterrupt, honours INTx disable and shows interrupt status', () => {
    const line = new IrqLine('irq11');
    const asked: [number, number][] = [];
    const { pci } = setup({ routeInterrupt: (d, p) => { asked.push([d, p]); return line.source(); } });
    const f = fn({ vendorId: 1, deviceId: 2, classCode: 0, interruptPin: 1 });
    pci.addFunction(3, 0, f);
    f.setInterrupt!(true);
    expect(asked).toEqual([[3, 1]]);
    expect(line.level).toBe(true);
    expect(pci.configRead(0, 3, 0, 6, 2) & 0x08).toBe(0x08);
    pci.configWrite(0, 3, 0, 4, 2, 0x0400);
    expect(line.level).toBe(false);
    expect(pci.configRead(0, 3, 0, 6, 2) & 0x08).toBe(0x08);
    pci.configWrite(0, 3, 0, 4, 2, 0);
    expect(line.level).toBe(true);
    f.setInterrupt!(false);
    expect(line.level).toBe(false);
    expect(pci.configRead(0, 3, 0, 6, 2) & 0x08).toBe(0);
  });

  it('passes device-specific registers to the function hooks and stores the rest', () => {
    const { pci } = setup();
    const written: number[] = [];
    const f = fn({ vendorId: 1, deviceId: 2, classCode: 0 }, {
      configRead: (o) => (o === 0x44 ? 0x1234 : undefined),
      configWrite: (o, _s, v) => (o === 0x44 ? (written.push(v), true) : false),
    });
    pci.addFunction(5, 0, f);
    pci.configWrite(0, 5, 0, 0x44, 2, 0x55);
    pci.configWrite(0, 5, 0, 0x48, 1, 0x66);
    expect(written).toEqual([0x55]);
    expect(pci.configRead(0, 5, 0, 0x44, 2)).toBe(0x1234);
    expect(pci.configRead(0, 5, 0, 0x48, 1)).toBe(0x66);
  });

  it('reset restores the header and unmaps BARs; state round-trips', () => {
    const { io, mmio, pci } = setup();
    pci.addFunction(3, 0, fn({ vendorId: 1, deviceId: 2, classCode: 0, bars: [{ kind: 'io', size: 4, range: { owner: 'd', read: () => 0x42 } }] }), { command: 0 });
    pci.configWrite(0, 3, 0, 0x10, 4, 0x2000);
    pci.configWrite(0, 3, 0, 4, 2, 1);
    pci.configWrite(0, 3, 0, 0x3c, 1, 10);
    const saved = pci.saveState();
    pci.reset();
    expect(io.read(0x2000, 1)).toBe(0xff);
    expect(pci.configRead(0, 3, 0, 0x10, 4)).toBe(1);
    expect(pci.configRead(0, 3, 0, 0x3c, 1)).toBe(0);

    const io2 = new IoBus();
    const other = new PciBus({ io: io2, mmio });
    other.addFunction(3, 0, fn({ vendorId: 1, deviceId: 2, classCode: 0, bars: [{ kind: 'io', size: 4, range: { owner: 'd', read: () => 0x42 } }] }));
    other.loadState(saved);
    expect(io2.read(0x2000, 1)).toBe(0x42);
    expect(other.configRead(0, 3, 0, 0x3c, 1)).toBe(10);
    expect(() => other.loadState({ version: 9 })).toThrow(/version/);
  });
});
