import { describe, expect, it } from 'vitest';
import { BlockRangeError } from '../../src/storage/block-backend.ts';
import { CowOverlay } from '../../src/storage/cow-overlay.ts';
import { MemoryBackend } from '../../src/storage/memory-backend.ts';

function pattern(n: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 31 + 7) & 0xff);
}

describe('CowOverlay', () => {
  it('reads the base until written, and never writes the base', async () => {
    const base = pattern(10000);
    const original = base.slice();
    const cow = new CowOverlay(new MemoryBackend(base, { readOnly: true }), { blockSize: 1024 });
    expect(cow.size).toBe(10000);
    expect(cow.readOnly).toBe(false);
    expect([...(await cow.read(100, 50))]).toEqual([...original.slice(100, 150)]);

    await cow.write(1020, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(base).toEqual(original);
    const merged = await cow.read(1000, 40);
    const expected = original.slice(1000, 1040);
    expected.set([1, 2, 3, 4, 5, 6, 7, 8], 20);
    expect([...merged]).toEqual([...expected]);
    // The write straddled blocks 0 and 1; both were copied from the base first.
    expect(cow.blocks().map(([i]) => i)).toEqual([0, 1]);
    expect(cow.blocks()[0][1][0]).toBe(original[0]);
  });

  it('handles a partial last block and a whole-block write', async () => {
    const base = pattern(2500);
    const cow = new CowOverlay(new MemoryBackend(base.slice()), { blockSize: 1024 });
    await cow.write(2048, new Uint8Array(452).fill(0xee));
    expect(cow.blocks()[0][1].length).toBe(452);
    await cow.write(1024, new Uint8Array(1024).fill(0x11));
    const all = await cow.read(0, 2500);
    expect([...all.slice(0, 1024)]).toEqual([...base.slice(0, 1024)]);
    expect(all.slice(1024, 2048).every((v) => v === 0x11)).toBe(true);
    expect(all.slice(2048).every((v) => v === 0xee)).toBe(true);
  });

  it('orders reads after earlier writes', async () => {
    const cow = new CowOverlay(new MemoryBackend(new Uint8Array(4096)), { blockSize: 512 });
    const w = cow.write(10, new Uint8Array([9]));
    const r = cow.read(10, 1);
    await w;
    expect((await r)[0]).toBe(9);
  });

  it('copies the data it was given before the write runs', async () => {
    const cow = new CowOverlay(new MemoryBackend(new Uint8Array(4096)), { blockSize: 512 });
    const buf = new Uint8Array([5]);
    const w = cow.write(0, buf);
    buf[0] = 6;
    await w;
    expect((await cow.read(0, 1))[0]).toBe(5);
  });

  it('rejects out-of-range accesses and keeps working afterwards', async () => {
    const cow = new CowOverlay(new MemoryBackend(new Uint8Array(2048)), { blockSize: 512 });
    await expect(cow.read(2000, 100)).rejects.toBeInstanceOf(BlockRangeError);
    await expect(cow.write(2047, new Uint8Array(2))).rejects.toBeInstanceOf(BlockRangeError);
    expect(cow.dirtyBlocks).toBe(0);
    await cow.write(0, new Uint8Array([1]));
    expect(cow.dirtyBlocks).toBe(1);
  });

  it('saves and restores its blocks, and can discard them', async () => {
    const base = new MemoryBackend(pattern(4096), { readOnly: true });
    const a = new CowOverlay(base, { blockSize: 512 });
    await a.write(700, new Uint8Array([1, 2, 3]));
    const b = new CowOverlay(base, { blockSize: 512 });
    b.loadBlocks(a.blocks());
    expect([...(await b.read(700, 3))]).toEqual([1, 2, 3]);
    expect(() => b.loadBlocks([[1, new Uint8Array(10)]])).toThrow(RangeError);
    expect(() => b.loadBlocks([[8, new Uint8Array(512)]])).toThrow(RangeError);
    b.discard();
    expect([...(await b.read(700, 3))]).toEqual([...pattern(4096).slice(700, 703)]);
  });

  it('refuses a block size that is not a power of two', () => {
    const base = new MemoryBackend(new Uint8Array(1024));
    expect(() => new CowOverlay(base, { blockSize: 1000 })).toThrow(RangeError);
  });
});
