/**
 * Disk overlays in IndexedDB, where the browser has no synchronous OPFS files (older Firefox
 * and Safari, some private modes). Database `webhvm-overlays`: object store `overlays` (one
 * BrowserOverlayMeta per overlay, by key) and `blocks` (one record per stored block, keyed
 * [overlay key, block index]).
 *
 * A block write starts its transaction at once and does not wait for it; a guest FLUSH CACHE
 * (sync) waits until every earlier transaction has completed and then commits one more with
 * strict durability, so everything the guest flushed is on the host's disk before the command
 * completes. A failed write (quota) fails the next write or flush, which the guest sees as a
 * disk error.
 *
 * The store works on OverlayRecords, a small interface over the database, so its logic runs
 * under Node in tests with an in-memory fake.
 */
import { type ImageIdentity, type OverlayStore } from './overlay-store.ts';
import { type BrowserOverlayMeta, checkOverlayMeta, overlayKey } from './overlay-browser-file.ts';
import type { OverlayImage, OverlayStoreEvents } from './overlay-opfs.ts';

/** Take an exclusive lock by name: its release, or undefined if another holder has it. */
export type ExclusiveLock = (name: string) => Promise<(() => void) | undefined>;

export interface OverlayRecords {
  metas(): Promise<BrowserOverlayMeta[]>;
  meta(key: string): Promise<BrowserOverlayMeta | undefined>;
  putMeta(meta: BrowserOverlayMeta): Promise<void>;
  /** Stored block indices of an overlay, ascending. */
  blockIndices(key: string): Promise<number[]>;
  block(key: string, index: number): Promise<Uint8Array | undefined>;
  /** Resolves when the write's transaction has completed (not necessarily durable). */
  putBlock(key: string, index: number, data: Uint8Array): Promise<void>;
  clearBlocks(key: string): Promise<void>;
  /** Remove an overlay, meta and blocks; false if there was none. */
  remove(key: string): Promise<boolean>;
  /** Resolves once every transaction before it is durable (a strict-durability commit). */
  durable(key: string): Promise<void>;
}

export class IndexedDbOverlayStore implements OverlayStore {
  readonly location: string;
  private meta: BrowserOverlayMeta | undefined;
  private pending = new Set<Promise<void>>();
  private failure: Error | undefined;
  private release: (() => void) | undefined;

  constructor(
    private readonly records: OverlayRecords,
    readonly vm: string,
    readonly vdev: string,
    private readonly image: OverlayImage,
    private readonly events: OverlayStoreEvents & { lock?: ExclusiveLock } = {},
  ) {
    this.location = `the ${vdev} overlay of VM '${vm}' (kept in this browser)`;
  }

  get key(): string {
    return overlayKey(this.vm, this.vdev);
  }

  get header(): BrowserOverlayMeta | undefined {
    return this.meta;
  }

  async open(identity: ImageIdentity, blockSize: number): Promise<[number, Uint8Array][]> {
    // IndexedDB has no file locks: a lock keeps a second tab from writing the same overlay.
    const release = this.events.lock ? await this.events.lock(`webhvm-overlay:${this.key}`) : () => {};
    if (!release) throw new Error(`${this.location} is in use in another tab or window of this browser: close that VM first`);
    try {
      const blocks = await this.load(identity, blockSize);
      this.release = release;
      this.events.opened?.();
      return blocks;
    } catch (e) {
      release();
      throw e;
    }
  }

  private async load(identity: ImageIdentity, blockSize: number): Promise<[number, Uint8Array][]> {
    const want: BrowserOverlayMeta = {
      key: this.key, vm: this.vm, vdev: this.vdev, blockSize,
      imageName: this.image.name, imageSize: identity.size, imageHash: identity.hash,
      imageModified: this.image.lastModified ?? null,
    };
    const saved = await this.records.meta(this.key);
    if (!saved) {
      await this.records.putMeta(want);
      await this.records.durable(this.key);
      this.meta = want;
      return [];
    }
    checkOverlayMeta(this.location, saved, want);
    const out: [number, Uint8Array][] = [];
    for (const index of await this.records.blockIndices(this.key)) {
      const data = await this.records.block(this.key, index);
      const length = Math.min(blockSize, identity.size - index * blockSize);
      if (!data || data.length !== length) throw new Error(`${this.location} is damaged (block ${index} has ${data?.length ?? 0} bytes, expected ${length})`);
      out.push([index, data]);
    }
    this.meta = saved;
    return out;
  }

