/**
 * The disk overlays kept in this browser, whichever store holds them: OPFS (synchronous files,
 * overlay-opfs.ts) where the browser has it, IndexedDB (overlay-indexeddb.ts) otherwise. An
 * overlay is named after the VM and the drive (`<vm>.<vdev>`, like the Node runner's overlay
 * file) and remembers the image it was made for; it can be listed, exported as the overlay file
 * alone, or discarded. Exporting the merged image needs the base image, so the machine that has
 * it open does that (src/worker/disk-overlays.ts).
 *
 * Portable: web-platform storage APIs only (no DOM), all behind interfaces tests can fake.
 */
import type { OverlayStore } from './overlay-store.ts';
import {
  type BrowserOverlayMeta, decodeOverlayHeader, encodeOverlayHeader, encodeSlotHeader, HEADER_BYTES, slotCount,
  slotStride, SLOT_HEADER_BYTES,
} from './overlay-browser-file.ts';
import { OpfsOverlayStore, opfsOverlayFolder, overlayFileName, type OverlayFolder, type OverlayImage } from './overlay-opfs.ts';
import { IndexedDbOverlayStore, indexedDbOverlayRecords, type ExclusiveLock, type OverlayRecords } from './overlay-indexeddb.ts';

export type OverlayStoreKind = 'opfs' | 'indexeddb';

/** One overlay kept in this browser, for the Disks panel. */
export interface OverlayListing extends BrowserOverlayMeta {
  where: OverlayStoreKind;
  /** Blocks the overlay holds (for an OPFS file nobody has open: its slots, a torn one included). */
  storedBlocks: number;
  /** Bytes the overlay takes in this browser's storage. */
  bytes: number;
}

/** Something to download in chunks: never held whole in memory. */
export interface ExportSource {
  fileName: string;
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export type BrowserOverlayStore = OverlayStore & { readonly key: string; readonly header: BrowserOverlayMeta | undefined };

export interface BrowserOverlays {
  readonly kind: OverlayStoreKind;
  /** A store for a VM's drive (open() it to load or create the overlay). */
  store(vm: string, vdev: string, image: OverlayImage): BrowserOverlayStore;
  list(): Promise<OverlayListing[]>;
  /** Remove an overlay no machine has open; false if there was none. */
  discard(key: string): Promise<boolean>;
  /** The overlay alone, in the browser overlay file format (overlay-browser-file.ts). */
  exportOverlay(key: string): Promise<ExportSource | undefined>;
}

/** OPFS, else IndexedDB, else undefined (overlays then live in memory only). `prefer` forces one. */
export async function browserOverlays(prefer?: OverlayStoreKind): Promise<BrowserOverlays | undefined> {
  if (prefer !== 'indexeddb') {
    const folder = await opfsOverlayFolder();
    if (folder) return new OpfsOverlays(folder);
  }
  const records = await indexedDbOverlayRecords();
  return records ? new IndexedDbOverlays(records) : undefined;
}

export class OpfsOverlays implements BrowserOverlays {
  readonly kind = 'opfs';
  private readonly open = new Map<string, OpfsOverlayStore>();

  constructor(private readonly folder: OverlayFolder) {}

  store(vm: string, vdev: string, image: OverlayImage): OpfsOverlayStore {
    const store: OpfsOverlayStore = new OpfsOverlayStore(this.folder, vm, vdev, image, {
      opened: () => this.open.set(store.key, store),
      closed: () => { if (this.open.get(store.key) === store) this.open.delete(store.key); },
    });
    return store;
  }

  async list(): Promise<OverlayListing[]> {
    const out: OverlayListing[] = [];
    for (const name of await this.folder.names()) {
      if (!name.endsWith('.overlay')) continue;
      const key = name.slice(0, -'.overlay'.length);
      const mine = this.open.get(key);
      if (mine?.header) {
        out.push({ ...mine.header, where: 'opfs', storedBlocks: mine.storedBlocks, bytes: mine.fileSize() });
        continue;
      }
      const file = await this.folder.file(name);
      if (!file) continue;
      try {
        const meta = decodeOverlayHeader(new Uint8Array(await file.slice(0, HEADER_BYTES).arrayBuffer()), name);
        out.push({ ...meta, where: 'opfs', storedBlocks: slotCount(file.size, meta.blockSize), bytes: file.size });
      } catch {
        // Not readable as an overlay (damaged, or open in another tab): still listed so it can be discarded.
        out.push({ key, vm: '', vdev: '', blockSize: 0, imageName: '(unreadable)', imageSize: 0, imageHash: '', imageModified: null, where: 'opfs', storedBlocks: 0, bytes: file.size });
      }
    }
    return out;
  }

