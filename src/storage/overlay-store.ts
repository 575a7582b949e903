/**
 * Persistent copy-on-write overlays. A writable disk's changes live in an OverlayStore (a file
 * beside the configuration under Node; OPFS or IndexedDB in the page later) keyed by the image
 * identity, so they survive the run, can be exported as a merged image or discarded, and never
 * touch the user's image. A guest FLUSH CACHE reaches the store's sync(): what the guest
 * flushed survives a killed process.
 *
 * Portable: no Node APIs (the Node store is overlay-file-node.ts).
 */
import { type BlockBackend, checkBlockRange } from './block-backend.ts';
import type { CowOverlay } from './cow-overlay.ts';
import { Hash64 } from '../machine/fingerprint.ts';

/** What an overlay was made for: the base image's size and a hash of its first and last 64 KiB. */
export interface ImageIdentity {
  size: number;
  hash: string;
}

export interface OverlayStore {
  /** Where the overlay lives, for messages (a path, an OPFS name). */
  readonly location: string;
  /**
   * The blocks stored so far. Creates an empty overlay if there is none; refuses (rejects with
   * OverlayMismatchError) one made for another image or block size.
   */
  open(identity: ImageIdentity, blockSize: number): Promise<[number, Uint8Array][]>;
  /** Store a whole block (not yet durable). */
  writeBlock(index: number, data: Uint8Array): Promise<void>;
  /** Make every stored block durable (fsync). */
  sync(): Promise<void>;
  /** Drop every stored block (the disk reads as its base image again). */
  clear(): Promise<void>;
  close(): Promise<void>;
}

export class OverlayMismatchError extends Error {
  constructor(location: string, detail: string) {
    super(`${location}: ${detail}; export it with 'webhvm overlay export' or remove it with 'webhvm overlay discard' first`);
    this.name = 'OverlayMismatchError';
  }
}

const EDGE = 64 * 1024;

export async function imageIdentity(base: BlockBackend): Promise<ImageIdentity> {
  const hash = new Hash64();
  const head = Math.min(EDGE, base.size);
  hash.update(await base.read(0, head));
  const tail = Math.min(EDGE, base.size - head);
  if (tail > 0) hash.update(await base.read(base.size - tail, tail));
  return { size: base.size, hash: hash.hex() };
}

/** A CowOverlay whose blocks are also kept in an OverlayStore. */
export class PersistedOverlay implements BlockBackend {
  readonly readOnly = false;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly overlay: CowOverlay,
    readonly store: OverlayStore,
  ) {}

  /** Open `store` for `overlay`'s base and load what it holds into the overlay. */
  static async open(overlay: CowOverlay, store: OverlayStore): Promise<PersistedOverlay> {
    const blocks = await store.open(await imageIdentity(overlay.base), overlay.blockSize);
    overlay.loadBlocks(blocks);
    return new PersistedOverlay(overlay, store);
  }

  get size(): number {
    return this.overlay.size;
  }

  get blockSize(): number {
    return this.overlay.blockSize;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    return this.overlay.read(offset, length);
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    const copy = data.slice();
    return this.serialize(async () => {
      checkBlockRange(offset, copy.length, this.size);
      await this.overlay.write(offset, copy);
      const bs = this.blockSize;
      for (let index = Math.floor(offset / bs); index * bs < offset + copy.length; index++) {
        await this.store.writeBlock(index, await this.overlay.read(index * bs, Math.min(bs, this.size - index * bs)));
      }
    });
  }

  /** FLUSH CACHE: every write before it is durable when this resolves. */
  flush(): Promise<void> {
    return this.serialize(() => this.store.sync());
  }

  // Snapshots save and restore the overlay's blocks through these (see snapshot/machine-snapshot.ts).
  blocks(): [number, Uint8Array][] {
    return this.overlay.blocks();
  }

  async loadBlocks(blocks: Iterable<[number, Uint8Array]>): Promise<void> {
    const list = [...blocks];
    this.overlay.loadBlocks(list);
    await this.serialize(async () => {
      await this.store.clear();
      for (const [index, data] of list) await this.store.writeBlock(index, data);
    });
  }

  close(): Promise<void> {
    return this.serialize(() => this.store.close());
  }

  private serialize<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
