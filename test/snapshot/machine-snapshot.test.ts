import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/machine/machine.ts';
import { loadCoreModule } from '../../src/cpu/load-core-node.ts';
import { loadFirmwareFiles } from '../../src/firmware/firmware-files-node.ts';
import { SYSTEM_BIOS, VGA_BIOS_STDVGA } from '../../src/firmware/firmware-files.ts';
import { MemoryBackend } from '../../src/storage/memory-backend.ts';
import { CowOverlay } from '../../src/storage/cow-overlay.ts';
import { Session } from '../../src/harness/session.ts';
import { saveSnapshot, restoreSnapshot } from '../../src/snapshot/machine-snapshot.ts';
import { SnapshotError } from '../../src/snapshot/container.ts';
import { formatFingerprint } from '../../src/machine/fingerprint.ts';
import { readSnapshotFile } from '../../src/snapshot/container.ts';

const firmware = loadFirmwareFiles([SYSTEM_BIOS, VGA_BIOS_STDVGA]);
const module = loadCoreModule();

/** SeaBIOS with a blank writable disk: POST, option ROM, a failed boot, then its retry loop. */
function build(memory = 32, name = 'snap', cpuCount = 1) {
  const session = new Session({ onReboot: 'restart' });
  const disk = new CowOverlay(new MemoryBackend(new Uint8Array(4 << 20), { readOnly: true }));
  const machine = new Machine({
    name, ramMiB: memory, cpuCount, acpi: true, apic: true, pae: true, boot: ['disk'],
    ide: [{ kind: 'disk', backend: disk }], floppies: [], rtcStartSeconds: 1_700_000_000,
    firmware: { bios: firmware.get(SYSTEM_BIOS)!, vgaBios: firmware.get(VGA_BIOS_STDVGA)! },
    deterministic: true, serialOutput: session.serialOutput,
  }, module);
  session.attach(machine);
  return { machine, session, disk };
}

