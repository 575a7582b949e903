import type { DmaMemory } from '../bus/dma-memory.ts';

/**
 * Guest physical RAM as bus masters see it (IDE bus-master DMA, ISA DMA, fw_cfg DMA): a window
 * onto the shared memory. Addresses outside RAM read as all ones and ignore writes, as an
 * unclaimed bus cycle does.
 */
export class GuestMemory implements DmaMemory {
  constructor(private readonly ram: Uint8Array) {}

  get size(): number {
    return this.ram.length;
  }

  read(address: number, dest: Uint8Array): void {
    const inside = Math.max(0, Math.min(dest.length, this.ram.length - address));
    if (address >= 0 && inside > 0) dest.set(this.ram.subarray(address, address + inside));
    dest.fill(0xff, Math.max(0, inside));
  }

  write(address: number, src: Uint8Array): void {
    if (address < 0 || address >= this.ram.length) return;
    const inside = Math.min(src.length, this.ram.length - address);
    this.ram.set(src.subarray(0, inside), address);
  }

  readU32(address: number): number {
    const b = new Uint8Array(4);
    this.read(address, b);
    return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  }

  writeU32(address: number, value: number): void {
    this.write(address, new Uint8Array([value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff]));
  }
}
