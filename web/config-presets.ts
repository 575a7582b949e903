/**
 * Domain configurations the page offers: presets for the common cases, filled in with the
 * names of the files the user dropped (the configuration names images by base name, and the
 * browser resolver matches them to the dropped files), and how a dropped file is recognised.
 */
import { FLOPPY_IMAGE_SIZES } from '../src/devices/floppy-controller.ts';

export type PresetId = 'linux-cd' | 'xp-stage1' | 'xp-stage2';

export const PRESETS: readonly { id: PresetId; label: string }[] = [
  { id: 'linux-cd', label: 'Linux live CD' },
  { id: 'xp-stage1', label: 'Windows XP setup stage 1: acpi=0 apic=0 on_reboot=destroy' },
  { id: 'xp-stage2', label: 'Windows XP setup stage 2: acpi=1 apic=1' },
];

/** Images by role: a name the configuration uses for a dropped file, or a URL. */
export interface PresetMedia {
  cdrom?: string;
  disk?: string;
  floppy?: string;
}

export type FileRole = 'config' | 'cdrom' | 'floppy' | 'disk';

/** What a dropped file most likely is, from its name and size. */
export function classifyFile(name: string, size: number): FileRole {
  const lower = name.toLowerCase();
  if (/\.(cfg|conf|xl|hvm|txt)$/.test(lower)) return 'config';
  if (/\.(iso|cdr)$/.test(lower)) return 'cdrom';
  if (FLOPPY_IMAGE_SIZES.includes(size) && !/\.(qcow2?|vhd|vdi|vmdk)$/.test(lower)) return 'floppy';
  return 'disk';
}

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function presetConfig(id: PresetId, media: PresetMedia): string {
  const disks: string[] = [];
  if (media.disk) disks.push(`file:${media.disk},hda,w`);
  disks.push(media.cdrom ? `file:${media.cdrom},hdc:cdrom,r` : ',hdc:cdrom,r');
  const floppy = media.floppy ? `fda = ${quote(media.floppy)}\n` : '';
  const diskLines = `disk = [ ${disks.map(quote).join(',\n         ')} ]\n`;
  const bootFrom = (order: string) => order.split('').filter((d) => (d === 'a' ? media.floppy : d === 'c' ? media.disk : d === 'd' ? true : false)).join('') || 'c';
  switch (id) {
    case 'linux-cd':
      return (
        "name = 'linux'\nbuilder = 'hvm'\nmemory = 128\nvcpus = 1\nacpi = 1\napic = 1\n" +
        `boot = '${bootFrom(media.cdrom ? 'dca' : 'cad')}'\n${diskLines}${floppy}` +
        "usbdevice = 'tablet'\nserial = 'pty'\non_poweroff = 'destroy'\non_reboot = 'restart'\n"
      );
    case 'xp-stage1':
      return (
        "# Text-mode setup: the Standard PC HAL (no ACPI, no APIC); the machine stops at setup's\n" +
        "# reboot so stage 2 can start with acpi=1 apic=1.\n" +
        "name = 'winxp'\nbuilder = 'hvm'\nmemory = 512\nvcpus = 1\nacpi = 0\napic = 0\npae = 0\nstdvga = 1\n" +
        `boot = '${bootFrom('dc')}'\n${diskLines}${floppy}` +
        "usbdevice = 'tablet'\nserial = 'pty'\non_poweroff = 'destroy'\non_reboot = 'destroy'\n"
      );
    case 'xp-stage2':
      return (
        "# Graphical setup and later boots: ACPI and the APIC (the ACPI Uniprocessor HAL).\n" +
        "name = 'winxp'\nbuilder = 'hvm'\nmemory = 512\nvcpus = 1\nacpi = 1\napic = 1\npae = 0\nstdvga = 1\n" +
        `boot = '${bootFrom('cd')}'\n${diskLines}${floppy}` +
        "usbdevice = 'tablet'\nserial = 'pty'\non_poweroff = 'destroy'\non_reboot = 'restart'\n"
      );
  }
}