describe('machine snapshots', () => {
  it('a restored machine goes on exactly as the one that was saved', async () => {
    const a = build();
    expect((await a.session.run({ insns: 6_000_000n, timeoutMs: 60_000 })).end).toBe('reached');
    expect((await a.session.run({ ioIdle: true, timeoutMs: 60_000 })).end).toBe('reached');
    await a.disk.write(512 * 100, new Uint8Array(512).fill(0xab)); // an overlay block to carry
    const file = await saveSnapshot(a.machine, { serial: a.session.saveSerial() });
    const savedAt = a.machine.cpu.instructions;
    expect((await a.session.run({ insns: savedAt + 20_000_000n, timeoutMs: 120_000 })).end).toBe('reached');
    const expected = formatFingerprint(a.session.fingerprint());

    const b = build();
    await restoreSnapshot(b.machine, file);
    expect(b.machine.cpu.instructions).toBe(savedAt);
    expect((await b.session.run({ insns: savedAt + 20_000_000n, timeoutMs: 120_000 })).end).toBe('reached');
    expect(formatFingerprint(b.session.fingerprint())).toBe(expected);
    expect(Array.from(await b.disk.read(512 * 100, 4))).toEqual([0xab, 0xab, 0xab, 0xab]);
    expect(b.machine.screenText()!.join('\n')).toContain('SeaBIOS');
  }, 300_000);

  it('refuses corrupt, truncated and foreign files and other configurations, before touching the machine', async () => {
    const a = build();
    await a.session.run({ insns: 2_000_000n, timeoutMs: 60_000 });
    await a.session.run({ ioIdle: true, timeoutMs: 60_000 });
    const file = await saveSnapshot(a.machine);
    const b = build();
    const before = b.machine.cpu.saveStateBlock();
    const corrupt = file.slice();
    corrupt[Math.floor(corrupt.length / 2)] ^= 0x40;
    await expect(restoreSnapshot(b.machine, corrupt)).rejects.toThrow(/corrupt/);
    await expect(restoreSnapshot(b.machine, file.subarray(0, file.length - 100))).rejects.toThrow(/truncated|corrupt/);
    await expect(restoreSnapshot(b.machine, file.subarray(0, 30))).rejects.toThrow(SnapshotError);
    await expect(restoreSnapshot(b.machine, new TextEncoder().encode('hello, this is not a snapshot'))).rejects.toThrow(/not a WebHVM snapshot/);
    const newer = file.slice();
    newer[8] = 99;
    await expect(restoreSnapshot(b.machine, newer)).rejects.toThrow(/format version 99/);
    const other = build(64);
    await expect(restoreSnapshot(other.machine, file)).rejects.toThrow(/different configuration/);
    expect(b.machine.cpu.saveStateBlock()).toEqual(before);
  }, 120_000);

  it('a two-vCPU machine restores every vCPU, its local APIC and the scheduler, and goes on exactly as the saved one', async () => {
    const a = build(32, 'smp', 2);
    // SeaBIOS starts the AP (INIT, STARTUP) early in POST; it halts there until the reboot, when it is started again.
    expect((await a.session.run({ insns: 1_000_000n, timeoutMs: 60_000 })).end).toBe('reached');
    expect((await a.session.run({ ioIdle: true, timeoutMs: 60_000 })).end).toBe('reached');
    expect(a.machine.cpu.waitingForStartup(1)).toBe(false);
    const file = await saveSnapshot(a.machine, { serial: a.session.saveSerial() });
    const { header, sections } = await readSnapshotFile(file);
    expect(header.vcpus).toBe(2);
    expect([...sections.keys()]).toEqual(expect.arrayContaining(['cpu0', 'cpu1', 'vcpus']));
    const savedAt = a.machine.cpu.totalInstructions;
    const schedule = a.machine.vcpuSchedule();
    const blocks = a.machine.vcpuStates();
    expect((await a.session.run({ insns: savedAt + 12_000_000n, timeoutMs: 120_000 })).end).toBe('reached');
    const expected = formatFingerprint(a.session.fingerprint());

    const b = build(32, 'smp', 2);
    await restoreSnapshot(b.machine, file);
    expect(b.machine.cpu.totalInstructions).toBe(savedAt);
    expect(b.machine.vcpuSchedule()).toEqual(schedule);
    expect(b.machine.vcpuStates()).toEqual(blocks);
    expect((await b.session.run({ insns: savedAt + 12_000_000n, timeoutMs: 120_000 })).end).toBe('reached');
    expect(formatFingerprint(b.session.fingerprint())).toBe(expected);
    // A one-vCPU machine of the same name is another configuration.
    await expect(restoreSnapshot(build(32, 'smp', 1).machine, file)).rejects.toThrow(/different configuration/);
  }, 300_000);

  it('restores a format-1 snapshot (one vCPU, made before the SMP sections) and goes on as the uninterrupted run', async () => {
    // test/snapshot/fixtures/README.md: how bare-v1.snap was made.
    const file = new Uint8Array(readFileSync(new URL('./fixtures/bare-v1.snap', import.meta.url)));
    expect((await readSnapshotFile(file)).version).toBe(1);
    const bare = () => {
      const session = new Session({ onReboot: 'restart' });
      const machine = new Machine({
        name: 'bare-v1', ramMiB: 4, cpuCount: 1, acpi: false, apic: false, pae: false, boot: ['disk'],
        ide: [], floppies: [], rtcStartSeconds: 1_704_067_200,
        firmware: { bios: firmware.get(SYSTEM_BIOS)!, vgaBios: firmware.get(VGA_BIOS_STDVGA)! },
        deterministic: true, serialOutput: session.serialOutput,
      }, module);
      session.attach(machine);
      return { machine, session };
    };
    const restored = bare();
    const { extras } = await restoreSnapshot(restored.machine, file);
    restored.session.restoreSerial(extras.serial as Parameters<Session['restoreSerial']>[0]);
    // The state as it was saved (numbers taken when the fixture was written).
    expect(restored.machine.cpu.totalInstructions).toBe(200_104n);
    expect(restored.machine.clock.now()).toBe(2_001_040);
    const atSave = restored.session.fingerprint();
    expect([atSave.serial, atSave.ram]).toEqual(['468bc7e9ab3e7c0b', '274962a62cfd3caa']);

    const until = 200_104n + 5_000_000n;
    const uninterrupted = bare();
    expect((await uninterrupted.session.run({ insns: until, timeoutMs: 120_000 })).end).toBe('reached');
    expect((await restored.session.run({ insns: until, timeoutMs: 120_000 })).end).toBe('reached');
    expect(formatFingerprint(restored.session.fingerprint())).toBe(formatFingerprint(uninterrupted.session.fingerprint()));
    expect(restored.machine.screenText()!.join('\n')).toContain('SeaBIOS');
  }, 120_000);
});
