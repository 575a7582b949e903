import { describe, expect, it } from 'vitest';
import { IoBus } from '../../src/bus/io-bus.ts';
import { IrqLine } from '../../src/bus/irq-line.ts';
import { MmioMap } from '../../src/bus/mmio-map.ts';
import { PciBus } from '../../src/bus/pci-bus.ts';
import { EventClock } from '../../src/machine/event-clock.ts';
import { I440fxHostBridge } from '../../src/devices/i440fx-host-bridge.ts';
import { Piix4Pm, PM_TIMER_HZ } from '../../src/devices/piix4-pm.ts';

function setup() {
  const io = new IoBus();
  const clock = new EventClock();
  const sci = new IrqLine('irq9');
  const pci = new PciBus({ io, mmio: new MmioMap() });
  new I440fxHostBridge({ io, pci });
  const sleeps: number[] = [];
  const smi: number[] = [];
  const sciEn: boolean[] = [];
  const pm = new Piix4Pm({ pci, io, clock, sci, onSleep: (t) => sleeps.push(t), onSmiCommand: (v) => smi.push(v), onSciEnableChange: (on) => sciEn.push(on) });
  const cfg = (reg: number) => {
    io.write(0xcf8, 4, (0x80000000 | (1 << 11) | (3 << 8) | (reg & 0xfc)) >>> 0);
    return 0xcfc + (reg & 3);
  };
  const read = (reg: number, size: 1 | 2 | 4) => io.read(cfg(reg), size);
  const write = (reg: number, size: 1 | 2 | 4, v: number) => io.write(cfg(reg), size, v);
  // What SeaBIOS does on QEMU.
  const enablePmIo = (base = 0x600) => {
    write(0x40, 4, base | 1);
    write(0x80, 1, 0x01);
  };
  return { io, clock, sci, pm, read, write, enablePmIo, sleeps, smi, sciEn };
}

