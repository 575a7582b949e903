/**
 * Block storage as the disk models see it: a byte-addressed image that answers asynchronously
 * (a dropped File is read lazily, an HTTP range arrives later, a copy-on-write overlay may have
 * to read its base first). Devices turn the errors below into ATA/ATAPI errors; none of them
 * may escape into the run loop.
 */
export interface BlockBackend {
  /** Size of the image in bytes. */
  readonly size: number;
  /** True when writes are refused (a write-protected medium). */
  readonly readOnly: boolean;
  /** Read `length` bytes at `offset`. Rejects with BlockRangeError past the end of the image. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Write `data` at `offset`. Rejects with BlockReadOnlyError or BlockRangeError. */
  write(offset: number, data: Uint8Array): Promise<void>;
  /** Resolve once every completed write is as durable as the backend can make it. */
  flush(): Promise<void>;
}

/** An access outside the image. */
export class BlockRangeError extends RangeError {
  constructor(offset: number, length: number, size: number) {
    super(`block access at ${offset}+${length} is outside the image of ${size} bytes`);
    this.name = 'BlockRangeError';
  }
}

/** A write to a read-only image. */
export class BlockReadOnlyError extends Error {
  constructor(what: string) {
    super(`${what} is read-only`);
    this.name = 'BlockReadOnlyError';
  }
}

/** Throws BlockRangeError unless [offset, offset + length) lies inside an image of `size` bytes. */
export function checkBlockRange(offset: number, length: number, size: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw new BlockRangeError(offset, length, size);
  }
}
