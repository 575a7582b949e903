import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/diagnostics.ts';
import { cfg, parse, problemsOf, warningsOf } from './helpers.ts';

const config = (...lines: string[]) => parse(cfg(...lines)).config;

describe('defaults (xl, HVM)', () => {
  it('fills in xl defaults for everything not set', () => {
    const c = config();
    expect(c).toMatchObject({
      name: 't', uuid: null, memoryMiB: 32, maxmemMiB: 32, vcpus: 1, acpi: true, apic: true, pae: true,
      boot: ['c', 'd'], disks: [], nics: [], serial: { mode: 'vc', console: true }, usb: { enabled: false, devices: [] },
      localtime: false, rtcTimeOffsetSeconds: 0, soundhw: null, onPoweroff: 'destroy', onReboot: 'restart', onCrash: 'destroy',
      monitor: false, directKernel: null, fda: { path: null }, fdb: { path: null },
    });
    expect(c.display).toMatchObject({ vga: 'stdvga', requested: 'cirrus', keymap: 'en-us', vnc: true, sdl: false, nographic: false });
  });
});

describe('name and uuid', () => {
  it('keeps the name', () => expect(config().name).toBe('t'));
  it('requires a name, as xl does', () => {
    expect(problemsOf("builder = 'hvm'\n")).toEqual(["guest.cfg:1:1: name: missing: every domain needs a name (name = 'myvm'), as in xl"]);
  });
  it('does not call a malformed name missing', () => {
    expect(problemsOf("builder='hvm'\nname = 'winxp\n")).toEqual([
      "guest.cfg:2:8: unterminated string: expected a closing ' before the end of the line",
    ]);
  });
  it('refuses an empty or unquoted name', () => {
    expect(problemsOf("builder='hvm'\nname = ''")).toEqual(["guest.cfg:2:8: name: expected the VM's name, got ''"]);
    expect(problemsOf("builder='hvm'\nname = 5")).toEqual(['guest.cfg:2:8: name: expected a string in quotes, got 5']);
  });
  it('normalizes a UUID and refuses a malformed one', () => {
    expect(config("uuid = '5B001F4D789190D82F5596A56E8D07DF'").uuid).toBe('5b001f4d-7891-90d8-2f55-96a56e8d07df');
    expect(problemsOf(cfg("uuid = '5b001f4d-7891'"))[0]).toMatch(/^guest\.cfg:2:8: uuid: expected 32 hexadecimal digits/);
  });
});

describe('memory and maxmem', () => {
  it('reads MiB, also from a quoted string', () => {
    expect(config('memory = 512').memoryMiB).toBe(512);
    expect(config("memory = '1024'").memoryMiB).toBe(1024);
    expect(config('memory = 0x100').memoryMiB).toBe(256);
  });
  it('uses maxmem when memory is missing, and memory for maxmem', () => {
    expect(config('maxmem = 256')).toMatchObject({ memoryMiB: 256, maxmemMiB: 256 });
    expect(config('memory = 256')).toMatchObject({ memoryMiB: 256, maxmemMiB: 256 });
  });
  it('warns that a larger maxmem gives no balloon', () => {
    const r = parse(cfg('memory = 256', 'maxmem = 512'));
    expect(r.config).toMatchObject({ memoryMiB: 256, maxmemMiB: 512 });
    expect(r.warnings.map((w) => w.key)).toContain('maxmem');
  });
  it('refuses a maxmem below memory', () => {
    expect(problemsOf(cfg('memory = 512', 'maxmem = 256'))).toEqual([
      'guest.cfg:3:10: maxmem: expected at least memory (512 MiB, line 2), got 256',
    ]);
  });
  it('refuses impossible and mistyped amounts with line, column and what was expected', () => {
    expect(problemsOf(cfg('', '', '', '', '', 'memory = lots'))).toEqual([
      "guest.cfg:7:10: memory: expected a whole number of MiB (1-3072), got 'lots'",
    ]);
    expect(problemsOf(cfg('memory = 0'))).toEqual(['guest.cfg:2:10: memory: expected a whole number of MiB (1-3072), got 0']);
    expect(problemsOf(cfg('memory = 4096'))[0]).toMatch(/got 4096$/);
    expect(problemsOf(cfg('memory = 1.5'))[0]).toMatch(/got 1\.5$/);
    expect(problemsOf(cfg("memory = '512M'"))[0]).toMatch(/got '512M'$/);
    expect(problemsOf(cfg('memory = [512]'))[0]).toMatch(/got a list$/);
  });
});

