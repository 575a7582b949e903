import { type AccessRange, type AccessSize, dispatchRead, dispatchWrite, openBus } from './access-range.ts';

/**
 * The 64 KiB x86 I/O port space. Devices register ranges; unclaimed ports read as all ones
 * and ignore writes, as on a real ISA bus. Lookup is one array index per access.
 */
export class IoBus {
  private readonly owners: (AccessRange | undefined)[] = new Array(0x10000);
  /** Called for accesses to unclaimed ports (for debugging guests); never required. */
  onUnclaimed?: (port: number, size: AccessSize, write: boolean, value?: number) => void;

  register(range: AccessRange): void {
    const { base, length } = range;
    if (base < 0 || length <= 0 || base + length > 0x10000) {
      throw new RangeError(`${range.owner}: port range ${hex(base)}+${length} is outside 0-0xffff`);
    }
    for (let p = base; p < base + length; p++) {
      const other = this.owners[p];
      if (other) throw new Error(`${range.owner}: port ${hex(p)} is already claimed by ${other.owner}`);
    }
    for (let p = base; p < base + length; p++) this.owners[p] = range;
  }

  unregister(range: AccessRange): void {
    for (let p = range.base; p < range.base + range.length; p++) {
      if (this.owners[p] === range) this.owners[p] = undefined;
    }
  }

  /** The range claiming `port`, if any. */
  ownerOf(port: number): AccessRange | undefined {
    return this.owners[port & 0xffff];
  }

  read(port: number, size: AccessSize): number {
    port &= 0xffff;
    const r = this.owners[port];
    if (!r) {
      this.onUnclaimed?.(port, size, false);
      return openBus(size);
    }
    // An access that straddles the end of a range is split byte-wise across owners.
    if (port + size > r.base + r.length) return this.readSplit(port, size);
    return dispatchRead(r, port - r.base, size);
  }

  write(port: number, size: AccessSize, value: number): void {
    port &= 0xffff;
    const r = this.owners[port];
    if (!r) {
      this.onUnclaimed?.(port, size, true, value);
      return;
    }
    if (port + size > r.base + r.length) return this.writeSplit(port, size, value);
    dispatchWrite(r, port - r.base, size, value);
  }

  private readSplit(port: number, size: AccessSize): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + this.read((port + i) & 0xffff, 1);
    return v >>> 0;
  }

  private writeSplit(port: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) this.write((port + i) & 0xffff, 1, (value >>> (8 * i)) & 0xff);
  }
}

function hex(n: number): string {
  return '0x' + n.toString(16);
}
