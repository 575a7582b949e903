import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { halFor } from '../../src/firmware/hal.ts';
import type { BootTraceEvent } from '../../src/machine/boot-trace.ts';
import { imagesAvailable, image, writeConfig } from './boot-helpers.ts';

/**
 * The four firmware personalities (acpi × apic, one vCPU) seen from inside Linux, one boot each:
 * the ACPI tables in the boot log (or "no RSDP"), the interrupt controller in /proc/interrupts
 * (XT-PIC for the 8259 pair, IO-APIC in symmetric I/O mode), and the boot-path trace of the same
 * run checked against halFor: which tables the firmware placed and the OS read, the ACPI enable
 * handshake, and the interrupt mode the OS ended in. The runs end through the guest's own power
 * paths: `poweroff -f` with acpi=1 (ACPI S5 -> on_poweroff), `reboot -f` with on_reboot
 * 'destroy' (the run ends) and 'restart' (Linux boots a second time).
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const MARKER = 'WEBHVM-GUEST-READY';
const PROMPT = '/ # ';
/** Typed after a command; the shell prints END-42, which the typed line itself does not contain. */
const END = 'echo END-$((40+2))\n';

function config(name: string, acpi: number, apic: number, extra = ''): string {
  return writeConfig(
    `name = '${name}'\nbuilder = 'hvm'\nmemory = 128\nvcpus = 1\nacpi = ${acpi}\napic = ${apic}\nboot = 'd'\nserial = 'pty'\n` +
      `disk = [ 'file:${image('linux.iso')},hdc:cdrom,r' ]\n${extra}`,
  );
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  trace: BootTraceEvent[];
}

/**
 * `webhvm run CONFIG --trace-boot ... ARGS`, typing each step's text once its `after` string
 * appears in the output after the previous step's match (so a second prompt is a new step).
 */
function run(cfg: string, args: string[], steps: { after: string; send?: string }[]): Promise<Run> {
  const tracePath = join(dirname(cfg), 'trace.jsonl');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/webhvm.js'), 'run', cfg, '--trace-boot', tracePath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let from = 0;
    const pending = [...steps];
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('latin1');
      for (;;) {
        const step = pending[0];
        const at = step ? stdout.indexOf(step.after, from) : -1;
        if (!step || at < 0) break;
        from = at + step.after.length;
        pending.shift();
        if (step.send) child.stdin.write(step.send);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const trace = existsSync(tracePath) ? readFileSync(tracePath, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as BootTraceEvent) : [];
      resolve({ code, stdout, stderr, trace });
    });
  });
}

const ofType = <T extends BootTraceEvent['type']>(trace: BootTraceEvent[], type: T) => trace.filter((e): e is Extract<BootTraceEvent, { type: T }> => e.type === type);

/**
 * The trace of one boot (from power-on or a reset to the next reset) agrees with halFor. `shutDown`:
 * the boot ended in Linux's reboot or power-off path, which puts the I/O APIC back into virtual
 * wire mode (disable_IO_APIC) before it resets or powers off.
 */
function expectTraceMatchesHal(trace: BootTraceEvent[], acpi: boolean, apic: boolean, shutDown: boolean): void {
  const hal = halFor({ acpi, apic, vcpus: 1 });
  expect(ofType(trace, 'boot-device').map((e) => e.device)).toEqual(['DVD/CD']);
  const located = ofType(trace, 'tables-located')[0].tables.map((t) => t.name);
  expect(located.includes('RSDP')).toBe(hal.tables.rsdp);
  expect(located.includes('APIC')).toBe(hal.tables.madt);
  expect(located.includes('MP')).toBe(hal.tables.mpTable);
  // What the OS kernel (paging on) read, by physical address.
  const osReads = new Set(ofType(trace, 'table-read').filter((e) => e.cpuMode === 'paging').map((e) => e.table));
  if (hal.tables.rsdp) for (const t of ['RSDP', 'XSDT', 'FACP', 'DSDT', 'FACS']) expect(osReads, t).toContain(t);
  else expect([...osReads].filter((t) => t !== 'MP' && t !== 'PCMP')).toEqual([]);
  expect(osReads.has('APIC')).toBe(hal.tables.madt);
  if (hal.tables.mpTable && !hal.tables.rsdp) for (const t of ['MP', 'PCMP']) expect(osReads, t).toContain(t);
  // The ACPI enable handshake happens exactly when Linux runs ACPI.
  expect(ofType(trace, 'acpi-enable').length > 0).toBe(hal.linuxAcpi);
  expect(ofType(trace, 'sci-enable').some((e) => e.enabled)).toBe(hal.linuxAcpi);
  // The interrupt mode the OS ran in, and the one it ended in.
  const modes = ofType(trace, 'interrupt-mode').map((e) => e.mode);
  const final = modes[modes.length - 1];
  if (hal.linuxInterrupts === 'IO-APIC') {
    expect(modes).toContain('symmetric-io');
    expect(final).toBe(shutDown ? 'virtual-wire' : 'symmetric-io');
  } else {
    expect(modes).not.toContain('symmetric-io');
    expect(['pic', 'virtual-wire']).toContain(final);
  }
  if (hal.linuxInterrupts === 'IO-APIC') expect(ofType(trace, 'ioapic-redirection').some((e) => e.pin === 2 && !e.masked)).toBe(true);
  else expect(ofType(trace, 'ioapic-redirection')).toEqual([]);
}

