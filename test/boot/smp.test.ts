import { describe, expect, it } from 'vitest';
import { imagesAvailable, image, runWebhvm, writeConfig } from './boot-helpers.ts';

/**
 * vcpus=2 seen from inside Linux: the application processor is started (INIT-SIPI-SIPI from the
 * boot processor's local APIC), both CPUs take their local APIC timer interrupts (the LOC row of
 * /proc/interrupts counts on each), and a process pinned to CPU 1 runs there (/proc/self/stat
 * field 39 is the CPU a task last ran on). Once through the ACPI MADT, once through the MP table.
 */
function config(name: string, acpi: number): string {
  return writeConfig(
    `name = '${name}'\nbuilder = 'hvm'\nmemory = 128\nacpi = ${acpi}\napic = 1\nvcpus = 2\nboot = 'd'\n` +
      `on_reboot = 'destroy'\ndisk = [ 'file:${image('linux.iso')},hdc:cdrom,r' ]\n`,
  );
}

// Typed at the shell: the output lines it looks for ("on-cpu:1") are not in the echoed input.
const PROBE = "cat /proc/interrupts; taskset -c 1 awk '{print \"on-cpu:\" $39}' /proc/self/stat\n";

async function bootTwoCpus(name: string, acpi: number) {
  const r = await runWebhvm([config(name, acpi), '--until', 'on-cpu:\\d', '--timeout', '900'], [{ after: '/ # ', send: PROBE }]);
  expect(r.stdout).toContain('smp: Brought up 1 node, 2 CPUs');
  expect(r.stdout).toContain('cpus: 2');
  expect(r.stdout).toMatch(/^\s+CPU0\s+CPU1\s*$/m);
  expect(r.stdout).toMatch(/IO-APIC\s+2-edge\s+timer/);
  const loc = r.stdout.match(/LOC:\s+(\d+)\s+(\d+)/);
  expect(loc, 'a LOC row with two per-CPU counts').not.toBeNull();
  expect(Number(loc![1])).toBeGreaterThan(0);
  expect(Number(loc![2])).toBeGreaterThan(0);
  expect(r.stdout).toContain('on-cpu:1');
  expect(r.code).toBe(0);
  return r;
}

describe.runIf(imagesAvailable('linux.iso'))('Linux on two vCPUs', () => {
  it('acpi=1 apic=1 vcpus=2: both CPUs from the MADT come up and run', async () => {
    const r = await bootTwoCpus('smp-acpi', 1);
    expect(r.stdout).toContain('ACPI: Using ACPI (MADT) for SMP configuration information');
  }, 1_000_000);

  it('acpi=0 apic=1 vcpus=2: both CPUs from the MP table come up and run', async () => {
    const r = await bootTwoCpus('smp-mptable', 0);
    expect(r.stdout).toContain('found SMP MP-table');
    expect(r.stdout).not.toMatch(/ACPI: XSDT/);
  }, 1_000_000);
});
