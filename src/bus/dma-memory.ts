/**
 * Guest physical memory as a bus master (IDE bus-master DMA, ISA DMA, a NIC) sees it. Writes go
 * through here so the CPU learns which physical range changed and drops translated code for it.
 * Addresses outside RAM read as all ones and ignore writes.
 */
export interface DmaMemory {
  /** Copy `dest.length` bytes from guest physical `address` into `dest`. */
  read(address: number, dest: Uint8Array): void;
  /** Copy `src` into guest physical memory at `address`. */
  write(address: number, src: Uint8Array): void;
  readU32(address: number): number;
  writeU32(address: number, value: number): void;
}
