/**
 * Test helper: executes an etc/table-loader script the way SeaBIOS's romfile_loader_execute does
 * (src/fw/romfile_loader.c), on a model of guest memory, and records every check SeaBIOS makes
 * that fails (it logs "internal error" and skips the command), so a test can assert there are none.
 */
import { byteSum } from '../../src/firmware/acpi/checksum.ts';
import { decodeTableLoader, LoaderZone, type LoaderCommand } from '../../src/firmware/table-loader.ts';

export interface LoadedFile {
  name: string;
  address: number;
  data: Uint8Array;
  zone: LoaderZone;
}

export interface LoaderRun {
  files: Map<string, LoadedFile>;
  errors: string[];
  /** The byte at guest physical `address`, from whichever loaded file covers it. */
  byteAt(address: number): number | undefined;
  /** Bytes of guest memory from `address` (must lie in one file). */
  bytesAt(address: number, length: number): Uint8Array;
}

/** Where allocations land: high memory grows down from `highTop`, the F segment up from 0xF0000. */
export function runTableLoader(script: Uint8Array, source: (name: string) => Uint8Array | undefined, highTop = 0x07ff0000): LoaderRun {
  const files = new Map<string, LoadedFile>();
  const errors: string[] = [];
  let high = highTop;
  let fseg = 0xf0000;
  let commands: LoaderCommand[];
  try {
    commands = decodeTableLoader(script);
  } catch (e) {
    errors.push(String(e));
    commands = [];
  }
  for (const c of commands) {
    if (c.command === 'allocate') {
      if (c.align & (c.align - 1)) errors.push(`allocate ${c.file}: alignment ${c.align}`);
      if (c.zone !== LoaderZone.High && c.zone !== LoaderZone.FSeg) errors.push(`allocate ${c.file}: zone ${c.zone}`);
      if (files.has(c.file)) errors.push(`allocate ${c.file}: allocated twice`);
      const data = source(c.file);
      if (!data || data.length === 0) {
        errors.push(`allocate ${c.file}: no such fw_cfg file`);
        continue;
      }
      const align = Math.max(c.align, 16);
      let address: number;
      if (c.zone === LoaderZone.FSeg) {
        address = Math.ceil(fseg / align) * align;
        fseg = address + data.length;
        if (fseg > 0x100000) errors.push(`allocate ${c.file}: F segment full`);
      } else {
        address = Math.floor((high - data.length) / align) * align;
        high = address;
      }
      files.set(c.file, { name: c.file, address, data: data.slice(), zone: c.zone });
    } else if (c.command === 'add-pointer') {
      const dest = files.get(c.destFile);
      const src = files.get(c.srcFile);
      if (!dest || !src || c.offset + c.size > dest.data.length || ![1, 2, 4, 8].includes(c.size)) {
        errors.push(`add-pointer ${c.destFile}@${c.offset} <- ${c.srcFile}: invalid`);
        continue;
      }
      const view = new DataView(dest.data.buffer, dest.data.byteOffset);
      let value = 0n;
      for (let i = c.size - 1; i >= 0; i--) value = (value << 8n) | BigInt(dest.data[c.offset + i]);
      value = BigInt.asUintN(c.size * 8, value + BigInt(src.address));
      for (let i = 0; i < c.size; i++) view.setUint8(c.offset + i, Number((value >> BigInt(8 * i)) & 0xffn));
    } else {
      const file = files.get(c.file);
      if (!file || c.offset >= file.data.length || c.start + c.length > file.data.length) {
        errors.push(`add-checksum ${c.file}@${c.offset}: invalid`);
        continue;
      }
      file.data[c.offset] = (file.data[c.offset] - byteSum(file.data, c.start, c.length)) & 0xff;
    }
  }
  const find = (address: number) => [...files.values()].find((f) => address >= f.address && address < f.address + f.data.length);
  return {
    files,
    errors,
    byteAt(address) {
      const f = find(address);
      return f ? f.data[address - f.address] : undefined;
    },
    bytesAt(address, length) {
      const f = find(address);
      if (!f || address + length > f.address + f.data.length) throw new RangeError(`0x${address.toString(16)}+${length} is not inside one loaded file`);
      return f.data.subarray(address - f.address, address - f.address + length);
    },
  };
}
