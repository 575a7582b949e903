/**
 * The Snapshots panel: save the running machine to a download or into this browser, list the
 * snapshots kept here, restore one from the list or from a file (picked, or dropped on the
 * page). A file that is not a snapshot of this machine is refused with the reason, and the
 * machine goes on as it was.
 */
import type { Remote } from 'comlink';
import type { MachineApi } from '../src/worker/machine-api.ts';
import type { SnapshotSource, StoredSnapshot } from '../src/worker/storage-api.ts';
import { saveBlob } from './download.ts';
import { formatBytes } from './disks-panel.ts';

/** Whether a dropped file looks like a snapshot (by name; the worker checks the content). */
export function isSnapshotFile(file: File): boolean {
  return /\.webhvmss$/i.test(file.name);
}

export class SnapshotPanel {
  private readonly list: HTMLUListElement;
  private readonly status: HTMLElement;
  private readonly nameInput: HTMLInputElement;

  constructor(
    private readonly root: HTMLDetailsElement,
    private readonly api: Remote<MachineApi>,
    private readonly showError: (message: string) => void,
    private readonly machineName: () => string,
  ) {
    root.innerHTML = `<summary>Snapshots</summary>
      <div class="panel-row">
        <button type="button" data-snapshot="download">Save to file</button>
        <input type="text" data-snapshot="name" placeholder="name" aria-label="Snapshot name" size="16">
        <button type="button" data-snapshot="store">Save in browser</button>
        <label class="button">Restore from file…<input type="file" data-snapshot="file" accept=".webhvmss" hidden></label>
      </div>
      <p class="panel-note" data-snapshot="status"></p>
      <ul class="panel-list" data-snapshot="list"></ul>`;
    this.list = root.querySelector('[data-snapshot="list"]')!;
    this.status = root.querySelector('[data-snapshot="status"]')!;
    this.nameInput = root.querySelector('[data-snapshot="name"]')!;
    const on = (what: string, event: string, run: (e: Event) => Promise<void>) =>
      root.querySelector(`[data-snapshot="${what}"]`)!.addEventListener(event, (e) => void this.guard(() => run(e)));
    on('download', 'click', () => this.download());
    on('store', 'click', () => this.store());
    on('file', 'change', async (e) => {
      const input = e.target as HTMLInputElement;
      const file = input.files?.[0];
      input.value = '';
      if (file) await this.restore(file, file.name);
    });
    root.addEventListener('toggle', () => { if (root.open) void this.refresh(); });
  }

  /** A snapshot file dropped on the page. */
  restoreFile(file: File): Promise<void> {
    return this.guard(() => this.restore(file, file.name));
  }

  async refresh(): Promise<void> {
    const stored = await this.api.listSnapshots().catch(() => [] as StoredSnapshot[]);
    this.list.replaceChildren(...stored.map((s) => this.item(s)));
  }

  private item(s: StoredSnapshot): HTMLLIElement {
    const li = document.createElement('li');
    li.dataset.snapshot = s.name;
    const label = document.createElement('span');
    label.textContent = `${s.name} (${formatBytes(s.bytes)}, ${new Date(s.modified).toLocaleString()})`;
    const restore = document.createElement('button');
    restore.type = 'button';
    restore.textContent = 'Restore';
    restore.dataset.action = 'restore';
    restore.addEventListener('click', () => void this.guard(() => this.restore({ stored: s.name }, s.name)));
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.textContent = 'Delete';
    remove.dataset.action = 'delete';
    remove.addEventListener('click', () => void this.guard(async () => {
      await this.api.deleteSnapshot(s.name);
      await this.refresh();
    }));
    li.append(label, restore, remove);
    return li;
  }

  private async download(): Promise<void> {
    this.status.textContent = 'saving…';
    const bytes = await this.api.saveSnapshot();
    const name = `${this.machineName() || 'webhvm'}-${new Date().toISOString().replace(/[:.]/g, '-')}.webhvmss`;
    saveBlob(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }), name);
    this.status.textContent = `saved ${name} (${formatBytes(bytes.length)})`;
  }

  private async store(): Promise<void> {
    this.status.textContent = 'saving…';
    const name = this.nameInput.value.trim() || `${this.machineName() || 'webhvm'} ${new Date().toLocaleString().replace(/[/:,]/g, '-')}`;
    const saved = await this.api.storeSnapshot(name);
    this.status.textContent = `saved '${saved.name}' in this browser (${formatBytes(saved.bytes)})`;
    await this.refresh();
  }

  private async restore(source: SnapshotSource, label: string): Promise<void> {
    this.status.textContent = `restoring ${label}…`;
    await this.api.restoreSnapshot(source);
    this.status.textContent = `restored ${label} (paused: press Resume)`;
  }

  private async guard(run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (e) {
      const message = (e as Error).message;
      this.status.textContent = `refused: ${message}`;
      this.showError(message);
    }
  }
}
