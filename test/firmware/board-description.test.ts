import { describe, expect, it } from 'vitest';
import { describeBoard, isaIrqToGsi, levelTriggeredIsaIrqs, pirqOf } from '../../src/firmware/board-description.ts';

describe('board description', () => {
  it('follows the PIIX3 swizzle and the IRQ 0 -> pin 2 wiring', () => {
    expect([pirqOf(1, 0), pirqOf(2, 0), pirqOf(3, 1), pirqOf(31, 3)]).toEqual([1, 2, 0, 2]);
    expect([isaIrqToGsi(0), isaIrqToGsi(1), isaIrqToGsi(9)]).toEqual([2, 1, 9]);
  });

  it('has an I/O APIC and one CPU entry per vCPU only with apic=1', () => {
    const b = describeBoard({ acpi: true, apic: true, vcpus: 3, ramBytesBelow4G: 1 << 29 });
    expect(b.cpus.map((c) => c.apicId)).toEqual([0, 1, 2]);
    expect(b.ioApic).toMatchObject({ id: 3, address: 0xfec00000, pins: 24 });
    expect(describeBoard({ acpi: true, apic: false, vcpus: 1, ramBytesBelow4G: 1 << 29 }).ioApic).toBeUndefined();
    expect(() => describeBoard({ acpi: true, apic: false, vcpus: 2, ramBytesBelow4G: 1 << 29 })).toThrow(RangeError);
    expect(() => describeBoard({ acpi: true, apic: true, vcpus: 0, ramBytesBelow4G: 1 << 29 })).toThrow(RangeError);
  });

  it('puts the PM ports where SeaBIOS programs them and the SCI on slot 1 INTA# only with ACPI', () => {
    const b = describeBoard({ acpi: true, apic: true, vcpus: 1, ramBytesBelow4G: 1 << 29 });
    expect(b.pm).toMatchObject({ pm1aEvent: 0x600, pmTimer: 0x608, gpe0: 0xafe0, smiCommand: 0xb2, acpiEnable: 0xf1, acpiDisable: 0xf0, resetPort: 0xcf9, resetValue: 6, sciIrq: 9 });
    expect(b.pciSlots[0]).toMatchObject({ slot: 1, pins: [{ sci: true }, { pirq: 2 }, { pirq: 3 }, { pirq: 0 }] });
    expect(levelTriggeredIsaIrqs(b)).toEqual([5, 9, 10, 11]);
    const noAcpi = describeBoard({ acpi: false, apic: true, vcpus: 1, ramBytesBelow4G: 1 << 29 });
    expect(noAcpi.pciSlots[0].pins[0]).toEqual({ pirq: 1 });
    expect(levelTriggeredIsaIrqs(noAcpi)).toEqual([5, 10, 11]);
    expect(noAcpi.isaDevices.find((d) => d.name === 'SYSR')!.io.some((r) => r.base === 0x600)).toBe(false);
  });

  it('lists the ISA devices and starts the PCI window above RAM', () => {
    const b = describeBoard({ acpi: true, apic: false, vcpus: 1, ramBytesBelow4G: 0xf0000000, comPorts: [1], floppy: false });
    expect(b.isaDevices.map((d) => d.hid)).toEqual(['PNP0000', 'PNP0200', 'PNP0100', 'PNP0B00', 'PNP0800', 'PNP0C04', 'PNP0303', 'PNP0F13', 'PNP0501', 'PNP0C02']);
    expect(b.pciMemoryStart).toBe(0xf0000000);
    expect(describeBoard({ acpi: true, apic: false, vcpus: 1, ramBytesBelow4G: 1 << 28 }).pciMemoryStart).toBe(0xe0000000);
    expect(() => describeBoard({ acpi: true, apic: false, vcpus: 1, ramBytesBelow4G: 0xff000000 })).toThrow(RangeError);
    expect(() => describeBoard({ acpi: true, apic: false, vcpus: 1, ramBytesBelow4G: 1 << 28, comPorts: [3] })).toThrow(RangeError);
  });
});
