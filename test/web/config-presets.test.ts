import { describe, expect, it } from 'vitest';
import { classifyFile, PRESETS, presetConfig } from '../../web/config-presets.ts';
import { parseDomainConfig } from '../../src/config/parse-domain-config.ts';

describe('page configuration presets', () => {
  it('recognises dropped files by name and size', () => {
    expect(classifyFile('guest.cfg', 300)).toBe('config');
    expect(classifyFile('debian.ISO', 700e6)).toBe('cdrom');
    expect(classifyFile('dos.img', 1474560)).toBe('floppy');
    expect(classifyFile('winxp.img', 4 * 2 ** 30)).toBe('disk');
    expect(classifyFile('disk.qcow2', 1474560)).toBe('disk');
  });

  it('every preset parses, with and without media', () => {
    for (const { id } of PRESETS) {
      for (const media of [{}, { cdrom: 'x.iso' }, { cdrom: 'x.iso', disk: "it's.img", floppy: 'f.img' }]) {
        expect(() => parseDomainConfig(presetConfig(id, media)), `${id} ${JSON.stringify(media)}`).not.toThrow();
      }
    }
  });

  it('the Linux live CD boots the CD first, with a tablet and the serial console', () => {
    const { config } = parseDomainConfig(presetConfig('linux-cd', { cdrom: 'linux.iso' }));
    expect(config.boot).toEqual(['d']);
    expect(config.usb.devices).toEqual(['tablet']);
    expect(config.serial.console).toBe(true);
    const cd = config.disks.find((d) => !d.empty && d.media === 'cdrom');
    expect(cd).toMatchObject({ vdev: 'hdc', path: 'linux.iso', mode: 'r' });
  });

  it('Windows XP setup: stage 1 without ACPI/APIC stopping at reboot, stage 2 with both', () => {
    const s1 = parseDomainConfig(presetConfig('xp-stage1', { cdrom: 'xp.iso', disk: 'xp.img' })).config;
    expect(s1).toMatchObject({ acpi: false, apic: false, onReboot: 'destroy', boot: ['d', 'c'] });
    const s2 = parseDomainConfig(presetConfig('xp-stage2', { cdrom: 'xp.iso', disk: 'xp.img' })).config;
    expect(s2).toMatchObject({ acpi: true, apic: true, onReboot: 'restart', boot: ['c', 'd'] });
    expect(s2.disks.find((d) => !d.empty && d.vdev === 'hda')).toMatchObject({ path: 'xp.img', mode: 'w' });
  });

  it('quotes file names so any name survives the parser', () => {
    const { config } = parseDomainConfig(presetConfig('linux-cd', { disk: "it's\\here.img" }));
    expect(config.disks.find((d) => !d.empty && d.vdev === 'hda')).toMatchObject({ path: "it's\\here.img" });
  });
});
