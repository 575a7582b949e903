/**
 * PCI bus 0 of the "pc" machine: the functions plugged into it, their 256-byte configuration
 * spaces with the standard type-0 header, BAR sizing and mapping, the expansion ROM BAR and
 * INTx routing. Follows the PCI Local Bus Specification 2.3, chapter 6 (configuration space).
 *
 * Left out: buses other than 0 (no PCI-to-PCI bridges), 64-bit BARs, capabilities beyond
 * reporting the list (devices fill their own capability structures), MSI, parity/SERR
 * signalling, and I/O BARs above 64 KiB (they stay unmapped).
 *
 * The configuration mechanism itself (ports 0xCF8/0xCFC) belongs to the host bridge, which
 * calls configRead/configWrite here.
 */
import type { AccessRange, AccessSize } from './access-range.ts';
import { checkStateVersion, type Device, type DeviceState } from './device.ts';
import type { IoBus } from './io-bus.ts';
import type { MmioMap } from './mmio-map.ts';
import type { PciBar, PciFunction } from './pci.ts';

/** One driver of a shared interrupt wire, as returned by IrqLine.source(). */
export interface IrqSource {
  set(level: boolean): void;
}

/** Power-on values of header registers that differ between functions (PCI 2.3 leaves them to the device). */
export interface PciHeaderDefaults {
  command?: number;
  status?: number;
  latencyTimer?: number;
}

export interface PciBusOptions {
  io: IoBus;
  mmio: MmioMap;
  /**
   * Where INTx pin `pin` (1-4) of slot `device` goes. Asked the first time the function's
   * interrupt changes, so the PIRQ router may be built after the bus.
   */
  routeInterrupt?: (device: number, pin: number) => IrqSource;
  /**
   * Memory BARs with `backing` are plain memory: the bus asks the machine to map (`backing`)
   * or unmap (`null`) them at `address` instead of registering MMIO handlers. Without this
   * callback the bus registers the BAR's handlers (or, if it has none, the array) as MMIO.
   */
  onDirectMemoryMap?: (address: number, backing: Uint8Array | null) => void;
}

// Header offsets and bits (PCI 2.3, 6.2).
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION = 0x08;
export const PCI_CLASS_PROG = 0x09;
export const PCI_CACHE_LINE_SIZE = 0x0c;
export const PCI_LATENCY_TIMER = 0x0d;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BAR0 = 0x10;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_ROM_ADDRESS = 0x30;
export const PCI_CAPABILITY_LIST = 0x34;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;

export const PCI_COMMAND_IO = 0x0001;
export const PCI_COMMAND_MEMORY = 0x0002;
export const PCI_COMMAND_MASTER = 0x0004;
export const PCI_COMMAND_PARITY = 0x0040;
export const PCI_COMMAND_SERR = 0x0100;
export const PCI_COMMAND_INTX_DISABLE = 0x0400;
export const PCI_STATUS_INTERRUPT = 0x0008;
export const PCI_STATUS_CAP_LIST = 0x0010;
/** Status bits 15:11 and 8 are error flags the guest clears by writing ones. */
export const PCI_STATUS_W1C = 0xf900;
export const PCI_HEADER_MULTI_FUNCTION = 0x80;

/** Command bits a guest can change (the rest are hardwired to 0 on the devices we model). */
const COMMAND_WRITABLE =
  PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE;

const ROM_ENABLE = 1;
const BAR_COUNT = 6;

interface Mapping {
  address: number;
  /** The registered range (undefined for a backing mapped through onDirectMemoryMap). */
  range?: AccessRange;
  space: 'io' | 'memory' | 'direct';
}

interface Slot {
  device: number;
  fn: number;
  f: PciFunction;
  /** Size mask of each BAR register (0 = unimplemented), and of the ROM BAR. */
  barMask: number[];
  romSize: number;
  defaults: PciHeaderDefaults;
  mappings: (Mapping | undefined)[]; // 0-5 BARs, 6 = ROM
  intxLevel: boolean;
  route?: IrqSource;
  routedLevel: boolean;
}

