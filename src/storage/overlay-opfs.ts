/**
 * Disk overlays in the Origin Private File System: one file per overlay in the folder
 * `webhvm-overlays`, named `<vm>.<vdev>.overlay`, laid out as overlay-browser-file.ts says, and
 * written through a FileSystemSyncAccessHandle (dedicated workers only). A block write goes to
 * the file at once; a guest FLUSH CACHE is the handle's flush(), so what the guest flushed is on
 * the host's disk before the command completes. The handle locks the file: a second tab with the
 * same VM is refused rather than writing the same overlay twice.
 *
 * The store works on a small SyncFile interface (the handle's own shape), so its logic runs
 * under Node in tests with an in-memory file.
 */
import { type ImageIdentity, type OverlayStore } from './overlay-store.ts';
import {
  type BrowserOverlayMeta, BrowserOverlayMismatchError, checkOverlayMeta, decodeOverlayHeader, decodeSlotHeader,
  encodeOverlayHeader, encodeSlotHeader, HEADER_BYTES, overlayKey, SLOT_HEADER_BYTES, slotCount, slotOffset,
} from './overlay-browser-file.ts';

/** The synchronous file an overlay lives in: FileSystemSyncAccessHandle's methods. */
export interface SyncFile {
  read(buffer: Uint8Array, options: { at: number }): number;
  write(buffer: Uint8Array, options: { at: number }): number;
  getSize(): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}

/** The folder overlays live in (OPFS, or a fake in tests). */
export interface OverlayFolder {
  /** Open (creating) a file for exclusive synchronous access; rejects if another holder has it. */
  openSync(name: string): Promise<SyncFile>;
  names(): Promise<string[]>;
  /** A file's current contents, for listing and exporting files nobody has open. */
  file(name: string): Promise<Blob | undefined>;
  remove(name: string): Promise<boolean>;
}

/** What the page is told about the image besides ImageIdentity. */
export interface OverlayImage {
  name: string;
  /** A dropped file's lastModified; undefined for a URL. */
  lastModified?: number;
}

/** Told when a store has opened its overlay and when it has closed it (the list of overlays in use). */
export interface OverlayStoreEvents {
  opened?(): void;
  closed?(): void;
}

export function overlayFileName(key: string): string {
  return `${key}.overlay`;
}

export class OpfsOverlayStore implements OverlayStore {
  readonly location: string;
  private file: SyncFile | undefined;
  private meta: BrowserOverlayMeta | undefined;
  /** Slot of each stored block; free slots (torn appends) are reused first. */
  private readonly slots = new Map<number, number>();
  private freeSlots: number[] = [];
  private nextSlot = 0;

  constructor(
    private readonly folder: OverlayFolder,
    readonly vm: string,
    readonly vdev: string,
    private readonly image: OverlayImage,
    private readonly events: OverlayStoreEvents = {},
  ) {
    this.location = `the ${vdev} overlay of VM '${vm}' (kept in this browser)`;
  }

  get key(): string {
    return overlayKey(this.vm, this.vdev);
  }

  /** The overlay's header, once open. */
  get header(): BrowserOverlayMeta | undefined {
    return this.meta;
  }

  get storedBlocks(): number {
    return this.slots.size;
  }

