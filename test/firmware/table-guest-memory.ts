/**
 * Test helper: guest RAM holding the firmware tables of a configuration, placed by the
 * table-loader script as SeaBIOS would (ACPI tables at the top of RAM, RSDP and MP table in the
 * F segment from 0xF5000).
 */
import { describeMachineBoard } from '../../src/firmware/board-description.ts';
import { firmwareTablesFor } from '../../src/firmware/firmware-tables.ts';
import { placeFirmwareFiles, type PlacedFile } from '../../src/firmware/table-placement.ts';

export const RAM_MIB = 16;

export function guestRamWithTables(acpi: boolean, apic: boolean, vcpus = 1): { ram: Uint8Array; placed: Map<string, PlacedFile> } {
  const ram = new Uint8Array(RAM_MIB << 20);
  const tables = firmwareTablesFor(describeMachineBoard({ acpi, apic, vcpus, ramMiB: RAM_MIB }));
  const placed = placeFirmwareFiles(tables.files, tables.commands, { highTop: ram.length, fsegStart: 0xf5000 });
  for (const f of placed.values()) ram.set(f.data, f.address);
  return { ram, placed };
}

export function reader(ram: Uint8Array) {
  return (address: number, length: number): Uint8Array => {
    const out = new Uint8Array(length);
    if (address < ram.length) out.set(ram.subarray(address, Math.min(ram.length, address + length)));
    return out;
  };
}
