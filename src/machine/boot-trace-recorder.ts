/**
 * Turns what the board sees into boot-path trace events (src/machine/boot-trace.ts). The machine
 * creates one when a trace is requested and calls its hooks: SeaBIOS debug-console bytes, MMIO
 * writes (only the APIC pages are looked at), IMCR mode changes, the SMI command port and SCI_EN,
 * power events, PAM remaps and resets. Nothing here runs unless a trace was requested.
 *
 * Interrupt modes: `symmetric-io` once an I/O APIC redirection entry delivers an interrupt
 * (unmasked, not ExtINT) or the IMCR selects symmetric I/O; `virtual-wire` while the 8259's
 * output reaches the CPU through a local APIC's LINT0 or an I/O APIC pin programmed as ExtINT;
 * `pic` otherwise (no APICs, or APICs present but not in the path).
 */
import type { MmioMap } from '../bus/mmio-map.ts';
import type { IoApic } from '../devices/io-apic.ts';
import type { LocalApic } from '../devices/local-apic.ts';
import { locateAcpiTables, locateMpTable } from '../firmware/table-locator.ts';
import { BootTrace, type InterruptMode } from './boot-trace.ts';
import { FirmwareTableWatch } from './firmware-table-watch.ts';

export interface PamSegment {
  base: number;
  length: number;
  readRam: boolean;
  writeRam: boolean;
}

export interface BootTraceBoard {
  mmio: MmioMap;
  /** Guest RAM, physical address 0 at index 0. */
  ram: Uint8Array;
  timeNs(): number;
  instructions(): number;
  /** The i440FX PAM state of 0xC0000-0xFFFFF. */
  pamSegments(): PamSegment[];
  mapDevicePage(page: number): void;
  mapRamPage(page: number): void;
  /** Map a PAM segment as the chipset says (the machine's own PAM handler). */
  applyPam(segment: PamSegment): void;
  ioApic?: Pick<IoApic, 'redirectionEntry'>;
  localApic?: Pick<LocalApic, 'saveState'>;
  imcrSymmetric(): boolean;
  /** CR0 of the CPU making accesses (PE and PG tell the reader's mode). */
  cr0(): number;
}

