import { describe, expect, it } from 'vitest';
import { ACPI_RSDP_FILE, ACPI_TABLES_FILE } from '../../src/firmware/acpi/tables.ts';
import { MP_TABLE_FILE } from '../../src/firmware/mp-table.ts';
import { locateAcpiTables, locateMpTable } from '../../src/firmware/table-locator.ts';
import { splitAcpiTables } from '../../src/firmware/table-placement.ts';
import { guestRamWithTables, reader } from './table-guest-memory.ts';

describe('table locator', () => {
  it('finds the RSDP in the F segment and every table it leads to, at the addresses the loader chose', () => {
    const { ram, placed } = guestRamWithTables(true, true);
    const found = locateAcpiTables(reader(ram), ram.length);
    const expected = splitAcpiTables(placed.get(ACPI_TABLES_FILE)!);
    expect(found[0]).toEqual({ name: 'RSDP', address: placed.get(ACPI_RSDP_FILE)!.address, length: 36 });
    for (const t of expected) expect(found, t.name).toContainEqual({ name: t.name, address: t.address, length: t.data.length });
    expect(found).toHaveLength(expected.length + 1);
    const mp = locateMpTable(reader(ram), ram.length);
    const file = placed.get(MP_TABLE_FILE)!;
    expect(mp).toEqual([{ name: 'MP', address: file.address, length: 16 }, { name: 'PCMP', address: file.address + 16, length: file.data.length - 16 }]);
  });

  it('acpi=1 apic=0: ACPI tables without a MADT, and no MP table', () => {
    const { ram } = guestRamWithTables(true, false);
    expect(locateAcpiTables(reader(ram), ram.length).map((t) => t.name).sort()).toEqual(['DSDT', 'FACP', 'FACS', 'RSDP', 'RSDT', 'XSDT']);
    expect(locateMpTable(reader(ram), ram.length)).toEqual([]);
  });

  it('acpi=0 apic=1: only the MP table', () => {
    const { ram } = guestRamWithTables(false, true);
    expect(locateAcpiTables(reader(ram), ram.length)).toEqual([]);
    expect(locateMpTable(reader(ram), ram.length).map((t) => t.name)).toEqual(['MP', 'PCMP']);
  });

  it('ignores an RSDP with a bad checksum, and does not follow pointers outside memory', () => {
    const { ram, placed } = guestRamWithTables(true, true);
    const rsdp = placed.get(ACPI_RSDP_FILE)!.address;
    ram[rsdp + 8] ^= 1;
    expect(locateAcpiTables(reader(ram), ram.length)).toEqual([]);
    ram[rsdp + 8] ^= 1;
    // RSDT and XSDT pointers beyond RAM (checksum kept valid by adjusting the OEM ID byte).
    ram[rsdp + 19] = 0x7f;
    ram[rsdp + 9] = (ram[rsdp + 9] - (0x7f - placed.get(ACPI_RSDP_FILE)!.data[19])) & 0xff;
    ram[rsdp + 31] = 0x7f;
    const found = locateAcpiTables(reader(ram), ram.length);
    expect(found.map((t) => t.name)).toEqual(['RSDP']);
  });
});
