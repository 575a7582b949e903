/**
 * The IDE function of the Intel 82371SB (PIIX3), PCI 8086:7010, as QEMU presents it: class
 * 010180h (mass storage, IDE, legacy-mode channels with bus-master capability), the two
 * channels at their legacy ports and IRQs 14/15 (those are IdeChannel objects the machine
 * builds, each given `busMaster(n)` of this function), and BAR4: 16 bytes of bus-master IDE
 * registers, eight per channel.
 *
 * Follows the 82371FB/SB (PIIX/PIIX3) datasheet, section "Bus Master IDE": the Command register
 * (Start/Stop, Read/Write control), the Status register (Active, Error and Interrupt bits, the
 * latter two write-one-to-clear, and the two drive-DMA-capable bits), the Descriptor Table
 * Pointer, and physical region descriptors (base address, byte count with 0 meaning 64 KiB,
 * EOT in bit 31). A transfer stops at the PRD marked EOT; as on the PIIX, a table longer than
 * the transfer leaves Active set, one shorter than the transfer clears Active without an
 * interrupt, and one that fits exactly clears Active and sets Interrupt. The Interrupt bit
 * follows the channel's INTRQ, whatever command raised it (as QEMU does).
 *
 * Left out: the Read/Write control bit is not checked against the command's direction (a
 * mismatch simply moves data the way the drive wants), PCI target/master aborts (the Error
 * bit is never set by the model), timing registers beyond storing them (IDETIM, SIDETIM at
 * 40h-44h are plain configuration bytes), native-mode channels, and the IDE decode enable
 * bits: the legacy ports always decode. A runaway PRD table is cut off after 512 entries
 * (one 4 KiB page), the fail-safe QEMU uses.
 */
import type { AccessSize } from '../bus/access-range.ts';
import { checkStateVersion, type Device, type DeviceState } from '../bus/device.ts';
import type { DmaMemory } from '../bus/dma-memory.ts';
import type { PciBar, PciFunction, PciFunctionInfo } from '../bus/pci.ts';
import type { IdeBusMaster } from './ide-channel.ts';

const COMMAND_START = 0x01;
const COMMAND_READ = 0x08; // bus master writes memory (a disk read)
const STATUS_ACTIVE = 0x01;
const STATUS_ERROR = 0x02;
const STATUS_INTERRUPT = 0x04;
const STATUS_DRIVE_CAPABLE = 0x60;
const PRD_TABLE_LIMIT = 4096;

export interface Piix3IdeOptions {
  /** Guest physical memory as a bus master sees it. */
  memory: DmaMemory;
  name?: string;
}

/** One channel's bus-master engine: registers plus the walk through its PRD table. */
class BusMasterEngine implements IdeBusMaster {
  command = 0;
  status = 0;
  prdTable = 0;
  // Walk state: next descriptor address, current region, whether it is the last one.
  cursor = 0;
  regionAddress = 0;
  regionLength = 0;
  regionLast = false;
  private onStart?: () => void;

  constructor(private readonly memory: DmaMemory) {}

  connect(onStart: () => void): void {
    this.onStart = onStart;
  }

  get active(): boolean {
    return (this.status & STATUS_ACTIVE) !== 0;
  }

  reset(): void {
    this.command = 0;
    this.status = 0;
    this.prdTable = 0;
    this.cursor = 0;
    this.regionAddress = 0;
    this.regionLength = 0;
    this.regionLast = false;
  }

  readByte(offset: number): number {
    switch (offset) {
      case 0:
        return this.command;
      case 2:
        return this.status;
      case 4:
      case 5:
      case 6:
      case 7:
        return (this.prdTable >>> (8 * (offset - 4))) & 0xff;
      default:
        return 0; // reserved bytes 1 and 3
    }
  }

  writeByte(offset: number, value: number): void {
    switch (offset) {
      case 0:
        return this.writeCommand(value);
      case 2:
        this.status =
          (this.status & STATUS_ACTIVE) |
          (this.status & ~value & (STATUS_ERROR | STATUS_INTERRUPT)) |
          (value & STATUS_DRIVE_CAPABLE);
        return;
      case 4:
      case 5:
      case 6:
      case 7: {
        const shift = 8 * (offset - 4);
        const merged = (this.prdTable & ~(0xff << shift)) | (value << shift);
        this.prdTable = (merged & ~3) >>> 0; // descriptor tables are dword aligned
        return;
      }
    }
  }

  private writeCommand(value: number): void {
    const before = this.command;
    this.command = value & (COMMAND_START | COMMAND_READ);
    if ((before ^ value) & COMMAND_START) {
      if (value & COMMAND_START) {
        // Start: walk the table from its beginning.
        this.cursor = this.prdTable;
        this.regionLength = 0;
        this.regionLast = false;
        this.status |= STATUS_ACTIVE;
        this.onStart?.();
      } else {
        // Stop: a transfer in progress is abandoned (the drive sees the table as ended).
        this.status &= ~STATUS_ACTIVE;
      }
    }
  }

