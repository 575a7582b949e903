/**
 * window.webhvm's storage methods (StorageApi: disk overlays and snapshots), as async calls into
 * the worker, for tests and power users. A snapshot to restore may be given as bytes.
 */
import type { Remote } from 'comlink';
import type { MachineApi } from '../src/worker/machine-api.ts';
import type { StorageApi } from '../src/worker/storage-api.ts';

const STORAGE_METHODS: (keyof StorageApi)[] = [
  'overlayStorage', 'listOverlays', 'discardOverlay', 'openExport', 'readExport', 'closeExport',
  'saveSnapshot', 'storeSnapshot', 'listSnapshots', 'deleteSnapshot', 'restoreSnapshot',
];

export function installStorageAutomation(automation: Record<string, unknown>, api: Remote<MachineApi>): void {
  for (const name of STORAGE_METHODS) {
    automation[name] = (...args: unknown[]) => (api[name] as unknown as (...a: unknown[]) => Promise<unknown>)(...args);
  }
  automation.restoreSnapshotBytes = (bytes: Uint8Array) => api.restoreSnapshot(new Blob([bytes as BlobPart]));
}
