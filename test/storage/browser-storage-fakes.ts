/**
 * In-memory stand-ins for the browser's storage, for unit tests only: an OPFS folder of
 * synchronous files (FileSystemSyncAccessHandle's shape, exclusive like the real one) and
 * IndexedDB's overlay records. They keep bytes exactly as written, so a test can damage them.
 */
import type { OverlayFolder, SyncFile } from '../../src/storage/overlay-opfs.ts';
import type { OverlayRecords } from '../../src/storage/overlay-indexeddb.ts';
import type { BrowserOverlayMeta } from '../../src/storage/overlay-browser-file.ts';

export class MemoryFolder implements OverlayFolder {
  readonly files = new Map<string, Uint8Array>();
  readonly locked = new Set<string>();
  flushes = 0;

  async openSync(name: string): Promise<SyncFile> {
    if (this.locked.has(name)) throw Object.assign(new Error('locked'), { name: 'NoModificationAllowedError' });
    this.locked.add(name);
    if (!this.files.has(name)) this.files.set(name, new Uint8Array(0));
    const folder = this;
    let open = true;
    const check = () => { if (!open) throw Object.assign(new Error('closed'), { name: 'InvalidStateError' }); };
    return {
      read(buffer, { at }) {
        check();
        const data = folder.files.get(name)!;
        const n = Math.max(0, Math.min(buffer.length, data.length - at));
        buffer.set(data.subarray(at, at + n));
        return n;
      },
      write(buffer, { at }) {
        check();
        let data = folder.files.get(name)!;
        if (at + buffer.length > data.length) {
          const grown = new Uint8Array(at + buffer.length);
          grown.set(data);
          data = grown;
          folder.files.set(name, data);
        }
        data.set(buffer, at);
        return buffer.length;
      },
      getSize: () => (check(), folder.files.get(name)!.length),
      truncate(size) {
        check();
        const data = folder.files.get(name)!;
        const out = new Uint8Array(size);
        out.set(data.subarray(0, size));
        folder.files.set(name, out);
      },
      flush: () => { check(); folder.flushes++; },
      close: () => { open = false; folder.locked.delete(name); },
    };
  }

  async names(): Promise<string[]> {
    return [...this.files.keys()].sort();
  }

  async file(name: string): Promise<Blob | undefined> {
    const data = this.files.get(name);
    return data ? new Blob([data.slice()]) : undefined;
  }

  async remove(name: string): Promise<boolean> {
    if (this.locked.has(name)) throw Object.assign(new Error('locked'), { name: 'NoModificationAllowedError' });
    return this.files.delete(name);
  }
}

export class MemoryRecords implements OverlayRecords {
  readonly metaStore = new Map<string, BrowserOverlayMeta>();
  readonly blockStore = new Map<string, Map<number, Uint8Array>>();
  /** Block transactions not completed yet. */
  readonly inFlight: (() => void)[] = [];
  /** Hold block transactions until settle() (as a slow disk would), instead of completing them on the next task. */
  holding = false;
  durableCommits = 0;
  /** Make the next putBlock fail (a quota error). */
  failNext = false;

  async metas() { return [...this.metaStore.values()]; }
  async meta(key: string) { return this.metaStore.get(key); }
  async putMeta(meta: BrowserOverlayMeta) { this.metaStore.set(meta.key, { ...meta }); }
  async blockIndices(key: string) { return [...(this.blockStore.get(key)?.keys() ?? [])].sort((a, b) => a - b); }
  async block(key: string, index: number) { return this.blockStore.get(key)?.get(index)?.slice(); }
  putBlock(key: string, index: number, data: Uint8Array): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('QuotaExceededError'));
    }
    return new Promise((resolve) => {
      this.inFlight.push(() => {
        if (!this.blockStore.has(key)) this.blockStore.set(key, new Map());
        this.blockStore.get(key)!.set(index, data.slice());
        resolve();
      });
      if (!this.holding) setTimeout(() => this.settle(), 0);
    });
  }
  /** Complete every pending transaction. */
  settle(): void {
    for (const complete of this.inFlight.splice(0)) complete();
  }
  async clearBlocks(key: string) { this.blockStore.delete(key); }
  async remove(key: string) {
    const had = this.metaStore.delete(key);
    this.blockStore.delete(key);
    return had;
  }
  async durable(_key: string) {
    this.durableCommits++;
  }
}
