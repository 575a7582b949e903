/**
 * QEMU's firmware configuration device (fw_cfg) on the x86 I/O ports, the channel through which
 * the device model hands SeaBIOS its configuration: RAM size, CPU counts, boot order, the e820
 * map, ACPI and SMBIOS tables. Follows QEMU's docs/specs/fw_cfg.rst ("QEMU Firmware
 * Configuration (fw_cfg) Device"): the selector at 0x510 (16-bit), the data port at 0x511
 * (byte reads that auto-increment, zero past the end of an item), the DMA address register at
 * 0x514 (64-bit, big-endian, written as two 32-bit halves; writing the low half at 0x518 starts
 * the transfer) and the FWCfgDmaAccess structure, and the file directory at key 0x0019.
 *
 * Numeric items are little-endian (as QEMU's fw_cfg_add_i16/i32/i64 store them); the file
 * directory and the DMA structure are big-endian. Files are kept sorted by name and their keys
 * follow that order from 0x0020 up, as QEMU does for current machine types.
 *
 * Left out: the MMIO variant (other architectures), writes through the data port (ignored, as
 * in QEMU since 2.4), and the kernel/initrd loading items' contents (the machine may set them).
 */
import type { AccessSize } from '../bus/access-range.ts';
import { checkStateVersion, type Device, type DeviceState } from '../bus/device.ts';
import type { DmaMemory } from '../bus/dma-memory.ts';
import type { IoBus } from '../bus/io-bus.ts';

export interface FwCfgOptions {
  io: IoBus;
  /** Guest memory as the DMA interface reads and writes it. */
  dma: DmaMemory;
  /** Offer the DMA interface (FW_CFG_ID bit 1); true by default, as on QEMU. */
  dmaEnabled?: boolean;
}

// Selector keys (fw_cfg.rst, "Selector (Control) Register" and the legacy item list).
export const FW_CFG_SIGNATURE = 0x0000;
export const FW_CFG_ID = 0x0001;
export const FW_CFG_UUID = 0x0002;
export const FW_CFG_RAM_SIZE = 0x0003;
export const FW_CFG_NOGRAPHIC = 0x0004;
export const FW_CFG_NB_CPUS = 0x0005;
export const FW_CFG_MACHINE_ID = 0x0006;
export const FW_CFG_KERNEL_ADDR = 0x0007;
export const FW_CFG_KERNEL_SIZE = 0x0008;
export const FW_CFG_KERNEL_CMDLINE = 0x0009;
export const FW_CFG_INITRD_ADDR = 0x000a;
export const FW_CFG_INITRD_SIZE = 0x000b;
export const FW_CFG_BOOT_DEVICE = 0x000c;
export const FW_CFG_NUMA = 0x000d;
export const FW_CFG_BOOT_MENU = 0x000e;
export const FW_CFG_MAX_CPUS = 0x000f;
export const FW_CFG_KERNEL_ENTRY = 0x0010;
export const FW_CFG_KERNEL_DATA = 0x0011;
export const FW_CFG_INITRD_DATA = 0x0012;
export const FW_CFG_CMDLINE_ADDR = 0x0013;
export const FW_CFG_CMDLINE_SIZE = 0x0014;
export const FW_CFG_CMDLINE_DATA = 0x0015;
export const FW_CFG_SETUP_ADDR = 0x0016;
export const FW_CFG_SETUP_SIZE = 0x0017;
export const FW_CFG_SETUP_DATA = 0x0018;
export const FW_CFG_FILE_DIR = 0x0019;
export const FW_CFG_FILE_FIRST = 0x0020;
/** Selector bit 14: the write channel (stripped when choosing the item). */
export const FW_CFG_WRITE_CHANNEL = 0x4000;
/** Selector bit 15: architecture-specific items. x86 ones follow. */
export const FW_CFG_ARCH_LOCAL = 0x8000;
export const FW_CFG_ACPI_TABLES = FW_CFG_ARCH_LOCAL + 0;
export const FW_CFG_SMBIOS_ENTRIES = FW_CFG_ARCH_LOCAL + 1;
export const FW_CFG_IRQ0_OVERRIDE = FW_CFG_ARCH_LOCAL + 2;
export const FW_CFG_E820_TABLE = FW_CFG_ARCH_LOCAL + 3;
export const FW_CFG_HPET = FW_CFG_ARCH_LOCAL + 4;

/** FW_CFG_ID bits. */
export const FW_CFG_VERSION = 0x01;
export const FW_CFG_VERSION_DMA = 0x02;

/** FWCfgDmaAccess control bits. */
export const FW_CFG_DMA_CTL_ERROR = 0x01;
export const FW_CFG_DMA_CTL_READ = 0x02;
export const FW_CFG_DMA_CTL_SKIP = 0x04;
export const FW_CFG_DMA_CTL_SELECT = 0x08;
export const FW_CFG_DMA_CTL_WRITE = 0x10;

/** File names live in a 56-byte field that includes the terminating NUL. */
export const FW_CFG_MAX_FILE_PATH = 56;