describe('Piix4Pm', () => {
  it('is 8086:7113 at 00:01.3 with interrupt pin A and its reset values', () => {
    const { read } = setup();
    expect(read(0, 4)).toBe(0x71138086);
    expect(read(8, 4)).toBe(0x06800003);
    expect(read(0x3d, 1)).toBe(1);
    expect(read(0x40, 4)).toBe(0x00000001);
    expect(read(0x80, 1)).toBe(0);
    expect(read(0x58, 4) & (1 << 25)).toBe(1 << 25); // APMC_EN: SeaBIOS skips SMM setup
    expect(read(0x90, 4)).toBe(0x00000001);
  });

  it('decodes the PM block at PMBA only while PMREGMISC enables it', () => {
    const { io, read, write, enablePmIo } = setup();
    write(0x40, 4, 0xffffffff);
    expect(read(0x40, 4)).toBe(0x0000ffc1);
    write(0x40, 4, 0x601);
    expect(io.ownerOf(0x608)).toBeUndefined();
    enablePmIo();
    expect(io.ownerOf(0x608)?.owner).toBe('piix4-pm');
    expect(io.ownerOf(0x63f)?.owner).toBe('piix4-pm');
    write(0x40, 4, 0xb001);
    expect(io.ownerOf(0x608)).toBeUndefined();
    expect(io.ownerOf(0xb008)?.owner).toBe('piix4-pm');
    write(0x80, 1, 0);
    expect(io.ownerOf(0xb008)).toBeUndefined();
    write(0x90, 4, 0x701);
    write(0xd2, 1, 0x09);
    expect(read(0x90, 4)).toBe(0x701);
    expect(read(0xd2, 1)).toBe(0x09);
  });

  it('counts the 24-bit PM timer at 3.579545 MHz from the clock', () => {
    const { io, clock, enablePmIo } = setup();
    enablePmIo();
    const t0 = io.read(0x608, 4);
    clock.advanceBy(1_000_000_000);
    const t1 = io.read(0x608, 4);
    expect(t1 - t0).toBe(PM_TIMER_HZ);
    clock.advanceBy(1000); // 1 us = 3.58 ticks
    expect(io.read(0x608, 4) - t1).toBeGreaterThanOrEqual(3);
    expect(io.read(0x608, 4) - t1).toBeLessThanOrEqual(4);
    // Wraps at 2^24 (4.69 s) and never shows bits 31:24.
    clock.advanceTo(5_000_000_000);
    const t = io.read(0x608, 4);
    expect(t).toBe(Math.floor(5 * PM_TIMER_HZ) % 2 ** 24);
    expect(t >>> 24).toBe(0);
    expect(io.read(0x60a, 1)).toBe((t >>> 16) & 0xff);
    io.write(0x608, 4, 0); // read-only
    expect(io.read(0x608, 4)).toBe(t);
  });

  it('sets TMR_STS on bit-23 toggles and raises the SCI when enabled', () => {
    const { io, clock, sci, enablePmIo } = setup();
    enablePmIo();
    const toggleNs = Math.ceil((2 ** 23 / PM_TIMER_HZ) * 1e9); // ~2.34 s
    clock.advanceTo(toggleNs - 1000);
    expect(io.read(0x600, 2) & 1).toBe(0);
    clock.advanceTo(toggleNs + 1000);
    expect(io.read(0x600, 2) & 1).toBe(1);
    expect(sci.level).toBe(false); // TMR_EN clear
    io.write(0x600, 2, 1); // write 1 to clear
    expect(io.read(0x600, 2) & 1).toBe(0);
    io.write(0x602, 2, 1); // TMR_EN
    clock.advanceTo(2 * toggleNs - 1000);
    expect(sci.level).toBe(false);
    clock.advanceTo(2 * toggleNs + 1000);
    expect(sci.level).toBe(true);
    io.write(0x600, 2, 1);
    expect(sci.level).toBe(false);
  });

  it('reports the power button, clears status bits by writing ones, masks enables', () => {
    const { io, sci, pm, enablePmIo } = setup();
    enablePmIo();
    io.write(0x602, 2, 0xffff);
    expect(io.read(0x602, 2)).toBe(0x0521);
    io.write(0x602, 2, 0x0100);
    pm.pressPowerButton();
    expect(io.read(0x600, 2) & 0x0100).toBe(0x0100);
    expect(sci.level).toBe(true);
    io.write(0x600, 2, 0x0001); // clearing another bit leaves it
    expect(sci.level).toBe(true);
    io.write(0x601, 1, 0x01); // byte write to the high half
    expect(io.read(0x600, 2) & 0x0100).toBe(0);
    expect(sci.level).toBe(false);
    pm.wake();
    expect(io.read(0x600, 2) & 0x8000).toBe(0x8000);
  });

  it('reports SLP_EN with the sleep type, and SLP_EN reads back 0', () => {
    const { io, sleeps, enablePmIo } = setup();
    enablePmIo();
    io.write(0x604, 2, (5 << 10) | 1); // SLP_TYP=5 without SLP_EN: nothing
    expect(sleeps).toEqual([]);
    expect(io.read(0x604, 2)).toBe((5 << 10) | 1);
    io.write(0x604, 2, (0 << 10) | 0x2000 | 1); // S5 on QEMU
    expect(sleeps).toEqual([0]);
    expect(io.read(0x604, 2) & 0x2000).toBe(0);
    io.write(0x604, 2, (1 << 10) | 0x2000);
    expect(sleeps).toEqual([0, 1]);
  });

  it('turns SCI_EN on and off through the SMI command port and reports the writes', () => {
    const { io, smi, enablePmIo } = setup();
    enablePmIo();
    expect(io.read(0x604, 2) & 1).toBe(0);
    io.write(0xb2, 1, 0xf1);
    expect(io.read(0x604, 2) & 1).toBe(1);
    expect(io.read(0xb2, 1)).toBe(0xf1);
    io.write(0xb2, 1, 0xf0);
    expect(io.read(0x604, 2) & 1).toBe(0);
    io.write(0xb3, 1, 0x5a);
    expect(io.read(0xb3, 1)).toBe(0x5a);
    expect(smi).toEqual([0xf1, 0xf0]);
  });

  it('reports SCI_EN changes from the handshake and from direct PM1 control writes, once per change', () => {
    const { io, pm, sciEn, enablePmIo } = setup();
    enablePmIo();
    expect(pm.sciEnabled).toBe(false);
    io.write(0xb2, 1, 0xf1);
    io.write(0xb2, 1, 0xf1); // already on: no second report
    expect(pm.sciEnabled).toBe(true);
    io.write(0x604, 2, 1 | (5 << 10)); // SCI_EN stays set while SLP_TYP changes
    io.write(0x604, 2, 0);
    io.write(0xb2, 1, 0x33); // another command leaves SCI_EN alone
    expect(sciEn).toEqual([true, false]);
    expect(pm.sciEnabled).toBe(false);
  });

  it('the power button raises the SCI only once the OS enabled PWRBTN_EN, and the OS clears it by writing 1', () => {
    const { io, sci, pm, enablePmIo } = setup();
    enablePmIo();
    io.write(0xb2, 1, 0xf1);
    pm.pressPowerButton();
    expect(sci.level).toBe(false);
    expect(io.read(0x600, 2) & 0x0100).toBe(0x0100);
    io.write(0x602, 2, 0x0100); // PWRBTN_EN: the pending press now interrupts
    expect(sci.level).toBe(true);
    io.write(0x600, 2, 0x0100);
    expect(sci.level).toBe(false);
  });

  it('raises the SCI for an enabled general-purpose event at 0xAFE0', () => {
    const { io, sci, pm } = setup();
    pm.raiseGpe(1);
    expect(io.read(0xafe0, 2)).toBe(0x0002);
    expect(sci.level).toBe(false);
    io.write(0xafe2, 2, 0x0002);
    expect(sci.level).toBe(true);
    io.write(0xafe0, 2, 0x0002);
    expect(sci.level).toBe(false);
    expect(io.read(0xafe0, 4)).toBe(0x00020000);
  });

  it('resets its registers and round-trips its state', () => {
    const a = setup();
    a.enablePmIo(0x600);
    a.io.write(0x602, 2, 0x0100);
    a.pm.pressPowerButton();
    const saved = a.pm.saveState();
    a.pm.reset();
    expect(a.io.ownerOf(0x600)).toBeUndefined();
    expect(a.sci.level).toBe(false);
    const b = setup();
    b.pm.loadState(saved);
    expect(b.io.ownerOf(0x600)?.owner).toBe('piix4-pm');
    expect(b.io.read(0x600, 2) & 0x0100).toBe(0x0100);
    expect(b.sci.level).toBe(true);
    expect(() => b.pm.loadState({ version: 3 })).toThrow();
  });
});
