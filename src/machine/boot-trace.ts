/**
 * The boot-path trace: a structured, time-stamped list of what happened on the way from power-on
 * to the running OS, for the teaching page and for tests. The machine records it only on request
 * (`Machine.enableBootTrace()`); this file holds the event vocabulary and the recorder, and knows
 * nothing about devices (src/machine/boot-trace-recorder.ts wires it to the board).
 *
 * Every event carries the guest time (nanoseconds since power-on), the instructions the CPU had
 * retired, and a sequence number. Event types:
 * - `post`: a SeaBIOS debug-console line of interest (a POST milestone).
 * - `boot-device`: SeaBIOS chose the device it boots from ("Booting from ...").
 * - `tables-located`: where the firmware tables ended up in guest memory, found as an OS would
 *   find them (RSDP and MP floating pointer in the BIOS area) when the boot device is chosen.
 * - `table-read`: the first guest read of a table's bytes after that (by physical address), once
 *   per CPU mode of the reader (`real`, `protected` without paging, `paging`): boot loaders scan
 *   the BIOS area in real mode, the OS kernel reads with paging on.
 * - `imcr`: the IMCR switched between PIC mode and symmetric I/O mode.
 * - `ioapic-redirection`: the guest programmed an I/O APIC redirection entry (decoded).
 * - `acpi-enable` / `acpi-disable`: the OS wrote ACPI_ENABLE / ACPI_DISABLE to the SMI command port.
 * - `sci-enable`: PM1 control SCI_EN changed (the end of the ACPI enable handshake).
 * - `ap-startup`: an INIT or STARTUP IPI sent to an application processor (from the SMP hook).
 * - `interrupt-mode`: the interrupt delivery mode changed (`pic`, `virtual-wire`, `symmetric-io`);
 *   the last one is the mode the OS ended in.
 * - `power`: power button, S5 soft-off, reset, triple fault.
 */

import type { LocatedTable } from '../firmware/table-locator.ts';

export type { LocatedTable };
export type InterruptMode = 'pic' | 'virtual-wire' | 'symmetric-io';

export type BootTraceDetails =
  | { type: 'post'; line: string }
  | { type: 'boot-device'; device: string }
  | { type: 'tables-located'; tables: LocatedTable[] }
  | { type: 'table-read'; table: string; address: number; length: number; at: number; size: number; cpuMode: 'real' | 'protected' | 'paging' }
  | { type: 'imcr'; mode: 'pic' | 'symmetric-io' }
  | {
      type: 'ioapic-redirection'; pin: number; vector: number; deliveryMode: string; destinationMode: 'physical' | 'logical';
      destination: number; trigger: 'edge' | 'level'; polarity: 'high' | 'low'; masked: boolean;
    }
  | { type: 'acpi-enable'; port: number; value: number }
  | { type: 'acpi-disable'; port: number; value: number }
  | { type: 'sci-enable'; enabled: boolean }
  | { type: 'ap-startup'; ipi: 'INIT' | 'STARTUP'; apicId: number; vector?: number }
  | { type: 'interrupt-mode'; mode: InterruptMode }
  | { type: 'power'; event: 'power-button' | 'poweroff' | 'reboot' | 'triple-fault' | 'reset' };

export type BootTraceEvent = BootTraceDetails & {
  seq: number;
  /** Guest nanoseconds since power-on. */
  timeNs: number;
  /** Instructions retired by the CPU so far. */
  instructions: number;
};

export type BootTraceEventType = BootTraceDetails['type'];

export interface BootTraceTime {
  timeNs(): number;
  instructions(): number;
}

export class BootTrace {
  private readonly list: BootTraceEvent[] = [];
  private readonly listeners: ((e: BootTraceEvent) => void)[] = [];
  private seq = 0;

  constructor(private readonly time: BootTraceTime) {}

  /** Events so far, oldest first. */
  get events(): readonly BootTraceEvent[] {
    return this.list;
  }

  record(details: BootTraceDetails): BootTraceEvent {
    const event = { seq: this.seq++, timeNs: this.time.timeNs(), instructions: this.time.instructions(), ...details } as BootTraceEvent;
    this.list.push(event);
    for (const l of this.listeners) l(event);
    return event;
  }

  /** Called with every event recorded from now on. Returns a function that stops it. */
  onEvent(listener: (e: BootTraceEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  ofType<T extends BootTraceEventType>(type: T): Extract<BootTraceEvent, { type: T }>[] {
    return this.list.filter((e): e is Extract<BootTraceEvent, { type: T }> => e.type === type);
  }

  /** The interrupt mode of the last `interrupt-mode` event (the one the OS ended in), if any. */
  get interruptMode(): InterruptMode | undefined {
    const modes = this.ofType('interrupt-mode');
    return modes.length ? modes[modes.length - 1].mode : undefined;
  }

  /** One JSON object per line, oldest first. */
  toJsonLines(): string {
    return this.list.map((e) => JSON.stringify(e)).join('\n') + (this.list.length ? '\n' : '');
  }
}
