import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { Machine } from '../../src/machine/machine.ts';
import { machineSetupFromConfig } from '../../src/machine/setup-from-config.ts';
import { loadCoreModule } from '../../src/cpu/load-core-node.ts';
import { loadFirmwareFiles } from '../../src/firmware/firmware-files-node.ts';
import { SYSTEM_BIOS, VGA_BIOS_STDVGA } from '../../src/firmware/firmware-files.ts';
import { halFor } from '../../src/firmware/hal.ts';
import { readDomainConfigFile, nodeMediaResolver } from '../../src/config/resolve-node.ts';
import { resolveMedia } from '../../src/config/media.ts';
import { openImagesNode } from '../../src/cli/open-images-node.ts';

/**
 * The default guest (bios/default-guest/, built here from its nasm source) booted from its
 * floppy under each firmware personality: what it reports on COM1 and on the VGA text screen
 * must be what the configuration put into the tables, and the HAL it names must be `halFor`'s.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const DONE = 'WEBHVM-DEFAULT-GUEST-DONE';
const firmware = loadFirmwareFiles([SYSTEM_BIOS, VGA_BIOS_STDVGA]);
let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'webhvm-default-guest-'));
  const built = spawnSync(process.execPath, [join(ROOT, 'bios/default-guest/build.mjs'), join(dir, 'default-guest.img')], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`building the default guest failed:\n${built.stdout}${built.stderr}`);
});

interface Booted {
  machine: Machine;
  serial: () => string;
}

async function boot(config: string): Promise<Booted> {
  const path = join(dir, `guest-${Math.random().toString(36).slice(2)}.cfg`);
  writeFileSync(path, config);
  const { config: parsed } = await readDomainConfigFile(path);
  const images = await openImagesNode(await resolveMedia(parsed, nodeMediaResolver(path), { fileName: path }));
  let serial = '';
  const setup = machineSetupFromConfig(parsed, images.opened, {
    firmware: { bios: firmware.get(SYSTEM_BIOS)!, vgaBios: firmware.get(VGA_BIOS_STDVGA)! },
    serialOutput: (port, byte) => {
      if (port === 0) serial += String.fromCharCode(byte);
    },
    nowSeconds: 1_700_000_000,
  });
  return { machine: new Machine(setup, loadCoreModule()), serial: () => serial };
}

/** Run slices until `done()` holds; fails after `limitMs` of wall-clock time. */
async function runUntil(machine: Machine, done: () => boolean, what: string, limitMs = 90_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${machine.screenText()?.join('\n')}`);
    for (let i = 0; i < 50 && !done(); i++) machine.runSlice();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function guestConfig(acpi: number, apic: number, vcpus: number, extra = ''): string {
  return `name = 'dg'\nbuilder = 'hvm'\nmemory = 128\nvcpus = ${vcpus}\nacpi = ${acpi}\napic = ${apic}\nboot = 'a'\nfda = 'default-guest.img'\n${extra}`;
}

/** The report's line that starts with `label` (the summary's first column), and its continuation lines. */
function summaryBlock(report: string, label: string): string {
  const lines = report.split(/\r?\n/);
  const start = lines.findIndex((l) => l.startsWith(`${label} `));
  if (start < 0) return '';
  let end = start + 1;
  while (end < lines.length && lines[end].startsWith('          ')) end++;
  return lines.slice(start, end).join('\n');
}

const personalities = [
  { acpi: 0, apic: 0, vcpus: 1 },
  { acpi: 0, apic: 1, vcpus: 1 },
  { acpi: 1, apic: 0, vcpus: 1 },
  { acpi: 1, apic: 1, vcpus: 1 },
  // Two processors in the tables; SeaBIOS starts the second and parks it, the guest runs on the BSP.
  { acpi: 0, apic: 1, vcpus: 2 },
  { acpi: 1, apic: 1, vcpus: 2 },
];

describe('the default guest reports the firmware tables of each personality', () => {
  for (const p of personalities) {
    it(`acpi=${p.acpi} apic=${p.apic} vcpus=${p.vcpus}`, async () => {
      const { machine, serial } = await boot(guestConfig(p.acpi, p.apic, p.vcpus));
      await runUntil(machine, () => serial().includes(DONE), 'the report');
      checkReport(serial(), p);
      checkScreen(machine, p);
    }, 120_000);
  }
});

function checkReport(report: string, p: { acpi: number; apic: number; vcpus: number }): void {
  const hal = halFor({ acpi: p.acpi === 1, apic: p.apic === 1, vcpus: p.vcpus });
  // The HAL and Linux's interrupt mode, as src/firmware/hal.ts derives them from the config.
  expect(summaryBlock(report, 'Windows')).toContain(`${hal.file}, "${hal.setupName}"`);
  const linux = summaryBlock(report, 'Linux');
  expect(linux).toContain(hal.linuxAcpi ? 'ACPI on' : 'no ACPI');
  expect(linux).toContain(hal.linuxInterrupts === 'IO-APIC' ? 'through the IO-APIC' : 'XT-PIC');
  expect(linux).toContain(p.vcpus > 1 ? `${p.vcpus} CPUs (SMP) in the tables` : '1 CPU in the tables');

  // The processor: CPUID's APIC bit follows apic=, and the local APIC is the BSP.
  const cpu = summaryBlock(report, 'CPU');
  expect(cpu).toContain(p.apic ? 'APIC yes' : 'APIC no');
  if (p.apic) expect(cpu).toContain('running on local APIC id 0 (the BSP)');
  else expect(cpu).toContain('no local APIC');
  // CPUID leaf 1 counts the vCPUs as logical processors of one package.
  if (p.vcpus > 1) expect(report).toContain(`initial APIC id 0, ${p.vcpus} logical processors per package`);
  else expect(report).not.toContain('logical processors');

  // Memory: 128 MiB less the BIOS's reservations: the high usable range ends within the last MiB.
  expect(summaryBlock(report, 'Memory')).toMatch(/127\.\d MiB usable RAM in 2 ranges/);
  const high = report.match(/^ {2}00100000 {11}([0-9A-F]{8}) .*usable RAM$/m);
  expect(high).not.toBeNull();
  const top = parseInt(high![1], 16) + 1;
  expect(top).toBeGreaterThan(127 * 2 ** 20);
  expect(top).toBeLessThanOrEqual(128 * 2 ** 20);

  const acpi = summaryBlock(report, 'ACPI');
  if (p.acpi) {
    expect(acpi).toMatch(/RSDP at 000[EF][0-9A-F]{4} \(revision 2, OEM "WEBHVM"\)/);
    expect(acpi).toContain(`XSDT lists: FACP${p.apic ? ' APIC' : ''}; FADT -> DSDT, FACS`);
    expect(acpi).toContain('FADT: SCI IRQ 9, PM1a event 0600 control 0604, PM timer 0608 (24-bit)');
    expect(acpi).toMatch(/DSDT: \d{4,} bytes, revision 1, OEM "WEBHVM"/);
    // Every table the root lists checks out.
    const rows = report.match(/^ {2}(XSDT|FACP|APIC|DSDT) +[0-9A-F]{8} .*$/gm) ?? [];
    expect(rows.length).toBe(p.apic ? 4 : 3);
    for (const row of rows) expect(row).toMatch(/ ok$/);
    expect(report).toContain('reset register     I/O port 0CF9, value 06');
    if (p.apic) {
      // MADT: a local APIC per vCPU, the I/O APIC with id = vcpus, the overrides of docs/acpi.md.
      expect(acpi).toContain(`MADT: ${p.vcpus} local APIC${p.vcpus > 1 ? 's' : ''}, I/O APIC ${p.vcpus} at FEC00000, 5 overrides`);
      for (let i = 0; i < p.vcpus; i++) expect(report).toContain(`processor local APIC  ACPI processor ${i}, APIC id ${i}, enabled`);
      expect(report).toContain(`I/O APIC              id ${p.vcpus} at FEC00000, GSI base 0, 24 pins`);
      expect(report).toContain('interrupt override    IRQ 0 -> GSI 2, bus default');
      expect(report).toContain('interrupt override    IRQ 9 -> GSI 9, level, active high');
      expect(report).toContain('local APIC NMI        all processors, LINT1');
    } else {
      expect(acpi).toContain('no MADT');
    }
  } else {
    expect(acpi).toBe('ACPI      none: no RSDP found');
    expect(report).not.toContain('FADT (FACP)');
  }

  const mp = summaryBlock(report, 'MP table');
  if (p.apic) {
    const cpus = `${p.vcpus} processor${p.vcpus > 1 ? 's' : ''}`;
    expect(mp).toMatch(/at 000[EF][0-9A-F]{4} \(spec 1\.4\), configuration table at [0-9A-F]{8}/);
    expect(mp).toContain(`${cpus}, 2 buses, I/O APIC ${p.vcpus},`);
    expect(report.match(/^ {2}processor {2}APIC id \d+, version 14h, enabled/gm)?.length).toBe(p.vcpus);
    expect(report).toMatch(/^ {2}bus {8}0 PCI$/m);
    expect(report).toMatch(/^ {2}bus {8}1 ISA$/m);
    expect(report).toContain('ISA 0 -> 2 ');
    expect(report).toContain(p.acpi ? 'PCI 01.A -> 9 l/h' : 'PCI 01.A -> 17');
    expect(report).toContain('ExtINT ISA 0 -> local APIC 0, LINT0');
  } else {
    expect(mp).toBe('MP table  none: no _MP_ floating pointer');
  }
}

function checkScreen(machine: Machine, p: { acpi: number; apic: number; vcpus: number }): void {
  const hal = halFor({ acpi: p.acpi === 1, apic: p.apic === 1, vcpus: p.vcpus });
  const screen = machine.screenText();
  expect(screen).not.toBeNull();
  expect(screen).toHaveLength(25);
  expect(screen![0]).toMatch(/WebHVM default guest: what the firmware handed the OS +page 1\/\d+/);
  expect(screen![24]).toContain('any key: next page');
  const text = screen!.join('\n');
  expect(text).toContain(`Windows   ${hal.file}, "${hal.setupName}"`);
  expect(text).toContain(p.acpi ? 'ACPI      RSDP at' : 'ACPI      none: no RSDP found');
  expect(text).toContain(p.apic ? 'MP table  at' : 'MP table  none');
}

describe('the default guest on screen', () => {
  it('pages through the details on a key from the keyboard or COM1', async () => {
    const { machine, serial } = await boot(guestConfig(1, 1, 1));
    await runUntil(machine, () => serial().includes(DONE), 'the report');
    const pages = Number(/page 1\/(\d+)/.exec(machine.screenText()![0])![1]);
    expect(pages).toBeGreaterThanOrEqual(4);
    const page = () => Number(/page (\d+)\//.exec(machine.screenText()![0])?.[1]);

    machine.serial[0].receive([0x20]);
    await runUntil(machine, () => page() === 2, 'page 2');
    expect(machine.screenText()!.join('\n')).toContain('Processor (CPUID)');

    machine.keyboard.keyDown('Space');
    machine.keyboard.keyUp('Space');
    await runUntil(machine, () => page() === 3, 'page 3 after a key press');
    expect(machine.screenText()!.join('\n')).toContain('ACPI: Root System Description Pointer');

    machine.serial[0].receive([...'b'].map((c) => c.charCodeAt(0)));
    await runUntil(machine, () => page() === 2, 'page 2 again after b');
  }, 120_000);

  it('examples/default-guest.cfg boots the built image', async () => {
    const example = readFileSync(join(ROOT, 'examples/default-guest.cfg'), 'utf8');
    expect(example).toMatch(/^fda = '\.\.\/build\/default-guest\.img'$/m);
    const { machine, serial } = await boot(example.replace('../build/default-guest.img', 'default-guest.img'));
    await runUntil(machine, () => serial().includes(DONE), 'the report');
    expect(serial()).toContain('Windows   HALAACPI.DLL, "ACPI Uniprocessor PC"');
  }, 120_000);
});
