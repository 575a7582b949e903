import { type BlockBackend, BlockReadOnlyError, checkBlockRange } from './block-backend.ts';

/**
 * An image held in a Uint8Array: for tests, small images and images already fetched whole.
 * Reads return copies, so a caller can never write into the image by accident.
 */
export class MemoryBackend implements BlockBackend {
  readonly readOnly: boolean;

  constructor(
    private readonly data: Uint8Array,
    options: { readOnly?: boolean } = {},
  ) {
    this.readOnly = options.readOnly ?? false;
  }

  get size(): number {
    return this.data.length;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkBlockRange(offset, length, this.data.length);
    return this.data.slice(offset, offset + length);
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.readOnly) throw new BlockReadOnlyError('memory image');
    checkBlockRange(offset, data.length, this.data.length);
    this.data.set(data, offset);
  }

  async flush(): Promise<void> {}
}