  async discard(key: string): Promise<boolean> {
    if (this.open.has(key)) throw new Error(`the overlay ${key} is in use by this machine: power it off first`);
    try {
      return await this.folder.remove(overlayFileName(key));
    } catch (e) {
      throw new Error(`the overlay ${key} cannot be removed (${(e as Error).message}); is it in use in another tab?`);
    }
  }

  async exportOverlay(key: string): Promise<ExportSource | undefined> {
    const fileName = overlayFileName(key);
    const mine = this.open.get(key);
    if (mine) return { fileName, size: mine.fileSize(), read: async (offset, length) => mine.readFile(offset, length) };
    const file = await this.folder.file(fileName);
    if (!file) return undefined;
    return { fileName, size: file.size, read: async (offset, length) => new Uint8Array(await file.slice(offset, offset + length).arrayBuffer()) };
  }
}

export class IndexedDbOverlays implements BrowserOverlays {
  readonly kind = 'indexeddb';
  private readonly open = new Set<string>();

  constructor(
    private readonly records: OverlayRecords,
    private readonly lock: ExclusiveLock = webLock,
  ) {}

  store(vm: string, vdev: string, image: OverlayImage): IndexedDbOverlayStore {
    const store: IndexedDbOverlayStore = new IndexedDbOverlayStore(this.records, vm, vdev, image, {
      lock: this.lock,
      opened: () => this.open.add(store.key),
      closed: () => this.open.delete(store.key),
    });
    return store;
  }

  async list(): Promise<OverlayListing[]> {
    const out: OverlayListing[] = [];
    for (const meta of await this.records.metas()) {
      const stored = (await this.records.blockIndices(meta.key)).length;
      out.push({ ...meta, where: 'indexeddb', storedBlocks: stored, bytes: stored * meta.blockSize });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async discard(key: string): Promise<boolean> {
    if (this.open.has(key)) throw new Error(`the overlay ${key} is in use by this machine: power it off first`);
    const release = await this.lock(`webhvm-overlay:${key}`);
    if (!release) throw new Error(`the overlay ${key} is in use in another tab or window of this browser`);
    try {
      return await this.records.remove(key);
    } finally {
      release();
    }
  }

  /** The same file an OPFS overlay would be: a header, then one slot per stored block. */
  async exportOverlay(key: string): Promise<ExportSource | undefined> {
    const meta = await this.records.meta(key);
    if (!meta) return undefined;
    const indices = await this.records.blockIndices(key);
    const header = encodeOverlayHeader(meta);
    const stride = slotStride(meta.blockSize);
    const records = this.records;
    return {
      fileName: overlayFileName(key),
      size: HEADER_BYTES + indices.length * stride,
      async read(offset, length) {
        const out = new Uint8Array(length);
        let at = offset;
        const end = offset + length;
        if (at < HEADER_BYTES) {
          const n = Math.min(end, HEADER_BYTES) - at;
          out.set(header.subarray(at, at + n), 0);
          at += n;
        }
        while (at < end) {
          const slot = Math.floor((at - HEADER_BYTES) / stride);
          if (slot >= indices.length) break;
          const index = indices[slot];
          const data = await records.block(key, index);
          if (!data) throw new Error(`the overlay ${key} changed while it was exported (block ${index} is gone)`);
          const slotBytes = new Uint8Array(stride);
          slotBytes.set(encodeSlotHeader(index, data.length), 0);
          slotBytes.set(data, SLOT_HEADER_BYTES);
          const inSlot = at - (HEADER_BYTES + slot * stride);
          const n = Math.min(end - at, stride - inSlot);
          out.set(slotBytes.subarray(inSlot, inSlot + n), at - offset);
          at += n;
        }
        return at === end ? out : out.subarray(0, at - offset);
      },
    };
  }
}

/**
 * Hold a Web Lock until the returned function is called; undefined if another holder has it.
 * Without Web Locks (old browsers) nothing is locked.
 */
export async function webLock(name: string): Promise<(() => void) | undefined> {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  if (!locks) return () => {};
  return new Promise((resolve) => {
    void locks.request(name, { ifAvailable: true }, (lock) => {
      if (!lock) {
        resolve(undefined);
        return;
      }
      return new Promise<void>((release) => resolve(release));
    });
  });
}