describe('vcpus, acpi, apic, pae', () => {
  it('reads vcpus 1-8, also quoted', () => {
    expect(config("vcpus = '2'").vcpus).toBe(2);
    expect(config('vcpus = 8').vcpus).toBe(8);
  });
  it('refuses vcpus=0 and more than 8', () => {
    expect(problemsOf(cfg('vcpus = 0'))).toEqual(['guest.cfg:2:9: vcpus: expected a number of virtual CPUs (1-8), got 0']);
    expect(problemsOf(cfg('vcpus = 9'))[0]).toMatch(/got 9$/);
  });
  it('refuses SMP without APIC', () => {
    expect(problemsOf(cfg('apic = 0', 'vcpus = 2'))).toEqual([
      'guest.cfg:3:9: vcpus: 2 virtual CPUs need apic=1 (line 2 sets apic=0): without local APICs there is no SMP',
    ]);
  });
  it('reads booleans as numbers, quoted numbers, True/False and yes/no', () => {
    expect(config('acpi = 0', 'apic = False', "pae = 'no'")).toMatchObject({ acpi: false, apic: false, pae: false });
    expect(config('acpi = 1', "apic = '1'", 'pae = True')).toMatchObject({ acpi: true, apic: true, pae: true });
    expect(config('acpi = 2').acpi).toBe(true);
  });
  it('refuses a boolean of the wrong type', () => {
    expect(problemsOf(cfg("acpi = 'maybe'"))).toEqual(["guest.cfg:2:8: acpi: expected 0 or 1, got 'maybe'"]);
    expect(problemsOf(cfg('pae = [1]'))[0]).toMatch(/pae: expected 0 or 1, got a list/);
  });
});

describe('boot', () => {
  it('keeps the order as written', () => {
    expect(config("boot = 'dca'", "fda = '/f.img'", "disk = ['file:/x,hda,w', 'file:/y,hdc:cdrom,r']").boot).toEqual(['d', 'c', 'a']);
    expect(config("boot = 'n'", "vif = ['']").boot).toEqual(['n']);
  });
  it('refuses unknown letters, pointing at the letter', () => {
    expect(problemsOf(cfg("boot = 'x'"))).toEqual([
      "guest.cfg:2:9: boot: unknown boot device 'x' in 'x': expected a (floppy), c (hard disk), d (CD-ROM) or n (network)",
    ]);
    expect(problemsOf(cfg("boot = 'cdz'"))[0]).toMatch(/^guest\.cfg:2:11: boot: unknown boot device 'z'/);
    expect(problemsOf(cfg("boot = ''"))[0]).toMatch(/expected one or more of/);
  });
  it('warns about a boot device that does not exist', () => {
    expect(warningsOf(cfg("boot = 'd'")).join('\n')).toMatch(/no disk entry is a CD-ROM/);
    expect(warningsOf(cfg("boot = 'cc'", "disk = ['file:/x,hda,w']")).join('\n')).toMatch(/'c' appears twice/);
  });
});

