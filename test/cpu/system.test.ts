// System-level CPU tests: guest programs under test/cpu/system/ boot from reset in the bare
// machine and report through the test ports. Every expectation comes from the Intel SDM
// (vol. 3: protection, interrupts, tasks, paging, virtual-8086 mode), not from the emulator.
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { BareMachine, assembleFile, reports, type BareMachineOptions } from './bare-machine.ts';
import { StopReason } from '../../src/cpu/cpu-core.ts';

const dir = fileURLToPath(new URL('./system/', import.meta.url));

function boot(name: string, options: BareMachineOptions = {}) {
  const machine = new BareMachine(assembleFile(`${dir}${name}.asm`), { budget: 5_000_000, ...options });
  const run = machine.run();
  return { ...run, report: reports(run.values) };
}

/** Run a program that must exit with code 0; returns its reports. */
function pass(name: string, options: BareMachineOptions = {}): Record<string, number> {
  const r = boot(name, options);
  if (r.exitCode !== 0) {
    const detail = Object.entries(r.report).map(([k, v]) => `${k}=${(v >>> 0).toString(16)}`).join(' ');
    throw new Error(`${name}: stop=${r.stop} exit=${r.exitCode} ${detail} ${r.cpu.describe()}`);
  }
  return r.report;
}

const hex = (o: Record<string, number>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, `0x${(v >>> 0).toString(16)}`]));

describe('real mode', () => {
  it('IVT interrupts, offset wrap, the 64 KiB limit check and unreal mode', () => {
    expect(hex(pass('real-mode'))).toEqual(hex({
      ivsp: -6, // FLAGS, CS, IP pushed
      ivfl: 0, // IF and TF clear in the handler
      ivip: 0, // IP of the instruction after INT
      ivcs: 0xf000,
      ifbk: 0x200, // IRET restores IF
      wrap: 0x5a,
      gpip: 0, // interrupt 13 at the faulting instruction
      unrl: 0x12345678,
      fsel: 0,
      esgp: 0,
    }));
  });
});
