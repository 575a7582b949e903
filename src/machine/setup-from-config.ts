/**
 * From a validated DomainConfig and its opened images to the MachineSetup the Machine builds.
 * Opening images is the caller's business (files under Node, dropped files or URLs in the page).
 */
import type { DomainConfig, BootDevice as ConfigBootDevice } from '../config/domain-config.ts';
import type { BlockBackend } from '../storage/block-backend.ts';
import type { FloppyMedia } from '../devices/floppy-controller.ts';
import type { BootDevice } from '../firmware/qemu-firmware-config.ts';
import type { IdeSlot, MachineSetup } from './machine.ts';

export interface OpenedMedia {
  /** Indexed like hda..hdd (channel * 2 + unit). */
  ide: (IdeSlot | undefined)[];
  floppies: (FloppyMedia | undefined)[];
}

const bootNames: Record<ConfigBootDevice, BootDevice> = { a: 'floppy', c: 'disk', d: 'cdrom', n: 'network' };

export interface SetupHooks {
  firmware: MachineSetup['firmware'];
  serialOutput?: MachineSetup['serialOutput'];
  debugConsole?: MachineSetup['debugConsole'];
  /** Host wall-clock time in seconds for the RTC; fixed in deterministic runs. */
  nowSeconds: number;
  /** Offset of the host's local time from UTC in seconds (for `localtime=1`). */
  localOffsetSeconds?: number;
}

export function machineSetupFromConfig(config: DomainConfig, media: OpenedMedia, hooks: SetupHooks): MachineSetup {
  return {
    name: config.name,
    ramMiB: config.memoryMiB,
    cpuCount: config.vcpus,
    acpi: config.acpi,
    apic: config.apic,
    pae: config.pae,
    boot: config.boot.map((b) => bootNames[b]),
    ide: media.ide,
    floppies: media.floppies,
    usbPointer: config.usb.enabled ? config.usb.devices[0] : undefined,
    nics: config.nics.map((nic) => ({ mac: macBytes(nic.mac), bridge: nic.bridge })),
    firmware: hooks.firmware,
    serialOutput: hooks.serialOutput,
    debugConsole: hooks.debugConsole,
    rtcStartSeconds: hooks.nowSeconds + (config.localtime ? hooks.localOffsetSeconds ?? 0 : 0) + config.rtcTimeOffsetSeconds,
    uuid: config.uuid ? uuidBytes(config.uuid) : undefined,
  };
}

function macBytes(mac: string): Uint8Array {
  return new Uint8Array(mac.split(':').map((h) => parseInt(h, 16)));
}

/** The UUID's 16 bytes in the order written (QEMU hands FW_CFG_UUID to the BIOS this way). */
function uuidBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, '');
  const b = new Uint8Array(16);
  for (let i = 0; i < 16; i++) b[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return b;
}

/** IDE slot index (0-3) for hda..hdd. */
export function ideIndex(channel: 0 | 1, unit: 0 | 1): number {
  return channel * 2 + unit;
}

export type { BlockBackend };
