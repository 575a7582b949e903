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

const firmware = loadFirmwareFiles([SYSTEM_BIOS, VGA_BIOS_STDVGA]);
const module = loadCoreModule();

/** SeaBIOS with a blank writable disk: POST, option ROM, a failed boot, then its retry loop. */
function build(memory = 32, name = 'snap') {
  const session = new Session({ onReboot: 'restart' });
  const disk = new CowOverlay(new MemoryBackend(new Uint8Array(4 << 20), { readOnly: true }));
  const machine = new Machine({
    name, ramMiB: memory, cpuCount: 1, acpi: true, apic: true, pae: true, boot: ['disk'],
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
});
