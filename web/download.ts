/**
 * Downloads from the page: bytes already in memory, or an export read from the worker in
 * chunks. Each chunk becomes its own Blob, which the browser keeps outside the page's heap
 * (Chromium pages large blobs to disk), so a 4 GiB disk is never one buffer in memory.
 */
import type { Remote } from 'comlink';
import type { MachineApi } from '../src/worker/machine-api.ts';
import type { ExportKind } from '../src/worker/storage-api.ts';

const CHUNK = 4 << 20;

export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  // The download has taken its own reference by the time the click returns.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Export a disk or an overlay through the worker, `progress(done, total)` as chunks arrive. */
export async function downloadExport(api: Remote<MachineApi>, key: string, kind: ExportKind, progress: (done: number, total: number) => void): Promise<string> {
  const info = await api.openExport(key, kind);
  try {
    const parts: Blob[] = [];
    for (let at = 0; at < info.size; at += CHUNK) {
      const chunk = await api.readExport(info.id, at, Math.min(CHUNK, info.size - at));
      if (chunk.length === 0) throw new Error(`${info.fileName}: the export ended early at byte ${at} of ${info.size}`);
      parts.push(new Blob([chunk as BlobPart]));
      progress(at + chunk.length, info.size);
    }
    saveBlob(new Blob(parts, { type: 'application/octet-stream' }), info.fileName);
    return info.fileName;
  } finally {
    await api.closeExport(info.id);
  }
}
