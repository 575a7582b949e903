/**
 * The CMOS bytes a PC BIOS expects from the board, filled as QEMU's "pc" machine does: memory
 * sizes, floppy drive types, equipment byte, the legacy boot order bytes, disk presence.
 */
import type { BootDevice } from './qemu-firmware-config.ts';

export interface CmosWriter {
  setByte(index: number, value: number): void;
}

export interface CmosInput {
  ramBytes: number;
  boot: BootDevice[];
  /** CMOS drive types of fda and fdb (0 = none, 4 = 1.44M). */
  floppyTypes: number[];
  /** Which of hda..hdd are hard disks. */
  hasDisks: boolean[];
}

const bootCode: Record<BootDevice, number> = { floppy: 1, disk: 2, cdrom: 3, network: 4 };

export function fillCmos(cmos: CmosWriter, input: CmosInput): void {
  const kb = input.ramBytes / 1024;
  // Base memory: 640 KiB.
  cmos.setByte(0x15, 640 & 0xff);
  cmos.setByte(0x16, 640 >> 8);
  // Extended memory between 1 MiB and 64 MiB, in KiB (capped at 0xFFFF).
  const ext = Math.min(0xffff, Math.max(0, kb - 1024));
  cmos.setByte(0x17, ext & 0xff);
  cmos.setByte(0x18, ext >> 8);
  cmos.setByte(0x30, ext & 0xff);
  cmos.setByte(0x31, ext >> 8);
  // Memory above 16 MiB in 64 KiB units.
  const above16 = Math.min(0xffff, Math.max(0, Math.floor((input.ramBytes - (16 << 20)) / 65536)));
  cmos.setByte(0x34, above16 & 0xff);
  cmos.setByte(0x35, above16 >> 8);
  cmos.setByte(0x5b, 0);
  cmos.setByte(0x5c, 0);
  cmos.setByte(0x5d, 0);
  cmos.setByte(0x10, ((input.floppyTypes[0] ?? 0) << 4) | (input.floppyTypes[1] ?? 0));
  const floppies = input.floppyTypes.filter((t) => t).length;
  // Equipment: floppy present + count, VGA (EGA/VGA = 00), FPU present.
  cmos.setByte(0x14, (floppies ? 1 | ((floppies - 1) << 6) : 0) | 0x02);
  const order = input.boot.slice(0, 3).map((d) => bootCode[d]);
  cmos.setByte(0x3d, (order[0] ?? 0) | ((order[1] ?? 0) << 4));
  cmos.setByte(0x38, (order[2] ?? 0) << 4);
  // Hard disk types: 0xF0 means "type in extended byte" for the first two disks.
  cmos.setByte(0x12, (input.hasDisks[0] ? 0xf0 : 0) | (input.hasDisks[1] ? 0x0f : 0));
}
