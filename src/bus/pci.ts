/**
 * PCI as devices see it: a function owns 256 bytes of configuration space; BARs are declared as
 * data and the bus maps them into the I/O or memory space when the guest programs them.
 */
import type { AccessRange } from './access-range.ts';

export interface PciBar {
  /** 'io' BARs map into the port space, 'memory' BARs into the physical address space. */
  kind: 'io' | 'memory';
  /** Size in bytes, a power of two (at least 4 for I/O, 16 for memory). */
  size: number;
  /** Handlers for the BAR's contents; offsets are relative to the BAR base. */
  range: Omit<AccessRange, 'base' | 'length'>;
  /** Memory BARs only: prefetchable bit. */
  prefetchable?: boolean;
  /**
   * Memory BARs only: the BAR is plain memory backed by this array (a framebuffer). The machine
   * maps it straight into the guest's physical address space, so guest accesses never call
   * `range` handlers. `backing.length` must equal `size`.
   */
  backing?: Uint8Array;
}

export interface PciFunctionInfo {
  vendorId: number;
  deviceId: number;
  classCode: number; // 24 bits: class, subclass, prog-if
  revision?: number;
  subsystemVendorId?: number;
  subsystemId?: number;
  headerType?: number;
  /** Interrupt pin: 1-4 for INTA#-INTD#, 0 for none. */
  interruptPin?: number;
  bars?: (PciBar | undefined)[];
  /** Expansion ROM image, if the function has an option ROM. */
  rom?: Uint8Array;
}

/**
 * A PCI function's view of the bus: the bus owns the config space array and does the standard
 * header (command, status, BARs, interrupt line); devices hook the registers they implement.
 */
export interface PciFunction {
  readonly info: PciFunctionInfo;
  /** The function's 256-byte configuration space (standard header filled by the bus). */
  readonly config: Uint8Array;
  /** Device-specific config reads (offset >= 0x40, or overrides); undefined = use `config`. */
  configRead?(offset: number, size: 1 | 2 | 4): number | undefined;
  /** Device-specific config writes; return true if handled (the bus then stores nothing). */
  configWrite?(offset: number, size: 1 | 2 | 4, value: number): boolean;
  /** Called when the function's INTx output changes (wired by the bus to the PIRQ router). */
  setInterrupt?(level: boolean): void;
}
