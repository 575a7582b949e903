/**
 * The four sample files of docs/domain-config.md, verbatim (test/config/samples/), and the
 * values each must produce.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateMac } from '../../src/config/vif.ts';
import { parseDomainConfig } from '../../src/config/parse-domain-config.ts';

const sample = (name: string) => readFileSync(join(import.meta.dirname, 'samples', name), 'utf8');
const parseSample = (name: string) => parseDomainConfig(sample(name), { fileName: name });

describe('sample 1: Windows XP install (xm, ACPI and APIC off)', () => {
  const { config, warnings } = parseSample('winxp-xm.cfg');
  it('has the values of the file', () => {
    expect(config).toMatchObject({
      name: 'winxp', memoryMiB: 512, maxmemMiB: 512, vcpus: 1, pae: false, acpi: false, apic: false,
      boot: ['d'], onPoweroff: 'destroy', onReboot: 'destroy', onCrash: 'destroy',
      serial: { mode: 'pty', console: true }, directKernel: null, usb: { enabled: false, devices: [] },
    });
    expect(config.display).toMatchObject({ vga: 'stdvga', requested: 'cirrus', sdl: false, vnc: true, vncconsole: false });
  });
  it('has the disk and the install CD on hdc', () => {
    expect(config.disks).toEqual([
      {
        empty: false, index: 0, type: 'file', path: '/root/xenimages/winXP128.img', vdev: 'hda', channel: 0, unit: 0,
        media: 'disk', mode: 'w', spec: 'file:/root/xenimages/winXP128.img,hda,w', source: { line: 11, column: 10 },
      },
      {
        empty: false, index: 1, type: 'file', path: '/root/xenimages/en_winxp_pro_with_sp2.iso', vdev: 'hdc', channel: 1,
        unit: 0, media: 'cdrom', mode: 'r', spec: 'file:/root/xenimages/en_winxp_pro_with_sp2.iso,hdc:cdrom,r',
        source: { line: 12, column: 10 },
      },
    ]);
  });
  it('has one RTL8139 on xenbr0 with a MAC generated from the name', () => {
    expect(config.nics).toMatchObject([{ bridge: 'xenbr0', model: 'rtl8139', mac: generateMac('winxp', 0), macGenerated: true }]);
  });
  it('notes what it ignores and warns about Cirrus', () => {
    expect(warnings.map((w) => `${w.line}:${w.severity}:${w.key}`)).toEqual([
      '1:note:kernel', '9:note:cpus', '16:note:device_model', '21:warning:stdvga',
    ]);
  });
});

describe('sample 2: florizel (xm with the Python preamble)', () => {
  const { config, warnings } = parseSample('florizel-preamble.cfg');
  it('boots despite the preamble', () => {
    expect(config).toMatchObject({ name: 'florizel', memoryMiB: 384, vcpus: 1, boot: ['c', 'd', 'a'], serial: { mode: 'pty' } });
    expect(config.disks).toMatchObject([
      { path: '/opt/florizel.img', vdev: 'hda', media: 'disk', mode: 'w' },
      { path: '/root/slackware-12.0-install-dvd.iso', vdev: 'hdc', media: 'cdrom', mode: 'r' },
    ]);
    expect(config.nics).toMatchObject([{ type: 'ioemu', bridge: 'xenbr0', model: 'rtl8139', macGenerated: true }]);
  });
  it('warns about each preamble line it skipped, naming the line', () => {
    const byLine = warnings.map((w) => `${w.line}:${w.severity}:${w.key ?? ''}:${w.message}`);
    expect(byLine.slice(0, 4)).toEqual([
      "1:warning::skipped Python 'import' statement: WebHVM does not run Python code",
      "2:warning:arch:not evaluated (attribute access (Python)); anything built from 'arch' is skipped",
      "3:warning::skipped Python 'if' statement (lines 3-6): WebHVM does not run Python code",
      "7:warning:device_model:not evaluated ('arch_libdir' is set by the skipped statement at line 3); the key is ignored anyway",
    ]);
    expect(warnings.map((w) => `${w.line}:${w.key}`)).toEqual(expect.arrayContaining(['11:shadow_memory', '19:stdvga']));
  });
});

describe('sample 3: hal (ACPI off, USB tablet, fixed MAC)', () => {
  const { config, warnings } = parseSample('hal.cfg');
  it('has the values of the file', () => {
    expect(config).toMatchObject({
      name: 'hal', uuid: '5b001f4d-7891-90d8-2f55-96a56e8d07df', memoryMiB: 512, maxmemMiB: 512, vcpus: 1,
      boot: ['c'], pae: true, acpi: false, apic: false, onPoweroff: 'destroy', onReboot: 'restart', onCrash: 'restart',
      serial: { mode: 'pty' }, usb: { enabled: true, devices: ['tablet'] },
    });
    expect(config.display).toMatchObject({ keymap: 'en-us', vncunused: true, vnc: true, sdl: false });
    expect(config.disks).toMatchObject([{ type: 'file', path: '/var/lib/xen/images/falstaff.img', vdev: 'hda', mode: 'w' }]);
    expect(config.nics).toMatchObject([{ mac: '00:16:3e:7e:f3:15', macGenerated: false, bridge: 'virbr0', type: 'ioemu' }]);
  });
  it('only notes the loader and the device model', () => {
    expect(warnings.map((w) => `${w.severity}:${w.key}`)).toEqual(['note:kernel', 'note:device-model']);
  });
});

describe('sample 4: winxp with numbers in quotes', () => {
  const { config, warnings } = parseSample('winxp-quoted-numbers.cfg');
  it('reads quoted numbers as numbers', () => {
    expect(config).toMatchObject({ name: 'winxp', memoryMiB: 1024, vcpus: 2, apic: true, acpi: true, boot: ['c'] });
  });
  it('has the LVM disk and the loop CD-ROM on ioemu:hdc', () => {
    expect(config.disks).toMatchObject([
      { type: 'phy', path: '/dev/vg01/winxp0', vdev: 'hda', media: 'disk', mode: 'w' },
      { type: 'phy', path: '/dev/loop0', vdev: 'hdc', media: 'cdrom', mode: 'r', spec: 'phy:/dev/loop0,ioemu:hdc:cdrom,r' },
    ]);
    expect(config.nics).toMatchObject([{ bridge: 'eth0', mac: '00:16:3e:38:d4:15' }]);
    expect(config.display.vnclisten).toBe('');
    expect(config.serial).toEqual({ mode: 'vc', console: true });
  });
  it('notes dhcp and vncviewer', () => {
    expect(warnings.map((w) => w.key)).toEqual(['kernel', 'device_model', 'dhcp', 'vncviewer']);
  });
});

describe('parseDomainConfig', () => {
  it('ignores a byte-order mark and CRLF line ends', () => {
    const { config } = parseDomainConfig("\ufeffname = 'w'\r\nbuilder = 'hvm'\r\nmemory = 64\r\n");
    expect(config).toMatchObject({ name: 'w', memoryMiB: 64 });
  });
  it('uses domain.cfg in messages when no file name is given', () => {
    expect(() => parseDomainConfig("builder='hvm'\nname='x'\nmemory = 0\n")).toThrow(/^domain\.cfg:3:10: memory:/);
  });
  it('gives a result that survives structured cloning (it crosses to the worker)', () => {
    const { config } = parseSample('hal.cfg');
    expect(structuredClone(config)).toEqual(config);
  });
});
