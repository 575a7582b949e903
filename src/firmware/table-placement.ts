/**
 * Runs a table-loader script (src/firmware/table-loader.ts) the way SeaBIOS's romfile_loader does,
 * against a notional memory layout instead of guest memory: ALLOCATE places a file (high memory
 * from the top of RAM downwards, the F segment upwards from `fsegStart`), ADD_POINTER adds the
 * source file's address to the pointer field, ADD_CHECKSUM fixes the checksum byte. The result is
 * the tables as an OS would find them, at addresses like the ones SeaBIOS picks (SeaBIOS's exact
 * addresses depend on what else it allocated; the boot-path trace reports the real ones).
 * Used by `webhvm tables` to write standalone table files.
 */
import { fixChecksum } from './acpi/checksum.ts';
import type { FirmwareFile } from './firmware-tables.ts';
import { LoaderZone, type LoaderCommand } from './table-loader.ts';

export interface PlacedFile {
  name: string;
  address: number;
  data: Uint8Array;
}

export interface PlacementLayout {
  /** First byte above the high-memory zone (the top of RAM below 4 GiB). */
  highTop: number;
  /** Where F-segment allocations start. */
  fsegStart: number;
}

export function placeFirmwareFiles(files: readonly FirmwareFile[], commands: readonly LoaderCommand[], layout: PlacementLayout): Map<string, PlacedFile> {
  const byName = new Map(files.map((f) => [f.name, f.data]));
  const placed = new Map<string, PlacedFile>();
  let high = layout.highTop;
  let fseg = layout.fsegStart;
  const need = (name: string): PlacedFile => {
    const p = placed.get(name);
    if (!p) throw new Error(`table-loader names ${name} before allocating it`);
    return p;
  };
  for (const c of commands) {
    switch (c.command) {
      case 'allocate': {
        const data = byName.get(c.file);
        if (!data) throw new Error(`table-loader allocates ${c.file}, which is not a file`);
        let address: number;
        if (c.zone === LoaderZone.High) {
          address = Math.floor((high - data.length) / c.align) * c.align;
          high = address;
        } else {
          address = Math.ceil(fseg / c.align) * c.align;
          fseg = address + data.length;
          if (fseg > 0x100000) throw new Error(`${c.file} does not fit in the F segment`);
        }
        placed.set(c.file, { name: c.file, address, data: data.slice() });
        break;
      }
      case 'add-pointer': {
        const dest = need(c.destFile);
        const src = need(c.srcFile);
        if (c.offset + c.size > dest.data.length) throw new Error(`pointer at ${c.offset} is outside ${c.destFile}`);
        let value = 0n;
        for (let i = c.size - 1; i >= 0; i--) value = (value << 8n) | BigInt(dest.data[c.offset + i]);
        value = (value + BigInt(src.address)) & ((1n << BigInt(c.size * 8)) - 1n);
        for (let i = 0; i < c.size; i++) dest.data[c.offset + i] = Number((value >> BigInt(8 * i)) & 0xffn);
        break;
      }
      case 'add-checksum': {
        const file = need(c.file);
        if (c.start + c.length > file.data.length || c.offset >= file.data.length) throw new Error(`checksum range outside ${c.file}`);
        fixChecksum(file.data, c.offset, c.start, c.length);
        break;
      }
    }
  }
  return placed;
}

/** Splits etc/acpi/tables (tables laid end to end) into its tables, by signature. */
export function splitAcpiTables(file: PlacedFile): PlacedFile[] {
  const out: PlacedFile[] = [];
  const view = new DataView(file.data.buffer, file.data.byteOffset, file.data.byteLength);
  let at = 0;
  while (at + 8 <= file.data.length) {
    const signature = String.fromCharCode(...file.data.subarray(at, at + 4));
    const length = view.getUint32(at + 4, true);
    if (length < 8 || at + length > file.data.length) throw new Error(`etc/acpi/tables: bad table length ${length} at offset ${at}`);
    out.push({ name: signature, address: file.address + at, data: file.data.slice(at, at + length) });
    at += length;
  }
  return out;
}
