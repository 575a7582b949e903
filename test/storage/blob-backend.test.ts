import { describe, expect, it } from 'vitest';
import { BlobBackend } from '../../src/storage/blob-backend.ts';
import { BlockRangeError, BlockReadOnlyError } from '../../src/storage/block-backend.ts';

/** A Blob that records which slices were asked for, to prove the image is read lazily. */
class CountingBlob extends Blob {
  slices: [number, number][] = [];
  override slice(start?: number, end?: number, type?: string): Blob {
    this.slices.push([start ?? 0, end ?? this.size]);
    return super.slice(start, end, type);
  }
}

describe('BlobBackend', () => {
  const bytes = new Uint8Array(4096).map((_, i) => (i * 7) & 0xff);

  it('reads slices without reading the whole blob', async () => {
    const blob = new CountingBlob([bytes]);
    const b = new BlobBackend(blob);
    expect(b.size).toBe(4096);
    expect(b.readOnly).toBe(true);
    const r = await b.read(1000, 24);
    expect([...r]).toEqual([...bytes.slice(1000, 1024)]);
    expect(blob.slices).toEqual([[1000, 1024]]);
  });

  it('rejects reads past the end and all writes', async () => {
    const b = new BlobBackend(new Blob([bytes]));
    await expect(b.read(4090, 8)).rejects.toBeInstanceOf(BlockRangeError);
    await expect(b.write(0, new Uint8Array(1))).rejects.toBeInstanceOf(BlockReadOnlyError);
  });
});
