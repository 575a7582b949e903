/**
 * From the file's assignments to a DomainConfig: types, ranges, cross-checks, Xen's xl defaults
 * for an HVM guest, and a warning or note for everything WebHVM does differently or ignores.
 * Problems are collected, not thrown one by one, so that the user sees all of them at once.
 */
import {
  type BootDevice,
  type DiskDrive,
  type DiskEntry,
  type DomainConfig,
  type FloppyDrive,
  type LifecycleAction,
  MAX_MEMORY_MIB,
  MAX_VCPUS,
  type NetworkCard,
  type SerialPort,
} from './domain-config.ts';
import { type ConfigProblem, type ConfigWarning, ConfigError, type SourcePosition, byPosition } from './diagnostics.ts';
import { type EntryReporter, parseDiskEntry } from './disk.ts';
import { type Assignment, type ParsedFile, type Value, describe } from './parser.ts';
import { parseVifEntry } from './vif.ts';
import { isKnownKeymap, KNOWN_KEYMAPS } from './keymap-names.ts';

/** xl's defaults for an HVM guest (xl.cfg(5); memory from libxl's build-info defaults). */
export const XL_DEFAULTS = {
  memoryMiB: 32,
  vcpus: 1,
  acpi: true,
  apic: true,
  pae: true,
  boot: 'cd',
  onPoweroff: 'destroy',
  onReboot: 'restart',
  onCrash: 'destroy',
  keymap: 'en-us',
  vnc: true,
  sdl: false,
  bridge: 'xenbr0',
} as const;

/** Keys WebHVM uses. */
const USED = new Set([
  'name', 'uuid', 'memory', 'maxmem', 'vcpus', 'acpi', 'apic', 'pae', 'boot', 'disk', 'fda', 'fdb', 'vif', 'serial',
  'vnc', 'sdl', 'vncconsole', 'vncunused', 'vnclisten', 'vncpasswd', 'keymap', 'nographic', 'stdvga', 'vga', 'usb',
  'usbdevice', 'localtime', 'rtc_timeoffset', 'soundhw', 'on_poweroff', 'on_reboot', 'on_crash', 'monitor', 'builder',
  'type', 'kernel', 'ramdisk', 'cmdline', 'extra', 'root',
]);

/** Xen keys that mean nothing inside WebHVM: accepted with this note. */
const IGNORED: Record<string, string> = {
  device_model: 'WebHVM is the device model; ignored',
  device_model_version: 'WebHVM is the device model; ignored',
  device_model_override: 'WebHVM is the device model; ignored',
  shadow_memory: 'hypervisor paging memory; ignored',
  hap: 'hardware-assisted paging is a hypervisor setting; ignored',
  oos: 'a hypervisor paging setting; ignored',
  cpus: 'host CPU pinning; ignored',
  cpus_soft: 'host CPU affinity; ignored',
  cpu_weight: 'host scheduler setting; ignored',
  cap: 'host scheduler setting; ignored',
  cpu_cap: 'host scheduler setting; ignored',
  pool: 'host CPU pool; ignored',
  maxvcpus: 'no CPU hot-plug: the guest gets vcpus CPUs; ignored',
  dhcp: 'the built-in gateway of the virtual switch answers DHCP whatever this says; ignored',
  vncviewer: 'the console is the page; ignored',
  vncdisplay: 'the console is the page; ignored',
  opengl: 'the console is the page; ignored',
  xauthority: 'the console is the page; ignored',
  display: 'the console is the page; ignored',
  hpet: 'there is no HPET; ignored',
  viridian: 'no Hyper-V enlightenments; ignored',
  timer_mode: 'a hypervisor timer setting; ignored',
  vpt_align: 'a hypervisor timer setting; ignored',
  tsc_mode: 'a hypervisor timer setting; ignored',
  xen_platform_pci: 'there is no Xen platform device (no paravirtual drivers); ignored',
  nx: 'NX follows pae; ignored',
  videoram: 'the standard VGA has a fixed video memory; ignored',
  hdtype: 'disks are IDE; ignored',
  firmware: 'the firmware is SeaBIOS; ignored',
  bios: 'the firmware is SeaBIOS; ignored',
  on_watchdog: 'there is no Xen watchdog; ignored',
  on_soft_reset: 'there is no soft reset; ignored',
  acpi_s3: 'ignored',
  acpi_s4: 'ignored',
  localtime_offset: 'ignored',
  extid: 'ignored',
  description: 'ignored',
  bootloader: 'a PV bootloader; ignored',
  features: 'a PV setting; ignored',
};
/** Keys that ask for something impossible here: accepted with a warning. */
const UNSUPPORTED: Record<string, string> = {
  pci: 'PCI passthrough of host devices is impossible in WebHVM; ignored',
  usbctrl: 'USB controller lists are not supported; use usb=1; ignored',
  vtpm: 'there is no TPM; ignored',
  vfb: 'virtual framebuffers are PV devices; the console is the page; ignored',
  vkb: 'a PV keyboard; ignored',
  channel: 'PV channels are not supported; ignored',
  spice: 'the console is the page, not SPICE; ignored',
};

