import { describe, expect, it } from 'vitest';
import { configFile, webhvm } from './cli-helpers-acpi.ts';

describe('webhvm hal', () => {
  it.each([
    [0, 0, 1, 'HAL.DLL', 'Standard PC', 'XT-PIC'],
    [0, 1, 1, 'HALAPIC.DLL', 'MPS Uniprocessor PC', 'IO-APIC'],
    [0, 1, 2, 'HALMPS.DLL', 'MPS Multiprocessor PC', 'IO-APIC'],
    [1, 0, 1, 'HALACPI.DLL', 'Advanced Configuration and Power Interface (ACPI) PC', 'XT-PIC'],
    [1, 1, 1, 'HALAACPI.DLL', 'ACPI Uniprocessor PC', 'IO-APIC'],
    [1, 1, 4, 'HALMACPI.DLL', 'ACPI Multiprocessor PC', 'IO-APIC'],
  ])('acpi=%i apic=%i vcpus=%i: %s', (acpi, apic, vcpus, file, setupName, linux) => {
    const r = webhvm('hal', configFile(`name = 'p${acpi}${apic}${vcpus}'\nacpi = ${acpi}\napic = ${apic}\nvcpus = ${vcpus}`));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`p${acpi}${apic}${vcpus}: acpi=${acpi} apic=${apic} vcpus=${vcpus}`);
    expect(r.stdout).toContain(`Windows HAL:  ${file} (${setupName})`);
    expect(r.stdout).toContain(`Linux:        ${linux} in /proc/interrupts`);
    expect(r.stdout).toMatch(acpi ? /ACPI tables: {2}RSDP, FACS, DSDT, FACP/ : /ACPI tables: {2}none/);
    expect(r.stdout.includes(', APIC,')).toBe(acpi === 1 && apic === 1);
    expect(r.stdout).toMatch(apic ? new RegExp(`MP table: +yes \\(${vcpus} processor`) : /MP table: +none/);
    expect(r.stdout).toMatch(apic ? /I\/O APIC: +ID \d+ at 0xFEC00000, 24 pins/ : /I\/O APIC: +none/);
    expect(r.stdout).toMatch(acpi ? /Power: +PIIX4 PM at 00:01.3: PM1a event 0x600.*reset register 0xCF9 = 0x06/ : /Power: +no ACPI power management/);
  });

  it('--json gives the same choice as data', () => {
    const r = webhvm('hal', configFile("name = 'j'\nacpi = 1\napic = 1\nvcpus = 2"), '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.name).toBe('j');
    expect(j.hal.file).toBe('HALMACPI.DLL');
    expect(j.cpus).toEqual([{ processorId: 0, apicId: 0 }, { processorId: 1, apicId: 1 }]);
    expect(j.ioApic).toEqual({ id: 2, address: 0xfec00000, pins: 24, gsiBase: 0 });
    expect(j.fwCfgFiles).toContain('etc/table-loader');
  });

  it('refuses a broken configuration with its line, and a missing argument, with status 2', () => {
    const bad = webhvm('hal', configFile("name = 'x'\nacpi = 'maybe'"));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/guest\.cfg:\d+:\d+/);
    expect(webhvm('hal').status).toBe(2);
    const smp = webhvm('hal', configFile("name = 'x'\napic = 0\nvcpus = 2"));
    expect(smp.status).toBe(2);
  });
});