  /** Load the next descriptor; false (and Active cleared) at the end of the table. */
  private nextRegion(): boolean {
    if (this.regionLast || this.cursor - this.prdTable >= PRD_TABLE_LIMIT) {
      this.status &= ~STATUS_ACTIVE;
      return false;
    }
    const base = this.memory.readU32(this.cursor);
    const count = this.memory.readU32(this.cursor + 4);
    this.cursor = (this.cursor + 8) >>> 0;
    this.regionAddress = (base & ~1) >>> 0;
    this.regionLength = count & 0xfffe || 0x10000;
    this.regionLast = (count & 0x80000000) !== 0;
    return true;
  }

  /** After a transfer that used the region marked EOT to its end, the engine goes idle. */
  private checkTableEnd(): void {
    if (this.regionLength === 0 && this.regionLast) this.status &= ~STATUS_ACTIVE;
  }

  toMemory(data: Uint8Array): boolean {
    if (!this.active) return false;
    let done = 0;
    while (done < data.length) {
      if (this.regionLength === 0 && !this.nextRegion()) return false;
      const n = Math.min(this.regionLength, data.length - done);
      this.memory.write(this.regionAddress, data.subarray(done, done + n));
      this.regionAddress = (this.regionAddress + n) >>> 0;
      this.regionLength -= n;
      done += n;
    }
    this.checkTableEnd();
    return true;
  }

  fromMemory(length: number): Uint8Array {
    const out = new Uint8Array(length);
    if (!this.active) return out.subarray(0, 0);
    let done = 0;
    while (done < length) {
      if (this.regionLength === 0 && !this.nextRegion()) return out.subarray(0, done);
      const n = Math.min(this.regionLength, length - done);
      this.memory.read(this.regionAddress, out.subarray(done, done + n));
      this.regionAddress = (this.regionAddress + n) >>> 0;
      this.regionLength -= n;
      done += n;
    }
    this.checkTableEnd();
    return out;
  }

  end(error: boolean): void {
    // A command that failed leaves the engine idle (the drive will move no more data).
    if (error) this.status &= ~STATUS_ACTIVE;
  }

  interrupt(): void {
    this.status |= STATUS_INTERRUPT;
  }

  save(): number[] {
    return [this.command, this.status, this.prdTable, this.cursor, this.regionAddress, this.regionLength, this.regionLast ? 1 : 0];
  }

  load(v: readonly number[]): void {
    [this.command, this.status, this.prdTable, this.cursor, this.regionAddress, this.regionLength] = v.map((x) => x >>> 0);
    this.regionLast = v[6] === 1;
  }
}

export class Piix3Ide implements PciFunction, Device {
  readonly name: string;
  readonly info: PciFunctionInfo;
  readonly config = new Uint8Array(256);
  private readonly engines: [BusMasterEngine, BusMasterEngine];

  constructor(options: Piix3IdeOptions) {
    this.name = options.name ?? 'piix3-ide';
    this.engines = [new BusMasterEngine(options.memory), new BusMasterEngine(options.memory)];
    const bar4: PciBar = {
      kind: 'io',
      size: 16,
      range: {
        owner: `${this.name} bus master`,
        sizes: 1 | 2 | 4,
        read: (offset, size) => this.readBusMaster(offset, size),
        write: (offset, size, value) => this.writeBusMaster(offset, size, value),
      },
    };
    this.info = {
      vendorId: 0x8086,
      deviceId: 0x7010,
      classCode: 0x010180,
      revision: 0,
      subsystemVendorId: 0x1af4,
      subsystemId: 0x1100,
      headerType: 0,
      interruptPin: 0, // legacy mode: the channels use IRQ 14 and 15, not INTx
      bars: [undefined, undefined, undefined, undefined, bar4, undefined],
    };
  }

  /** The bus-master engine to give IdeChannel `n` (0 primary, 1 secondary) as its `busMaster`. */
  busMaster(channel: 0 | 1): IdeBusMaster {
    return this.engines[channel];
  }

  private readBusMaster(offset: number, size: AccessSize): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + this.readByte((offset + i) & 15);
    return v >>> 0;
  }

  private writeBusMaster(offset: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) this.writeByte((offset + i) & 15, (value >>> (8 * i)) & 0xff);
  }

  private readByte(offset: number): number {
    return this.engines[offset >> 3].readByte(offset & 7);
  }

  private writeByte(offset: number, value: number): void {
    this.engines[offset >> 3].writeByte(offset & 7, value);
  }

  reset(): void {
    for (const e of this.engines) e.reset();
    this.config.fill(0, 0x40);
  }

  saveState(): DeviceState {
    return {
      version: 1,
      engines: this.engines.map((e) => e.save()),
      deviceConfig: this.config.slice(0x40),
    };
  }

  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
    const engines = state.engines as number[][];
    this.engines[0].load(engines[0]);
    this.engines[1].load(engines[1]);
    this.config.set((state.deviceConfig as Uint8Array).subarray(0, 0xc0), 0x40);
  }
}
