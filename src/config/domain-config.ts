/**
 * The validated, typed result of a domain configuration file: everything the machine builder
 * needs, with Xen's xl defaults filled in (see docs/configuration.md for each key). Every field
 * is plain data, so a DomainConfig can cross to a worker with structured cloning.
 */
import type { SourcePosition } from './diagnostics.ts';

/** Largest guest RAM WebHVM accepts, in MiB: RAM below the 4 GiB PCI hole of a 32-bit wasm memory. */
export const MAX_MEMORY_MIB = 3072;
/** Largest number of virtual CPUs. */
export const MAX_VCPUS = 8;

/** BIOS boot devices: `a` floppy, `c` first hard disk, `d` CD-ROM, `n` network (PXE). */
export type BootDevice = 'a' | 'c' | 'd' | 'n';

/** IDE positions: hda/hdb primary master/slave, hdc/hdd secondary master/slave. */
export type IdeVdev = 'hda' | 'hdb' | 'hdc' | 'hdd';

/** How Xen reached the image; for WebHVM all of them are "an image the user supplied". */
export type DiskType = 'file' | 'phy' | 'tap:aio' | 'tap:qcow';

/** An entry of `disk = [...]` that names a drive. */
export interface DiskDrive {
  empty: false;
  /** Position in the `disk` list. */
  index: number;
  type: DiskType;
  /** The path as written, or null for a CD-ROM drive with no disc. */
  path: string | null;
  vdev: IdeVdev;
  /** IDE channel (0 primary, 1 secondary) and unit (0 master, 1 slave) of `vdev`. */
  channel: 0 | 1;
  unit: 0 | 1;
  media: 'disk' | 'cdrom';
  /** `r` read-only; `w` read-write (writes go to a copy-on-write overlay, never to the image). */
  mode: 'r' | 'w';
  /** The entry as written, and where. */
  spec: string;
  source: SourcePosition;
}

/** An empty entry (`''`) in `disk = [...]`: keeps its place in the list, attaches nothing. */
export interface DiskSlot {
  empty: true;
  index: number;
  source: SourcePosition;
}

export type DiskEntry = DiskDrive | DiskSlot;

/** A floppy drive (`fda`/`fdb`); `path` null means an empty drive. */
export interface FloppyDrive {
  path: string | null;
  source: SourcePosition | null;
}

/** One network card (`vif` entry). */
export interface NetworkCard {
  index: number;
  /** `aa:bb:cc:dd:ee:ff`, lower case. */
  mac: string;
  /** True when the MAC was generated (Xen's 00:16:3e prefix, from the VM name and index). */
  macGenerated: boolean;
  /** The virtual switch the card plugs into. */
  bridge: string;
  model: 'rtl8139';
  /** Xen's `type`: `ioemu` (emulated card) or `vif` (paravirtual; WebHVM emulates it anyway). */
  type: 'ioemu' | 'vif';
  spec: string;
  source: SourcePosition;
}

/**
 * COM1. `pty`, `vc` and `stdio` all connect it to the console (the page's terminal, or stdio
 * in the command-line runner); `null`/`none` disconnect it; `file` logs its output to `path`.
 */
export interface SerialPort {
  mode: 'pty' | 'vc' | 'stdio' | 'null' | 'none' | 'file';
  /** For `file:PATH`. */
  path?: string;
  /** Whether the port is connected to the console. */
  console: boolean;
}

/** What happens when the guest powers off, reboots or crashes. */
export type LifecycleAction = 'destroy' | 'restart' | 'preserve';

export interface DisplayConfig {
  /** Always the standard VGA with VBE (Bochs VBE): the only card WebHVM has. */
  vga: 'stdvga';
  /** What the file asked for: `stdvga=0`/`vga='cirrus'` asked for a Cirrus card. */
  requested: 'stdvga' | 'cirrus';
  /** `nographic=1`: no graphical console, serial only. */
  nographic: boolean;
  /** Keyboard layout (`keymap`), Xen's default `en-us`. */
  keymap: string;
  /** Xen's remote-console settings, kept for display; the console is the page's canvas. */
  vnc: boolean;
  sdl: boolean;
  vncconsole: boolean;
  vncunused: boolean;
  vnclisten: string | null;
  /** Whether `vncpasswd` was given (the password itself is not kept). */
  vncpasswdSet: boolean;
}

/** xl's direct kernel boot (`kernel` naming a Linux kernel with `builder='hvm'`). */
export interface DirectKernelBoot {
  kernel: string;
  ramdisk: string | null;
  /** Where the file names them, for messages about the images. */
  kernelSource: SourcePosition;
  ramdiskSource: SourcePosition | null;
  /** `cmdline`, else `root=ROOT EXTRA` from `root` and `extra`. */
  cmdline: string;
}

export interface DomainConfig {
  name: string;
  /** SMBIOS system UUID, lower case; null when the file has none (xl would make a random one). */
  uuid: string | null;
  /** Guest RAM in MiB. */
  memoryMiB: number;
  /** `maxmem`: equal to memoryMiB unless the file set it higher (no ballooning: noted). */
  maxmemMiB: number;
  vcpus: number;
  acpi: boolean;
  apic: boolean;
  pae: boolean;
  /** Boot order as written, e.g. ['c', 'd']. */
  boot: BootDevice[];
  /** `disk` entries in list order. */
  disks: DiskEntry[];
  fda: FloppyDrive;
  fdb: FloppyDrive;
  nics: NetworkCard[];
  serial: SerialPort;
  display: DisplayConfig;
  /** `usb=1` or any `usbdevice`: a UHCI controller with these devices. */
  usb: { enabled: boolean; devices: Array<'tablet' | 'mouse'> };
  /** RTC in local time of the page (true) or UTC, plus `rtc_timeoffset` seconds. */
  localtime: boolean;
  rtcTimeOffsetSeconds: number;
  /** `soundhw` as written, or null; there is no sound card yet. */
  soundhw: string | null;
  onPoweroff: LifecycleAction;
  onReboot: LifecycleAction;
  onCrash: LifecycleAction;
  /** The emulator's monitor console. */
  monitor: boolean;
  /** Direct kernel boot, or null for a BIOS boot. */
  directKernel: DirectKernelBoot | null;
}
