/**
 * The Disks panel: the writable disks' overlays kept in this browser (by VM and drive), how much
 * each holds, and what can be done with one: export the disk as the guest sees it (merged with
 * its image, for the machine that has the image open), export the overlay alone, or discard it
 * (back to the clean image, as with an LVM snapshot thrown away).
 */
import type { Remote } from 'comlink';
import type { MachineApi } from '../src/worker/machine-api.ts';
import type { DiskOverlayInfo, ExportKind } from '../src/worker/storage-api.ts';
import { downloadExport } from './download.ts';

const WHERE = { opfs: 'Origin Private File System', indexeddb: 'IndexedDB', memory: 'memory only (not kept: this browser gives the page no storage)' };

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

export class DisksPanel {
  private readonly list: HTMLTableSectionElement;
  private readonly where: HTMLElement;
  private readonly progress: HTMLElement;

  constructor(
    private readonly root: HTMLDetailsElement,
    private readonly api: Remote<MachineApi>,
    private readonly showError: (message: string) => void,
  ) {
    root.innerHTML = `<summary>Disks</summary>
      <p class="panel-note" data-disks="where"></p>
      <table class="panel-table"><thead><tr><th>VM</th><th>drive</th><th>image</th><th>changed</th><th></th></tr></thead><tbody></tbody></table>
      <p class="panel-note" data-disks="progress"></p>
      <button type="button" data-disks="refresh">Refresh</button>`;
    this.list = root.querySelector('tbody')!;
    this.where = root.querySelector('[data-disks="where"]')!;
    this.progress = root.querySelector('[data-disks="progress"]')!;
    root.querySelector('[data-disks="refresh"]')!.addEventListener('click', () => void this.refresh());
    root.addEventListener('toggle', () => { if (root.open) void this.refresh(); });
  }

  async refresh(): Promise<void> {
    try {
      const [where, overlays] = await Promise.all([this.api.overlayStorage(), this.api.listOverlays()]);
      this.where.textContent = `Writes to writable disks are kept in: ${WHERE[where]}.`;
      this.list.replaceChildren(...overlays.map((o) => this.row(o)));
      if (!overlays.length) {
        const empty = this.list.insertRow();
        empty.insertCell().textContent = 'no disk overlays';
        empty.cells[0].colSpan = 5;
      }
    } catch (e) {
      this.showError((e as Error).message);
    }
  }

  private row(o: DiskOverlayInfo): HTMLTableRowElement {
    const tr = document.createElement('tr');
    tr.dataset.overlay = o.key;
    const cell = (text: string, title = '') => {
      const td = tr.insertCell();
      td.textContent = text;
      if (title) td.title = title;
    };
    cell(o.vm || '?');
    cell(o.vdev || '?');
    cell(o.imageName, `${o.imageSize} bytes${o.imageModified === null ? '' : `, modified ${new Date(o.imageModified).toLocaleString()}`}`);
    cell(`${formatBytes(o.storedBlocks * o.blockSize)}${o.inUse ? ' (in use)' : ''}`, `${o.storedBlocks} blocks of ${o.blockSize} bytes, ${formatBytes(o.bytes)} stored (${o.where})`);
    const actions = tr.insertCell();
    const button = (label: string, action: string, run: () => Promise<void>, enabled = true, title = '') => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label;
      b.dataset.action = action;
      b.disabled = !enabled;
      b.title = title;
      b.addEventListener('click', () => void run().catch((e: Error) => this.showError(e.message)));
      actions.append(b);
    };
    button('Export image', 'export-merged', () => this.export(o.key, 'merged'), o.mergeable, o.mergeable ? 'the disk as the guest sees it' : 'boot the VM with its image to export the merged disk');
    button('Export overlay', 'export-overlay', () => this.export(o.key, 'overlay'), o.where !== 'memory', 'only the changed blocks (browser overlay file)');
    button('Discard', 'discard', async () => {
      if (!confirm(`Discard the changes to ${o.vdev} of ${o.vm}? The disk reads as its clean image again.`)) return;
      await this.api.discardOverlay(o.key);
      await this.refresh();
    });
    return tr;
  }

  private async export(key: string, kind: ExportKind): Promise<void> {
    try {
      const name = await downloadExport(this.api, key, kind, (done, total) => {
        this.progress.textContent = `exporting ${key}: ${formatBytes(done)} of ${formatBytes(total)}`;
      });
      this.progress.textContent = `exported ${name}`;
    } catch (e) {
      this.progress.textContent = '';
      throw e;
    }
  }
}
