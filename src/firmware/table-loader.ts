/**
 * QEMU's "linker/loader" script, the fw_cfg file etc/table-loader that SeaBIOS executes to
 * install firmware tables handed to it as fw_cfg files (QEMU hw/acpi/bios-linker-loader.c; SeaBIOS
 * src/fw/romfile_loader.c). The script is an array of 128-byte little-endian entries:
 *
 *   u32 command, then
 *   ALLOCATE (1):     char file[56]; u32 align; u8 zone (1 = high memory, 2 = the F segment)
 *   ADD_POINTER (2):  char dest_file[56]; char src_file[56]; u32 offset; u8 size
 *   ADD_CHECKSUM (3): char file[56]; u32 offset; u32 start; u32 length
 *
 * ALLOCATE copies a file into guest memory; ADD_POINTER adds the address where src_file landed to
 * the size-byte little-endian number at `offset` in dest_file (so the file holds the offset within
 * src_file beforehand); ADD_CHECKSUM sets the byte at `offset` so that `length` bytes from `start`
 * sum to zero. A file must be allocated before another command names it. WRITE_POINTER (4),
 * which writes addresses back to the device model, is left out: nothing here needs it.
 */

export const TABLE_LOADER_FILE = 'etc/table-loader';
export const LOADER_ENTRY_SIZE = 128;
/** File names are NUL-terminated in 56 bytes. */
export const LOADER_FILE_NAME_SIZE = 56;

export const LoaderZone = { High: 1, FSeg: 2 } as const;
export type LoaderZone = (typeof LoaderZone)[keyof typeof LoaderZone];

const COMMAND_ALLOCATE = 1;
const COMMAND_ADD_POINTER = 2;
const COMMAND_ADD_CHECKSUM = 3;

export interface AllocateCommand {
  command: 'allocate';
  file: string;
  /** A power of two. */
  align: number;
  zone: LoaderZone;
}

export interface AddPointerCommand {
  command: 'add-pointer';
  destFile: string;
  srcFile: string;
  offset: number;
  size: 1 | 2 | 4 | 8;
}

export interface AddChecksumCommand {
  command: 'add-checksum';
  file: string;
  offset: number;
  start: number;
  length: number;
}

export type LoaderCommand = AllocateCommand | AddPointerCommand | AddChecksumCommand;

function putName(entry: Uint8Array, at: number, name: string): void {
  const bytes = new TextEncoder().encode(name);
  if (bytes.length === 0 || bytes.length >= LOADER_FILE_NAME_SIZE || bytes.includes(0)) {
    throw new RangeError(`table-loader file name "${name}" must be 1-${LOADER_FILE_NAME_SIZE - 1} bytes without NUL`);
  }
  entry.set(bytes, at);
}

function getName(entry: Uint8Array, at: number): string {
  const field = entry.subarray(at, at + LOADER_FILE_NAME_SIZE);
  const end = field.indexOf(0);
  return new TextDecoder().decode(field.subarray(0, end < 0 ? field.length : end));
}

/** Encodes a script. Refuses commands SeaBIOS would reject (bad alignment, pointer size, names). */
export function encodeTableLoader(commands: readonly LoaderCommand[]): Uint8Array {
  const out = new Uint8Array(commands.length * LOADER_ENTRY_SIZE);
  commands.forEach((c, i) => {
    const entry = out.subarray(i * LOADER_ENTRY_SIZE, (i + 1) * LOADER_ENTRY_SIZE);
    const view = new DataView(entry.buffer, entry.byteOffset, LOADER_ENTRY_SIZE);
    switch (c.command) {
      case 'allocate':
        if (!Number.isInteger(c.align) || c.align <= 0 || (c.align & (c.align - 1)) !== 0) throw new RangeError(`allocation alignment ${c.align} is not a power of two`);
        view.setUint32(0, COMMAND_ALLOCATE, true);
        putName(entry, 4, c.file);
        view.setUint32(4 + LOADER_FILE_NAME_SIZE, c.align, true);
        entry[8 + LOADER_FILE_NAME_SIZE] = c.zone;
        break;
      case 'add-pointer':
        if (![1, 2, 4, 8].includes(c.size)) throw new RangeError(`pointer size ${c.size} is not 1, 2, 4 or 8`);
        view.setUint32(0, COMMAND_ADD_POINTER, true);
        putName(entry, 4, c.destFile);
        putName(entry, 4 + LOADER_FILE_NAME_SIZE, c.srcFile);
        view.setUint32(4 + 2 * LOADER_FILE_NAME_SIZE, c.offset, true);
        entry[8 + 2 * LOADER_FILE_NAME_SIZE] = c.size;
        break;
      case 'add-checksum':
        view.setUint32(0, COMMAND_ADD_CHECKSUM, true);
        putName(entry, 4, c.file);
        view.setUint32(4 + LOADER_FILE_NAME_SIZE, c.offset, true);
        view.setUint32(8 + LOADER_FILE_NAME_SIZE, c.start, true);
        view.setUint32(12 + LOADER_FILE_NAME_SIZE, c.length, true);
        break;
    }
  });
  return out;
}

/**
 * Decodes a script back into commands (for tests and debugging). Entries with unknown commands
 * are skipped, as SeaBIOS skips them; a length that is not a multiple of 128 is an error.
 */
export function decodeTableLoader(script: Uint8Array): LoaderCommand[] {
  if (script.length % LOADER_ENTRY_SIZE !== 0) throw new RangeError(`table-loader of ${script.length} bytes is not a whole number of ${LOADER_ENTRY_SIZE}-byte entries`);
  const commands: LoaderCommand[] = [];
  for (let at = 0; at < script.length; at += LOADER_ENTRY_SIZE) {
    const entry = script.subarray(at, at + LOADER_ENTRY_SIZE);
    const view = new DataView(entry.buffer, entry.byteOffset, LOADER_ENTRY_SIZE);
    switch (view.getUint32(0, true)) {
      case COMMAND_ALLOCATE:
        commands.push({ command: 'allocate', file: getName(entry, 4), align: view.getUint32(4 + LOADER_FILE_NAME_SIZE, true), zone: entry[8 + LOADER_FILE_NAME_SIZE] as LoaderZone });
        break;
      case COMMAND_ADD_POINTER:
        commands.push({
          command: 'add-pointer', destFile: getName(entry, 4), srcFile: getName(entry, 4 + LOADER_FILE_NAME_SIZE),
          offset: view.getUint32(4 + 2 * LOADER_FILE_NAME_SIZE, true), size: entry[8 + 2 * LOADER_FILE_NAME_SIZE] as 1 | 2 | 4 | 8,
        });
        break;
      case COMMAND_ADD_CHECKSUM:
        commands.push({
          command: 'add-checksum', file: getName(entry, 4), offset: view.getUint32(4 + LOADER_FILE_NAME_SIZE, true),
          start: view.getUint32(8 + LOADER_FILE_NAME_SIZE, true), length: view.getUint32(12 + LOADER_FILE_NAME_SIZE, true),
        });
        break;
      default:
        break;
    }
  }
  return commands;
}
