import { mkdtempSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OverlayFile, overlayPath, discardOverlayFile } from '../../src/storage/overlay-file-node.ts';
import { PersistedOverlay, OverlayMismatchError } from '../../src/storage/overlay-store.ts';
import { CowOverlay } from '../../src/storage/cow-overlay.ts';
import { MemoryBackend } from '../../src/storage/memory-backend.ts';

const image = (fill: number) => new MemoryBackend(new Uint8Array(1 << 20).fill(fill), { readOnly: true });

describe('persistent overlay files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'webhvm-overlay-'));
  it('is named after the domain and the drive, beside the configuration', () => {
    expect(overlayPath('/vms/xp.cfg', 'win xp', 'hda')).toBe('/vms/win_xp.hda.overlay');
  });

  it('keeps writes across a reopen, sparse and block granular, and never writes the image', async () => {
    const path = join(dir, 'a.overlay');
    const base = image(0x11);
    const disk = await PersistedOverlay.open(new CowOverlay(base, { blockSize: 4096 }), new OverlayFile(path));
    await disk.write(8192 + 100, new Uint8Array([1, 2, 3]));
    await disk.write(512 * 1024, new Uint8Array(4096).fill(9));
    await disk.flush();
    await disk.close();
    expect(statSync(path).size).toBeLessThan(1 << 20); // holes for the blocks never written
    const again = await PersistedOverlay.open(new CowOverlay(image(0x11), { blockSize: 4096 }), new OverlayFile(path));
    expect(Array.from(await again.read(8192 + 99, 5))).toEqual([0x11, 1, 2, 3, 0x11]);
    expect((await again.read(512 * 1024, 4096)).every((b) => b === 9)).toBe(true);
    expect(again.blocks().map(([i]) => i)).toEqual([2, 128]);
    expect((await base.read(8192 + 100, 1))[0]).toBe(0x11);
    await again.close();
  });

  it('refuses an overlay made for another image, and a damaged file', async () => {
    const path = join(dir, 'b.overlay');
    const disk = await PersistedOverlay.open(new CowOverlay(image(0x22)), new OverlayFile(path));
    await disk.write(0, new Uint8Array(512).fill(1));
    await disk.close();
    await expect(PersistedOverlay.open(new CowOverlay(image(0x33)), new OverlayFile(path))).rejects.toThrow(OverlayMismatchError);
    await expect(PersistedOverlay.open(new CowOverlay(image(0x22)), new OverlayFile(path))).resolves.toBeDefined();
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, 600));
    await expect(PersistedOverlay.open(new CowOverlay(image(0x22)), new OverlayFile(path))).rejects.toThrow(/truncated/);
    writeFileSync(path, 'not an overlay at all, just some text that is long enough to have a header........');
    await expect(PersistedOverlay.open(new CowOverlay(image(0x22)), new OverlayFile(path))).rejects.toThrow(/not a WebHVM overlay/);
    expect(await discardOverlayFile(path)).toBe(true);
    expect(await discardOverlayFile(path)).toBe(false);
  });

  it('loading blocks from a snapshot replaces what the file held', async () => {
    const path = join(dir, 'c.overlay');
    const disk = await PersistedOverlay.open(new CowOverlay(image(0), { blockSize: 4096 }), new OverlayFile(path));
    await disk.write(0, new Uint8Array(4096).fill(5));
    await disk.loadBlocks([[3, new Uint8Array(4096).fill(6)]]);
    await disk.close();
    const again = await PersistedOverlay.open(new CowOverlay(image(0), { blockSize: 4096 }), new OverlayFile(path));
    expect(again.blocks().map(([i]) => i)).toEqual([3]);
    await again.close();
  });
});