describe('disk', () => {
  it('parses the entries into drives', () => {
    const c = config("disk = [ 'file:/x.img,hda,w', 'phy:/dev/loop0,ioemu:hdc:cdrom,r', '', 'tap:aio:/y.img,hdb,r' ]");
    expect(c.disks).toMatchObject([
      { empty: false, index: 0, type: 'file', path: '/x.img', vdev: 'hda', channel: 0, unit: 0, media: 'disk', mode: 'w' },
      { empty: false, index: 1, type: 'phy', path: '/dev/loop0', vdev: 'hdc', channel: 1, unit: 0, media: 'cdrom', mode: 'r' },
      { empty: true, index: 2 },
      { empty: false, index: 3, type: 'tap:aio', vdev: 'hdb', channel: 0, unit: 1 },
    ]);
  });
  it('refuses an unknown vdev, pointing into the entry', () => {
    expect(problemsOf(cfg("disk = [ 'file:/x.img,xvda,w' ]"))).toEqual([
      "guest.cfg:2:23: disk: unknown vdev 'xvda': expected hda, hdb, hdc or hdd, optionally written ioemu:hdX and followed by :cdrom (WebHVM emulates IDE only: use hda-hdd)",
    ]);
  });
  it('refuses two drives in one position', () => {
    expect(problemsOf(cfg("disk = [ 'file:/a,hda,w', 'file:/b,hda,w' ]"))[0]).toMatch(/hda is used twice \(also by the entry at 2:10\)/);
  });
  it('refuses a disk entry that is not a string', () => {
    expect(problemsOf(cfg('disk = [ 5 ]'))[0]).toMatch(/^guest\.cfg:2:10: disk: expected a disk entry in quotes/);
  });
});

describe('fda and fdb', () => {
  it('keeps the floppy images; an empty string is an empty drive', () => {
    const c = config("fda = '/iso/winxp.img'", "fdb = ''");
    expect(c.fda).toEqual({ path: '/iso/winxp.img', source: { line: 2, column: 7 } });
    expect(c.fdb.path).toBeNull();
  });
  it('refuses a floppy that is not a path', () => {
    expect(problemsOf(cfg('fda = 1'))[0]).toMatch(/fda: expected an image path in quotes, got 1/);
  });
});

describe('vif', () => {
  it('parses cards with defaults and a generated MAC', () => {
    const c = config("vif = [ 'type=ioemu, bridge=br1, mac=00:16:3E:7E:F3:15, model=rtl8139', '' ]");
    expect(c.nics).toMatchObject([
      { index: 0, mac: '00:16:3e:7e:f3:15', macGenerated: false, bridge: 'br1', model: 'rtl8139', type: 'ioemu' },
      { index: 1, macGenerated: true, bridge: 'xenbr0', model: 'rtl8139' },
    ]);
    expect(c.nics[1]!.mac).toMatch(/^00:16:3e:[0-7][0-9a-f](:[0-9a-f]{2}){2}$/);
  });
  it('refuses other card models, saying only rtl8139 is supported', () => {
    expect(problemsOf(cfg("vif = [ 'model=e1000' ]"))).toEqual([
      "guest.cfg:2:16: vif: model 'e1000': WebHVM does not emulate the e1000 yet; only rtl8139 is supported now (the default: leave model out)",
    ]);
  });
  it('refuses a repeated MAC', () => {
    expect(problemsOf(cfg("vif = [ 'mac=00:16:3e:00:00:01', 'mac=00:16:3e:00:00:01' ]"))[0]).toMatch(/MAC 00:16:3e:00:00:01 is used twice/);
  });
});

describe('serial', () => {
  it('accepts pty, null, none, stdio, vc and file:PATH, also as a list', () => {
    expect(config("serial = 'pty'").serial).toEqual({ mode: 'pty', console: true });
    expect(config("serial = 'null'").serial).toEqual({ mode: 'null', console: false });
    expect(config("serial = 'none'").serial).toEqual({ mode: 'none', console: false });
    expect(config("serial = 'stdio'").serial).toEqual({ mode: 'stdio', console: true });
    expect(config("serial = 'file:/tmp/com1.log'").serial).toEqual({ mode: 'file', path: '/tmp/com1.log', console: false });
    expect(config("serial = [ 'pty' ]").serial.mode).toBe('pty');
  });
  it('defaults to the console, stdio when nographic', () => {
    expect(config('nographic = 1').serial).toEqual({ mode: 'stdio', console: true });
  });
  it('refuses other devices', () => {
    expect(problemsOf(cfg("serial = 'tcp:1.2.3.4:5'"))).toEqual([
      "guest.cfg:2:10: serial: expected 'pty', 'null', 'none', 'file:PATH' or 'stdio', got 'tcp:1.2.3.4:5'",
    ]);
  });
  it('warns that only COM1 is configured', () => {
    expect(warningsOf(cfg("serial = [ 'pty', 'null' ]")).join('\n')).toMatch(/only COM1/);
  });
});