  async writeBlock(index: number, data: Uint8Array): Promise<void> {
    const meta = this.requireOpen();
    this.throwFailure();
    const length = Math.min(meta.blockSize, meta.imageSize - index * meta.blockSize);
    if (!Number.isInteger(index) || index < 0 || length <= 0 || data.length !== length) {
      throw new RangeError(`overlay block ${index} of ${data.length} bytes does not fit this image`);
    }
    const write: Promise<void> = this.records.putBlock(this.key, index, data.slice()).then(
      () => { this.pending.delete(write); },
      (e: Error) => {
        this.pending.delete(write);
        this.failure ??= new Error(`${this.location}: a block could not be stored (${e.message})`);
      },
    );
    this.pending.add(write);
  }

  async sync(): Promise<void> {
    this.requireOpen();
    while (this.pending.size) await Promise.all([...this.pending]);
    this.throwFailure();
    await this.records.durable(this.key);
  }

  async clear(): Promise<void> {
    this.requireOpen();
    while (this.pending.size) await Promise.all([...this.pending]);
    this.failure = undefined;
    await this.records.clearBlocks(this.key);
    await this.records.durable(this.key);
  }

  async close(): Promise<void> {
    if (!this.meta) return;
    try {
      await this.sync();
    } finally {
      this.meta = undefined;
      this.release?.();
      this.release = undefined;
      this.events.closed?.();
    }
  }

  private throwFailure(): void {
    if (this.failure) throw this.failure;
  }

  private requireOpen(): BrowserOverlayMeta {
    if (!this.meta) throw new Error(`${this.location} is not open`);
    return this.meta;
  }
}

/** IndexedDB's requests as promises. */
function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
  });
}

function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
  });
}

const blockRange = (key: string) => IDBKeyRange.bound([key, 0], [key, Number.MAX_SAFE_INTEGER]);

/** OverlayRecords in a real IndexedDB database, or undefined where there is none. */
export async function indexedDbOverlayRecords(name = 'webhvm-overlays'): Promise<OverlayRecords | undefined> {
  const factory = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!factory) return undefined;
  let db: IDBDatabase;
  try {
    const open = factory.open(name, 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore('overlays', { keyPath: 'key' });
      open.result.createObjectStore('blocks');
    };
    db = await done(open);
  } catch {
    return undefined;
  }
  const tx = (stores: string[], mode: IDBTransactionMode, durability: 'relaxed' | 'strict' = 'relaxed') =>
    db.transaction(stores, mode, { durability });
  return {
    async metas() {
      return done(tx(['overlays'], 'readonly').objectStore('overlays').getAll() as IDBRequest<BrowserOverlayMeta[]>);
    },
    async meta(key) {
      return done(tx(['overlays'], 'readonly').objectStore('overlays').get(key) as IDBRequest<BrowserOverlayMeta | undefined>);
    },
    async putMeta(meta) {
      const t = tx(['overlays'], 'readwrite');
      t.objectStore('overlays').put(meta);
      await committed(t);
    },
    async blockIndices(key) {
      const keys = await done(tx(['blocks'], 'readonly').objectStore('blocks').getAllKeys(blockRange(key)));
      return keys.map((k) => (k as [string, number])[1]);
    },
    async block(key, index) {
      const data = await done(tx(['blocks'], 'readonly').objectStore('blocks').get([key, index]) as IDBRequest<Uint8Array | undefined>);
      return data;
    },
    async putBlock(key, index, data) {
      const t = tx(['blocks'], 'readwrite');
      t.objectStore('blocks').put(data, [key, index]);
      await committed(t);
    },
    async clearBlocks(key) {
      const t = tx(['blocks'], 'readwrite');
      t.objectStore('blocks').delete(blockRange(key));
      await committed(t);
    },
    async remove(key) {
      const t = tx(['overlays', 'blocks'], 'readwrite');
      // Requests run in order: the count sees the overlay before the deletes.
      const count = t.objectStore('overlays').count(key);
      t.objectStore('overlays').delete(key);
      t.objectStore('blocks').delete(blockRange(key));
      await committed(t);
      return count.result > 0;
    },
    async durable(key) {
      // Ordered after every earlier readwrite transaction on these stores; strict durability
      // makes its commit wait for the host's disk.
      const t = tx(['overlays', 'blocks'], 'readwrite', 'strict');
      const meta = t.objectStore('overlays');
      const request = meta.get(key);
      request.onsuccess = () => { if (request.result) meta.put(request.result); };
      await committed(t);
    },
  };
}
