import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { imagesAvailable, image, runWebhvm, writeConfig } from './boot-helpers.ts';
import { halFor } from '../../src/firmware/hal.ts';
import type { BootTraceEvent } from '../../src/machine/boot-trace.ts';

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

/** The boot-path trace agrees with halFor for two CPUs: tables shown, APs started, symmetric I/O at the end. */
function expectTraceMatchesHal(tracePath: string, acpi: number): void {
  const trace = readFileSync(tracePath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as BootTraceEvent);
  const hal = halFor({ acpi: acpi === 1, apic: true, vcpus: 2 });
  const located = trace.flatMap((e) => (e.type === 'tables-located' ? e.tables.map((t) => t.name) : []));
  expect(located.includes('RSDP')).toBe(hal.tables.rsdp);
  expect(located.includes('APIC')).toBe(hal.tables.madt);
  expect(located.includes('MP')).toBe(hal.tables.mpTable);
  const startups = trace.filter((e): e is Extract<BootTraceEvent, { type: 'ap-startup' }> => e.type === 'ap-startup' && e.apicId === 1);
  expect(startups.map((e) => e.ipi)).toEqual(expect.arrayContaining(['INIT', 'STARTUP']));
  const modes = trace.filter((e): e is Extract<BootTraceEvent, { type: 'interrupt-mode' }> => e.type === 'interrupt-mode').map((e) => e.mode);
  expect(hal.linuxInterrupts).toBe('IO-APIC');
  expect(modes[modes.length - 1]).toBe('symmetric-io');
}

async function bootTwoCpus(name: string, acpi: number) {
  const cfg = config(name, acpi);
  const tracePath = join(dirname(cfg), 'trace.jsonl');
  const r = await runWebhvm([cfg, '--until', 'on-cpu:\\d', '--timeout', '900', '--trace-boot', tracePath], [{ after: '/ # ', send: PROBE }]);
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
  expectTraceMatchesHal(tracePath, acpi);
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