describe('display keys', () => {
  it('accepts the VNC/SDL keys and keeps keymap', () => {
    const c = config('vnc = 0', 'sdl = 1', 'vncconsole = 1', 'vncunused = 1', "vnclisten = '0.0.0.0'", "vncpasswd = 's'", "keymap = 'de'");
    expect(c.display).toMatchObject({ vnc: false, sdl: true, vncconsole: true, vncunused: true, vnclisten: '0.0.0.0', vncpasswdSet: true, keymap: 'de' });
  });
  it('keeps nographic', () => expect(config('nographic = 1').display.nographic).toBe(true));
  it('warns that stdvga=0 (Cirrus) gets the standard VGA', () => {
    const r = parse(cfg('stdvga = 0'));
    expect(r.config.display).toMatchObject({ vga: 'stdvga', requested: 'cirrus' });
    expect(r.warnings).toMatchObject([{ severity: 'warning', key: 'stdvga', line: 2 }]);
    expect(r.warnings[0]!.message).toMatch(/no Cirrus model yet and uses the standard VGA/);
    const s = parse(cfg('stdvga = 1'));
    expect(s.config.display.requested).toBe('stdvga');
    expect(s.warnings).toEqual([]);
  });
  it("reads xl's vga key", () => {
    expect(config("vga = 'stdvga'").display.requested).toBe('stdvga');
    expect(warningsOf(cfg("vga = 'cirrus'")).join()).toMatch(/Cirrus/);
    expect(problemsOf(cfg("vga = 'tga'"))[0]).toMatch(/vga: expected 'stdvga', 'cirrus' or 'none', got 'tga'/);
  });
  it('refuses an unquoted keymap', () => {
    expect(problemsOf(cfg('keymap = de'))[0]).toBe("guest.cfg:2:10: keymap: expected a keyboard layout such as 'en-us', got 'de'");
  });
});

describe('usb and usbdevice', () => {
  it('usb=1 gives a controller; usbdevice implies it', () => {
    expect(config('usb = 1').usb).toEqual({ enabled: true, devices: [] });
    expect(config("usbdevice = 'tablet'").usb).toEqual({ enabled: true, devices: ['tablet'] });
    expect(config("usbdevice = [ 'mouse' ]").usb).toEqual({ enabled: true, devices: ['mouse'] });
    expect(warningsOf(cfg('usb = 0', "usbdevice = 'tablet'")).join()).toMatch(/usb=1 is used/);
  });
  it('refuses other USB devices', () => {
    expect(problemsOf(cfg("usbdevice = 'host:1234:5678'"))).toEqual([
      "guest.cfg:2:13: usbdevice: expected 'tablet' or 'mouse', got 'host:1234:5678' (host USB devices cannot be passed to a browser)",
    ]);
  });
});

describe('clock', () => {
  it('reads localtime and rtc_timeoffset (negative, quoted)', () => {
    expect(config('localtime = 1', 'rtc_timeoffset = -3600')).toMatchObject({ localtime: true, rtcTimeOffsetSeconds: -3600 });
    expect(config("rtc_timeoffset = '3600'").rtcTimeOffsetSeconds).toBe(3600);
  });
  it('refuses a non-integer offset', () => {
    expect(problemsOf(cfg("rtc_timeoffset = '1h'"))[0]).toMatch(/rtc_timeoffset: expected a whole number of seconds, got '1h'/);
  });
});