export class PciBus implements Device {
  readonly name = 'pci';
  private readonly slots = new Map<number, Slot>();
  private readonly io: IoBus;
  private readonly mmio: MmioMap;
  private readonly routeInterrupt?: PciBusOptions['routeInterrupt'];
  private readonly onDirectMemoryMap?: PciBusOptions['onDirectMemoryMap'];

  constructor(options: PciBusOptions) {
    this.io = options.io;
    this.mmio = options.mmio;
    this.routeInterrupt = options.routeInterrupt;
    this.onDirectMemoryMap = options.onDirectMemoryMap;
  }

  /**
   * Plug `f` in at bus 0, `device` (0-31), `fn` (0-7). Fills its header from `f.info` and, when
   * it has an interrupt pin, installs `f.setInterrupt` so the device can drive INTx.
   * `defaults` are the header values the bus restores on every reset; registers from 0x40 up
   * are the device's to reset.
   */
  addFunction(device: number, fn: number, f: PciFunction, defaults: PciHeaderDefaults = {}): void {
    if (!Number.isInteger(device) || device < 0 || device > 31 || !Number.isInteger(fn) || fn < 0 || fn > 7) {
      throw new RangeError(`PCI function ${device}.${fn} is outside device 0-31, function 0-7`);
    }
    const key = (device << 3) | fn;
    if (this.slots.has(key)) throw new Error(`PCI function 00:${hex2(device)}.${fn} is already present`);
    if (f.config.length !== 256) throw new RangeError(`PCI function 00:${hex2(device)}.${fn}: config space must be 256 bytes`);
    const bars = f.info.bars ?? [];
    const barMask: number[] = [];
    for (let i = 0; i < BAR_COUNT; i++) barMask.push(bars[i] ? sizeMask(bars[i]!, device, fn, i) : 0);
    const rom = f.info.rom;
    const romSize = rom && rom.length ? Math.max(2048, nextPowerOfTwo(rom.length)) : 0;
    const slot: Slot = { device, fn, f, barMask, romSize, defaults, mappings: [], intxLevel: false, routedLevel: false };
    this.slots.set(key, slot);
    this.fillHeader(slot);
    if (f.info.interruptPin) {
      f.setInterrupt = (level: boolean) => this.setIntx(slot, level);
    }
    this.updateMultiFunction(device);
  }

  /** The function at 00:device.fn, if present. */
  functionAt(device: number, fn: number): PciFunction | undefined {
    return this.slots.get(((device & 31) << 3) | (fn & 7))?.f;
  }

  /** A configuration read as a host bridge issues it. Absent functions read as all ones. */
  configRead(bus: number, device: number, fn: number, offset: number, size: AccessSize): number {
    const slot = bus === 0 ? this.slots.get(((device & 31) << 3) | (fn & 7)) : undefined;
    offset &= 0xff;
    if (!slot || offset + size > 256) return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    const custom = slot.f.configRead?.(offset, size);
    if (custom !== undefined) return custom >>> 0;
    let value = 0;
    for (let i = size - 1; i >= 0; i--) value = value * 256 + this.readByte(slot, offset + i);
    return value >>> 0;
  }

  /** A configuration write as a host bridge issues it. Writes to absent functions vanish. */
  configWrite(bus: number, device: number, fn: number, offset: number, size: AccessSize, value: number): void {
    const slot = bus === 0 ? this.slots.get(((device & 31) << 3) | (fn & 7)) : undefined;
    offset &= 0xff;
    if (!slot || offset + size > 256) return;
    if (slot.f.configWrite?.(offset, size, value >>> 0)) return;
    let remap = false;
    for (let i = 0; i < size; i++) {
      remap = this.writeByte(slot, offset + i, (value >>> (8 * i)) & 0xff) || remap;
    }
    if (remap) this.updateMappings(slot);
  }

  reset(): void {
    for (const slot of this.slots.values()) {
      this.fillHeader(slot);
      this.updateMappings(slot);
    }
    for (const slot of this.slots.values()) this.updateMultiFunction(slot.device);
  }

