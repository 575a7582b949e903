import { describe, expect, it } from 'vitest';
import { BlockRangeError, BlockReadOnlyError } from '../../src/storage/block-backend.ts';
import { MemoryBackend } from '../../src/storage/memory-backend.ts';

describe('MemoryBackend', () => {
  it('reads copies and writes in place', async () => {
    const data = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const b = new MemoryBackend(data);
    expect(b.size).toBe(8);
    const r = await b.read(2, 3);
    expect([...r]).toEqual([3, 4, 5]);
    r[0] = 99;
    expect(data[2]).toBe(3);
    await b.write(6, new Uint8Array([0xaa, 0xbb]));
    expect([...data.slice(5)]).toEqual([6, 0xaa, 0xbb]);
    await b.flush();
  });

  it('rejects accesses past the end of the image', async () => {
    const b = new MemoryBackend(new Uint8Array(16));
    await expect(b.read(10, 7)).rejects.toBeInstanceOf(BlockRangeError);
    await expect(b.read(-1, 1)).rejects.toBeInstanceOf(BlockRangeError);
    await expect(b.write(16, new Uint8Array(1))).rejects.toBeInstanceOf(BlockRangeError);
    expect([...(await b.read(16, 0))]).toEqual([]);
  });

  it('refuses writes when read-only', async () => {
    const data = new Uint8Array(4);
    const b = new MemoryBackend(data, { readOnly: true });
    expect(b.readOnly).toBe(true);
    await expect(b.write(0, new Uint8Array([1]))).rejects.toBeInstanceOf(BlockReadOnlyError);
    expect(data[0]).toBe(0);
  });
});
