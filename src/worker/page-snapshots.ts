/**
 * Snapshots in the page: the same file as the Node runner's (src/snapshot/, magic WEBHVMSS),
 * saved to a download or kept in this browser (OPFS folder `webhvm-snapshots`), restored from a
 * file or from that list. A file is checked (checksums, format version, configuration) before
 * the running machine is touched, so a corrupt or foreign file is refused with the snapshot
 * code's own message and the machine goes on as it was.
 */
import type { Machine } from '../machine/machine.ts';
import { configurationHash, saveSnapshot, type SnapshotExtras } from '../snapshot/machine-snapshot.ts';
import { readSnapshotFile, SnapshotError } from '../snapshot/container.ts';
import { opfsOverlayFolder, type OverlayFolder } from '../storage/overlay-opfs.ts';
import type { StoredSnapshot } from './storage-api.ts';

const SUFFIX = '.webhvmss';

/** Save `machine` once no disk request is in flight (the caller has stopped its run loop); `extras` as the Node runner's (the serial record). */
export async function snapshotOf(machine: Machine, extras: SnapshotExtras = {}): Promise<Uint8Array> {
  await machine.whenMediaIdle();
  return saveSnapshot(machine, extras, 'webhvm-page');
}

/** Refuse a file that is not a snapshot this machine can take, before anything is changed. */
export async function checkSnapshotFits(machine: Machine, bytes: Uint8Array): Promise<void> {
  const { header } = await readSnapshotFile(bytes);
  const want = configurationHash(machine.setup);
  if (header.configHash !== want) {
    throw new SnapshotError(`snapshot was made for a different configuration or firmware (configuration hash ${String(header.configHash)}, this machine ${want})`);
  }
}

/** A snapshot's name in the list: letters, digits, space, dot, dash and underscore. */
export function snapshotName(name: string): string {
  const clean = name.trim().replace(/[^A-Za-z0-9 ._-]/g, '_').slice(0, 100);
  if (!clean || clean.startsWith('.')) throw new Error(`'${name}' cannot name a snapshot: use letters, digits, spaces, dots, dashes`);
  return clean;
}

/** Snapshots kept in this browser (OPFS). */
export class SnapshotShelf {
  private folder: Promise<OverlayFolder | undefined> | undefined;

  private async requireFolder(): Promise<OverlayFolder> {
    this.folder ??= opfsOverlayFolder('webhvm-snapshots').catch(() => undefined);
    const folder = await this.folder;
    if (!folder) throw new Error('this browser has no Origin Private File System for snapshots: save to a download instead');
    return folder;
  }

  async list(): Promise<StoredSnapshot[]> {
    const folder = await this.requireFolder().catch(() => undefined);
    if (!folder) return [];
    const out: StoredSnapshot[] = [];
    for (const file of await folder.names()) {
      if (!file.endsWith(SUFFIX)) continue;
      const blob = (await folder.file(file)) as File | undefined;
      if (blob) out.push({ name: file.slice(0, -SUFFIX.length), bytes: blob.size, modified: blob.lastModified ?? 0 });
    }
    return out;
  }

  async save(name: string, bytes: Uint8Array): Promise<StoredSnapshot> {
    const folder = await this.requireFolder();
    const clean = snapshotName(name);
    const file = await folder.openSync(clean + SUFFIX);
    try {
      file.truncate(0);
      file.write(bytes, { at: 0 });
      file.flush();
    } finally {
      file.close();
    }
    return { name: clean, bytes: bytes.length, modified: Date.now() };
  }

  async load(name: string): Promise<Uint8Array> {
    const folder = await this.requireFolder();
    const blob = await folder.file(snapshotName(name) + SUFFIX);
    if (!blob) throw new Error(`there is no snapshot '${name}' in this browser`);
    return new Uint8Array(await blob.arrayBuffer());
  }

  async remove(name: string): Promise<void> {
    const folder = await this.requireFolder();
    if (!(await folder.remove(snapshotName(name) + SUFFIX))) throw new Error(`there is no snapshot '${name}' in this browser`);
  }
}
