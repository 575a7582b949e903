/**
 * The page's deterministic switch: the toolbar checkbox and `?deterministic=1`. A machine booted
 * while it is on runs in virtual time (docs/reproducible.md, "In the browser"): as fast as the
 * host allows, instruction for instruction the run `webhvm run --deterministic` makes of the
 * same configuration. The status bar says when the running machine is deterministic.
 */
import type { MachineStatus } from '../src/worker/machine-api.ts';

const ON = new Set(['1', 'true', 'yes', 'on']);

/** Whether the page's URL asks for deterministic mode. */
export function deterministicRequested(search: string): boolean {
  return ON.has((new URLSearchParams(search).get('deterministic') ?? '').toLowerCase());
}

export class DeterministicSwitch {
  private readonly badge: HTMLElement;

  constructor(private readonly box: HTMLInputElement, status: HTMLElement) {
    box.checked = deterministicRequested(location.search);
    box.title = 'Virtual time: guest time from retired instructions, no host clock; the machine runs as fast as it can. Takes effect at the next boot.';
    // The URL keeps the choice, so a reload boots the same way.
    box.addEventListener('change', () => {
      const url = new URL(location.href);
      if (box.checked) url.searchParams.set('deterministic', '1');
      else url.searchParams.delete('deterministic');
      history.replaceState(history.state, '', url);
    });
    this.badge = status.querySelector<HTMLElement>('[data-status="deterministic"]') ?? status.appendChild(document.createElement('span'));
    this.badge.dataset.status = 'deterministic';
    this.badge.title = 'deterministic: virtual time, as fast as the host allows (webhvm.fingerprint() gives the run\'s fingerprint)';
    this.badge.hidden = true;
  }

  /** Deterministic mode for the next machine. */
  get enabled(): boolean {
    return this.box.checked;
  }

  showStatus(status: MachineStatus): void {
    this.badge.hidden = !status.deterministic || status.machineId === 0;
    this.badge.textContent = status.deterministic ? 'deterministic' : '';
  }
}