describe('soundhw', () => {
  it('is accepted with a warning that there is no sound card', () => {
    const r = parse(cfg("soundhw = 'sb16'"));
    expect(r.config.soundhw).toBe('sb16');
    expect(r.warnings).toMatchObject([{ key: 'soundhw', severity: 'warning', message: 'there is no sound card yet: the guest gets no sb16' }]);
  });
});

describe('on_poweroff, on_reboot, on_crash', () => {
  it('reads destroy, restart and preserve', () => {
    expect(config("on_poweroff = 'preserve'", "on_reboot = 'destroy'", "on_crash = 'restart'")).toMatchObject({
      onPoweroff: 'preserve', onReboot: 'destroy', onCrash: 'restart',
    });
  });
  it("maps xl's extra actions with a warning", () => {
    const r = parse(cfg("on_poweroff = 'rename-restart'", "on_reboot = 'coredump-restart'", "on_crash = 'coredump-destroy'"));
    expect(r.config).toMatchObject({ onPoweroff: 'restart', onReboot: 'restart', onCrash: 'preserve' });
    expect(r.warnings.map((w) => w.key)).toEqual(['on_poweroff', 'on_reboot', 'on_crash']);
  });
  it('refuses unknown actions', () => {
    expect(problemsOf(cfg("on_crash = 'explode'"))).toEqual(["guest.cfg:2:12: on_crash: expected 'destroy', 'restart' or 'preserve', got 'explode'"]);
  });
});

describe('monitor', () => {
  it('is a boolean', () => {
    expect(config('monitor = 1').monitor).toBe(true);
    expect(problemsOf(cfg("monitor = 'x'"))[0]).toMatch(/monitor: expected 0 or 1/);
  });
});

describe('builder and type', () => {
  it('accepts hvm and HVM', () => {
    expect(parse("name='a'\nbuilder='HVM'").config.name).toBe('a');
    expect(parse("name='a'\ntype='hvm'").config.name).toBe('a');
  });
  it('refuses other builders, explaining that WebHVM runs HVM guests only', () => {
    expect(problemsOf("name='a'\nbuilder = 'linux'")).toEqual([
      "guest.cfg:2:11: builder: 'linux' builds a paravirtualised (PV) guest, which needs the Xen hypervisor; WebHVM runs HVM guests only: expected 'hvm'",
    ]);
    expect(problemsOf("name='a'\ntype = 'pv'")[0]).toMatch(/WebHVM runs HVM guests only/);
  });
  it('warns when neither is set', () => {
    expect(warningsOf("name='a'\n")).toEqual([
      "guest.cfg:1:1: warning: neither builder='hvm' nor type='hvm' is set: xl would build a PV guest; WebHVM builds an HVM guest",
    ]);
  });
});

describe('kernel, ramdisk, cmdline, extra, root', () => {
  it('ignores hvmloader with a note', () => {
    const r = parse(cfg("kernel = '/usr/lib/xen/boot/hvmloader'"));
    expect(r.config.directKernel).toBeNull();
    expect(r.warnings).toMatchObject([{ severity: 'note', key: 'kernel' }]);
  });
  it('keeps a real kernel for direct kernel boot', () => {
    const c = config("kernel = '/boot/vmlinuz'", "ramdisk = '/boot/initrd.img'", "root = '/dev/hda1'", "extra = 'console=ttyS0'");
    expect(c.directKernel).toEqual({
      kernel: '/boot/vmlinuz', ramdisk: '/boot/initrd.img', cmdline: 'root=/dev/hda1 console=ttyS0',
      kernelSource: { line: 2, column: 10 }, ramdiskSource: { line: 3, column: 11 },
    });
    expect(config("kernel = '/boot/vmlinuz'", "cmdline = 'quiet'", "extra = 'x'").directKernel!.cmdline).toBe('quiet');
  });
  it('warns that ramdisk/cmdline mean nothing without a kernel', () => {
    expect(warningsOf(cfg("cmdline = 'quiet'"))).toEqual([
      'guest.cfg:2:11: warning: cmdline: only used with direct kernel boot (kernel naming a Linux kernel): ignored',
    ]);
  });
});

