import { describe, expect, it } from 'vitest';
import { halFor } from '../../src/firmware/hal.ts';

describe('halFor', () => {
  it('follows the HAL table of the domain-configuration reference', () => {
    const rows: [boolean, boolean, number, string, string][] = [
      [false, false, 1, 'HAL.DLL', 'XT-PIC'],
      [false, true, 1, 'HALAPIC.DLL', 'IO-APIC'],
      [false, true, 2, 'HALMPS.DLL', 'IO-APIC'],
      [true, false, 1, 'HALACPI.DLL', 'XT-PIC'],
      [true, true, 1, 'HALAACPI.DLL', 'IO-APIC'],
      [true, true, 4, 'HALMACPI.DLL', 'IO-APIC'],
    ];
    for (const [acpi, apic, vcpus, file, mode] of rows) {
      const hal = halFor({ acpi, apic, vcpus });
      expect(hal.file, `acpi=${acpi} apic=${apic} vcpus=${vcpus}`).toBe(file);
      expect(hal.linuxInterrupts).toBe(mode);
      expect(hal.linuxAcpi).toBe(acpi);
      expect(hal.tables).toEqual({ rsdp: acpi, madt: acpi && apic, mpTable: apic });
    }
    expect(halFor({ acpi: false, apic: false, vcpus: 1 }).setupName).toBe('Standard PC');
  });

  it('refuses SMP without APICs and nonsense CPU counts', () => {
    expect(() => halFor({ acpi: true, apic: false, vcpus: 2 })).toThrow(RangeError);
    expect(() => halFor({ acpi: true, apic: true, vcpus: 0 })).toThrow(RangeError);
  });
});
