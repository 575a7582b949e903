import { describe, expect, it } from 'vitest';
import { byteSum } from '../../src/firmware/acpi/checksum.ts';
import { ACPI_RSDP_FILE, ACPI_TABLES_FILE } from '../../src/firmware/acpi/tables.ts';
import { MP_TABLE_FILE } from '../../src/firmware/mp-table.ts';
import { placeFirmwareFiles, splitAcpiTables } from '../../src/firmware/table-placement.ts';
import { guestRamWithTables } from './table-guest-memory.ts';

const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);

describe('placeFirmwareFiles', () => {
  it('places etc/acpi/tables at the top of RAM and the RSDP and MP table in the F segment, pointers patched', () => {
    const { placed } = guestRamWithTables(true, true, 2);
    const tables = placed.get(ACPI_TABLES_FILE)!;
    const rsdp = placed.get(ACPI_RSDP_FILE)!;
    const mp = placed.get(MP_TABLE_FILE)!;
    expect(tables.address % 64).toBe(0);
    expect(tables.address + tables.data.length).toBeLessThanOrEqual(16 << 20);
    expect(rsdp.address).toBe(0xf5000);
    expect(mp.address).toBeGreaterThanOrEqual(rsdp.address + 36);
    expect(mp.address % 16).toBe(0);
    const split = splitAcpiTables(tables);
    expect(split.map((t) => t.name)).toEqual(['FACS', 'DSDT', 'FACP', 'APIC', 'RSDT', 'XSDT']);
    const at = (sig: string) => split.find((t) => t.name === sig)!;
    expect(u32(rsdp.data, 16)).toBe(at('RSDT').address);
    expect(u32(rsdp.data, 24)).toBe(at('XSDT').address);
    expect(u32(at('FACP').data, 36)).toBe(at('FACS').address);
    expect(u32(at('FACP').data, 40)).toBe(at('DSDT').address);
    expect(u32(at('RSDT').data, 36)).toBe(at('FACP').address);
    expect(u32(at('RSDT').data, 40)).toBe(at('APIC').address);
    expect(u32(mp.data, 4)).toBe(mp.address + 16);
    // Every checksum holds after patching.
    for (const t of split.filter((t) => t.name !== 'FACS')) expect(byteSum(t.data), t.name).toBe(0);
    expect(byteSum(rsdp.data, 0, 20)).toBe(0);
    expect(byteSum(rsdp.data)).toBe(0);
    expect(byteSum(mp.data, 0, 16)).toBe(0);
    expect(byteSum(mp.data, 16)).toBe(0);
  });

  it('refuses scripts that name unknown or unallocated files', () => {
    expect(() => placeFirmwareFiles([], [{ command: 'allocate', file: 'x', align: 16, zone: 1 }], { highTop: 1 << 20, fsegStart: 0xf0000 })).toThrow(/not a file/);
    expect(() => placeFirmwareFiles([{ name: 'a', data: new Uint8Array(8) }], [{ command: 'add-checksum', file: 'a', offset: 0, start: 0, length: 8 }], { highTop: 1 << 20, fsegStart: 0xf0000 })).toThrow(/before allocating/);
    expect(() => placeFirmwareFiles([{ name: 'a', data: new Uint8Array(0x20000) }], [{ command: 'allocate', file: 'a', align: 16, zone: 2 }], { highTop: 1 << 20, fsegStart: 0xf0000 })).toThrow(/F segment/);
  });

  it('splitAcpiTables refuses a table whose length runs past the file', () => {
    const data = new Uint8Array(40);
    data.set([0x44, 0x53, 0x44, 0x54, 0xff, 0, 0, 0]);
    expect(() => splitAcpiTables({ name: 't', address: 0, data })).toThrow(/bad table length/);
  });
});