const ALIASES: Record<string, string> = { 'device-model': 'device_model' };

const ACTIONS: Record<string, [LifecycleAction, string | undefined]> = {
  destroy: ['destroy', undefined],
  restart: ['restart', undefined],
  preserve: ['preserve', undefined],
  'rename-restart': ['restart', 'WebHVM runs one VM and does not rename it: restart'],
  'coredump-destroy': ['preserve', 'WebHVM writes no core dump; the stopped VM is kept for inspection instead (preserve)'],
  'coredump-restart': ['restart', 'WebHVM writes no core dump: restart'],
  'soft-reset': ['restart', 'there is no soft reset: restart'],
};

const HVMLOADER = /(^|\/)hvmloader$/;

export interface ParseResult {
  config: DomainConfig;
  /** Warnings and notes, in file order. */
  warnings: ConfigWarning[];
}

export function validate(parsed: ParsedFile, fileName: string): ParseResult {
  const problems: ConfigProblem[] = [...parsed.problems];
  const warnings: ConfigWarning[] = [...parsed.warnings];
  const settings = new Map<string, Assignment>();

  const error = (at: SourcePosition, key: string | undefined, message: string) => {
    problems.push(key ? { line: at.line, column: at.column, key, message } : { line: at.line, column: at.column, message });
  };
  const warn = (at: SourcePosition, key: string, message: string, severity: 'warning' | 'note' = 'warning') => {
    warnings.push({ severity, line: at.line, column: at.column, key, message });
  };

  for (const a of parsed.assignments) {
    const key = ALIASES[a.name] ?? a.name;
    const known = USED.has(key) || key in IGNORED || key in UNSUPPORTED;
    if (!known) {
      if (a.value.kind === 'unknown') warn(a, a.name, `not evaluated (${a.value.reason}); anything built from '${a.name}' is skipped`);
      else if (!parsed.referenced.has(a.name)) warn(a, a.name, 'unknown key: ignored (check its spelling)');
      continue;
    }
    const earlier = settings.get(key);
    if (earlier) warn(a, a.name, `set again (first at line ${earlier.line}): the last value is used`);
    settings.set(key, a);
  }

  // Values that could not be evaluated: harmless for an ignored key, fatal for one WebHVM uses.
  for (const [key, a] of settings) {
    if (a.value.kind !== 'unknown') continue;
    if (USED.has(key)) error(a.value.pos, a.name, `cannot evaluate the value (${a.value.reason}): expected a literal value`);
    else warn(a, a.name, `not evaluated (${a.value.reason}); the key is ignored anyway`);
    settings.delete(key);
  }
  for (const [key, a] of settings) {
    if (key in IGNORED) warn(a, a.name, IGNORED[key]!, 'note');
    if (key in UNSUPPORTED) warn(a, a.name, UNSUPPORTED[key]!);
  }

  const get = (key: string) => settings.get(key);
  const at = (key: string): SourcePosition => get(key)?.value.pos ?? { line: 1, column: 1 };

  // --- typed readers: undefined when absent or wrong (after reporting) ---
  const integer = (key: string, expected: string, min: number, max: number): number | undefined => {
    const a = get(key);
    if (!a) return undefined;
    const n = toInteger(a.value);
    if (n === undefined || n < min || n > max) {
      error(a.value.pos, a.name, `expected ${expected}, got ${describe(a.value)}`);
      return undefined;
    }
    return n;
  };
  const boolean = (key: string): boolean | undefined => {
    const a = get(key);
    if (!a) return undefined;
    const b = toBoolean(a.value);
    if (b === undefined) error(a.value.pos, a.name, `expected 0 or 1, got ${describe(a.value)}`);
    return b;
  };
  const string = (key: string, expected = 'a string in quotes'): string | undefined => {
    const a = get(key);
    if (!a) return undefined;
    if (a.value.kind === 'string') return a.value.value;
    error(a.value.pos, a.name, `expected ${expected}, got ${describe(a.value)}`);
    return undefined;
  };
  /** A list of strings; a single string is taken as a list of one (xl allows that for serial/usbdevice). */
  const stringList = (key: string, expected: string): Array<{ value: string; pos: SourcePosition; bodyColumn?: number }> | undefined => {
    const a = get(key);
    if (!a) return undefined;
    const items = a.value.kind === 'list' ? a.value.items : [a.value];
    const out: Array<{ value: string; pos: SourcePosition; bodyColumn?: number }> = [];
    let ok = true;
    for (const item of items) {
      if (item.kind === 'string') {
        const entry: { value: string; pos: SourcePosition; bodyColumn?: number } = { value: item.value, pos: item.pos };
        if (item.bodyColumn !== undefined) entry.bodyColumn = item.bodyColumn;
        out.push(entry);
      } else {
        error(item.pos, a.name, `expected ${expected}, got ${describe(item)}`);
        ok = false;
      }
    }
    return ok ? out : undefined;
  };
  const reporterFor = (key: string, item: { pos: SourcePosition; bodyColumn?: number }): EntryReporter => {
    return (severity, message, offset) => {
      const pos =
        offset !== undefined && item.bodyColumn !== undefined ? { line: item.pos.line, column: item.bodyColumn + offset } : item.pos;
      if (severity === 'error') error(pos, key, message);
      else warn(pos, key, message, severity);
    };
  };

  // --- builder / type ---
  const builder = get('builder');
  const typeKey = get('type');
  if (builder) {
    const b = string('builder');
    if (b !== undefined && b.toLowerCase() !== 'hvm') {
      error(builder.value.pos, 'builder', `'${b}' builds a paravirtualised (PV) guest, which needs the Xen hypervisor; WebHVM runs HVM guests only: expected 'hvm'`);
    }
  }
  if (typeKey) {
    const t = string('type');
    if (t !== undefined && t.toLowerCase() !== 'hvm') {
      error(typeKey.value.pos, 'type', `'${t}' is not an HVM guest; WebHVM runs HVM guests only: expected 'hvm'`);
    }
  }
  if (!builder && !typeKey) {
    warnings.push({
      severity: 'warning',
      line: 1,
      column: 1,
      message: "neither builder='hvm' nor type='hvm' is set: xl would build a PV guest; WebHVM builds an HVM guest",
    });
  }

  // --- identity ---
  let name = string('name');
  if (name !== undefined && name.trim() === '') {
    error(at('name'), 'name', "expected the VM's name, got ''");
    name = undefined;
  }
  if (!parsed.assignments.some((a) => a.name === 'name') && !parsed.malformed.has('name')) {
    problems.push({ line: 1, column: 1, key: 'name', message: "missing: every domain needs a name (name = 'myvm'), as in xl" });
  }
  let uuid: string | null = null;
  const uuidText = string('uuid', 'a UUID in quotes');
  if (uuidText !== undefined) {
    if (/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(uuidText)) {
      const hex = uuidText.replace(/-/g, '').toLowerCase();
      uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    } else {
      error(at('uuid'), 'uuid', `expected 32 hexadecimal digits as xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, got '${uuidText}'`);
    }
  }

  // --- memory and CPUs ---
  const memExpected = `a whole number of MiB (1-${MAX_MEMORY_MIB})`;
  const memory = integer('memory', memExpected, 1, MAX_MEMORY_MIB);
  const maxmem = integer('maxmem', memExpected, 1, MAX_MEMORY_MIB);
  let memoryMiB = memory ?? maxmem ?? XL_DEFAULTS.memoryMiB;
  let maxmemMiB = maxmem ?? memoryMiB;
  if (memory !== undefined && maxmem !== undefined) {
    if (maxmem < memory) {
      error(at('maxmem'), 'maxmem', `expected at least memory (${memory} MiB, line ${get('memory')!.line}), got ${maxmem}`);
    } else if (maxmem > memory) {
      warn(at('maxmem'), 'maxmem', `larger than memory: Xen would start the guest pre-ballooned; WebHVM gives it ${memory} MiB and no balloon`);
    }
  }
  if (memoryMiB > maxmemMiB) maxmemMiB = memoryMiB;
  if (!get('memory') && !get('maxmem')) memoryMiB = XL_DEFAULTS.memoryMiB;

  const vcpus = integer('vcpus', `a number of virtual CPUs (1-${MAX_VCPUS})`, 1, MAX_VCPUS) ?? XL_DEFAULTS.vcpus;
  const acpi = boolean('acpi') ?? XL_DEFAULTS.acpi;
  const apic = boolean('apic') ?? XL_DEFAULTS.apic;
  const pae = boolean('pae') ?? XL_DEFAULTS.pae;
  if (vcpus > 1 && !apic) {
    error(at('vcpus'), 'vcpus', `${vcpus} virtual CPUs need apic=1 (line ${get('apic')!.line} sets apic=0): without local APICs there is no SMP`);
  }

  // --- boot order ---
  let boot: BootDevice[] = [...XL_DEFAULTS.boot] as BootDevice[];
  const bootText = string('boot', "a string of boot devices such as 'cd'");
  if (bootText !== undefined) {
    const a = get('boot')!;
    const bodyColumn = a.value.kind === 'string' ? a.value.bodyColumn : undefined;
    if (bootText === '') error(a.value.pos, 'boot', "expected one or more of a (floppy), c (hard disk), d (CD-ROM), n (network), got ''");
    const order: BootDevice[] = [];
    let ok = bootText !== '';
    [...bootText].forEach((ch, i) => {
      const pos = bodyColumn !== undefined ? { line: a.value.pos.line, column: bodyColumn + i } : a.value.pos;
      if (!'acdn'.includes(ch)) {
        error(pos, 'boot', `unknown boot device '${ch}' in '${bootText}': expected a (floppy), c (hard disk), d (CD-ROM) or n (network)`);
        ok = false;
      } else if (order.includes(ch as BootDevice)) {
        warn(pos, 'boot', `'${ch}' appears twice in '${bootText}': the first place counts`);
      } else order.push(ch as BootDevice);
    });
    if (ok) boot = order;
  }

  // --- disks ---
  const disks: DiskEntry[] = [];
  const diskItems = stringList('disk', "a disk entry in quotes, such as 'file:/images/disk.img,hda,w'");
  diskItems?.forEach((item, index) => {
    const entry = parseDiskEntry(item.value, index, item.pos, reporterFor('disk', item));
    if (!entry) return;
    if (!entry.empty) {
      const clash = disks.find((d): d is DiskDrive => !d.empty && d.vdev === entry.vdev);
      if (clash) {
        error(item.pos, 'disk', `${entry.vdev} is used twice (also by the entry at ${clash.source.line}:${clash.source.column}): expected each of hda, hdb, hdc, hdd at most once`);
        return;
      }
    }
    disks.push(entry);
  });

  const floppy = (key: 'fda' | 'fdb'): FloppyDrive => {
    const path = string(key, 'an image path in quotes');
    if (path === undefined || path === '') return { path: null, source: get(key)?.value.pos ?? null };
    return { path, source: get(key)!.value.pos };
  };
  const fda = floppy('fda');
  const fdb = floppy('fdb');

  // --- network ---
  const nics: NetworkCard[] = [];
  const vifItems = stringList('vif', "a network card in quotes, such as 'bridge=xenbr0'");
  vifItems?.forEach((item, index) => {
    const nic = parseVifEntry(item.value, index, name ?? '', item.pos, reporterFor('vif', item));
    if (!nic) return;
    const clash = nics.find((other) => other.mac === nic.mac);
    if (clash) {
      error(item.pos, 'vif', `MAC ${nic.mac} is used twice (also by the entry at ${clash.source.line}:${clash.source.column}): expected a different address per card`);
      return;
    }
    nics.push(nic);
  });

  // --- display ---
  const nographic = boolean('nographic') ?? false;
  let requested: 'stdvga' | 'cirrus' = 'cirrus';
  const stdvga = boolean('stdvga');
  if (stdvga !== undefined) requested = stdvga ? 'stdvga' : 'cirrus';
  const vga = string('vga', "'stdvga', 'cirrus' or 'none'");
  if (vga !== undefined) {
    if (vga === 'stdvga') requested = 'stdvga';
    else if (vga === 'cirrus') requested = 'cirrus';
    else if (vga === 'none') warn(at('vga'), 'vga', "there is always a VGA card: the standard VGA is used (set nographic=1 for a serial-only console)");
    else if (vga === 'qxl') warn(at('vga'), 'vga', 'there is no QXL card: the standard VGA is used');
    else error(at('vga'), 'vga', `expected 'stdvga', 'cirrus' or 'none', got '${vga}'`);
  }
  if (stdvga === false || vga === 'cirrus') {
    const key = vga === 'cirrus' ? 'vga' : 'stdvga';
    warn(at(key), key, 'asks for a Cirrus Logic GD5446 card; WebHVM has no Cirrus model yet and uses the standard VGA (VBE)');
  }
  const keymap = string('keymap', "a keyboard layout such as 'en-us'") ?? XL_DEFAULTS.keymap;
  if (!isKnownKeymap(keymap)) {
    warn(at('keymap'), 'keymap', `no '${keymap}' layout: text typed for the guest uses en-us (known: ${KNOWN_KEYMAPS.join(', ')}); keys pressed on the page are not affected`);
  }
  const vnclisten = string('vnclisten', 'an address in quotes');
  const vncpasswd = string('vncpasswd', 'a password in quotes');

  // --- serial ---
  let serial: SerialPort = nographic ? { mode: 'stdio', console: true } : { mode: 'vc', console: true };
  const serialItems = stringList('serial', "'pty', 'null', 'none', 'file:PATH' or 'stdio'");
  if (serialItems && serialItems.length > 0) {
    const s = serialItems[0]!;
    const parsedSerial = parseSerial(s.value);
    if (parsedSerial) serial = parsedSerial;
    else error(s.pos, 'serial', `expected 'pty', 'null', 'none', 'file:PATH' or 'stdio', got '${s.value}'`);
    for (const extra of serialItems.slice(1)) warn(extra.pos, 'serial', `only COM1 is configurable: '${extra.value}' ignored`);
  }

  // --- USB ---
  let usb = boolean('usb') ?? false;
  const usbDevices: Array<'tablet' | 'mouse'> = [];
  for (const d of stringList('usbdevice', "'tablet' or 'mouse'") ?? []) {
    if (d.value === 'tablet' || d.value === 'mouse') {
      if (!usbDevices.includes(d.value)) usbDevices.push(d.value);
    } else {
      const why = d.value.startsWith('host:') ? ' (host USB devices cannot be passed to a browser)' : '';
      error(d.pos, 'usbdevice', `expected 'tablet' or 'mouse', got '${d.value}'${why}`);
    }
  }
  if (usbDevices.length > 0 && !usb) {
    if (get('usb')) warn(at('usb'), 'usb', 'usbdevice needs a USB controller: usb=1 is used');
    usb = true;
  }

  // --- clock ---
  const localtime = boolean('localtime') ?? false;
  const rtcTimeOffsetSeconds = integer('rtc_timeoffset', 'a whole number of seconds', -(2 ** 31), 2 ** 31 - 1) ?? 0;

  // --- sound ---
  let soundhw: string | null = null;
  const sound = string('soundhw', "a sound card name such as 'sb16'");
  if (sound !== undefined && sound !== '') {
    soundhw = sound;
    warn(at('soundhw'), 'soundhw', `there is no sound card yet: the guest gets no ${sound}`);
  }

  // --- lifecycle ---
  const action = (key: 'on_poweroff' | 'on_reboot' | 'on_crash', fallback: LifecycleAction): LifecycleAction => {
    const text = string(key, "'destroy', 'restart' or 'preserve'");
    if (text === undefined) return fallback;
    const mapped = ACTIONS[text];
    if (!mapped) {
      error(at(key), key, `expected 'destroy', 'restart' or 'preserve', got '${text}'`);
      return fallback;
    }
    if (mapped[1]) warn(at(key), key, `'${text}': ${mapped[1]}`);
    return mapped[0];
  };
  const onPoweroff = action('on_poweroff', XL_DEFAULTS.onPoweroff);
  const onReboot = action('on_reboot', XL_DEFAULTS.onReboot);
  const onCrash = action('on_crash', XL_DEFAULTS.onCrash);

  const monitor = boolean('monitor') ?? false;
  const vnc = boolean('vnc') ?? XL_DEFAULTS.vnc;
  const sdl = boolean('sdl') ?? XL_DEFAULTS.sdl;
  const vncconsole = boolean('vncconsole') ?? false;
  const vncunused = boolean('vncunused') ?? false;

  // --- kernel: hvmloader (ignored) or direct kernel boot ---
  let directKernel: DomainConfig['directKernel'] = null;
  const kernel = string('kernel', 'a path in quotes');
  const ramdisk = string('ramdisk', 'a path in quotes');
  const cmdline = string('cmdline');
  const extra = string('extra');
  const root = string('root');
  if (kernel !== undefined && kernel !== '' && !HVMLOADER.test(kernel)) {
    let line = cmdline ?? [root !== undefined && root !== '' ? `root=${root}` : '', extra ?? ''].filter((s) => s !== '').join(' ');
    if (cmdline !== undefined && (root !== undefined || extra !== undefined)) {
      const key = root !== undefined ? 'root' : 'extra';
      warn(at(key), key, 'cmdline is set, so root and extra are ignored (as in xl)');
      line = cmdline;
    }
    const hasRamdisk = ramdisk !== undefined && ramdisk !== '';
    directKernel = {
      kernel,
      ramdisk: hasRamdisk ? ramdisk : null,
      cmdline: line,
      kernelSource: at('kernel'),
      ramdiskSource: hasRamdisk ? at('ramdisk') : null,
    };
    warn(at('kernel'), 'kernel', 'not hvmloader: direct kernel boot (the BIOS is skipped and this kernel is loaded)', 'note');
  } else {
    if (kernel !== undefined) warn(at('kernel'), 'kernel', "Xen's HVM firmware loader; WebHVM boots SeaBIOS instead: ignored", 'note');
    for (const key of ['ramdisk', 'cmdline', 'extra', 'root']) {
      if (get(key)) warn(at(key), key, 'only used with direct kernel boot (kernel naming a Linux kernel): ignored');
    }
  }

  // --- cross-checks that help a first boot ---
  const hasCdrom = disks.some((d) => !d.empty && d.media === 'cdrom');
  const hasDisk = disks.some((d) => !d.empty && d.media === 'disk');
  if (bootText !== undefined && !directKernel) {
    const bp = at('boot');
    if (boot.includes('d') && !hasCdrom) warn(bp, 'boot', "'d' (CD-ROM) is in the boot order but no disk entry is a CD-ROM (VDEV:cdrom)");
    if (boot.includes('c') && !hasDisk && boot.length === 1) warn(bp, 'boot', "'c' (hard disk) is the only boot device but there is no hard disk");
    if (boot.includes('a') && fda.path === null) warn(bp, 'boot', "'a' (floppy) is in the boot order but fda is not set");
    if (boot.includes('n') && nics.length === 0) warn(bp, 'boot', "'n' (network) is in the boot order but there is no vif");
  }

  if (problems.length > 0) throw new ConfigError(fileName, problems, warnings);

  const config: DomainConfig = {
    name: name!,
    uuid,
    memoryMiB,
    maxmemMiB,
    vcpus,
    acpi,
    apic,
    pae,
    boot,
    disks,
    fda,
    fdb,
    nics,
    serial,
    display: {
      vga: 'stdvga',
      requested,
      nographic,
      keymap,
      vnc,
      sdl,
      vncconsole,
      vncunused,
      vnclisten: vnclisten ?? null,
      vncpasswdSet: vncpasswd !== undefined && vncpasswd !== '',
    },
    usb: { enabled: usb, devices: usbDevices },
    localtime,
    rtcTimeOffsetSeconds,
    soundhw,
    onPoweroff,
    onReboot,
    onCrash,
    monitor,
    directKernel,
  };
  return { config, warnings: warnings.sort(byPosition) };
}

