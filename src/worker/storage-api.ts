/**
 * What the page asks the machine worker about storage: the disk overlays kept in this browser
 * (disk-overlays.ts) and snapshots (page-snapshots.ts). Types only, part of MachineApi.
 */
import type { BrowserOverlayMeta } from '../storage/overlay-browser-file.ts';

/** One disk overlay, for the Disks panel. */
export interface DiskOverlayInfo extends BrowserOverlayMeta {
  /** Where it is kept: OPFS, IndexedDB, or only in memory (this machine's, gone on reload). */
  where: 'opfs' | 'indexeddb' | 'memory';
  storedBlocks: number;
  /** Bytes it takes in this browser's storage. */
  bytes: number;
  /** A disk of the current machine. */
  inUse: boolean;
  /** The merged image can be exported (the current machine has the base image open). */
  mergeable: boolean;
}

/** The disk as the guest sees it (image + overlay), or the overlay file alone. */
export type ExportKind = 'merged' | 'overlay';

/** An export being read in chunks (readExport), so a 4 GiB disk never sits in memory whole. */
export interface ExportInfo {
  id: number;
  fileName: string;
  size: number;
}

/** A snapshot kept in this browser. */
export interface StoredSnapshot {
  name: string;
  bytes: number;
  /** ms since 1970 */
  modified: number;
}

/** Where a snapshot to restore comes from: a file picked or dropped, or the browser's list. */
export type SnapshotSource = Blob | { stored: string };

export interface StorageApi {
  /** Where writable disks' overlays are kept in this browser ('memory': not kept). */
  overlayStorage(): Promise<'opfs' | 'indexeddb' | 'memory'>;
  listOverlays(): Promise<DiskOverlayInfo[]>;
  /** Throw an overlay away: the disk reads as its clean image again (one in use: machine off). */
  discardOverlay(key: string): Promise<void>;
  openExport(key: string, kind: ExportKind): Promise<ExportInfo>;
  /** At most 16 MiB at a time. */
  readExport(id: number, offset: number, length: number): Promise<Uint8Array>;
  closeExport(id: number): void;
  /** The running machine as a snapshot file (to download); the machine goes on afterwards. */
  saveSnapshot(): Promise<Uint8Array>;
  /** Save a snapshot into this browser under `name`. */
  storeSnapshot(name: string): Promise<StoredSnapshot>;
  listSnapshots(): Promise<StoredSnapshot[]>;
  deleteSnapshot(name: string): Promise<void>;
  /**
   * Restore into a fresh machine of the same configuration; the machine is left paused. A file
   * that is not a snapshot of this configuration is refused before anything changes.
   */
  restoreSnapshot(source: SnapshotSource): Promise<void>;
}
