import { describe, expect, it } from 'vitest';
import { IoBus } from '../../src/bus/io-bus.ts';
import { IrqLine } from '../../src/bus/irq-line.ts';
import { MmioMap } from '../../src/bus/mmio-map.ts';
import type { PciFunction } from '../../src/bus/pci.ts';
import { PciBus } from '../../src/bus/pci-bus.ts';
import { I440fxHostBridge } from '../../src/devices/i440fx-host-bridge.ts';
import { Piix3IsaBridge } from '../../src/devices/piix3-isa-bridge.ts';

function setup() {
  const io = new IoBus();
  const isaIrqs = Array.from({ length: 16 }, (_, i) => new IrqLine(`irq${i}`));
  const resets: boolean[] = [];
  // The bus asks for routes lazily, so the router may be built after it.
  let piix3: Piix3IsaBridge;
  const pci = new PciBus({ io, mmio: new MmioMap(), routeInterrupt: (d, p) => piix3.routeInterrupt(d, p) });
  piix3 = new Piix3IsaBridge({ pci, isaIrqs, onReset: (hard) => resets.push(hard) });
  new I440fxHostBridge({ io, pci, resetControl: piix3.resetControl });
  const nic: PciFunction = { info: { vendorId: 0x10ec, deviceId: 0x8139, classCode: 0x020000, interruptPin: 1 }, config: new Uint8Array(256) };
  pci.addFunction(3, 0, nic);
  const cfg = (dev: number, reg: number) => {
    io.write(0xcf8, 4, (0x80000000 | (dev << 11) | (reg & 0xfc)) >>> 0);
    return 0xcfc + (reg & 3);
  };
  const read = (dev: number, reg: number, size: 1 | 2 | 4) => io.read(cfg(dev, reg), size);
  const write = (dev: number, reg: number, size: 1 | 2 | 4, v: number) => io.write(cfg(dev, reg), size, v);
  return { io, isaIrqs, piix3, nic, read, write, resets };
}

describe('Piix3IsaBridge', () => {
  it('is 8086:7000, an ISA bridge, multi-function, with its reset values', () => {
    const { read } = setup();
    expect(read(1, 0, 4)).toBe(0x70008086);
    expect(read(1, 8, 4) >>> 8).toBe(0x060100);
    expect(read(1, 0x0e, 1) & 0x80).toBe(0x80);
    expect(read(1, 4, 4)).toBe(0x02000007);
    expect(read(1, 0x60, 4)).toBe(0x80808080);
    expect(read(1, 0x69, 1)).toBe(0x02);
    expect(read(1, 0x4e, 1)).toBe(0x03);
  });

  it('routes a PCI interrupt to the ISA line the PIRQ register names, and moves it', () => {
    const { isaIrqs, nic, write, read } = setup();
    // Slot 3, INTA# -> PIRQD (0x63) by the swizzle.
    nic.setInterrupt!(true);
    expect(isaIrqs.some((l) => l.level)).toBe(false); // PIRQD disabled at reset
    write(1, 0x63, 1, 0x0b);
    expect(isaIrqs[11].level).toBe(true);
    write(1, 0x63, 1, 0x0a);
    expect(isaIrqs[11].level).toBe(false);
    expect(isaIrqs[10].level).toBe(true);
    nic.setInterrupt!(false);
    expect(isaIrqs[10].level).toBe(false);
    nic.setInterrupt!(true);
    expect(isaIrqs[10].level).toBe(true);
    write(1, 0x63, 1, 0x8a); // disable
    expect(isaIrqs[10].level).toBe(false);
    expect(read(1, 0x63, 1)).toBe(0x8a);
    write(1, 0x63, 1, 0x7b); // reserved bits 6:4 drop
    expect(read(1, 0x63, 1)).toBe(0x0b);
    expect(isaIrqs[11].level).toBe(true);
  });

  it('does not route to reserved IRQ numbers', () => {
    const { isaIrqs, nic, write } = setup();
    nic.setInterrupt!(true);
    for (const irq of [0, 1, 2, 8, 13]) {
      write(1, 0x63, 1, irq);
      expect(isaIrqs.some((l) => l.level)).toBe(false);
    }
    write(1, 0x63, 1, 15);
    expect(isaIrqs[15].level).toBe(true);
  });

  it('shares an ISA line between PIRQs as a wired-OR', () => {
    const { isaIrqs, nic, write, piix3 } = setup();
    const other = piix3.routeInterrupt(4, 1); // slot 4 INTA# -> PIRQA
    write(1, 0x60, 4, 0x0b80800b); // PIRQA and PIRQD -> IRQ 11
    nic.setInterrupt!(true);
    other.set(true);
    nic.setInterrupt!(false);
    expect(isaIrqs[11].level).toBe(true);
    other.set(false);
    expect(isaIrqs[11].level).toBe(false);
    expect(piix3.pirqLevel(0)).toBe(false);
  });

  it('resets the machine through 0xCF9 and keeps only the reset type', () => {
    const { io, resets } = setup();
    io.write(0xcf9, 1, 0x02);
    expect(resets).toEqual([]);
    expect(io.read(0xcf9, 1)).toBe(0x02);
    io.write(0xcf9, 1, 0x06);
    io.write(0xcf9, 1, 0x04);
    expect(resets).toEqual([true, false]);
    expect(io.read(0xcf9, 1)).toBe(0x00);
  });

  it('drops its routes on reset and restores them from a saved state', () => {
    const a = setup();
    a.write(1, 0x62, 1, 0x05);
    a.write(1, 0x63, 1, 0x09);
    a.nic.setInterrupt!(true);
    expect(a.isaIrqs[9].level).toBe(true);
    const saved = a.piix3.saveState();
    a.piix3.reset();
    expect(a.isaIrqs[9].level).toBe(false);
    a.piix3.loadState(saved);
    expect(a.isaIrqs[9].level).toBe(true);
    expect(a.read(1, 0x60, 4)).toBe(0x09058080);
    expect(() => a.piix3.loadState({ version: 0 })).toThrow();
  });
});
