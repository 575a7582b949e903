import { describe, expect, it } from 'vitest';
import { IndexedDbOverlayStore } from '../../src/storage/overlay-indexeddb.ts';
import { PersistedOverlay, OverlayMismatchError } from '../../src/storage/overlay-store.ts';
import { CowOverlay } from '../../src/storage/cow-overlay.ts';
import { MemoryBackend } from '../../src/storage/memory-backend.ts';
import { MemoryRecords } from './browser-storage-fakes.ts';

const image = (fill: number) => new MemoryBackend(new Uint8Array(1 << 20).fill(fill), { readOnly: true });
const FILE = { name: 'disk.img', lastModified: 1_700_000_000_000 };
const open = (records: MemoryRecords, base = image(0x11), lock?: (name: string) => Promise<(() => void) | undefined>) =>
  PersistedOverlay.open(new CowOverlay(base, { blockSize: 4096 }), new IndexedDbOverlayStore(records, 'linux', 'hda', FILE, { lock }));

describe('IndexedDB overlay store', () => {
  it('keeps writes across a reopen and never writes the image', async () => {
    const records = new MemoryRecords();
    const base = image(0x11);
    const disk = await open(records, base);
    await disk.write(8192 + 100, new Uint8Array([1, 2, 3]));
    await disk.write(512 * 1024, new Uint8Array(4096).fill(9));
    await disk.flush();
    await disk.close();
    expect([...records.blockStore.get('linux.hda')!.keys()].sort((a, b) => a - b)).toEqual([2, 128]);
    const again = await open(records, image(0x11));
    expect(Array.from(await again.read(8192 + 99, 5))).toEqual([0x11, 1, 2, 3, 0x11]);
    expect(again.blocks().map(([i]) => i)).toEqual([2, 128]);
    expect((await base.read(8192 + 100, 1))[0]).toBe(0x11);
    await again.close();
  });

  it('FLUSH CACHE waits for every earlier write to commit, then commits durably', async () => {
    const records = new MemoryRecords();
    const disk = await open(records);
    records.holding = true;
    await disk.write(0, new Uint8Array(512).fill(3)); // the guest's write completes before the transaction
    let flushed = false;
    const flush = disk.flush().then(() => (flushed = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(flushed).toBe(false);
    const commits = records.durableCommits;
    records.settle();
    await flush;
    expect(records.durableCommits).toBe(commits + 1);
    expect(records.blockStore.get('linux.hda')!.get(0)![0]).toBe(3);
    await disk.close();
  });

  it('a block that could not be stored fails the flush (the guest sees a disk error)', async () => {
    const records = new MemoryRecords();
    const disk = await open(records);
    records.failNext = true;
    await disk.write(0, new Uint8Array(512).fill(3));
    await expect(disk.flush()).rejects.toThrow(/could not be stored.*QuotaExceeded/);
  });

  it('refuses an overlay made for another image, and a second opener (another tab)', async () => {
    const records = new MemoryRecords();
    const held = new Set<string>();
    const lock = async (name: string) => {
      if (held.has(name)) return undefined;
      held.add(name);
      return () => held.delete(name);
    };
    const disk = await open(records, image(0x11), lock);
    await expect(open(records, image(0x11), lock)).rejects.toThrow(/in use in another tab/);
    await disk.close();
    await expect(open(records, image(0x33), lock)).rejects.toThrow(OverlayMismatchError);
    expect(held.size).toBe(0); // the refused open let go of its lock
    await (await open(records, image(0x11), lock)).close();
  });
});
