import { describe, expect, it } from 'vitest';
import { OpfsOverlayStore } from '../../src/storage/overlay-opfs.ts';
import { PersistedOverlay, OverlayMismatchError } from '../../src/storage/overlay-store.ts';
import { HEADER_BYTES, slotStride } from '../../src/storage/overlay-browser-file.ts';
import { CowOverlay } from '../../src/storage/cow-overlay.ts';
import { MemoryBackend } from '../../src/storage/memory-backend.ts';
import { MemoryFolder } from './browser-storage-fakes.ts';

const image = (fill: number, size = 1 << 20) => new MemoryBackend(new Uint8Array(size).fill(fill), { readOnly: true });
const FILE = { name: 'disk.img', lastModified: 1_700_000_000_000 };
const open = (folder: MemoryFolder, base = image(0x11), file = FILE, vm = 'linux') =>
  PersistedOverlay.open(new CowOverlay(base, { blockSize: 4096 }), new OpfsOverlayStore(folder, vm, 'hda', file));

describe('OPFS overlay store', () => {
  it('keeps writes across a reopen (a page reload), block granular and compact, and never writes the image', async () => {
    const folder = new MemoryFolder();
    const base = image(0x11);
    const disk = await open(folder, base);
    await disk.write(8192 + 100, new Uint8Array([1, 2, 3]));
    await disk.write(512 * 1024, new Uint8Array(4096).fill(9));
    await disk.write(8192, new Uint8Array([7])); // the same block again: rewritten in its slot
    await disk.flush();
    await disk.close();
    const file = folder.files.get('linux.hda.overlay')!;
    expect(file.length).toBe(HEADER_BYTES + 2 * slotStride(4096)); // two slots, no room for the blocks between
    const again = await open(folder, image(0x11));
    expect(Array.from(await again.read(8192 + 99, 5))).toEqual([0x11, 1, 2, 3, 0x11]);
    expect((await again.read(8192, 1))[0]).toBe(7);
    expect((await again.read(512 * 1024, 4096)).every((b) => b === 9)).toBe(true);
    expect(again.blocks().map(([i]) => i)).toEqual([2, 128]);
    expect((await base.read(8192 + 100, 1))[0]).toBe(0x11);
    await again.close();
  });

  it('makes writes durable at FLUSH CACHE: the handle is flushed before flush() resolves', async () => {
    const folder = new MemoryFolder();
    const disk = await open(folder);
    const before = folder.flushes;
    await disk.write(0, new Uint8Array(512).fill(3));
    expect(folder.flushes).toBe(before);
    await disk.flush();
    expect(folder.flushes).toBe(before + 1);
    await disk.close();
  });

  it('refuses an overlay made for another image, another copy of the file, and a damaged file, with what to do', async () => {
    const folder = new MemoryFolder();
    const disk = await open(folder);
    await disk.write(0, new Uint8Array(512).fill(1));
    await disk.close();
    await expect(open(folder, image(0x33))).rejects.toThrow(OverlayMismatchError);
    await expect(open(folder, image(0x33))).rejects.toThrow(/hda overlay of VM 'linux'.*another image, disk\.img \(1048576 bytes, modified 2023-11-14T22:13:20\.000Z\).*Disks panel/);
    await expect(open(folder, image(0x11), { name: 'disk.img', lastModified: 1_800_000_000_000 })).rejects.toThrow(/another image/);
    // The same file dropped again, under another name: accepted.
    const renamed = await open(folder, image(0x11), { name: 'copy.img', lastModified: FILE.lastModified });
    expect(renamed.blocks().map(([i]) => i)).toEqual([0]);
    await renamed.close();
    // Another VM name is another overlay.
    const other = await open(folder, image(0x33), FILE, 'other vm');
    expect(folder.files.has('other_vm.hda.overlay')).toBe(true);
    await other.close();

    const bytes = folder.files.get('linux.hda.overlay')!;
    const claimed = bytes.slice();
    new DataView(claimed.buffer).setUint32(HEADER_BYTES + 8, 77, true); // a slot claiming a wrong length
    folder.files.set('linux.hda.overlay', claimed);
    await expect(open(folder)).rejects.toThrow(/damaged/);
    folder.files.set('linux.hda.overlay', new TextEncoder().encode('not an overlay at all, just text long enough for a header.......'));
    await expect(open(folder)).rejects.toThrow(/not a WebHVM browser overlay/);
    expect(folder.locked.size).toBe(0); // a refused file is not left locked
  });

  it('ignores a torn append (data without its slot header) and reuses the slot', async () => {
    const folder = new MemoryFolder();
    const disk = await open(folder);
    await disk.write(0, new Uint8Array(4096).fill(1));
    await disk.close();
    const bytes = folder.files.get('linux.hda.overlay')!;
    const torn = new Uint8Array(bytes.length + 1000); // a second slot whose header was never written
    torn.set(bytes);
    torn.fill(0xee, bytes.length + 16);
    folder.files.set('linux.hda.overlay', torn);
    const again = await open(folder);
    expect(again.blocks().map(([i]) => i)).toEqual([0]);
    await again.write(4096 * 5, new Uint8Array(4096).fill(5));
    await again.close();
    expect(folder.files.get('linux.hda.overlay')!.length).toBe(HEADER_BYTES + 2 * slotStride(4096));
    const third = await open(folder);
    expect(third.blocks().map(([i]) => i)).toEqual([0, 5]);
    await third.close();
  });

  it('refuses a second opener while one has the overlay (another tab)', async () => {
    const folder = new MemoryFolder();
    const first = await open(folder);
    await expect(open(folder)).rejects.toThrow(/in use in another tab/);
    await first.close();
    await (await open(folder)).close();
  });

  it('loading blocks from a snapshot replaces what the file held', async () => {
    const folder = new MemoryFolder();
    const disk = await open(folder);
    await disk.write(0, new Uint8Array(4096).fill(5));
    await disk.loadBlocks([[3, new Uint8Array(4096).fill(6)]]);
    await disk.close();
    const again = await open(folder);
    expect(again.blocks().map(([i]) => i)).toEqual([3]);
    expect((await again.read(3 * 4096, 1))[0]).toBe(6);
    await again.close();
  });

  it('stores the short last block of an image whose size is not a multiple of the block size', async () => {
    const folder = new MemoryFolder();
    const disk = await open(folder, image(0, 4096 * 3 + 512));
    await disk.write(4096 * 3, new Uint8Array(512).fill(8));
    await disk.close();
    const again = await open(folder, image(0, 4096 * 3 + 512));
    expect(again.blocks().map(([i, d]) => [i, d.length])).toEqual([[3, 512]]);
    await again.close();
  });
});
