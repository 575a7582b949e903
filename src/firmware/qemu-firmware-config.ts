/**
 * What the device model hands SeaBIOS through fw_cfg, as QEMU does for its "pc" machine: RAM
 * size, CPU count, the e820 RAM map, the boot order as OpenFirmware device paths, and the boot
 * menu and boot-failure settings. Built from the machine setup; no device code here.
 */
import {
  type FwCfg, FW_CFG_RAM_SIZE, FW_CFG_NB_CPUS, FW_CFG_MAX_CPUS, FW_CFG_NUMA, FW_CFG_BOOT_MENU, FW_CFG_UUID,
} from '../devices/fw-cfg.ts';

export type BootDevice = 'floppy' | 'disk' | 'cdrom' | 'network';

export interface FirmwareConfigInput {
  ramBytes: number;
  cpuCount: number;
  /** Boot devices in order, each with the OpenFirmware path of the device it names. */
  bootOrder: string[];
  uuid?: Uint8Array;
  /** Milliseconds SeaBIOS waits before retrying after every boot device failed. */
  bootFailWaitMs?: number;
}

const E820_RAM = 1;

/** The etc/e820 file: little-endian {u64 address, u64 length, u32 type} entries. */
export function e820Table(ramBytes: number): Uint8Array {
  const entry = new Uint8Array(20);
  const view = new DataView(entry.buffer);
  view.setBigUint64(0, 0n, true);
  view.setBigUint64(8, BigInt(ramBytes), true);
  view.setUint32(16, E820_RAM, true);
  return entry;
}

const text = (s: string) => new TextEncoder().encode(s);

function u32le(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}
function u16le(v: number): Uint8Array {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, v, true);
  return b;
}

export function installFirmwareConfig(fw: FwCfg, input: FirmwareConfigInput): void {
  fw.setNumeric(FW_CFG_RAM_SIZE, input.ramBytes, 8);
  fw.setNumeric(FW_CFG_NB_CPUS, input.cpuCount, 2);
  fw.setNumeric(FW_CFG_MAX_CPUS, input.cpuCount, 2);
  fw.setNumeric(FW_CFG_NUMA, 0, 8);
  fw.setNumeric(FW_CFG_BOOT_MENU, 0, 2);
  fw.setBytes(FW_CFG_UUID, input.uuid ?? new Uint8Array(16));
  fw.addFile('etc/e820', e820Table(input.ramBytes));
  fw.addFile('bootorder', text(input.bootOrder.map((p) => p + '\n').join('') + '\0'));
  fw.addFile('etc/boot-fail-wait', u32le(input.bootFailWaitMs ?? 5000));
  fw.addFile('etc/show-boot-menu', u16le(0));
}

/** OpenFirmware paths SeaBIOS matches for the i440FX/PIIX3 board's boot devices. */
export const bootPaths = {
  floppy: (unit: number) => `/pci@i0cf8/isa@1/fdc@03f0/floppy@${unit}`,
  ide: (channel: number, unit: number, cdrom: boolean) =>
    `/pci@i0cf8/ide@1,1/drive@${channel}/${cdrom ? 'disk' : 'disk'}@${unit}`,
  network: (slot: number) => `/pci@i0cf8/ethernet@${slot}`,
};