const SELECTOR_PORT = 0x510;
const DMA_PORT = 0x514;
/** What the DMA register reads as, so a driver can tell the interface is there. */
const DMA_SIGNATURE = new TextEncoder().encode('QEMU CFG');
const ZERO_CHUNK = 0x10000;

export interface FwCfgFileOptions {
  /** The guest may write the file through DMA (the whole write must fit inside the file). */
  writable?: boolean;
  /** Told after a guest DMA write changed the file. */
  onWrite?: (data: Uint8Array, offset: number, length: number) => void;
}

interface Item {
  data: Uint8Array;
  writable?: boolean;
  onWrite?: FwCfgFileOptions['onWrite'];
}

interface FileEntry extends Item {
  name: string;
  nameBytes: Uint8Array;
}

export class FwCfg implements Device {
  readonly name = 'fw-cfg';
  private readonly dma: DmaMemory;
  private readonly items = new Map<number, Item>();
  private readonly files: FileEntry[] = [];
  private selector = 0;
  private offset = 0;
  private dmaHigh = 0;

  constructor(options: FwCfgOptions) {
    this.dma = options.dma;
    const dmaEnabled = options.dmaEnabled ?? true;
    this.items.set(FW_CFG_SIGNATURE, { data: new TextEncoder().encode('QEMU') });
    this.setNumeric(FW_CFG_ID, FW_CFG_VERSION | (dmaEnabled ? FW_CFG_VERSION_DMA : 0), 4);
    this.rebuildDirectory();
    options.io.register({
      owner: this.name,
      base: SELECTOR_PORT,
      length: 2,
      sizes: 1 | 2,
      read: (_offset, size) => (size === 1 ? this.readData() : 0xffff),
      // As in QEMU, any 16-bit write selects and byte writes are (ignored) data writes.
      write: (_offset, size, value) => {
        if (size === 2) this.select(value);
      },
    });
    if (dmaEnabled) {
      options.io.register({
        owner: `${this.name} DMA`,
        base: DMA_PORT,
        length: 8,
        sizes: 1 | 2 | 4,
        read: (offset, size) => {
          let v = 0;
          for (let i = size - 1; i >= 0; i--) v = v * 256 + DMA_SIGNATURE[offset + i];
          return v;
        },
        write: (offset, size, value) => this.writeDmaAddress(offset, size, value),
      });
    }
  }

