import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/machine/machine.ts';
import { loadCoreModule } from '../../src/cpu/load-core-node.ts';
import { loadFirmwareFiles } from '../../src/firmware/firmware-files-node.ts';
import { SYSTEM_BIOS, VGA_BIOS_STDVGA } from '../../src/firmware/firmware-files.ts';
import { MemoryBackend } from '../../src/storage/memory-backend.ts';
import { CowOverlay } from '../../src/storage/cow-overlay.ts';
import { Session, type SessionOptions } from '../../src/harness/session.ts';
import { parseScript } from '../../src/harness/script.ts';
import { runScript } from '../../src/harness/run-script.ts';
import { formatFingerprint } from '../../src/machine/fingerprint.ts';

const firmware = loadFirmwareFiles([SYSTEM_BIOS, VGA_BIOS_STDVGA]);
const module = loadCoreModule();

/** SeaBIOS with a blank disk: it fails to boot and retries (a reboot) every minute of guest time. */
function build(options: SessionOptions = {}) {
  const session = new Session({ onReboot: 'restart', ...options });
  const disk = new CowOverlay(new MemoryBackend(new Uint8Array(2 << 20), { readOnly: true }));
  const machine = new Machine({
    name: 'harness', ramMiB: 16, cpuCount: 1, acpi: false, apic: false, pae: false, boot: ['disk'],
    ide: [{ kind: 'disk', backend: disk }], floppies: [], rtcStartSeconds: 1_704_067_200,
    firmware: { bios: firmware.get(SYSTEM_BIOS)!, vgaBios: firmware.get(VGA_BIOS_STDVGA)! },
    deterministic: true, serialOutput: session.serialOutput,
  }, module);
  session.attach(machine);
  return session;
}

const env = (files: Map<string, Uint8Array>) => ({
  writeFile: async (name: string, data: Uint8Array) => void files.set(name, data),
  prepareMedia: async (name: string) => name,
});

describe('deterministic sessions and scripts', () => {
  it('two runs of the same script give the same fingerprint, and a replay of the input log gives it too', async () => {
    const script = parseScript('timeout 120\nwait screen SeaBIOS\ntype "Ab"\nkey Escape\nwait screen Booting\nwait time 50ms\nscreenshot s.png');
    const files = new Map<string, Uint8Array>();
    const a = build();
    const ra = await runScript(script, a, env(files));
    expect(ra.map((r) => r.status)).toEqual(Array(6).fill('passed'));
    expect(files.get('s.png')?.subarray(1, 4)).toEqual(new TextEncoder().encode('PNG'));
    const b = build();
    await runScript(script, b, env(new Map()));
    expect(formatFingerprint(b.fingerprint())).toBe(formatFingerprint(a.fingerprint()));
    // Shift, A, b, Escape: down and up each, at recorded moments.
    expect(a.inputLog.map((e) => e.action.kind === 'key' && `${e.action.code}${e.action.down ? '+' : '-'}`)).toEqual([
      'ShiftLeft+', 'KeyA+', 'KeyA-', 'ShiftLeft-', 'KeyB+', 'KeyB-', 'Escape+', 'Escape-',
    ]);
    const c = build({ replay: a.inputLog });
    expect((await c.run({ insns: a.machine.cpu.instructions, timeoutMs: 120_000 })).end).toBe('reached');
    expect(c.inputLog).toEqual(a.inputLog);
    expect(c.machine.cpu.instructions).toBe(a.machine.cpu.instructions);
    expect(formatFingerprint(c.fingerprint())).toBe(formatFingerprint(a.fingerprint()));
  }, 300_000);

  it('a failed step fails the script and skips the rest; a fingerprint step compares', async () => {
    const s = build();
    const script = parseScript('timeout 3\nwait screen SeaBIOS\nfingerprint insns=1\nsend "never"');
    const results = await runScript(script, s, env(new Map()));
    expect(results.map((r) => r.status)).toEqual(['passed', 'failed', 'skipped']);
    expect(results[1].message).toMatch(/^fingerprint differs: insns: expected 1, got \d+$/);
  }, 120_000);

  it('a run stopped at a boundary and run on is the same run; the boundary hook sees every boundary', async () => {
    let boundaries = 0;
    let stopAfter = 7;
    const a = build({ onBoundary: () => boundaries++ });
    const first = await a.run({ insns: 20_000_000n, timeoutMs: 60_000, stop: () => --stopAfter < 0 });
    expect(first.end).toBe('stopped');
    expect(boundaries).toBe(7);
    expect(a.machine.cpu.instructions).toBeLessThan(20_000_000n);
    expect((await a.run({ insns: 20_000_000n, timeoutMs: 60_000 })).end).toBe('reached');
    const b = build();
    expect((await b.run({ insns: 20_000_000n, timeoutMs: 60_000 })).end).toBe('reached');
    expect(formatFingerprint(a.fingerprint())).toBe(formatFingerprint(b.fingerprint()));
  }, 120_000);

  it('a replay that cannot reach its recorded moment is reported as diverged', async () => {
    const s = build({ replay: [{ insns: 1000n, ns: 1, action: { kind: 'key', code: 'KeyA', down: true } }] });
    const r = await s.run({ insns: 5_000_000n, timeoutMs: 60_000 });
    expect(r.end).toBe('crash');
    expect((r.error as Error).message).toMatch(/replay diverged/);
  }, 120_000);
});
