/**
 * The 36-byte header every ACPI description table except the FACS starts with (ACPI 2.0 section
 * 5.2.6, "System Description Table Header"), and the identity this project writes into it.
 */
import { fixChecksum } from './checksum.ts';

export const ACPI_HEADER_LENGTH = 36;
/** Byte 9 of the header. */
export const ACPI_CHECKSUM_OFFSET = 9;

export const OEM_ID = 'WEBHVM';
export const OEM_TABLE_ID = 'WEBHVMPC';
export const OEM_REVISION = 1;
export const CREATOR_ID = 'WHVM';
export const CREATOR_REVISION = 1;

function ascii(out: Uint8Array, at: number, text: string, width: number): void {
  for (let i = 0; i < width; i++) out[at + i] = i < text.length ? text.charCodeAt(i) : 0x20;
}

/**
 * A table of `body.length + 36` bytes: the header, then `body`, with a correct checksum. Pointers
 * inside the body that the table-loader patches later make the checksum wrong until its
 * ADD_CHECKSUM command recomputes it.
 */
export function acpiTable(signature: string, revision: number, body: Uint8Array): Uint8Array {
  if (signature.length !== 4) throw new RangeError(`ACPI signature "${signature}" is not 4 characters`);
  const table = new Uint8Array(ACPI_HEADER_LENGTH + body.length);
  const view = new DataView(table.buffer);
  ascii(table, 0, signature, 4);
  view.setUint32(4, table.length, true);
  table[8] = revision;
  ascii(table, 10, OEM_ID, 6);
  ascii(table, 16, OEM_TABLE_ID, 8);
  view.setUint32(24, OEM_REVISION, true);
  ascii(table, 28, CREATOR_ID, 4);
  view.setUint32(32, CREATOR_REVISION, true);
  table.set(body, ACPI_HEADER_LENGTH);
  fixChecksum(table, ACPI_CHECKSUM_OFFSET);
  return table;
}

/** Reads back the header fields of a table (tests, and the documentation generator). */
export function parseTableHeader(table: Uint8Array): { signature: string; length: number; revision: number; oemId: string; oemTableId: string } {
  const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const text = (at: number, n: number) => String.fromCharCode(...table.subarray(at, at + n));
  return { signature: text(0, 4), length: view.getUint32(4, true), revision: table[8], oemId: text(10, 6), oemTableId: text(16, 8) };
}
