/** The status line: power, guest MIPS, video mode, CD drives, and disk/network activity lights. */
import type { MachineStatus } from '../src/worker/machine-api.ts';

export class StatusBar {
  private lastDisk = -1;
  private lastNet = -1;

  constructor(private readonly element: HTMLElement) {}

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
  }
}
