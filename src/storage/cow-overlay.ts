import { type BlockBackend, checkBlockRange } from './block-backend.ts';

/**
 * A copy-on-write overlay over a read-only base image: the disk of a `w` entry. Writes land in
 * a sparse in-memory map of fixed-size blocks (the first write to a block copies it from the
 * base); reads merge overlay blocks and base ranges; the base is never written.
 *
 * Operations run one at a time in the order they were issued, so a read issued after a write
 * sees that write even though both are asynchronous.
 *
 * The overlay's blocks are exposed (`blocks()`, `loadBlocks()`) so the machine can persist
 * them (OPFS, IndexedDB, a file under Node) and restore them later; persistence itself lives
 * elsewhere.
 */
export class CowOverlay implements BlockBackend {
  readonly readOnly = false;
  readonly blockSize: number;
  private readonly overlay = new Map<number, Uint8Array>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly base: BlockBackend,
    options: { blockSize?: number } = {},
  ) {
    const blockSize = options.blockSize ?? 64 * 1024;
    if (!Number.isInteger(blockSize) || blockSize < 512 || (blockSize & (blockSize - 1)) !== 0) {
      throw new RangeError(`copy-on-write block size ${blockSize} must be a power of two of at least 512`);
    }
    this.blockSize = blockSize;
  }

  get size(): number {
    return this.base.size;
  }

  /** Number of blocks that differ from the base. */
  get dirtyBlocks(): number {
    return this.overlay.size;
  }

  /** The overlay's blocks as [block index, contents], in ascending block order. */
  blocks(): [number, Uint8Array][] {
    return [...this.overlay.entries()].sort((a, b) => a[0] - b[0]);
  }

  /** Replace the overlay with previously persisted blocks (from blocks()). */
  loadBlocks(blocks: Iterable<[number, Uint8Array]>): void {
    this.overlay.clear();
    for (const [index, data] of blocks) {
      const length = this.blockLength(index);
      if (!Number.isInteger(index) || length <= 0 || data.length !== length) {
        throw new RangeError(`overlay block ${index} of ${data.length} bytes does not fit this ${this.size}-byte image`);
      }
      this.overlay.set(index, data.slice());
    }
  }

  /** Forget every write (the disk reads as its base image again). */
  discard(): void {
    this.overlay.clear();
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    return this.serialize(() => this.readNow(offset, length));
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    const copy = data.slice(); // the caller may reuse its buffer before we run
    return this.serialize(() => this.writeNow(offset, copy));
  }

  async flush(): Promise<void> {
    await this.serialize(async () => {});
  }

  private serialize<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private blockLength(index: number): number {
    return Math.min(this.blockSize, this.size - index * this.blockSize);
  }

  private async readNow(offset: number, length: number): Promise<Uint8Array> {
    checkBlockRange(offset, length, this.size);
    const out = new Uint8Array(length);
    let pos = offset;
    const end = offset + length;
    while (pos < end) {
      const index = Math.floor(pos / this.blockSize);
      const block = this.overlay.get(index);
      if (block) {
        const inBlock = pos - index * this.blockSize;
        const n = Math.min(end - pos, block.length - inBlock);
        out.set(block.subarray(inBlock, inBlock + n), pos - offset);
        pos += n;
        continue;
      }
      // Read the whole run of blocks the overlay does not hold from the base in one request.
      let runEnd = (index + 1) * this.blockSize;
      while (runEnd < end && !this.overlay.has(runEnd / this.blockSize)) runEnd += this.blockSize;
      runEnd = Math.min(runEnd, end);
      out.set(await this.base.read(pos, runEnd - pos), pos - offset);
      pos = runEnd;
    }
    return out;
  }

  private async writeNow(offset: number, data: Uint8Array): Promise<void> {
    checkBlockRange(offset, data.length, this.size);
    let pos = offset;
    const end = offset + data.length;
    while (pos < end) {
      const index = Math.floor(pos / this.blockSize);
      const blockStart = index * this.blockSize;
      const length = this.blockLength(index);
      const inBlock = pos - blockStart;
      const n = Math.min(end - pos, length - inBlock);
      let block = this.overlay.get(index);
      if (!block) {
        // A block written whole needs nothing from the base.
        block = n === length ? new Uint8Array(length) : await this.base.read(blockStart, length);
        this.overlay.set(index, block);
      }
      block.set(data.subarray(pos - offset, pos - offset + n), inBlock);
      pos += n;
    }
  }
}