/** SeaBIOS debug-console lines worth a POST milestone. */
const MILESTONES: RegExp[] = [
  /^SeaBIOS \(version /,
  /^Found QEMU fw_cfg/,
  /^Moving pm_base to /,
  /^Found \d+ PCI devices/,
  /^Found \d+ cpu\(s\)/,
  /^table\(/,
  /^ACPI: parse DSDT/,
  /^Copying (SMBIOS|MPTABLE|ACPI RSDP|PIR)/,
  /^Start SeaVGABIOS/,
  /^PS2 keyboard initialized/,
  /^All threads complete/,
  /^e820 map has/,
  /^WARNING/,
  /^Boot failed/,
  /^No bootable device/,
  /^Booting from /,
];
const BOOT_DEVICE = /^Booting from (.*?)\.\.\.$/;
const MAX_LINE = 400;

const IOAPIC_PAGE = 0xfec00000;
const LOCAL_APIC_PAGE = 0xfee00000;
const LAPIC_SVR = 0xf0;
const LAPIC_LVT_LINT0 = 0x350;
const RTE_MASKED = 1 << 16;
/** Remote IRR and delivery status change on their own; they are not "programming". */
const RTE_STATUS_BITS = (1 << 14) | (1 << 12);
const MODE_EXTINT = 7;
const DELIVERY_MODES = ['fixed', 'lowest-priority', 'SMI', 'reserved', 'NMI', 'INIT', 'reserved', 'ExtINT'];

export class BootTraceRecorder {
  readonly trace: BootTrace;
  private readonly watch: FirmwareTableWatch;
  private line = '';
  private redirection: number[] = [];
  private mode: InterruptMode | undefined;

  constructor(private readonly board: BootTraceBoard) {
    this.trace = new BootTrace({ timeNs: board.timeNs, instructions: board.instructions });
    this.watch = new FirmwareTableWatch(
      {
        mmio: board.mmio,
        ram: board.ram,
        mapDevice: (page) => board.mapDevicePage(page),
        restorePage: (page) => this.restorePage(page),
        pageWritable: (page) => this.pamSegmentOf(page)?.writeRam ?? !(page >= 0xa0000 && page < 0xc0000),
        pageReadsRam: (page) => {
          const seg = this.pamSegmentOf(page);
          if (seg) return seg.readRam || seg.writeRam;
          return !(page >= 0xa0000 && page < 0xc0000);
        },
        cpuMode: () => {
          const cr0 = board.cr0();
          return cr0 & 0x8000_0000 ? 'paging' : cr0 & 1 ? 'protected' : 'real';
        },
      },
      (table, at, size, mode) => this.trace.record({ type: 'table-read', table: table.name, address: table.address, length: table.length, at, size, cpuMode: mode }),
    );
    this.redirection = this.readRedirection();
    this.updateInterruptMode();
  }

  /** Physical pages whose first table read is still awaited. */
  get watchedPages(): number[] {
    return this.watch.watchedPages;
  }

  // ---- hooks the machine calls ----

  debugByte(byte: number): void {
    if (byte === 0x0a) {
      const line = this.line.replace(/\r$/, '');
      this.line = '';
      this.debugLine(line);
    } else if (this.line.length < MAX_LINE) {
      this.line += String.fromCharCode(byte);
    }
  }

  /** After an MMIO write: the APIC pages may have changed the interrupt routing. */
  mmioWrite(address: number): void {
    const page = address - (address % 4096);
    if (page === IOAPIC_PAGE && this.board.ioApic) {
      const now = this.readRedirection();
      for (let pin = 0; pin < now.length / 2; pin++) {
        const low = now[2 * pin];
        const high = now[2 * pin + 1];
        if (((low ^ this.redirection[2 * pin]) & ~RTE_STATUS_BITS) === 0 && high === this.redirection[2 * pin + 1]) continue;
        this.trace.record({
          type: 'ioapic-redirection', pin, vector: low & 0xff, deliveryMode: DELIVERY_MODES[(low >> 8) & 7],
          destinationMode: low & (1 << 11) ? 'logical' : 'physical', destination: high >>> 24,
          trigger: low & (1 << 15) ? 'level' : 'edge', polarity: low & (1 << 13) ? 'low' : 'high', masked: (low & RTE_MASKED) !== 0,
        });
      }
      this.redirection = now;
      this.updateInterruptMode();
    } else if (page === LOCAL_APIC_PAGE) {
      const reg = address & 0xff0;
      if (reg === LAPIC_SVR || reg === LAPIC_LVT_LINT0) this.updateInterruptMode();
    }
  }

  imcrChanged(symmetricIo: boolean): void {
    this.trace.record({ type: 'imcr', mode: symmetricIo ? 'symmetric-io' : 'pic' });
    this.updateInterruptMode();
  }

  /** A byte the guest wrote to the SMI command port: ACPI_ENABLE / ACPI_DISABLE start the handshake. */
  smiCommand(port: number, value: number, acpiEnable: number, acpiDisable: number): void {
    if (value === acpiEnable) this.trace.record({ type: 'acpi-enable', port, value });
    else if (value === acpiDisable) this.trace.record({ type: 'acpi-disable', port, value });
  }

  sciEnableChanged(enabled: boolean): void {
    this.trace.record({ type: 'sci-enable', enabled });
  }

  /** An INIT or STARTUP IPI to an application processor (the SMP code's hook). */
  apStartup(ipi: 'INIT' | 'STARTUP', apicId: number, vector?: number): void {
    this.trace.record(vector === undefined ? { type: 'ap-startup', ipi, apicId } : { type: 'ap-startup', ipi, apicId, vector });
  }

  powerEvent(event: 'power-button' | 'poweroff' | 'reboot' | 'triple-fault'): void {
    this.trace.record({ type: 'power', event });
  }

  /** The machine remapped a PAM segment: watched pages in it stay watched. */
  pamRemapped(base: number, length: number): void {
    this.watch.reapply(base, length);
  }

  /** RESET#: tables will be installed again by the next POST. */
  machineReset(): void {
    this.watch.disarm();
    this.line = '';
    this.trace.record({ type: 'power', event: 'reset' });
    this.redirection = this.readRedirection();
    this.updateInterruptMode();
  }

  /** Look at the interrupt hardware once more (at the end of a run) and record a change. */
  finish(): void {
    this.updateInterruptMode();
  }

  // ---- internals ----

  private debugLine(line: string): void {
    if (!MILESTONES.some((m) => m.test(line))) return;
    const device = BOOT_DEVICE.exec(line);
    if (!device) {
      this.trace.record({ type: 'post', line });
      return;
    }
    this.trace.record({ type: 'boot-device', device: device[1] });
    // From here on, reads of the tables are the boot loader's and the OS's.
    const read = (address: number, length: number) => {
      const out = new Uint8Array(length);
      const ram = this.board.ram;
      if (address < ram.length) out.set(ram.subarray(address, Math.min(ram.length, address + length)));
      return out;
    };
    const tables = [...locateAcpiTables(read, this.board.ram.length), ...locateMpTable(read, this.board.ram.length)];
    this.trace.record({ type: 'tables-located', tables });
    this.watch.arm(tables);
  }

  private pamSegmentOf(page: number): PamSegment | undefined {
    if (page < 0xc0000 || page >= 0x100000) return undefined;
    return this.board.pamSegments().find((s) => page >= s.base && page < s.base + s.length);
  }

  private restorePage(page: number): void {
    const seg = this.pamSegmentOf(page);
    if (seg) this.board.applyPam(seg);
    else this.board.mapRamPage(page);
  }

  private readRedirection(): number[] {
    const io = this.board.ioApic;
    const out: number[] = [];
    if (!io) return out;
    for (let pin = 0; pin < 24; pin++) {
      const e = io.redirectionEntry(pin);
      out.push(e.low >>> 0, e.high >>> 0);
    }
    return out;
  }

  private updateInterruptMode(): void {
    const lapic = this.board.localApic?.saveState();
    const mode = classifyInterruptMode({
      apic: this.board.ioApic !== undefined,
      imcrSymmetric: this.board.imcrSymmetric(),
      redirectionLows: this.redirection.filter((_, i) => i % 2 === 0),
      localApic: lapic && { enabled: Boolean(lapic.hardwareEnabled) && (Number(lapic.svr) & 0x100) !== 0, lint0: Number((lapic.lvt as number[])[3]) },
    });
    if (mode === this.mode) return;
    this.mode = mode;
    this.trace.record({ type: 'interrupt-mode', mode });
  }
}

export interface InterruptHardware {
  apic: boolean;
  imcrSymmetric: boolean;
  /** Low halves of the I/O APIC redirection entries. */
  redirectionLows: number[];
  /** The boot processor's local APIC: software and hardware enabled, and its LVT LINT0. */
  localApic?: { enabled: boolean; lint0: number };
}

export function classifyInterruptMode(hw: InterruptHardware): InterruptMode {
  if (!hw.apic) return 'pic';
  const unmasked = hw.redirectionLows.filter((low) => !(low & RTE_MASKED));
  if (hw.imcrSymmetric || unmasked.some((low) => ((low >> 8) & 7) !== MODE_EXTINT)) return 'symmetric-io';
  const lint0 = hw.localApic?.lint0 ?? RTE_MASKED;
  const lint0ExtInt = hw.localApic?.enabled === true && !(lint0 & RTE_MASKED) && ((lint0 >> 8) & 7) === MODE_EXTINT;
  if (lint0ExtInt || unmasked.some((low) => ((low >> 8) & 7) === MODE_EXTINT)) return 'virtual-wire';
  return 'pic';
}