  saveState(): DeviceState {
    const functions: { device: number; fn: number; config: Uint8Array; intx: boolean }[] = [];
    for (const s of this.slots.values()) {
      functions.push({ device: s.device, fn: s.fn, config: s.f.config.slice(), intx: s.intxLevel });
    }
    return { version: 1, functions };
  }

  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
    const functions = state.functions as { device: number; fn: number; config: Uint8Array; intx: boolean }[];
    for (const saved of functions) {
      const slot = this.slots.get((saved.device << 3) | saved.fn);
      if (!slot) continue;
      slot.f.config.set(saved.config.subarray(0, 256));
      this.updateMappings(slot);
      slot.intxLevel = !!saved.intx;
      this.driveIntx(slot);
    }
  }

  private fillHeader(s: Slot): void {
    const c = s.f.config;
    const info = s.f.info;
    // The capability pointer and MIN_GNT/MAX_LAT are the device's read-only values: keep them.
    const capabilities = c[PCI_CAPABILITY_LIST];
    const minGrant = c[0x3e];
    const maxLatency = c[0x3f];
    c.fill(0, 0, 0x40);
    c[PCI_CAPABILITY_LIST] = capabilities;
    c[0x3e] = minGrant;
    c[0x3f] = maxLatency;
    put16(c, PCI_VENDOR_ID, info.vendorId);
    put16(c, PCI_DEVICE_ID, info.deviceId);
    put16(c, PCI_COMMAND, s.defaults.command ?? 0);
    put16(c, PCI_STATUS, s.defaults.status ?? 0);
    c[PCI_LATENCY_TIMER] = s.defaults.latencyTimer ?? 0;
    c[PCI_REVISION] = info.revision ?? 0;
    c[PCI_CLASS_PROG] = info.classCode & 0xff;
    c[PCI_CLASS_PROG + 1] = (info.classCode >> 8) & 0xff;
    c[PCI_CLASS_PROG + 2] = (info.classCode >> 16) & 0xff;
    c[PCI_HEADER_TYPE] = info.headerType ?? 0;
    put16(c, PCI_SUBSYSTEM_VENDOR_ID, info.subsystemVendorId ?? 0);
    put16(c, PCI_SUBSYSTEM_ID, info.subsystemId ?? 0);
    c[PCI_INTERRUPT_PIN] = info.interruptPin ?? 0;
    for (let i = 0; i < BAR_COUNT; i++) {
      const bar = info.bars?.[i];
      if (bar) put32(c, PCI_BAR0 + 4 * i, typeBits(bar));
    }
    s.intxLevel = false;
    this.driveIntx(s);
  }

  private updateMultiFunction(device: number): void {
    const fns: Slot[] = [];
    for (let fn = 0; fn < 8; fn++) {
      const s = this.slots.get((device << 3) | fn);
      if (s) fns.push(s);
    }
    // QEMU marks every function of a multi-function device; firmware checks function 0.
    const multi = fns.some((s) => s.fn > 0);
    for (const s of fns) {
      const declared = s.f.info.headerType ?? 0;
      s.f.config[PCI_HEADER_TYPE] = multi ? declared | PCI_HEADER_MULTI_FUNCTION : declared;
    }
  }

  private readByte(s: Slot, offset: number): number {
    const c = s.f.config;
    if (offset === PCI_STATUS) {
      let v = c[offset];
      if (c[PCI_CAPABILITY_LIST] !== 0) v |= PCI_STATUS_CAP_LIST;
      if (s.intxLevel) v |= PCI_STATUS_INTERRUPT;
      return v;
    }
    return c[offset];
  }

  /** Applies one byte of a configuration write; returns true when decoding may have changed. */
  private writeByte(s: Slot, offset: number, value: number): boolean {
    const c = s.f.config;
    if (offset >= 0x40) {
      c[offset] = value;
      return false;
    }
    switch (offset) {
      case PCI_COMMAND:
      case PCI_COMMAND + 1: {
        const shift = (offset - PCI_COMMAND) * 8;
        const mask = (COMMAND_WRITABLE >> shift) & 0xff;
        const before = c[offset];
        c[offset] = (before & ~mask) | (value & mask);
        if (offset === PCI_COMMAND + 1 && ((before ^ c[offset]) & (PCI_COMMAND_INTX_DISABLE >> 8))) this.driveIntx(s);
        return true;
      }
      case PCI_STATUS:
      case PCI_STATUS + 1: {
        const mask = (PCI_STATUS_W1C >> ((offset - PCI_STATUS) * 8)) & 0xff;
        c[offset] &= ~(value & mask);
        return false;
      }
      case PCI_CACHE_LINE_SIZE:
      case PCI_LATENCY_TIMER:
      case PCI_INTERRUPT_LINE:
        c[offset] = value;
        return false;
    }
    if (offset >= PCI_BAR0 && offset < PCI_BAR0 + 4 * BAR_COUNT) {
      const i = (offset - PCI_BAR0) >> 2;
      const mask = s.barMask[i];
      if (!mask) return false;
      const lane = offset & 3;
      const laneMask = (mask >>> (8 * lane)) & 0xff;
      c[offset] = (c[offset] & ~laneMask) | (value & laneMask);
      return true;
    }
    if (offset >= PCI_ROM_ADDRESS && offset < PCI_ROM_ADDRESS + 4 && s.romSize) {
      const mask = (~(s.romSize - 1) | ROM_ENABLE) >>> 0;
      const lane = offset - PCI_ROM_ADDRESS;
      const laneMask = (mask >>> (8 * lane)) & 0xff;
      c[offset] = (c[offset] & ~laneMask) | (value & laneMask);
      return true;
    }
    // Everything else in the header (ids, class, header type, pin, capability pointer) is read-only.
    return false;
  }

  /** Brings the registered ranges in line with the BARs and the command register. */
  private updateMappings(s: Slot): void {
    const c = s.f.config;
    const command = get16(c, PCI_COMMAND);
    const bars = s.f.info.bars ?? [];
    for (let i = 0; i < BAR_COUNT; i++) {
      const bar = bars[i];
      if (!bar) continue;
      const raw = get32(c, PCI_BAR0 + 4 * i);
      let address: number | undefined;
      if (bar.kind === 'io') {
        const base = (raw & ~3) >>> 0;
        if (command & PCI_COMMAND_IO && base !== 0 && base + bar.size <= 0x10000) address = base;
      } else {
        const base = (raw & ~0xf) >>> 0;
        // A BAR still holding the sizing pattern ends at 4 GiB: that is not a real placement.
        if (command & PCI_COMMAND_MEMORY && base !== 0 && base + bar.size < 2 ** 32) address = base;
      }
      this.place(s, i, address, () => this.makeBarMapping(s, bar, address!));
    }
    if (s.romSize) {
      const raw = get32(c, PCI_ROM_ADDRESS);
      const base = (raw & ~(s.romSize - 1) & ~ROM_ENABLE) >>> 0;
      // The ROM decodes only while both its own enable and memory space decoding are on.
      const on = raw & ROM_ENABLE && command & PCI_COMMAND_MEMORY && base !== 0 && base + s.romSize < 2 ** 32;
      this.place(s, 6, on ? base : undefined, () => this.makeRomMapping(s, base));
    }
  }

  private place(s: Slot, index: number, address: number | undefined, make: () => Mapping | undefined): void {
    const current = s.mappings[index];
    if (current && current.address === address) return;
    if (current) this.unmap(current);
    s.mappings[index] = address === undefined ? undefined : make();
  }

  private makeBarMapping(s: Slot, bar: PciBar, address: number): Mapping | undefined {
    if (bar.kind === 'memory' && bar.backing && this.onDirectMemoryMap) {
      this.onDirectMemoryMap(address, bar.backing);
      return { address, space: 'direct' };
    }
    const handlers = bar.range;
    // Without the machine's direct mapping, a backed BAR is served by its handlers, or failing
    // those by the backing array itself.
    const backing = bar.kind === 'memory' && !handlers.read && !handlers.write ? bar.backing : undefined;
    const range: AccessRange = backing
      ? {
          owner: handlers.owner,
          base: address,
          length: bar.size,
          sizes: 1 | 2 | 4,
          read: (offset, size) => readLe(backing, offset, size),
          write: (offset, size, value) => writeLe(backing, offset, size, value),
        }
      : {
          owner: handlers.owner,
          base: address,
          length: bar.size,
          sizes: handlers.sizes,
          read: handlers.read ? (offset, size) => handlers.read!(offset, size) : undefined,
          write: handlers.write ? (offset, size, value) => handlers.write!(offset, size, value) : undefined,
        };
    return this.tryRegister(range, bar.kind, address);
  }

  private makeRomMapping(s: Slot, address: number): Mapping | undefined {
    const rom = s.f.info.rom!;
    const range: AccessRange = {
      owner: `${hex2(s.device)}.${s.fn} option ROM`,
      base: address,
      length: s.romSize,
      sizes: 1 | 2 | 4,
      // The decoded window is a power of two; past the image the ROM chip reads erased (0xFF).
      read: (offset, size) => {
        let v = 0;
        for (let i = size - 1; i >= 0; i--) v = v * 256 + (offset + i < rom.length ? rom[offset + i] : 0xff);
        return v;
      },
    };
    return this.tryRegister(range, 'memory', address);
  }

  /**
   * A guest may place a BAR over ports or addresses another device owns. Real hardware would
   * then see two devices answer; here the BAR simply stays undecoded until it moves.
   */
  private tryRegister(range: AccessRange, kind: 'io' | 'memory', address: number): Mapping | undefined {
    try {
      if (kind === 'io') this.io.register(range);
      else this.mmio.register(range);
      return { address, range, space: kind };
    } catch {
      return undefined;
    }
  }

  private unmap(m: Mapping): void {
    if (m.space === 'direct') this.onDirectMemoryMap?.(m.address, null);
    else if (m.space === 'io') this.io.unregister(m.range!);
    else this.mmio.unregister(m.range!);
  }

  private setIntx(s: Slot, level: boolean): void {
    s.intxLevel = level;
    this.driveIntx(s);
  }

  private driveIntx(s: Slot): void {
    const disabled = (get16(s.f.config, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE) !== 0;
    const level = s.intxLevel && !disabled;
    if (level === s.routedLevel) return;
    const pin = s.f.info.interruptPin ?? 0;
    if (!s.route && pin >= 1 && pin <= 4 && this.routeInterrupt) s.route = this.routeInterrupt(s.device, pin);
    s.routedLevel = level;
    s.route?.set(level);
  }
}