describe('ignored keys', () => {
  it.each([
    ["device_model = 'qemu-dm'", 'device_model'],
    ["device-model = '/usr/lib/xen/bin/qemu-dm'", 'device-model'],
    ['shadow_memory = 16', 'shadow_memory'],
    ['hap = 1', 'hap'],
    ["cpus = ''", 'cpus'],
    ["dhcp = 'dhcp'", 'dhcp'],
    ['vncviewer = 0', 'vncviewer'],
  ])('%s is accepted with a note', (line, key) => {
    expect(parse(cfg(line)).warnings).toMatchObject([{ severity: 'note', key, line: 2, column: 1 }]);
  });
  it('warns about settings that are impossible here', () => {
    expect(parse(cfg("pci = [ '01:00.0' ]")).warnings).toMatchObject([{ severity: 'warning', key: 'pci' }]);
  });
});

describe('unknown keys, repeats and unevaluated values', () => {
  it('warns about an unknown key', () => {
    expect(warningsOf(cfg('memroy = 512'))).toEqual(['guest.cfg:2:1: warning: memroy: unknown key: ignored (check its spelling)']);
  });
  it('does not warn about a helper variable used later', () => {
    expect(warningsOf(cfg("base = '/images/'", "fda = base + 'f.img'"))).toEqual([]);
  });
  it('warns about a key set twice and uses the last value', () => {
    const r = parse(cfg('memory = 128', 'memory = 256'));
    expect(r.config.memoryMiB).toBe(256);
    expect(r.warnings).toMatchObject([{ line: 3, key: 'memory', message: 'set again (first at line 2): the last value is used' }]);
  });
  it('refuses a used key whose value cannot be evaluated', () => {
    expect(problemsOf(cfg('import os', 'memory = os.sysconf(3)'))).toEqual([
      'guest.cfg:3:10: memory: cannot evaluate the value (attribute access (Python)): expected a literal value',
    ]);
    expect(problemsOf(cfg('import os', "disk = [ 'file:' + os.getcwd() + '/x,hda,w' ]"))).toEqual([
      "guest.cfg:3:20: disk: expected a disk entry in quotes, such as 'file:/images/disk.img,hda,w', got an expression WebHVM does not evaluate (attribute access (Python))",
    ]);
  });
  it('only warns when the value of an ignored key cannot be evaluated', () => {
    expect(warningsOf(cfg('import os', "device_model = os.environ['DM']"))[1]).toBe(
      'guest.cfg:3:1: warning: device_model: not evaluated (attribute access (Python)); the key is ignored anyway',
    );
  });
});

describe('ConfigError', () => {
  it('lists every problem in file order', () => {
    try {
      parse(cfg("boot = 'x'", 'memory = 0', "vif = [ 'model=pcnet' ]", "disk = [ 'file:/x,hdz,w' ]"));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const err = e as ConfigError;
      expect(err.problems.map((p) => [p.line, p.key])).toEqual([[2, 'boot'], [3, 'memory'], [4, 'vif'], [5, 'disk']]);
      expect(err.message.split('\n')).toHaveLength(4);
      expect(err.fileName).toBe('guest.cfg');
    }
  });
  it('carries the warnings found so far', () => {
    try {
      parse(cfg("soundhw = 'sb16'", 'memory = 0'));
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).warnings.map((w) => w.key)).toEqual(['soundhw']);
    }
  });
  it('reports syntax and value problems together', () => {
    expect(problemsOf(cfg("name2 = 'unterminated", 'vcpus = 0'))).toEqual([
      "guest.cfg:2:9: unterminated string: expected a closing ' before the end of the line",
      'guest.cfg:3:9: vcpus: expected a number of virtual CPUs (1-8), got 0',
    ]);
  });
});
