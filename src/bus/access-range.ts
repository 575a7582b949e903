/**
 * One range of I/O ports or physical addresses that a device answers, declared as data.
 * Handlers receive the offset from `base`, never the absolute address, so a device can be
 * placed anywhere (a PCI BAR moves it at run time).
 */
export type AccessSize = 1 | 2 | 4;

export interface AccessRange {
  /** Who owns the range: shown in conflicts and traces. */
  owner: string;
  base: number;
  length: number;
  /** Read `size` bytes at `offset`; return the value (little-endian, zero-extended). */
  read?(offset: number, size: AccessSize): number;
  write?(offset: number, size: AccessSize, value: number): void;
  /**
   * Bit mask of the access sizes the handlers implement (1, 2, 4 or'ed). Other sizes are split
   * into (or, for narrower accesses, served from) the sizes the device implements.
   * Default: 1 only.
   */
  sizes?: number;
}

/** Value read from a hole: all ones of the access size, as an open bus reads on a PC. */
export function openBus(size: AccessSize): number {
  return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
}

/**
 * Serve an access of `size` through the sizes a range implements: split wider accesses into
 * narrower little-endian pieces, or read a wider unit and extract a narrower piece.
 */
export function dispatchRead(r: AccessRange, offset: number, size: AccessSize): number {
  if (!r.read) return openBus(size);
  const sizes = r.sizes ?? 1;
  if (sizes & size) return r.read(offset, size) >>> 0;
  if (size > 1) {
    const half = (size >> 1) as AccessSize;
    const lo = dispatchRead(r, offset, half);
    const hi = dispatchRead(r, offset + half, half);
    return (lo + hi * (half === 2 ? 0x10000 : 0x100)) >>> 0;
  }
  // A byte read from a device that only implements wider accesses: read the aligned unit.
  const unit: AccessSize = sizes & 2 ? 2 : 4;
  const aligned = offset & ~(unit - 1);
  return (r.read(aligned, unit) >>> ((offset - aligned) * 8)) & 0xff;
}

export function dispatchWrite(r: AccessRange, offset: number, size: AccessSize, value: number): void {
  if (!r.write) return;
  const sizes = r.sizes ?? 1;
  if (sizes & size) {
    r.write(offset, size, value >>> 0);
    return;
  }
  if (size > 1) {
    const half = (size >> 1) as AccessSize;
    const bits = half * 8;
    dispatchWrite(r, offset, half, value & (half === 2 ? 0xffff : 0xff));
    dispatchWrite(r, offset + half, half, Math.floor((value >>> 0) / 2 ** bits) & (half === 2 ? 0xffff : 0xff));
    return;
  }
  // A byte write to a device that only implements wider accesses: write the byte into its lane.
  const unit: AccessSize = sizes & 2 ? 2 : 4;
  const aligned = offset & ~(unit - 1);
  const shift = (offset - aligned) * 8;
  r.write(aligned, unit, ((value & 0xff) << shift) >>> 0);
}
