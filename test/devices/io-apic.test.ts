import { describe, expect, it } from 'vitest';
import { IrqLine } from '../../src/bus/irq-line.ts';
import { MmioMap } from '../../src/bus/mmio-map.ts';
import { StateVersionError } from '../../src/bus/device.ts';
import { EventClock } from '../../src/machine/event-clock.ts';
import { IO_APIC_DEFAULT_BASE, IoApic, type IoApicMessage } from '../../src/devices/io-apic.ts';
import { LOCAL_APIC_DEFAULT_BASE, LocalApic, deliverApicMessage } from '../../src/devices/local-apic.ts';

const IOREGSEL = IO_APIC_DEFAULT_BASE;
const IOWIN = IO_APIC_DEFAULT_BASE + 0x10;

function setup(id?: number) {
  const mmio = new MmioMap();
  const sent: IoApicMessage[] = [];
  const ioapic = new IoApic({ mmio, deliver: (m) => sent.push(m), id });
  const readReg = (index: number) => {
    mmio.write(IOREGSEL, 4, index);
    return mmio.read(IOWIN, 4);
  };
  const writeReg = (index: number, value: number) => {
    mmio.write(IOREGSEL, 4, index);
    mmio.write(IOWIN, 4, value);
  };
  const program = (pin: number, low: number, high = 0) => {
    writeReg(0x11 + 2 * pin, high);
    writeReg(0x10 + 2 * pin, low);
  };
  const entry = (pin: number) => readReg(0x10 + 2 * pin);
  return { mmio, ioapic, sent, readReg, writeReg, program, entry };
}

describe('IoApic registers', () => {
  it('has the 82093AA identification registers and a masked table after reset', () => {
    const { mmio, readReg, writeReg } = setup(2);
    expect(readReg(0x00)).toBe(0x02000000);
    expect(readReg(0x01)).toBe(0x00170011);
    expect(readReg(0x02)).toBe(0x02000000);
    writeReg(0x00, 0xffffffff);
    expect(readReg(0x00)).toBe(0x0f000000);
    writeReg(0x01, 0);
    expect(readReg(0x01)).toBe(0x00170011);
    for (let pin = 0; pin < 24; pin++) {
      expect(readReg(0x10 + 2 * pin)).toBe(0x10000);
      expect(readReg(0x11 + 2 * pin)).toBe(0);
    }
    expect(readReg(0x40)).toBe(0); // past the table
    expect(readReg(0x03)).toBe(0);
    mmio.write(IOREGSEL, 4, 0x1234);
    expect(mmio.read(IOREGSEL, 4)).toBe(0x34);
    // Holes in the window read as all ones.
    expect(mmio.read(IO_APIC_DEFAULT_BASE + 0x20, 4)).toBe(0xffffffff);
    expect(mmio.read(IO_APIC_DEFAULT_BASE + 0xffc, 4)).toBe(0xffffffff);
  });

  it('keeps only the writable redirection bits', () => {
    const { writeReg, readReg } = setup();
    writeReg(0x10, 0xffffffff);
    expect(readReg(0x10)).toBe(0x1afff); // delivery status and remote IRR are read-only
    writeReg(0x11, 0xffffffff);
    expect(readReg(0x11)).toBe(0xff000000);
  });

  it('serves byte accesses to the window', () => {
    const { mmio, readReg } = setup();
    mmio.write(IOREGSEL, 1, 0x12);
    mmio.write(IOWIN, 4, 0x10030);
    mmio.write(IOWIN + 1, 1, 0x89); // delivery mode 1, logical
    expect(readReg(0x12)).toBe(0x18930);
    mmio.write(IOREGSEL, 1, 0x12);
    expect(mmio.read(IOWIN + 1, 1)).toBe(0x89);
    expect(mmio.read(IOWIN + 2, 2)).toBe(0x0001);
  });
});

