import { type AccessRange, type AccessSize, dispatchRead, dispatchWrite, openBus } from './access-range.ts';

/**
 * Device ranges in the physical address space (VGA legacy window, APICs, BARs). The CPU only
 * asks for physical pages the machine has marked as device pages; everything else is RAM or ROM
 * it reads directly. Ranges are kept sorted; there are few of them.
 */
export class MmioMap {
  private ranges: AccessRange[] = [];
  /** Told when a range appears, moves or goes, so the machine can remap device pages. */
  onChange?: (range: AccessRange, mapped: boolean) => void;

  register(range: AccessRange): void {
    if (range.length <= 0 || range.base < 0 || range.base + range.length > 2 ** 32) {
      throw new RangeError(`${range.owner}: MMIO range outside the 32-bit physical space`);
    }
    for (const r of this.ranges) {
      if (range.base < r.base + r.length && r.base < range.base + range.length) {
        throw new Error(`${range.owner}: MMIO range overlaps ${r.owner}`);
      }
    }
    this.ranges.push(range);
    this.ranges.sort((a, b) => a.base - b.base);
    this.onChange?.(range, true);
  }

  unregister(range: AccessRange): void {
    const i = this.ranges.indexOf(range);
    if (i >= 0) {
      this.ranges.splice(i, 1);
      this.onChange?.(range, false);
    }
  }

  /** All registered ranges, in address order. */
  list(): readonly AccessRange[] {
    return this.ranges;
  }

  find(address: number): AccessRange | undefined {
    for (const r of this.ranges) {
      if (address >= r.base && address < r.base + r.length) return r;
    }
    return undefined;
  }

  read(address: number, size: AccessSize): number {
    const r = this.find(address);
    return r ? dispatchRead(r, address - r.base, size) : openBus(size);
  }

  write(address: number, size: AccessSize, value: number): void {
    const r = this.find(address);
    if (r) dispatchWrite(r, address - r.base, size, value);
  }
}