/** An integer, or a string holding one (`memory = '1024'`); True/False count as 1/0. */
function toInteger(v: Value): number | undefined {
  if (v.kind === 'int') return v.value;
  if (v.kind === 'string') {
    const t = v.value.trim();
    if (/^[+-]?\d+$/.test(t)) return parseInt(t, 10);
    if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t.slice(2), 16);
  }
  return undefined;
}

/** xl's BOOLEAN (a number, 0 false), also as a string, and xm's yes/no/true/false. */
function toBoolean(v: Value): boolean | undefined {
  if (v.kind === 'int') return v.value !== 0;
  if (v.kind === 'string') {
    const t = v.value.trim().toLowerCase();
    if (/^[+-]?\d+$/.test(t)) return parseInt(t, 10) !== 0;
    if (t === 'yes' || t === 'true' || t === 'on') return true;
    if (t === 'no' || t === 'false' || t === 'off') return false;
  }
  return undefined;
}

function parseSerial(text: string): SerialPort | undefined {
  switch (text) {
    case 'pty':
    case 'vc':
    case 'stdio':
      return { mode: text, console: true };
    case 'null':
    case 'none':
      return { mode: text, console: false };
  }
  if (text.startsWith('file:') && text.length > 'file:'.length) return { mode: 'file', path: text.slice('file:'.length), console: false };
  return undefined;
}
