import { describe, expect, it } from 'vitest';
import { IndexedDbOverlays, OpfsOverlays, type BrowserOverlays, type ExportSource } from '../../src/storage/overlay-browser.ts';
import { PersistedOverlay } from '../../src/storage/overlay-store.ts';
import { CowOverlay } from '../../src/storage/cow-overlay.ts';
import { MemoryBackend } from '../../src/storage/memory-backend.ts';
import { HEADER_BYTES, slotStride } from '../../src/storage/overlay-browser-file.ts';
import { MemoryFolder, MemoryRecords } from './browser-storage-fakes.ts';

const image = () => new MemoryBackend(new Uint8Array(1 << 20).fill(0x11), { readOnly: true });
const FILE = { name: 'disk.img', lastModified: 1_700_000_000_000 };

async function writeSome(overlays: BrowserOverlays): Promise<PersistedOverlay> {
  const disk = await PersistedOverlay.open(new CowOverlay(image(), { blockSize: 4096 }), overlays.store('linux', 'hda', FILE));
  await disk.write(4096 * 7, new Uint8Array(4096).fill(7));
  await disk.write(4096 * 2, new Uint8Array([2, 2]));
  await disk.flush();
  return disk;
}

/** Read an export in odd-sized chunks, as a download would pull it. */
async function readAll(source: ExportSource): Promise<Uint8Array> {
  const out = new Uint8Array(source.size);
  for (let at = 0; at < source.size; at += 3000) out.set(await source.read(at, Math.min(3000, source.size - at)), at);
  return out;
}

describe.each([
  ['OPFS', () => new OpfsOverlays(new MemoryFolder())],
  ['IndexedDB', () => new IndexedDbOverlays(new MemoryRecords(), async () => () => {})],
])('overlays kept in the browser (%s)', (_name, make) => {
  it('lists each overlay with its VM, drive, image and size', async () => {
    const overlays = make();
    expect(await overlays.list()).toEqual([]);
    const disk = await writeSome(overlays);
    const listed = await overlays.list();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ key: 'linux.hda', vm: 'linux', vdev: 'hda', imageName: 'disk.img', imageSize: 1 << 20, imageModified: FILE.lastModified, blockSize: 4096, storedBlocks: 2 });
    expect(listed[0].bytes).toBeGreaterThanOrEqual(2 * 4096);
    await disk.close();
    expect((await overlays.list())[0]).toMatchObject({ key: 'linux.hda', storedBlocks: 2 });
  });

  it('exports the overlay alone in the browser overlay file format, which opens as the same overlay', async () => {
    const overlays = make();
    const disk = await writeSome(overlays);
    const exported = await readAll((await overlays.exportOverlay('linux.hda'))!);
    await disk.close();
    expect(exported.length).toBe(HEADER_BYTES + 2 * slotStride(4096));
    expect(new TextDecoder().decode(exported.subarray(0, 8))).toBe('WHVMOVB1');
    // The exported file is a valid OPFS overlay: placed in a folder, it opens with the same blocks.
    const folder = new MemoryFolder();
    folder.files.set('linux.hda.overlay', exported);
    const reopened = await PersistedOverlay.open(new CowOverlay(image(), { blockSize: 4096 }), new OpfsOverlays(folder).store('linux', 'hda', FILE));
    expect(reopened.blocks().map(([i]) => i)).toEqual([2, 7]);
    expect(Array.from(await reopened.read(4096 * 2, 3))).toEqual([2, 2, 0x11]);
    await reopened.close();
    expect(await overlays.exportOverlay('nothing.hda')).toBeUndefined();
  });

  it('discards an overlay nobody has open (the disk reads as its image again), and refuses one in use', async () => {
    const overlays = make();
    const disk = await writeSome(overlays);
    await expect(overlays.discard('linux.hda')).rejects.toThrow(/in use by this machine/);
    await disk.close();
    expect(await overlays.discard('linux.hda')).toBe(true);
    expect(await overlays.discard('linux.hda')).toBe(false);
    expect(await overlays.list()).toEqual([]);
    const fresh = await PersistedOverlay.open(new CowOverlay(image(), { blockSize: 4096 }), overlays.store('linux', 'hda', FILE));
    expect(fresh.blocks()).toEqual([]);
    await fresh.close();
  });
});
