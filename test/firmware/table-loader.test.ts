import { describe, expect, it } from 'vitest';
import { decodeTableLoader, encodeTableLoader, LOADER_ENTRY_SIZE, LoaderZone, type LoaderCommand } from '../../src/firmware/table-loader.ts';

describe('table-loader script', () => {
  const commands: LoaderCommand[] = [
    { command: 'allocate', file: 'etc/acpi/tables', align: 64, zone: LoaderZone.High },
    { command: 'add-pointer', destFile: 'etc/acpi/rsdp', srcFile: 'etc/acpi/tables', offset: 16, size: 4 },
    { command: 'add-checksum', file: 'etc/acpi/rsdp', offset: 8, start: 0, length: 20 },
  ];

  it('encodes 128-byte little-endian entries at the offsets SeaBIOS reads', () => {
    const script = encodeTableLoader(commands);
    expect(script.length).toBe(3 * LOADER_ENTRY_SIZE);
    const v = new DataView(script.buffer);
    expect(v.getUint32(0, true)).toBe(1);
    expect(new TextDecoder().decode(script.subarray(4, 4 + 15))).toBe('etc/acpi/tables');
    expect(script[4 + 15]).toBe(0);
    expect(v.getUint32(60, true)).toBe(64);
    expect(script[64]).toBe(1);
    expect(v.getUint32(128, true)).toBe(2);
    expect(v.getUint32(128 + 116, true)).toBe(16);
    expect(script[128 + 120]).toBe(4);
    expect(v.getUint32(256, true)).toBe(3);
    expect([v.getUint32(256 + 60, true), v.getUint32(256 + 64, true), v.getUint32(256 + 68, true)]).toEqual([8, 0, 20]);
  });

  it('decodes what it encodes, skipping unknown commands', () => {
    const script = encodeTableLoader(commands);
    const withUnknown = new Uint8Array(script.length + LOADER_ENTRY_SIZE);
    withUnknown.set(script);
    new DataView(withUnknown.buffer).setUint32(script.length, 0x99, true);
    expect(decodeTableLoader(withUnknown)).toEqual(commands);
    expect(() => decodeTableLoader(new Uint8Array(100))).toThrow(RangeError);
  });

  it('refuses commands SeaBIOS would reject', () => {
    expect(() => encodeTableLoader([{ command: 'allocate', file: 'x', align: 3, zone: LoaderZone.High }])).toThrow(RangeError);
    expect(() => encodeTableLoader([{ command: 'allocate', file: 'x'.repeat(56), align: 4, zone: LoaderZone.High }])).toThrow(RangeError);
    expect(() => encodeTableLoader([{ command: 'add-pointer', destFile: 'a', srcFile: 'b', offset: 0, size: 3 as 4 }])).toThrow(RangeError);
  });
});