function sizeMask(bar: PciBar, device: number, fn: number, index: number): number {
  const min = bar.kind === 'io' ? 4 : 16;
  if (bar.size < min || bar.size > 2 ** 31 || (bar.size & (bar.size - 1)) !== 0) {
    throw new RangeError(`PCI function ${device}.${fn} BAR${index}: size ${bar.size} is not a power of two >= ${min}`);
  }
  if (bar.backing && bar.backing.length !== bar.size) {
    throw new RangeError(`PCI function ${device}.${fn} BAR${index}: backing length differs from the BAR size`);
  }
  return (~(bar.size - 1) & (bar.kind === 'io' ? ~3 : ~0xf)) >>> 0;
}

/** The read-only low bits of a BAR: I/O space indicator, or memory type and prefetchable. */
function typeBits(bar: PciBar): number {
  return bar.kind === 'io' ? 1 : bar.prefetchable ? 8 : 0;
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function get16(a: Uint8Array, o: number): number {
  return a[o] | (a[o + 1] << 8);
}

function get32(a: Uint8Array, o: number): number {
  return (a[o] | (a[o + 1] << 8) | (a[o + 2] << 16) | (a[o + 3] << 24)) >>> 0;
}

function put16(a: Uint8Array, o: number, v: number): void {
  a[o] = v & 0xff;
  a[o + 1] = (v >> 8) & 0xff;
}

function put32(a: Uint8Array, o: number, v: number): void {
  for (let i = 0; i < 4; i++) a[o + i] = (v >>> (8 * i)) & 0xff;
}

function readLe(a: Uint8Array, offset: number, size: number): number {
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + (a[offset + i] ?? 0xff);
  return v;
}

function writeLe(a: Uint8Array, offset: number, size: number, value: number): void {
  for (let i = 0; i < size && offset + i < a.length; i++) a[offset + i] = (value >>> (8 * i)) & 0xff;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