describe('IoApic delivery', () => {
  it('sends one message per rising edge of an unmasked edge-triggered pin', () => {
    const { ioapic, sent, program } = setup();
    program(2, 0x0031, 0x01000000);
    ioapic.setPin(2, true);
    ioapic.setPin(2, true);
    ioapic.setPin(2, false);
    ioapic.setPin(2, true);
    expect(sent).toEqual([
      { vector: 0x31, mode: 0, destination: 1, destMode: 'physical', level: true, trigger: 'edge', shorthand: 'none' },
      { vector: 0x31, mode: 0, destination: 1, destMode: 'physical', level: true, trigger: 'edge', shorthand: 'none' },
    ]);
  });

  it('loses edges on a masked pin', () => {
    const { ioapic, sent, program } = setup();
    program(4, 0x10034);
    ioapic.setPin(4, true);
    ioapic.setPin(4, false);
    program(4, 0x0034);
    expect(sent).toEqual([]);
    ioapic.setPin(4, true);
    expect(sent.length).toBe(1);
  });

  it('decodes delivery mode and logical destination from the entry', () => {
    const { ioapic, sent, program } = setup();
    program(9, 0x0939, 0x03000000); // lowest priority, logical
    ioapic.setPin(9, true);
    expect(sent[0]).toMatchObject({ vector: 0x39, mode: 1, destination: 3, destMode: 'logical' });
    program(10, 0x8400); // NMI: edge whatever the trigger bit says
    ioapic.setPin(10, true);
    ioapic.setPin(10, false);
    ioapic.setPin(10, true);
    expect(sent.slice(1).map((m) => [m.mode, m.trigger])).toEqual([[4, 'edge'], [4, 'edge']]);
    expect(ioapic.redirectionEntry(10).low & 0x4000).toBe(0);
    program(11, 0x0620); // reserved mode: nothing
    ioapic.setPin(11, true);
    expect(sent.length).toBe(3);
  });

  it('holds a level-triggered pin in remote IRR until the EOI for its vector', () => {
    const { ioapic, sent, program, entry } = setup();
    program(11, 0x8051, 0); // level, active high
    expect(sent).toEqual([]);
    ioapic.setPin(11, true);
    expect(sent.length).toBe(1);
    expect(sent[0].trigger).toBe('level');
    expect(entry(11) & 0x4000).toBe(0x4000);
    ioapic.setPin(11, false);
    ioapic.setPin(11, true);
    expect(sent.length).toBe(1);
    ioapic.eoi(0x52); // another vector: no effect
    expect(entry(11) & 0x4000).toBe(0x4000);
    ioapic.eoi(0x51); // still asserted: sent again
    expect(sent.length).toBe(2);
    expect(entry(11) & 0x4000).toBe(0x4000);
    ioapic.setPin(11, false);
    ioapic.eoi(0x51);
    expect(sent.length).toBe(2);
    expect(entry(11) & 0x4000).toBe(0);
  });

  it('sends an asserted level interrupt when the pin is unmasked', () => {
    const { ioapic, sent, program } = setup();
    program(16, 0x18060);
    ioapic.setPin(16, true);
    expect(sent).toEqual([]);
    program(16, 0x08060);
    expect(sent.length).toBe(1);
  });

  it('treats an active-low pin as asserted while its wire is low', () => {
    const { ioapic, sent, program } = setup();
    ioapic.setPin(5, true); // idle high
    program(5, 0xa045); // level, active low
    expect(sent).toEqual([]);
    ioapic.setPin(5, false);
    expect(sent.map((m) => m.vector)).toEqual([0x45]);
  });

  it('clears a stuck remote IRR when the entry is rewritten as edge-triggered', () => {
    const { ioapic, sent, program, entry } = setup();
    program(3, 0x8033);
    ioapic.setPin(3, true);
    ioapic.setPin(3, false);
    expect(entry(3) & 0x4000).toBe(0x4000);
    program(3, 0x10033); // masked, edge
    expect(entry(3) & 0x4000).toBe(0);
    program(3, 0x8033);
    ioapic.setPin(3, true);
    expect(sent.length).toBe(2);
  });

  it('forwards the 8259 level on an ExtINT pin, and withdraws it when masked or re-pointed', () => {
    const { ioapic, sent, program } = setup();
    program(0, 0x0700, 0x00000000);
    ioapic.setPin(0, true);
    ioapic.setPin(0, false);
    ioapic.setPin(0, true);
    program(0, 0x0700, 0x01000000);
    program(0, 0x10700, 0x01000000);
    expect(sent.map((m) => [m.mode, m.level, m.destination])).toEqual([
      [7, true, 0], [7, false, 0], [7, true, 0],
      [7, false, 0], [7, true, 1], // re-pointed
      [7, false, 1], // masked
    ]);
  });

  it('ignores pins outside 0-23', () => {
    const { ioapic, sent, program } = setup();
    program(23, 0x0077);
    ioapic.setPin(24, true);
    ioapic.setPin(-1, true);
    ioapic.setPin(1.5, true);
    expect(sent).toEqual([]);
    const line = new IrqLine('gsi23');
    ioapic.connect(23, line);
    line.raise();
    expect(sent.map((m) => m.vector)).toEqual([0x77]);
  });
});

