import { describe, expect, it } from 'vitest';
import { imagesAvailable, image, runWebhvm, writeConfig } from './boot-helpers.ts';

/**
 * What the firmware shows the guest for a configuration, seen from inside Linux: the ACPI tables
 * in the boot log, and the interrupt controller in /proc/interrupts (XT-PIC for the 8259 pair,
 * IO-APIC when the guest switched to symmetric I/O mode).
 */
function config(name: string, acpi: number, apic: number): string {
  return writeConfig(
    `name = '${name}'\nbuilder = 'hvm'\nmemory = 128\nacpi = ${acpi}\napic = ${apic}\nboot = 'd'\n` +
      `disk = [ 'file:${image('linux.iso')},hdc:cdrom,r' ]\n`,
  );
}

describe.runIf(imagesAvailable('linux.iso'))('firmware personalities seen by Linux', () => {
  it('acpi=0 apic=0: no RSDP, interrupts through the 8259 pair (XT-PIC)', async () => {
    const r = await runWebhvm([config('legacy', 0, 0), '--until', 'XT-PIC[^\\n]*timer', '--timeout', '300'], [
      { after: '/ # ', send: 'cat /proc/interrupts\n' },
    ]);
    expect(r.stdout).toContain('A valid RSDP was not found');
    expect(r.stdout).not.toMatch(/ACPI: XSDT/);
    expect(r.stdout).toMatch(/XT-PIC\s+timer/);
    expect(r.stdout).not.toContain('IO-APIC');
    expect(r.code).toBe(0);
  }, 400_000);

  it('acpi=1 apic=1: the generated ACPI tables, and interrupts through the I/O APIC', async () => {
    const r = await runWebhvm([config('acpi-apic', 1, 1), '--until', 'IO-APIC[^\\n]*timer', '--timeout', '300'], [
      { after: '/ # ', send: 'cat /proc/interrupts\n' },
    ]);
    for (const table of ['RSDP', 'XSDT', 'FACP', 'DSDT', 'APIC']) expect(r.stdout).toMatch(new RegExp(`ACPI: ${table} 0x[0-9A-F]+ [0-9A-F]+ \\(v0\\d WEBHVM`));
    expect(r.stdout).toContain('ACPI: Using IOAPIC for interrupt routing');
    expect(r.stdout).toMatch(/IO-APIC\s+2-edge\s+timer/);
    expect(r.code).toBe(0);
  }, 400_000);
});