  /** A little-endian number item of `bytes` bytes (QEMU's fw_cfg_add_i16/i32/i64). */
  setNumeric(key: number, value: number | bigint, bytes: 1 | 2 | 4 | 8): void {
    const data = new Uint8Array(bytes);
    let v = BigInt.asUintN(bytes * 8, BigInt(value));
    for (let i = 0; i < bytes; i++) {
      data[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    this.setBytes(key, data);
  }

  /** A raw item at a fixed key (legacy items, including the x86 FW_CFG_ARCH_LOCAL ones). */
  setBytes(key: number, data: Uint8Array): void {
    const k = key & ~FW_CFG_WRITE_CHANNEL & 0xffff;
    if (k === FW_CFG_FILE_DIR || (k >= FW_CFG_FILE_FIRST && k < FW_CFG_WRITE_CHANNEL)) {
      throw new RangeError(`fw_cfg key 0x${k.toString(16)} belongs to the file directory; use addFile`);
    }
    this.items.set(k, { data });
  }

  /** A named file in the directory (replacing one of the same name). */
  addFile(name: string, data: Uint8Array, options: FwCfgFileOptions = {}): void {
    const nameBytes = new TextEncoder().encode(name);
    if (nameBytes.length === 0 || nameBytes.length >= FW_CFG_MAX_FILE_PATH || nameBytes.includes(0)) {
      throw new RangeError(`fw_cfg file name "${name}" must be 1-${FW_CFG_MAX_FILE_PATH - 1} bytes without NUL`);
    }
    const entry: FileEntry = { name, nameBytes, data, writable: options.writable, onWrite: options.onWrite };
    const existing = this.files.findIndex((f) => f.name === name);
    if (existing >= 0) {
      this.files[existing] = entry;
    } else {
      if (FW_CFG_FILE_FIRST + this.files.length >= FW_CFG_WRITE_CHANNEL) throw new RangeError('fw_cfg: too many files');
      // Sorted by name with strcmp, so the keys follow the same order.
      let i = this.files.length;
      while (i > 0 && compareBytes(nameBytes, this.files[i - 1].nameBytes) < 0) i--;
      this.files.splice(i, 0, entry);
    }
    this.rebuildDirectory();
  }

  /** The selector key of a file, or undefined. Keys change as files are added. */
  fileKey(name: string): number | undefined {
    const i = this.files.findIndex((f) => f.name === name);
    return i < 0 ? undefined : FW_CFG_FILE_FIRST + i;
  }

  /** The current contents of a file (writable files may have been changed by the guest). */
  fileData(name: string): Uint8Array | undefined {
    return this.files.find((f) => f.name === name)?.data;
  }

  reset(): void {
    this.select(FW_CFG_SIGNATURE);
    this.dmaHigh = 0;
  }

  saveState(): DeviceState {
    const writableFiles: { name: string; data: Uint8Array }[] = [];
    for (const f of this.files) if (f.writable) writableFiles.push({ name: f.name, data: f.data.slice() });
    return { version: 1, selector: this.selector, offset: this.offset, dmaHigh: this.dmaHigh, writableFiles };
  }

  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
    this.selector = Number(state.selector) & 0xffff;
    this.offset = Math.max(0, Number(state.offset) || 0);
    this.dmaHigh = Number(state.dmaHigh) >>> 0;
    for (const saved of state.writableFiles as { name: string; data: Uint8Array }[]) {
      const f = this.files.find((x) => x.name === saved.name && x.writable);
      if (f && saved.data.length === f.data.length) f.data.set(saved.data);
    }
  }

  private rebuildDirectory(): void {
    const dir = new Uint8Array(4 + 64 * this.files.length);
    const view = new DataView(dir.buffer);
    view.setUint32(0, this.files.length);
    this.files.forEach((f, i) => {
      const at = 4 + 64 * i;
      view.setUint32(at, f.data.length);
      view.setUint16(at + 4, FW_CFG_FILE_FIRST + i);
      dir.set(f.nameBytes, at + 8);
    });
    this.items.set(FW_CFG_FILE_DIR, { data: dir });
  }

  private current(): Item | undefined {
    const k = this.selector & ~FW_CFG_WRITE_CHANNEL;
    if (k >= FW_CFG_FILE_FIRST && k < FW_CFG_WRITE_CHANNEL) return this.files[k - FW_CFG_FILE_FIRST];
    return this.items.get(k);
  }

  private select(value: number): void {
    this.selector = value & 0xffff;
    this.offset = 0;
  }

  private readData(): number {
    const item = this.current();
    if (!item || this.offset >= item.data.length) return 0;
    return item.data[this.offset++];
  }

  private writeDmaAddress(offset: number, size: AccessSize, value: number): void {
    // The register is big-endian: the guest stores the address bytes most significant first.
    if (size !== 4) return;
    if (offset === 0) this.dmaHigh = byteSwap32(value);
    else if (offset === 4) {
      const address = this.dmaHigh * 2 ** 32 + byteSwap32(value);
      this.dmaHigh = 0;
      this.transfer(address);
    }
  }

  /** Runs one FWCfgDmaAccess { be32 control; be32 length; be64 address; } at `descriptor`. */
  private transfer(descriptor: number): void {
    const raw = new Uint8Array(16);
    this.dma.read(descriptor, raw);
    const view = new DataView(raw.buffer);
    const control = view.getUint32(0);
    let length = view.getUint32(4);
    let address = view.getUint32(8) * 2 ** 32 + view.getUint32(12);
    if (control & FW_CFG_DMA_CTL_SELECT) this.select(control >>> 16);
    const op = control & FW_CFG_DMA_CTL_READ ? 'read' : control & FW_CFG_DMA_CTL_WRITE ? 'write' : control & FW_CFG_DMA_CTL_SKIP ? 'skip' : undefined;
    if (!op) length = 0;
    let error = false;
    while (length > 0 && !error) {
      const item = this.current();
      let n: number;
      if (!item || this.offset >= item.data.length) {
        // Past the end: reads fill with zeros, skips do nothing, writes fail.
        n = length;
        if (op === 'read') this.zeroFill(address, n);
        if (op === 'write') error = true;
      } else {
        n = Math.min(length, item.data.length - this.offset);
        if (op === 'read') {
          this.dma.write(address, item.data.subarray(this.offset, this.offset + n));
        } else if (op === 'write') {
          if (!item.writable || n !== length) {
            error = true;
            break;
          }
          const chunk = new Uint8Array(n);
          this.dma.read(address, chunk);
          item.data.set(chunk, this.offset);
          item.onWrite?.(item.data, this.offset, n);
        }
        this.offset += n;
      }
      address += n;
      length -= n;
    }
    const status = new Uint8Array(4);
    new DataView(status.buffer).setUint32(0, error ? FW_CFG_DMA_CTL_ERROR : 0);
    this.dma.write(descriptor, status);
  }

  /**
   * Zeros for a read past the end of an item. Clipped to the 32-bit physical space: a nonsense
   * descriptor (all ones from unmapped memory) must not keep the worker busy filling nothing.
   */
  private zeroFill(address: number, length: number): void {
    length = Math.min(length, Math.max(0, 2 ** 32 - address));
    const zeros = new Uint8Array(Math.min(length, ZERO_CHUNK));
    for (let done = 0; done < length; done += zeros.length) {
      const n = Math.min(zeros.length, length - done);
      this.dma.write(address + done, n === zeros.length ? zeros : zeros.subarray(0, n));
    }
  }
}

function byteSwap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
