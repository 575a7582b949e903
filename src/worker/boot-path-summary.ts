/**
 * The boot-path trace (src/machine/boot-trace.ts) folded into a few short lines for the page's
 * status bar: one line per kind of step, updated in place as events arrive, in the order the
 * steps first happened ("tables read (real mode): RSDP RSDT FACP", "interrupt mode: symmetric
 * I/O"). Pure code: it only sees events.
 */
import type { BootTraceEvent, InterruptMode } from '../machine/boot-trace.ts';

const MODE_NAMES: Record<InterruptMode, string> = { pic: 'PIC (8259)', 'virtual-wire': 'virtual wire', 'symmetric-io': 'symmetric I/O' };
const CPU_MODES = { real: 'real mode', protected: 'protected mode', paging: 'paging on' } as const;
/** I/O APIC pins listed by vector before the line only counts them. */
const MAX_PINS_LISTED = 8;

const hex = (n: number) => `${n.toString(16)}h`;

export class BootPathSummary {
  private readonly lines = new Map<string, string>();
  private count = 0;
  private readonly tablesRead = new Map<string, string[]>();
  private readonly pins = new Map<number, { vector: number; masked: boolean; trigger: string }>();
  private readonly apStarted = new Set<number>();

  /** Events seen so far. */
  get events(): number {
    return this.count;
  }

  /** The summary lines, oldest step first. */
  get summary(): string[] {
    return [...this.lines.values()];
  }

  add(e: BootTraceEvent): void {
    this.count++;
    switch (e.type) {
      case 'post':
        this.set('post', `POST: ${e.line.trim()}`);
        break;
      case 'boot-device':
        this.set('boot-device', `booting from: ${e.device}`);
        break;
      case 'tables-located':
        this.set('tables-located', `tables found: ${e.tables.length ? e.tables.map((t) => t.name).join(' ') : 'none'}`);
        break;
      case 'table-read': {
        const names = this.tablesRead.get(e.cpuMode) ?? [];
        if (!names.includes(e.table)) names.push(e.table);
        this.tablesRead.set(e.cpuMode, names);
        this.set(`table-read-${e.cpuMode}`, `tables read (${CPU_MODES[e.cpuMode]}): ${names.join(' ')}`);
        break;
      }
      case 'imcr':
        this.set('imcr', `IMCR: ${e.mode === 'symmetric-io' ? 'symmetric I/O' : 'PIC mode'}`);
        break;
      case 'ioapic-redirection':
        this.pins.set(e.pin, { vector: e.vector, masked: e.masked, trigger: e.trigger });
        this.set('ioapic', this.ioApicLine());
        break;
      case 'acpi-enable':
      case 'acpi-disable':
        this.set('acpi', `ACPI ${e.type === 'acpi-enable' ? 'enable' : 'disable'} requested (port ${hex(e.port)} ← ${hex(e.value)})`);
        break;
      case 'sci-enable':
        this.set('acpi', `ACPI mode: SCI_EN ${e.enabled ? 'on' : 'off'}`);
        break;
      case 'ap-startup':
        if (e.ipi === 'STARTUP') this.apStarted.add(e.apicId);
        this.set('ap', `AP start-up: ${e.ipi} to APIC ${e.apicId}${e.vector !== undefined ? ` (vector ${hex(e.vector)})` : ''}` +
          (this.apStarted.size ? `; started: APIC ${[...this.apStarted].join(', ')}` : ''));
        break;
      case 'interrupt-mode':
        this.set('interrupt-mode', `interrupt mode: ${MODE_NAMES[e.mode]}`);
        break;
      case 'power':
        this.set('power', `power: ${e.event}`);
        break;
    }
  }

  private ioApicLine(): string {
    const live = [...this.pins].filter(([, p]) => !p.masked).sort((a, b) => a[0] - b[0]);
    if (live.length === 0) return `I/O APIC: ${this.pins.size} pin${this.pins.size === 1 ? '' : 's'} programmed, all masked`;
    const listed = live.slice(0, MAX_PINS_LISTED).map(([pin, p]) => `${pin}→${hex(p.vector)}${p.trigger === 'level' ? ' level' : ''}`);
    const more = live.length > MAX_PINS_LISTED ? ` +${live.length - MAX_PINS_LISTED} more` : '';
    return `I/O APIC pins: ${listed.join(', ')}${more}`;
  }

  /** Replace a step's line in place (a Map keeps first-insertion order). */
  private set(key: string, line: string): void {
    this.lines.set(key, line);
  }
}
