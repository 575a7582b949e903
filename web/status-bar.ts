/**
 * The status line: power, guest MIPS, video mode, CD drives, disk/network activity lights, and
 * under it the boot path as it happens (firmware tables read, interrupt mode...).
 */
import type { MachineStatus } from '../src/worker/machine-api.ts';

export class StatusBar {
  private lastDisk = -1;
  private lastNet = -1;
  private lastBootEvents = -1;
  private lastMachineId = -1;
  private readonly bootPath: HTMLElement;

  constructor(private readonly element: HTMLElement) {
    // Created here when the page's markup has no place for it, so older markup keeps working.
    this.bootPath = element.querySelector<HTMLElement>('[data-status="boot-path"]') ?? element.appendChild(document.createElement('ol'));
    this.bootPath.dataset.status = 'boot-path';
    this.bootPath.classList.add('boot-path');
    this.bootPath.title = 'boot path: what the firmware and the OS did so far';
  }

  update(status: MachineStatus, videoMode: string): void {
    const field = (name: string) => this.element.querySelector<HTMLElement>(`[data-status="${name}"]`)!;
    field('power').textContent = status.power;
    field('power').dataset.power = status.power;
    field('mips').textContent = status.power === 'running' ? `${status.mips.toFixed(1)} MIPS` : '';
    field('video').textContent = videoMode;
    field('cd').textContent = status.cdroms.map((c) => `${c.vdev}: ${c.present ? 'disc' : 'empty'}`).join(' ');
    field('message').textContent = status.message;
    const disk = status.diskReads + status.diskWrites;
    field('disk').classList.toggle('on', this.lastDisk >= 0 && disk !== this.lastDisk);
    this.lastDisk = disk;
    field('net').classList.toggle('on', this.lastNet >= 0 && status.netFrames !== this.lastNet);
    this.lastNet = status.netFrames;
    if (status.bootEvents !== this.lastBootEvents || status.machineId !== this.lastMachineId) this.showBootPath(status);
  }

  private showBootPath(status: MachineStatus): void {
    this.lastBootEvents = status.bootEvents;
    this.lastMachineId = status.machineId;
    this.bootPath.replaceChildren(
      ...status.bootPath.map((line) => {
        const item = document.createElement('li');
        item.textContent = line;
        return item;
      }),
    );
  }
}
