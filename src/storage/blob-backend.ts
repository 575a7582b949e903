import { type BlockBackend, BlockReadOnlyError, checkBlockRange } from './block-backend.ts';

/**
 * A browser File or Blob (a dropped disk image), read lazily one slice at a time with
 * `Blob.slice().arrayBuffer()`: a multi-gigabyte image is never read whole. A Blob cannot be
 * written, so this backend is read-only; put a CowOverlay over it for a writable disk.
 */
export class BlobBackend implements BlockBackend {
  readonly readOnly = true;
  readonly size: number;

  constructor(private readonly blob: Blob) {
    this.size = blob.size;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkBlockRange(offset, length, this.size);
    const buffer = await this.blob.slice(offset, offset + length).arrayBuffer();
    return new Uint8Array(buffer);
  }

  async write(_offset: number, _data: Uint8Array): Promise<void> {
    throw new BlockReadOnlyError('a dropped file');
  }

  async flush(): Promise<void> {}
}
