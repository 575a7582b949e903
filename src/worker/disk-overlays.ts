/**
 * The page's writable disks: each one's copy-on-write overlay is kept in this browser (OPFS, or
 * IndexedDB; src/storage/overlay-browser.ts) under the VM's name and the drive, so the guest's
 * writes survive a reload and the same image dropped again picks them up. A guest FLUSH CACHE
 * reaches the store's sync before the command completes. Where the browser has no storage, the
 * overlay lives in memory only and the page says so.
 *
 * Also what the Disks panel asks for: the overlays kept here, exports (the merged image, for a
 * disk of the machine that has its image open, or the overlay alone), read in chunks so a 4 GiB
 * disk is never in memory at once, and discarding.
 */
import type { ImageSource } from '../config/media.ts';
import type { BlockBackend } from '../storage/block-backend.ts';
import { CowOverlay } from '../storage/cow-overlay.ts';
import { PersistedOverlay } from '../storage/overlay-store.ts';
import { overlayKey } from '../storage/overlay-browser-file.ts';
import { browserOverlays, type BrowserOverlays, type ExportSource, type OverlayStoreKind } from '../storage/overlay-browser.ts';
import type { OverlayBlocks } from '../snapshot/machine-snapshot.ts';
import { CountingBackend, type BlockCounters } from './counting-backend.ts';
import type { DiskOverlayInfo, ExportInfo, ExportKind } from './storage-api.ts';

export type OverlayDisk = BlockBackend & OverlayBlocks;

/** Counts requests like CountingBackend and lets snapshots reach the overlay's blocks. */
export class CountingOverlay extends CountingBackend implements OverlayBlocks {
  constructor(
    private readonly overlay: OverlayDisk,
    counters: BlockCounters,
  ) {
    super(overlay, counters);
  }

  get blockSize(): number {
    return this.overlay.blockSize;
  }

  blocks(): [number, Uint8Array][] {
    return this.overlay.blocks();
  }

  loadBlocks(blocks: Iterable<[number, Uint8Array]>): void | Promise<void> {
    return this.overlay.loadBlocks(blocks);
  }
}

interface OpenDisk {
  vm: string;
  vdev: string;
  disk: OverlayDisk;
  persisted: boolean;
}

const EXPORT_CHUNK_LIMIT = 16 << 20;

export class DiskOverlays {
  private storage: Promise<BrowserOverlays | undefined> | undefined;
  /** Overlays of the current machine's writable disks, by key. */
  private readonly open = new Map<string, OpenDisk>();
  private readonly exports = new Map<number, ExportSource>();
  private nextExport = 1;

  /** `choose` finds the store, once (default: OPFS, else IndexedDB; undefined keeps overlays in memory). */
  constructor(private readonly choose: () => Promise<BrowserOverlays | undefined> = () => browserOverlays()) {}

  private overlays(): Promise<BrowserOverlays | undefined> {
    this.storage ??= this.choose().catch(() => undefined);
    return this.storage;
  }

  /** Where overlays are kept: 'opfs', 'indexeddb' or 'memory' (not kept). */
  async kind(): Promise<OverlayStoreKind | 'memory'> {
    return (await this.overlays())?.kind ?? 'memory';
  }

  /** The overlay a writable disk writes into, loaded with what this browser kept for it. */
  async overlayFor(vm: string, vdev: string, base: BlockBackend, source: ImageSource): Promise<OverlayDisk> {
    const cow = new CowOverlay(base);
    const overlays = await this.overlays();
    const key = overlayKey(vm, vdev);
    if (!overlays) {
      this.open.set(key, { vm, vdev, disk: cow, persisted: false });
      return cow;
    }
    const lastModified = source.kind === 'blob' && typeof (source.blob as File).lastModified === 'number' ? (source.blob as File).lastModified : undefined;
    const name = source.kind === 'blob' ? source.name : source.kind === 'url' ? source.url : source.path;
    const disk = await PersistedOverlay.open(cow, overlays.store(vm, vdev, { name, lastModified }));
    this.open.set(key, { vm, vdev, disk, persisted: true });
    return disk;
  }

  /** Let go of the current machine's overlays (everything written is kept). */
  async closeAll(): Promise<void> {
    const disks = [...this.open.values()];
    this.open.clear();
    for (const d of disks) if (d.disk instanceof PersistedOverlay) await d.disk.close();
  }

  async list(): Promise<DiskOverlayInfo[]> {
    const overlays = await this.overlays();
    const kept = overlays ? await overlays.list() : [];
    const out: DiskOverlayInfo[] = kept.map((o) => ({ ...o, inUse: this.open.has(o.key), mergeable: this.open.has(o.key) }));
    // Overlays of this machine kept in memory only are listed too: they can still be exported.
    for (const [key, d] of this.open) {
      if (d.persisted) continue;
      const blocks = d.disk.blocks();
      out.push({
        key, vm: d.vm, vdev: d.vdev, blockSize: d.disk.blockSize, imageName: '', imageSize: d.disk.size, imageHash: '',
        imageModified: null, where: 'memory', storedBlocks: blocks.length, bytes: blocks.reduce((n, [, b]) => n + b.length, 0),
        inUse: true, mergeable: true,
      });
    }
    return out;
  }

  /** Throw away an overlay: the disk reads as its image again. One in use needs the machine off. */
  async discard(key: string, machineOff: boolean): Promise<void> {
    const mine = this.open.get(key);
    if (mine) {
      if (!machineOff) throw new Error(`${mine.vdev} is in use by the running machine: power it off, then discard its overlay`);
      await mine.disk.loadBlocks([]);
      await mine.disk.flush();
      return;
    }
    const overlays = await this.overlays();
    if (!overlays || !(await overlays.discard(key))) throw new Error(`there is no overlay ${key} in this browser`);
  }

  /** Start an export: the merged image (a disk of this machine) or the overlay file alone. */
  async openExport(key: string, kind: ExportKind, machineRunning: boolean): Promise<ExportInfo> {
    let source: ExportSource | undefined;
    if (kind === 'merged') {
      const mine = this.open.get(key);
      if (!mine) throw new Error(`the merged image of ${key} needs its image: boot the VM with that image, then export`);
      // A running guest would change the disk while it is read: the export would mix two moments.
      if (machineRunning) throw new Error('pause or power off the machine before exporting a disk, so the image is of one moment');
      const disk = mine.disk;
      source = { fileName: `${key}.img`, size: disk.size, read: (offset, length) => disk.read(offset, length) };
    } else {
      source = await (await this.overlays())?.exportOverlay(key);
      if (!source) throw new Error(`there is no overlay ${key} kept in this browser`);
    }
    const id = this.nextExport++;
    this.exports.set(id, source);
    return { id, fileName: source.fileName, size: source.size };
  }

  async readExport(id: number, offset: number, length: number): Promise<Uint8Array> {
    const source = this.exports.get(id);
    if (!source) throw new Error(`export ${id} is not open`);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || length > EXPORT_CHUNK_LIMIT) {
      throw new RangeError(`export chunk ${offset}+${length} is not allowed (at most ${EXPORT_CHUNK_LIMIT} bytes at a time)`);
    }
    const n = Math.max(0, Math.min(length, source.size - offset));
    return n === 0 ? new Uint8Array(0) : source.read(offset, n);
  }

  closeExport(id: number): void {
    this.exports.delete(id);
  }
}