describe('IoApic with local APICs', () => {
  it('routes a level interrupt to a CPU and takes the EOI back through the local APIC', () => {
    const clock = new EventClock();
    const apics: LocalApic[] = [];
    const intrs = [new IrqLine('intr0'), new IrqLine('intr1')];
    const mmio = new MmioMap();
    const ioapic = new IoApic({ mmio, deliver: (m) => deliverApicMessage(m, apics) });
    for (let i = 0; i < 2; i++) {
      apics.push(new LocalApic({
        clock, id: i, intr: intrs[i], send: () => {}, onInit: () => {}, onStartup: () => {},
        onLevelEoi: (v) => ioapic.eoi(v),
      }));
    }
    const apicMaps = apics.map((a) => {
      const m = new MmioMap();
      m.register(a.mmio);
      return m;
    });
    for (const m of apicMaps) m.write(LOCAL_APIC_DEFAULT_BASE + 0xf0, 4, 0x1ff);
    mmio.write(IOREGSEL, 4, 0x10 + 2 * 10 + 1);
    mmio.write(IOWIN, 4, 0x01000000);
    mmio.write(IOREGSEL, 4, 0x10 + 2 * 10);
    mmio.write(IOWIN, 4, 0x8069);
    const pci = new IrqLine('pirq');
    ioapic.connect(10, pci);
    pci.raise();
    expect(intrs.map((l) => l.level)).toEqual([false, true]);
    expect(apics[1].acknowledge()).toBe(0x69);
    // The device still asserts its line when the handler is done: EOI brings it back.
    apicMaps[1].write(LOCAL_APIC_DEFAULT_BASE + 0xb0, 4, 0);
    expect(intrs[1].level).toBe(true);
    expect(apics[1].acknowledge()).toBe(0x69);
    pci.lower();
    apicMaps[1].write(LOCAL_APIC_DEFAULT_BASE + 0xb0, 4, 0);
    expect(intrs[1].level).toBe(false);
    mmio.write(IOREGSEL, 4, 0x10 + 2 * 10);
    expect(mmio.read(IOWIN, 4) & 0x4000).toBe(0);
  });
});

describe('IoApic state', () => {
  it('resets to masked entries and its initial ID, keeping the wires', () => {
    const { ioapic, sent, program, readReg, writeReg } = setup(1);
    writeReg(0, 0x05000000);
    program(7, 0x0047);
    ioapic.setPin(7, true);
    ioapic.reset();
    expect(readReg(0)).toBe(0x01000000);
    expect(readReg(0x10 + 14)).toBe(0x10000);
    program(7, 0x8047);
    expect(sent.length).toBe(2); // the wire was still high: level entry sends at once
  });

  it('saves and restores the table, remote IRR and pin levels', () => {
    const a = setup();
    a.program(12, 0x8052, 0x02000000);
    a.ioapic.setPin(12, true);
    a.ioapic.setPin(13, true);
    const saved = JSON.parse(JSON.stringify(a.ioapic.saveState()));
    const b = setup();
    b.ioapic.loadState(saved);
    expect(b.entry(12)).toBe(0xc052);
    expect(b.readReg(0x10 + 25)).toBe(0x02000000);
    b.ioapic.eoi(0x52);
    expect(b.sent.map((m) => m.vector)).toEqual([0x52]);
    expect(() => b.ioapic.loadState({ version: 7 })).toThrow(StateVersionError);
    expect(() => b.ioapic.loadState({ ...saved, redirectionLow: [0] })).toThrow(/redirectionLow/);
  });
});
