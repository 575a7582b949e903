/**
 * The worker's side of the page's storage, run under Node with in-memory stand-ins for OPFS:
 * writable disks get overlays kept under the VM's name, refused for another image, exported in
 * chunks and discarded; snapshots are saved, refused when corrupt (the machine untouched), and
 * restored into a fresh machine that goes on to the same fingerprint.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { MachineSession } from '../../src/worker/machine-session.ts';
import { loadCoreModule } from '../../src/cpu/load-core-node.ts';
import { loadFirmwareFiles } from '../../src/firmware/firmware-files-node.ts';
import { SYSTEM_BIOS, VGA_BIOS_STDVGA } from '../../src/firmware/firmware-files.ts';
import { OpfsOverlays } from '../../src/storage/overlay-browser.ts';
import { MemoryFolder } from '../storage/browser-storage-fakes.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const DONE = 'WEBHVM-DEFAULT-GUEST-DONE';
const fw = loadFirmwareFiles([SYSTEM_BIOS, VGA_BIOS_STDVGA]);
const module = loadCoreModule();
let guestConfig = '';
let floppy: File;

function session(folder = new MemoryFolder()): MachineSession {
  return new MachineSession({
    module, firmware: { bios: fw.get(SYSTEM_BIOS)!, vgaBios: fw.get(VGA_BIOS_STDVGA)! },
    overlayStorage: async () => new OpfsOverlays(folder),
  });
}

const disk = (fill: number, lastModified = 1_700_000_000_000) => new File([new Uint8Array(4 << 20).fill(fill)], 'data.img', { lastModified });
const diskConfig = "name = 'store'\nbuilder = 'hvm'\nmemory = 32\nserial = 'pty'\ndisk = [ 'data.img,hda,w' ]\n";

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'webhvm-page-storage-'));
  const img = join(dir, 'default-guest.img');
  const built = spawnSync(process.execPath, [join(ROOT, 'bios/default-guest/build.mjs'), img], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`building the default guest failed:\n${built.stdout}${built.stderr}`);
  guestConfig = readFileSync(join(ROOT, 'examples/default-guest.cfg'), 'utf8').replace(/^fda = .*$/m, "fda = 'default-guest.img'");
  floppy = new File([readFileSync(img)], 'default-guest.img');
});

describe('disk overlays in the worker', () => {
  it('keeps a writable disk\'s overlay under the VM and drive, refuses it for another image, exports and discards it', async () => {
    const folder = new MemoryFolder();
    const s = session(folder);
    expect(await s.overlayStorage()).toBe('opfs');
    const r = await s.create({ config: diskConfig, files: [disk(0x5a)] });
    expect(r.ok, r.ok ? '' : r.message).toBe(true);
    expect(folder.files.has('store.hda.overlay')).toBe(true);
    let listed = await s.listOverlays();
    expect(listed).toEqual([expect.objectContaining({ key: 'store.hda', vm: 'store', vdev: 'hda', imageName: 'data.img', where: 'opfs', inUse: true, mergeable: true, storedBlocks: 0 })]);

    // The merged image, read in chunks, is the image itself while nothing was written.
    const merged = await s.openExport('store.hda', 'merged');
    expect(merged.size).toBe(4 << 20);
    const chunk = await s.readExport(merged.id, (4 << 20) - 100, 1000);
    expect(chunk.length).toBe(100);
    expect(chunk.every((b) => b === 0x5a)).toBe(true);
    await expect(s.readExport(merged.id, 0, 64 << 20)).rejects.toThrow(/at most/);
    s.closeExport(merged.id);

    // Another tab with the same VM: refused while this one has the overlay.
    const other = session(folder);
    const busy = await other.create({ config: diskConfig, files: [disk(0x5a)] });
    expect(busy.ok).toBe(false);
    if (!busy.ok) expect(busy.message).toMatch(/in use in another tab/);
    // Creating a machine again lets go of the overlay first; then another image of the same name is refused.
    expect((await s.create({ config: diskConfig.replace("'data.img,hda,w'", "'data.img,hda,r'"), files: [disk(0x5a)] })).ok).toBe(true);
    const refused = await other.create({ config: diskConfig, files: [disk(0x5a, 1_800_000_000_000)] });
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.message).toMatch(/hda overlay of VM 'store'.*another image.*Disks panel/);
    expect((await s.create({ config: diskConfig, files: [disk(0x5a)] })).ok).toBe(true);
    await expect(s.discardOverlay('store.hda')).resolves.toBeUndefined(); // machine off: allowed
    await s.start();
    await expect(s.discardOverlay('store.hda')).rejects.toThrow(/power it off/);
    s.powerOff();
    listed = await s.listOverlays();
    expect(listed[0]).toMatchObject({ key: 'store.hda', storedBlocks: 0 });
  }, 60_000);
});

describe('snapshots in the worker', () => {
  it('saves a deterministic machine, refuses a corrupt file without touching it, restores into a fresh machine with the same ending', async () => {
    const folder = new MemoryFolder();
    const a = session(folder);
    expect((await a.create({ config: guestConfig, fileName: 'default-guest.cfg', files: [floppy], deterministic: true })).ok).toBe(true);
    await a.runUntil({ insns: '20000000', timeoutMs: 120_000 });
    const snapshot = await a.saveSnapshot();
    expect(new TextDecoder().decode(snapshot.subarray(0, 8))).toBe('WEBHVMSS');
    const middle = a.fingerprint();

    // A damaged copy is refused with the snapshot code's reason; the machine stays where it was.
    const corrupt = snapshot.slice();
    corrupt[corrupt.length >> 1] ^= 0xff;
    await expect(a.restoreSnapshot(new Blob([corrupt as BlobPart]))).rejects.toThrow(/corrupt|checksum/);
    await expect(a.restoreSnapshot(new Blob([new TextEncoder().encode('hello')]))).rejects.toThrow(/not a WebHVM snapshot/);
    expect(a.fingerprint()).toBe(middle);

    const end = await a.runUntil({ serial: DONE, serialFromPowerOn: true, timeoutMs: 120_000 });
    expect(end.end).toBe('matched');
    const expected = a.fingerprint();

    // Restored in another session (a reload), from a file: the same fingerprint at the marker.
    const b = session(folder);
    expect((await b.create({ config: guestConfig, fileName: 'default-guest.cfg', files: [floppy], deterministic: true })).ok).toBe(true);
    await b.restoreSnapshot(new Blob([snapshot as BlobPart]));
    expect(b.status().power).toBe('paused');
    expect(b.fingerprint()).toBe(middle);
    expect((await b.runUntil({ serial: DONE, serialFromPowerOn: true, timeoutMs: 120_000 })).end).toBe('matched');
    expect(b.fingerprint()).toBe(expected);

    // A machine of another configuration refuses it.
    const c = session(folder);
    expect((await c.create({ config: guestConfig.replace('memory = 128', 'memory = 64'), fileName: 'default-guest.cfg', files: [floppy], deterministic: true })).ok).toBe(true);
    await expect(c.restoreSnapshot(new Blob([snapshot as BlobPart]))).rejects.toThrow(/different configuration/);
  }, 300_000);

  it('saves a real-time machine part-way and a fresh real-time machine restored from it runs on to the end', async () => {
    const serialOf = (s: MachineSession) => {
      let text = '';
      s.listen({ serial: (_port, bytes) => { text += new TextDecoder().decode(bytes); }, note: () => {} });
      return () => text;
    };
    const until = async (read: () => string, pattern: string, ms: number) => {
      const deadline = Date.now() + ms;
      while (!read().includes(pattern)) {
        if (Date.now() > deadline) throw new Error(`no '${pattern}' in ${ms} ms; serial so far:\n${read()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const a = session();
    const aSerial = serialOf(a);
    expect((await a.create({ config: guestConfig, fileName: 'default-guest.cfg', files: [floppy] })).ok).toBe(true);
    await a.start();
    await until(aSerial, 'Windows   HAL', 120_000);
    const snapshot = await a.saveSnapshot();
    a.powerOff();
    const savedSerial = aSerial();
    expect(savedSerial).not.toContain(DONE);

    const b = session();
    const bSerial = serialOf(b);
    expect((await b.create({ config: guestConfig, fileName: 'default-guest.cfg', files: [floppy] })).ok).toBe(true);
    await b.restoreSnapshot(new Blob([snapshot as BlobPart]));
    expect(b.status().power).toBe('paused');
    b.resume();
    await until(bSerial, DONE, 120_000);
    // It went on from the middle: the banner and summary printed before the save do not come again.
    expect(bSerial()).not.toContain('what the firmware handed the OS');
    expect(bSerial()).not.toContain('Windows   HAL');
    b.powerOff();
  }, 300_000);
});