  async open(identity: ImageIdentity, blockSize: number): Promise<[number, Uint8Array][]> {
    let file: SyncFile;
    try {
      file = await this.folder.openSync(overlayFileName(this.key));
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name === 'NoModificationAllowedError' || name === 'InvalidStateError') {
        throw new Error(`${this.location} is in use in another tab or window of this browser: close that VM first`);
      }
      throw new Error(`${this.location} cannot be opened: ${(e as Error).message}`);
    }
    const want: BrowserOverlayMeta = {
      key: this.key, vm: this.vm, vdev: this.vdev, blockSize,
      imageName: this.image.name, imageSize: identity.size, imageHash: identity.hash,
      imageModified: this.image.lastModified ?? null,
    };
    try {
      const size = file.getSize();
      if (size === 0) {
        file.write(encodeOverlayHeader(want), { at: 0 });
        file.flush();
        this.file = file;
        this.meta = want;
        this.events.opened?.();
        return [];
      }
      const header = new Uint8Array(Math.min(size, HEADER_BYTES));
      file.read(header, { at: 0 });
      const saved = decodeOverlayHeader(header, this.location);
      checkOverlayMeta(this.location, saved, want);
      const blocks = this.readSlots(file, saved, size);
      this.file = file;
      this.meta = saved;
      this.events.opened?.();
      return blocks;
    } catch (e) {
      file.close();
      throw e;
    }
  }

  private readSlots(file: SyncFile, meta: BrowserOverlayMeta, size: number): [number, Uint8Array][] {
    const out: [number, Uint8Array][] = [];
    const count = slotCount(size, meta.blockSize);
    const slotHeader = new Uint8Array(SLOT_HEADER_BYTES);
    for (let slot = 0; slot < count; slot++) {
      const at = slotOffset(slot, meta.blockSize);
      const got = at + SLOT_HEADER_BYTES <= size ? file.read(slotHeader, { at }) : 0;
      const claimed = got === SLOT_HEADER_BYTES ? decodeSlotHeader(slotHeader) : undefined;
      if (!claimed) {
        this.freeSlots.push(slot);
        continue;
      }
      const expected = Math.min(meta.blockSize, meta.imageSize - claimed.index * meta.blockSize);
      if (claimed.length !== expected || expected <= 0 || this.slots.has(claimed.index)) {
        throw new BrowserOverlayMismatchError(this.location, `is damaged (slot ${slot} claims block ${claimed.index} of ${claimed.length} bytes)`);
      }
      const data = new Uint8Array(claimed.length);
      if (file.read(data, { at: at + SLOT_HEADER_BYTES }) !== data.length) {
        throw new BrowserOverlayMismatchError(this.location, `is truncated (block ${claimed.index} is marked but missing)`);
      }
      this.slots.set(claimed.index, slot);
      out.push([claimed.index, data]);
    }
    this.nextSlot = count;
    out.sort((a, b) => a[0] - b[0]);
    return out;
  }

  async writeBlock(index: number, data: Uint8Array): Promise<void> {
    const file = this.requireOpen();
    const meta = this.meta!;
    const length = Math.min(meta.blockSize, meta.imageSize - index * meta.blockSize);
    if (!Number.isInteger(index) || index < 0 || length <= 0 || data.length !== length) {
      throw new RangeError(`overlay block ${index} of ${data.length} bytes does not fit this image`);
    }
    const known = this.slots.get(index);
    if (known !== undefined) {
      file.write(data, { at: slotOffset(known, meta.blockSize) + SLOT_HEADER_BYTES });
      return;
    }
    const slot = this.freeSlots.shift() ?? this.nextSlot++;
    const at = slotOffset(slot, meta.blockSize);
    // Data first, then the header that claims it.
    file.write(data, { at: at + SLOT_HEADER_BYTES });
    file.write(encodeSlotHeader(index, length), { at });
    this.slots.set(index, slot);
  }

  async sync(): Promise<void> {
    this.requireOpen().flush();
  }

  async clear(): Promise<void> {
    const file = this.requireOpen();
    file.truncate(HEADER_BYTES);
    file.flush();
    this.slots.clear();
    this.freeSlots = [];
    this.nextSlot = 0;
  }

  async close(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    if (!file) return;
    try {
      file.flush();
    } finally {
      file.close();
      this.events.closed?.();
    }
  }

  /** The overlay file's size in bytes (while open). */
  fileSize(): number {
    return this.requireOpen().getSize();
  }

  /** Bytes of the overlay file itself (export while the overlay is in use). */
  readFile(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    const got = this.requireOpen().read(out, { at: offset });
    return got === length ? out : out.subarray(0, got);
  }

  private requireOpen(): SyncFile {
    if (!this.file) throw new Error(`${this.location} is not open`);
    return this.file;
  }
}

/** The OPFS folder overlays live in, or undefined where this browser has no synchronous OPFS files. */
export async function opfsOverlayFolder(name = 'webhvm-overlays'): Promise<OverlayFolder | undefined> {
  const g = globalThis as { navigator?: { storage?: { getDirectory?: () => Promise<FileSystemDirectoryHandle> } }; FileSystemFileHandle?: { prototype: object } };
  if (!g.navigator?.storage?.getDirectory || !g.FileSystemFileHandle || !('createSyncAccessHandle' in g.FileSystemFileHandle.prototype)) return undefined;
  let dir: FileSystemDirectoryHandle;
  try {
    dir = await (await g.navigator.storage.getDirectory()).getDirectoryHandle(name, { create: true });
  } catch {
    return undefined; // e.g. storage blocked for this origin
  }
  return {
    async openSync(file) {
      const handle = await dir.getFileHandle(file, { create: true });
      return (await handle.createSyncAccessHandle()) as unknown as SyncFile;
    },
    async names() {
      const out: string[] = [];
      for await (const [entry, handle] of (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
        if (handle.kind === 'file') out.push(entry);
      }
      return out.sort();
    },
    async file(file) {
      try {
        return await (await dir.getFileHandle(file)).getFile();
      } catch {
        return undefined;
      }
    },
    async remove(file) {
      try {
        await dir.removeEntry(file);
        return true;
      } catch (e) {
        if ((e as { name?: string }).name === 'NotFoundError') return false;
        throw e;
      }
    },
  };
}
