import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/machine/machine.ts';
import { loadCoreModule } from '../../src/cpu/load-core-node.ts';
import { loadFirmwareFiles } from '../../src/firmware/firmware-files-node.ts';
import { SYSTEM_BIOS, VGA_BIOS_STDVGA } from '../../src/firmware/firmware-files.ts';
import { MemoryBackend } from '../../src/storage/memory-backend.ts';
import { Session } from '../../src/harness/session.ts';

const firmware = loadFirmwareFiles([SYSTEM_BIOS, VGA_BIOS_STDVGA]);
const NS_PER_INSTRUCTION = 10;

/** SeaBIOS with nothing to boot: after POST it waits (halted) for its retry timer. */
function idleBios(cpuCount: number) {
  const session = new Session({ onReboot: 'restart' });
  const machine = new Machine({
    name: 'tsc', ramMiB: 32, cpuCount, acpi: true, apic: true, pae: true, boot: ['disk'],
    ide: [{ kind: 'disk', backend: new MemoryBackend(new Uint8Array(1 << 20), { readOnly: true }) }],
    floppies: [], rtcStartSeconds: 1_700_000_000, nsPerInstruction: NS_PER_INSTRUCTION,
    firmware: { bios: firmware.get(SYSTEM_BIOS)!, vgaBios: firmware.get(VGA_BIOS_STDVGA)! },
    deterministic: true, serialOutput: session.serialOutput,
  }, loadCoreModule());
  session.attach(machine);
  return { machine, session };
}

/** The boot CPU's time-stamp counter as RDTSC would read it. */
function tsc(machine: Machine): bigint {
  const cpu = machine.cpu;
  const base = cpu.stateAddress(0);
  return cpu.view.getBigUint64(base + cpu.offset('S_TSC'), true) + cpu.view.getBigUint64(base + cpu.offset('S_INSTRUCTIONS'), true);
}

describe('the TSC in virtual time', () => {
  it.each([1, 2])('keeps pace with guest time while the CPUs are halted, one tick per instruction time (vcpus=%i)', async (vcpus) => {
    const { machine, session } = idleBios(vcpus);
    expect((await session.run({ ns: 3e9, timeoutMs: 120_000 })).end).toBe('reached');
    const t0 = machine.clock.now();
    const tsc0 = tsc(machine);
    const insns0 = machine.cpu.instructions;
    expect((await session.run({ ns: t0 + 2e9, timeoutMs: 120_000 })).end).toBe('reached');
    const elapsedTicks = (machine.clock.now() - t0) / NS_PER_INSTRUCTION;
    const retired = Number(machine.cpu.instructions - insns0);
    // SeaBIOS mostly sleeps here: far fewer instructions ran than the two seconds are worth...
    expect(retired).toBeLessThan(elapsedTicks / 4);
    // ...yet the TSC advanced by the guest time that passed.
    expect(Math.abs(Number(tsc(machine) - tsc0) - elapsedTicks)).toBeLessThan(elapsedTicks * 0.01);
  }, 300_000);
});