/** The events of the n-th boot (0-based): the machine's resets separate boots. */
function boot(trace: BootTraceEvent[], n: number): BootTraceEvent[] {
  const resets = trace.map((e, i) => (e.type === 'power' && e.event === 'reset' ? i : -1)).filter((i) => i >= 0);
  const start = n === 0 ? 0 : resets[n - 1] + 1;
  const end = n < resets.length ? resets[n] : trace.length;
  return trace.slice(start, end);
}

describe.runIf(imagesAvailable('linux.iso'))('firmware personalities seen by Linux', () => {
  it("acpi=0 apic=0: no RSDP, XT-PIC; reboot -f with on_reboot='destroy' ends the run", async () => {
    const r = await run(config('legacy', 0, 0, "on_reboot = 'destroy'\n"), ['--timeout', '900'], [
      { after: PROMPT, send: `cat /proc/interrupts; ${END}` },
      { after: 'END-42' },
      { after: PROMPT, send: 'reboot -f\n' },
    ]);
    expect(r.stdout).toContain('A valid RSDP was not found');
    expect(r.stdout).not.toMatch(/ACPI: XSDT/);
    expect(r.stdout).toMatch(/XT-PIC\s+timer/);
    expect(r.stdout).not.toContain('IO-APIC');
    expect(r.stdout).toContain('webhvm: legacy ended: reboot');
    expect(r.code).toBe(0);
    expectTraceMatchesHal(r.trace, false, false, true);
    expect(ofType(r.trace, 'power').map((e) => e.event)).toEqual(['reboot']);
  }, 1_000_000);

  it('acpi=0 apic=1: the MP table read by Linux, interrupts through the I/O APIC', async () => {
    const r = await run(config('mps', 0, 1), ['--until', 'END-42', '--timeout', '900'], [
      { after: PROMPT, send: `cat /proc/interrupts; ${END}` },
    ]);
    expect(r.stdout).toContain('A valid RSDP was not found');
    expect(r.stdout).toMatch(/found SMP MP-table at/);
    expect(r.stdout).toMatch(/IO-APIC\s+2-edge\s+timer/);
    expect(r.stdout).not.toMatch(/XT-PIC\s+timer/); // (IRQ 2, the cascade, stays on the 8259)
    expect(r.code).toBe(0);
    expectTraceMatchesHal(r.trace, false, true, false);
  }, 1_000_000);

  it('acpi=1 apic=0: the ACPI tables without a MADT, XT-PIC; poweroff -f ends the VM through S5', async () => {
    const r = await run(config('acpi-pic', 1, 0), ['--timeout', '900'], [
      { after: PROMPT, send: `cat /proc/interrupts; ${END}` },
      { after: 'END-42' },
      { after: PROMPT, send: 'poweroff -f\n' },
    ]);
    for (const table of ['RSDP', 'XSDT', 'FACP', 'DSDT']) expect(r.stdout).toMatch(new RegExp(`ACPI: ${table} 0x[0-9A-F]+ [0-9A-F]+ \\(v0\\d WEBHVM`));
    expect(r.stdout).toMatch(/ACPI: FACS 0x[0-9A-F]+ 000040/);
    expect(r.stdout).not.toMatch(/ACPI: APIC 0x/);
    expect(r.stdout).toContain('ACPI: Interpreter enabled');
    expect(r.stdout).toContain('ACPI: Using PIC for interrupt routing');
    expect(r.stdout).toMatch(/XT-PIC\s+timer/);
    expect(r.stdout).toMatch(/\b9:\s+\d+\s+XT-PIC\s+acpi/);
    expect(r.stdout).toContain('webhvm: acpi-pic ended: poweroff');
    expect(r.code).toBe(0);
    expectTraceMatchesHal(r.trace, true, false, true);
    expect(ofType(r.trace, 'power').map((e) => e.event)).toEqual(['poweroff']);
  }, 1_000_000);

  it("acpi=1 apic=1: the MADT and IO-APIC; reboot -f with on_reboot='restart' boots again, then poweroff -f", async () => {
    const r = await run(config('acpi-apic', 1, 1, "on_reboot = 'restart'\n"), ['--timeout', '1500'], [
      { after: PROMPT, send: `cat /proc/interrupts; ${END}` },
      { after: 'END-42' },
      { after: PROMPT, send: 'reboot -f\n' },
      { after: MARKER },
      { after: PROMPT, send: 'poweroff -f\n' },
    ]);
    for (const table of ['RSDP', 'XSDT', 'FACP', 'DSDT', 'APIC']) expect(r.stdout).toMatch(new RegExp(`ACPI: ${table} 0x[0-9A-F]+ [0-9A-F]+ \\(v0\\d WEBHVM`));
    expect(r.stdout).toContain('ACPI: Using IOAPIC for interrupt routing');
    expect(r.stdout).toMatch(/IO-APIC\s+2-edge\s+timer/);
    expect(r.stdout).toMatch(/IO-APIC\s+9-fasteoi\s+acpi/);
    expect(r.stdout.split(MARKER).length - 1).toBe(2);
    expect(r.stderr).toContain("guest rebooted: restarting (on_reboot='restart')");
    expect(r.stdout).toContain('webhvm: acpi-apic ended: poweroff');
    expect(r.code).toBe(0);
    expect(ofType(r.trace, 'power').map((e) => e.event)).toEqual(['reboot', 'reset', 'poweroff']);
    expectTraceMatchesHal(boot(r.trace, 0), true, true, true);
    expectTraceMatchesHal(boot(r.trace, 1), true, true, true);
  }, 1_600_000);
});
