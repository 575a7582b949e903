/**
 * The page's deterministic mode in the worker's MachineSession (run here under Node): the default
 * guest run to its serial marker gives the fingerprint `webhvm run --deterministic --until`
 * computes for the same configuration; pausing a free run and running on does not change the
 * run; input is taken at boundaries and logged; what deterministic mode cannot take is refused.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { MachineSession } from '../../src/worker/machine-session.ts';
import { loadCoreModule } from '../../src/cpu/load-core-node.ts';
import { loadFirmwareFiles } from '../../src/firmware/firmware-files-node.ts';
import { SYSTEM_BIOS, VGA_BIOS_STDVGA } from '../../src/firmware/firmware-files.ts';
import { buildMachineFromConfig } from '../../src/cli/deterministic-machine.ts';
import { formatFingerprint } from '../../src/machine/fingerprint.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const DONE = 'WEBHVM-DEFAULT-GUEST-DONE';
const fw = loadFirmwareFiles([SYSTEM_BIOS, VGA_BIOS_STDVGA]);
const module = loadCoreModule();
let dir = '';
let config = '';
let floppy: File;

const session = () => new MachineSession({ module, firmware: { bios: fw.get(SYSTEM_BIOS)!, vgaBios: fw.get(VGA_BIOS_STDVGA)! } });

async function created(deterministic = true): Promise<MachineSession> {
  const s = session();
  const r = await s.create({ config, fileName: 'default-guest.cfg', files: [floppy], deterministic });
  if (!r.ok) throw new Error(r.message);
  return s;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'webhvm-det-worker-'));
  const img = join(dir, 'default-guest.img');
  const built = spawnSync(process.execPath, [join(ROOT, 'bios/default-guest/build.mjs'), img], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`building the default guest failed:\n${built.stdout}${built.stderr}`);
  config = readFileSync(join(ROOT, 'examples/default-guest.cfg'), 'utf8').replace(/^fda = .*$/m, `fda = '${img}'`);
  writeFileSync(join(dir, 'default-guest.cfg'), config);
  floppy = new File([readFileSync(img)], 'default-guest.img');
});

describe('deterministic mode in the worker', () => {
  it('runs the default guest to its marker with the fingerprint the Node runner computes', async () => {
    const node = await buildMachineFromConfig(join(dir, 'default-guest.cfg'), { deterministic: true, onWarning: () => undefined });
    const n = await node.session.run({ serial: new RegExp(DONE), serialFrom: 0, timeoutMs: 120_000 });
    expect(n.end).toBe('matched');
    const expected = formatFingerprint(node.session.fingerprint());
    await node.close();

    const s = await created();
    expect(s.status().deterministic).toBe(true);
    const r = await s.runUntil({ serial: DONE, serialFromPowerOn: true, timeoutMs: 120_000 });
    expect(r.end).toBe('matched');
    expect(s.fingerprint()).toBe(expected);
    expect(`insns=${r.insns} `).toBe(/insns=\d+ /.exec(expected)![0]);
    expect(s.status().power).toBe('paused');
    expect(s.serialLog()).toContain(DONE);
  }, 300_000);

  it('a free run paused and resumed part-way reaches the same fingerprint', async () => {
    const a = await created();
    await a.runUntil({ serial: DONE, serialFromPowerOn: true, timeoutMs: 120_000 });
    const b = await created();
    await b.start();
    await new Promise((r) => setTimeout(r, 300));
    b.pause();
    await new Promise((r) => setTimeout(r, 50));
    expect(b.status().power).toBe('paused');
    const pausedAt = BigInt(/insns=(\d+)/.exec(b.fingerprint()!)![1]);
    expect(pausedAt).toBeGreaterThan(0n);
    await new Promise((r) => setTimeout(r, 100));
    // Nothing runs while paused.
    expect(BigInt(/insns=(\d+)/.exec(b.fingerprint()!)![1])).toBe(pausedAt);
    expect(b.serialLog()).not.toContain(DONE);
    const r = await b.runUntil({ serial: DONE, serialFromPowerOn: true, timeoutMs: 120_000 });
    expect(r.end).toBe('matched');
    expect(b.fingerprint()).toBe(a.fingerprint());
  }, 300_000);

  it('takes input at a boundary and logs it with its moment', async () => {
    const s = await created();
    await s.runUntil({ insns: '2000000', timeoutMs: 60_000 });
    s.serialInput(new TextEncoder().encode('hi'));
    s.keys([{ code: 'KeyA', down: true }, { code: 'KeyA', down: false }]);
    const r = await s.runUntil({ forNs: 5_000_000, timeoutMs: 60_000 });
    expect(r.end).toBe('reached');
    const log = s.inputLog()!.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(log.map((e) => e.kind)).toEqual(['serial', 'key', 'key']);
    expect(log[0]).toMatchObject({ bytes: [104, 105], port: 0 });
    expect(BigInt(log[0].insns as string)).toBeGreaterThanOrEqual(2_000_000n);
    expect(log[1]).toMatchObject({ code: 'KeyA', down: true });
  }, 120_000);

  it('refuses what deterministic mode cannot take, and runUntil on a real-time machine', async () => {
    const s = session();
    const r = await s.create({ config, files: [floppy], deterministic: true, relay: 'ws://127.0.0.1:9/' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/relay cannot be used in deterministic mode/);
    const rt = await created(false);
    expect(rt.status().deterministic).toBe(false);
    expect(rt.fingerprint()).toBeNull();
    await expect(rt.runUntil({ serial: DONE })).rejects.toThrow(/not deterministic/);
    const d = await created();
    await expect(d.runUntil({})).rejects.toThrow(/give a goal/);
    await expect(d.runUntil({ serial: '(' })).rejects.toThrow(/runUntil: serial:/);
    expect(() => d.input({ kind: 'media', drive: 'hdc', path: null })).toThrow(/not a CD-ROM drive/);
  }, 120_000);
});
