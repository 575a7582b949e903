/**
 * Notices the first guest read of each firmware table (ACPI tables, MP table) by physical
 * address: the pages that hold the tables are routed to the MMIO callbacks until every table on
 * them has been read, then mapped back as they were. While watched, a page still behaves as
 * memory: reads return its RAM bytes, writes reach RAM only where the page is writable (the
 * F segment is read-only once SeaBIOS has finished POST).
 *
 * A read counts for a table when its bytes overlap the table's; reads of other bytes on the
 * same page do not. The first read is reported once per CPU mode (real mode, protected mode
 * without paging, paging): a boot loader in real mode often scans the BIOS area too, and the
 * OS kernel reads with paging on. A table is let go after its first read with paging on.
 */
import type { AccessRange, AccessSize } from '../bus/access-range.ts';
import type { MmioMap } from '../bus/mmio-map.ts';
import type { LocatedTable } from '../firmware/table-locator.ts';

const PAGE = 4096;

export type ReaderMode = 'real' | 'protected' | 'paging';

export interface TableWatchHost {
  mmio: MmioMap;
  /** Guest RAM, physical address 0 at index 0. */
  ram: Uint8Array;
  /** Route one 4 KiB page to the MMIO callbacks. */
  mapDevice(page: number): void;
  /** Map one 4 KiB page as the board normally shows it (RAM, or what the chipset's PAM says). */
  restorePage(page: number): void;
  /** Whether guest writes to this page reach RAM in its normal mapping. */
  pageWritable(page: number): boolean;
  /** Whether the page is RAM-backed for reads in its normal mapping (only those can be watched). */
  pageReadsRam(page: number): boolean;
  /** The mode of the CPU making the access. */
  cpuMode(): ReaderMode;
}

interface WatchedPage {
  range: AccessRange;
  tables: LocatedTable[];
}

export class FirmwareTableWatch {
  private readonly pages = new Map<number, WatchedPage>();
  private readonly modesSeen = new Map<LocatedTable, Set<ReaderMode>>();

  constructor(
    private readonly host: TableWatchHost,
    private readonly onFirstRead: (table: LocatedTable, address: number, size: number, mode: ReaderMode) => void,
  ) {}

  /** Pages currently routed here. */
  get watchedPages(): number[] {
    return [...this.pages.keys()].sort((a, b) => a - b);
  }

  /** Start watching these tables (a table already being watched is not added twice). */
  arm(tables: readonly LocatedTable[]): void {
    for (const table of tables) {
      if (table.length <= 0) continue;
      const first = Math.floor(table.address / PAGE) * PAGE;
      const last = Math.floor((table.address + table.length - 1) / PAGE) * PAGE;
      const pages: number[] = [];
      for (let page = first; page <= last; page += PAGE) pages.push(page);
      if (!pages.every((p) => p + PAGE <= this.host.ram.length && this.host.pageReadsRam(p))) continue;
      for (const page of pages) {
        let watched = this.pages.get(page);
        if (!watched) {
          const range: AccessRange = {
            owner: 'firmware-table-watch',
            base: page,
            length: PAGE,
            sizes: 1 | 2 | 4,
            read: (offset, size) => this.read(page, offset, size),
            write: (offset, size, value) => this.write(page, offset, size, value),
          };
          try {
            this.host.mmio.register(range);
          } catch {
            continue; // a device answers there already: not a RAM page after all
          }
          watched = { range, tables: [] };
          this.pages.set(page, watched);
          this.host.mapDevice(page);
        }
        if (!watched.tables.includes(table)) watched.tables.push(table);
      }
    }
  }

  /** The machine remapped [base, base + length) (a PAM change): keep the watched pages routed here. */
  reapply(base: number, length: number): void {
    for (const page of this.pages.keys()) if (page >= base && page < base + length) this.host.mapDevice(page);
  }

  /** Stop watching everything and map the pages back (reset). */
  disarm(): void {
    for (const page of [...this.pages.keys()]) this.release(page);
    this.modesSeen.clear();
  }

  private read(page: number, offset: number, size: AccessSize): number {
    const address = page + offset;
    const ram = this.host.ram;
    let value = 0;
    for (let i = size - 1; i >= 0; i--) value = value * 256 + (ram[address + i] ?? 0xff);
    const watched = this.pages.get(page);
    if (watched) {
      const hit = watched.tables.filter((t) => address < t.address + t.length && address + size > t.address);
      const mode = hit.length ? this.host.cpuMode() : 'real';
      for (const table of hit) {
        const seen = this.modesSeen.get(table) ?? new Set<ReaderMode>();
        this.modesSeen.set(table, seen);
        if (!seen.has(mode)) this.onFirstRead(table, address, size, mode);
        seen.add(mode);
        if (mode !== 'paging') continue;
        for (const [p, w] of [...this.pages]) {
          w.tables = w.tables.filter((t) => t !== table);
          if (w.tables.length === 0) this.release(p);
        }
      }
    }
    return value;
  }

  private write(page: number, offset: number, size: AccessSize, value: number): void {
    if (!this.host.pageWritable(page)) return;
    const ram = this.host.ram;
    for (let i = 0; i < size; i++) ram[page + offset + i] = Math.floor(value / 256 ** i) & 0xff;
  }

  private release(page: number): void {
    const watched = this.pages.get(page);
    if (!watched) return;
    this.pages.delete(page);
    this.host.mmio.unregister(watched.range);
    this.host.restorePage(page);
  }
}
