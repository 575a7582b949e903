import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/machine/machine.ts';
import { loadCoreModule } from '../../src/cpu/load-core-node.ts';
import { loadFirmwareFiles } from '../../src/firmware/firmware-files-node.ts';
import { SYSTEM_BIOS, VGA_BIOS_STDVGA } from '../../src/firmware/firmware-files.ts';
import { MemoryBackend } from '../../src/storage/memory-backend.ts';

const firmware = loadFirmwareFiles([SYSTEM_BIOS, VGA_BIOS_STDVGA]);

/** SeaBIOS in real time on a host clock the test moves by hand. */
function realTimeBios() {
  const host = { ms: 1000 };
  const machine = new Machine({
    name: 'rt', ramMiB: 32, cpuCount: 1, acpi: true, apic: true, pae: true, boot: ['disk'],
    ide: [{ kind: 'disk', backend: new MemoryBackend(new Uint8Array(1 << 20), { readOnly: true }) }],
    floppies: [], rtcStartSeconds: 1_700_000_000,
    firmware: { bios: firmware.get(SYSTEM_BIOS)!, vgaBios: firmware.get(VGA_BIOS_STDVGA)! },
    hostClockMs: () => host.ms,
  }, loadCoreModule());
  return { machine, host };
}

describe('real-time guest clock', () => {
  it('follows the host clock while running and stands still while held', () => {
    const { machine, host } = realTimeBios();
    machine.runSlice(10_000);
    const t0 = machine.clock.now();
    host.ms += 50;
    machine.runSlice(10_000);
    expect(machine.clock.now() - t0).toBeGreaterThanOrEqual(50e6);

    machine.holdGuestTime(); // paused for ten host seconds
    const held = machine.clock.now();
    host.ms += 10_000;
    machine.runSlice(10_000);
    expect(machine.clock.now() - held).toBeLessThan(1e6);
    host.ms += 20;
    machine.runSlice(10_000);
    expect(machine.clock.now() - held).toBeGreaterThanOrEqual(20e6);
    expect(machine.clock.now() - held).toBeLessThan(21e6);
  });

  it('goes on from a restored guest time', () => {
    const { machine, host } = realTimeBios();
    machine.runSlice(10_000);
    machine.resumeAt(5e9);
    host.ms += 1000; // the restore took a while: that time is not guest time
    machine.runSlice(10_000);
    expect(machine.clock.now()).toBeLessThan(5e9 + 1e6);
    host.ms += 30;
    machine.runSlice(10_000);
    expect(machine.clock.now()).toBeGreaterThanOrEqual(5e9 + 30e6);
    expect(machine.clock.now()).toBeLessThan(5e9 + 31e6);
  });
});
