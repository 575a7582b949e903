/**
 * One IDE (ATA) channel: the command block registers at basePort..basePort+7 and the control
 * block register at controlPort (0x1F0-0x1F7/0x3F6 primary, 0x170-0x177/0x376 secondary),
 * with a master (slot 0) and a slave (slot 1) drive.
 *
 * Follows ATA/ATAPI-6 (T13/1410D) for the register set, device selection, the HOB bit of the
 * Device Control register for 48-bit addressing, nIEN and SRST with device signatures, and the
 * PIO data-in/data-out protocols through the 16-bit data port (32-bit accesses move two words
 * at once, as the PIIX's data port allows). The channel keeps the registers and the PIO
 * buffers; the drives (AtaDisk, AtapiCdrom) implement commands through an IdeDrivePort.
 * Register reads with no drive present follow QEMU's IDE model, so SeaBIOS and Linux see "no
 * device" at once instead of waiting for BSY to clear.
 *
 * Left out: the 0x3F7 drive address register (the floppy controller owns that port on a PC),
 * per-device INTRQ (one pending flag per channel, as QEMU models it), overlapped and queued
 * commands, and IORDY timing.
 */
import type { AccessSize } from '../bus/access-range.ts';
import type { Clock } from '../bus/clock.ts';
import { checkStateVersion, type Device, type DeviceState } from '../bus/device.ts';
import type { IoBus } from '../bus/io-bus.ts';
import type { IrqLine } from '../bus/irq-line.ts';

/** Status register bits. */
export const ATA_STATUS = { ERR: 0x01, DRQ: 0x08, DSC: 0x10, DF: 0x20, DRDY: 0x40, BSY: 0x80 } as const;
/** Error register bits. WP (write protected) shares bit 6 with UNC. */
export const ATA_ERROR = { AMNF: 0x01, ABRT: 0x04, MCR: 0x08, IDNF: 0x10, MC: 0x20, UNC: 0x40, WP: 0x40 } as const;
/** Device Control register bits. */
const CONTROL_NIEN = 0x02;
const CONTROL_SRST = 0x04;
const CONTROL_HOB = 0x80;
/** Device register bits: bit 4 selects the drive, bit 6 LBA addressing; 7 and 5 read as one. */
export const DEVICE_DEV = 0x10;
export const DEVICE_LBA = 0x40;
const DEVICE_OBSOLETE = 0xa0;

/** Largest PIO phase: a 64 KiB ATAPI byte count or a READ MULTIPLE block. */
const PIO_BUFFER_SIZE = 0x10000 + 2;

/**
 * The task file of one drive. Each ATA device has its own copy; writes from the host reach
 * both devices, and reads come from the selected one. `hob*` hold the previous value of each
 * register (the high-order bytes of a 48-bit command).
 */
export class TaskFile {
  feature = 0;
  hobFeature = 0;
  sectorCount = 0;
  hobSectorCount = 0;
  lbaLow = 0;
  hobLbaLow = 0;
  lbaMid = 0;
  hobLbaMid = 0;
  lbaHigh = 0;
  hobLbaHigh = 0;
  device = DEVICE_OBSOLETE;
  status = 0;
  error = 0;

  /** Load the device signature (ATA-6 9.12): ATAPI devices answer 14h/EBh in LBA Mid/High. */
  setSignature(atapi: boolean): void {
    this.device &= DEVICE_DEV | DEVICE_OBSOLETE;
    this.sectorCount = 1;
    this.lbaLow = 1;
    this.lbaMid = atapi ? 0x14 : 0;
    this.lbaHigh = atapi ? 0xeb : 0;
  }

  save(): number[] {
    return [this.feature, this.hobFeature, this.sectorCount, this.hobSectorCount, this.lbaLow, this.hobLbaLow,
      this.lbaMid, this.hobLbaMid, this.lbaHigh, this.hobLbaHigh, this.device, this.status, this.error];
  }

  load(v: readonly number[]): void {
    [this.feature, this.hobFeature, this.sectorCount, this.hobSectorCount, this.lbaLow, this.hobLbaLow,
      this.lbaMid, this.hobLbaMid, this.lbaHigh, this.hobLbaHigh, this.device, this.status, this.error] = v.map((x) => x & 0xff);
  }
}

/** What a drive may do to its channel. */
export interface IdeDrivePort {
  readonly slot: 0 | 1;
  readonly taskFile: TaskFile;
  readonly clock: Clock;
  /** Start a PIO data-in phase with a copy of `data`; sets DRQ and, if asked, interrupts. */
  startPioIn(data: Uint8Array, interrupt: boolean): void;
  /** Start a PIO data-out phase of `length` bytes; sets DRQ and, if asked, interrupts. */
  startPioOut(length: number, interrupt: boolean): void;
  /** The bytes the host wrote in the PIO data-out phase that just ended. */
  pioData(): Uint8Array;
  /** Abandon any PIO phase (clears DRQ). */
  stopPio(): void;
  /** Assert the channel's interrupt (INTRQ), unless nIEN masks it. */
  raiseInterrupt(): void;
  /** True when a bus-master DMA engine is connected to this channel. */
  readonly dmaAvailable: boolean;
  /** The drive is ready to move data by DMA; its dmaStart() runs once the engine is started. */
  requestDma(): void;
  /** Move drive data into guest memory; false when the PRD table ended (or the engine stopped) first. */
  dmaToMemory(data: Uint8Array): boolean;
  /** Fetch up to `length` bytes of guest memory; shorter when the PRD table ended first. */
  dmaFromMemory(length: number): Uint8Array;
  /** The drive's DMA command ended, with an error or not. */
  endDma(error: boolean): void;
  /** Keep whenIdle() waiting until `work` (a media request and its completion) settles. */
  track(work: Promise<unknown>): void;
}

/** A drive on an IDE channel. */
export interface IdeDrive {
  readonly kind: 'ata' | 'atapi';
  /** Called once when the drive is attached. */
  connect(port: IdeDrivePort): void;
  /** The host wrote the Command register with this drive selected, not busy and without DRQ. */
  executeCommand(command: number): void;
  /** The host drained (data-in) or filled (data-out) the current PIO buffer. */
  pioTransferDone(): void;
  /** The bus-master engine started while this drive's DMA request was pending. */
  dmaStart(): void;
  /** Power-on, hardware or software reset: abandon any command and load the signature. */
  reset(): void;
  saveState(): DeviceState;
  loadState(state: DeviceState): void;
}

/** The per-channel half of a bus-master IDE DMA engine (Piix3Ide.busMaster(n)). */
export interface IdeBusMaster {
  /** Called once by the channel; `onStart` runs whenever the guest sets the Start bit. */
  connect(onStart: () => void): void;
  /** Start bit set and the PRD table not yet exhausted. */
  readonly active: boolean;
  toMemory(data: Uint8Array): boolean;
  fromMemory(length: number): Uint8Array;
  end(error: boolean): void;
  /** The channel asserted its interrupt line. */
  interrupt(): void;
}

export interface IdeChannelOptions {
  io: IoBus;
  irq: IrqLine;
  basePort: number;
  controlPort: number;
  clock: Clock;
  /** The bus-master DMA engine for this channel, if the controller has one. */
  busMaster?: IdeBusMaster;
  /** Name of this channel in snapshots and port-conflict messages. */
  name?: string;
}

const PIO_NONE = 0;
const PIO_IN = 1;
const PIO_OUT = 2;

class PioPhase {
  readonly buffer = new Uint8Array(PIO_BUFFER_SIZE);
  pos = 0;
  end = 0;
  direction = PIO_NONE;
}

export class IdeChannel implements Device {
  readonly name: string;
  private readonly irq: IrqLine;
  private readonly clock: Clock;
  private readonly busMaster?: IdeBusMaster;
  private readonly drives: (IdeDrive | undefined)[] = [undefined, undefined];
  private readonly taskFiles = [new TaskFile(), new TaskFile()];
  private readonly pio = [new PioPhase(), new PioPhase()];
  private unit = 0;
  private control = 0;
  private interruptPending = false;
  /** Slot whose DMA request waits for the engine, or -1. */
  private dmaWaiting = -1;
  private readonly inflight = new Set<Promise<void>>();
  private asyncFailure: unknown;

  constructor(options: IdeChannelOptions) {
    const { io, basePort, controlPort } = options;
    this.name = options.name ?? `ide@${basePort.toString(16)}`;
    this.irq = options.irq;
    this.clock = options.clock;
    this.busMaster = options.busMaster;
    io.register({
      owner: this.name,
      base: basePort,
      length: 8,
      sizes: 1 | 2 | 4,
      read: (offset, size) => this.readCommandBlock(offset, size),
      write: (offset, size, value) => this.writeCommandBlock(offset, size, value),
    });
    io.register({
      owner: `${this.name} control`,
      base: controlPort,
      length: 1,
      read: () => this.readAltStatus(),
      write: (_offset, _size, value) => this.writeDeviceControl(value),
    });
    this.busMaster?.connect(() => this.onDmaEngineStarted());
  }

  /** Attach a drive as master (0) or slave (1). Done while building the machine. */
  attach(slot: 0 | 1, drive: IdeDrive): void {
    if (this.drives[slot]) throw new Error(`${this.name}: slot ${slot} already has a drive`);
    this.drives[slot] = drive;
    drive.connect(this.makePort(slot));
    drive.reset();
  }

  /** Resolves once no media request of any drive on this channel is in flight. */
  async whenIdle(): Promise<void> {
    while (this.inflight.size) await Promise.all([...this.inflight]);
    if (this.asyncFailure !== undefined) {
      const e = this.asyncFailure;
      this.asyncFailure = undefined;
      throw e;
    }
  }

  /** Current level of the channel's interrupt output (for tests and traces). */
  get interruptLevel(): boolean {
    return this.interruptPending && !(this.control & CONTROL_NIEN);
  }

  reset(): void {
    this.control = 0;
    this.unit = 0;
    this.dmaWaiting = -1;
    this.setPending(false);
    for (let slot = 0; slot < 2; slot++) {
      this.pio[slot].direction = PIO_NONE;
      this.taskFiles[slot].device = DEVICE_OBSOLETE | (slot ? DEVICE_DEV : 0);
      this.drives[slot]?.reset();
    }
  }

  saveState(): DeviceState {
    return {
      version: 1,
      unit: this.unit,
      control: this.control,
      interruptPending: this.interruptPending,
      dmaWaiting: this.dmaWaiting,
      taskFiles: this.taskFiles.map((t) => t.save()),
      pio: this.pio.map((p) => ({ buffer: p.buffer.slice(0, p.end), pos: p.pos, end: p.end, direction: p.direction })),
      drives: this.drives.map((d) => d?.saveState() ?? null),
    };
  }

  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
    this.unit = Number(state.unit) & 1;
    this.control = Number(state.control) & 0xff;
    this.dmaWaiting = Number(state.dmaWaiting);
    const taskFiles = state.taskFiles as number[][];
    const pio = state.pio as { buffer: Uint8Array; pos: number; end: number; direction: number }[];
    const drives = state.drives as (DeviceState | null)[];
    for (let slot = 0; slot < 2; slot++) {
      this.taskFiles[slot].load(taskFiles[slot]);
      const p = this.pio[slot];
      p.buffer.fill(0);
      p.buffer.set(pio[slot].buffer.subarray(0, PIO_BUFFER_SIZE));
      p.end = Math.min(pio[slot].end, PIO_BUFFER_SIZE);
      p.pos = Math.min(pio[slot].pos, p.end);
      p.direction = pio[slot].direction;
      const d = drives[slot];
      if (d && this.drives[slot]) this.drives[slot]!.loadState(d);
    }
    this.interruptPending = !!state.interruptPending;
    this.irq.set(this.interruptLevel);
  }

  // ---- register access -------------------------------------------------------------------

  private get anyDrive(): boolean {
    return this.drives[0] !== undefined || this.drives[1] !== undefined;
  }

  private get selectedPresent(): boolean {
    return this.drives[this.unit] !== undefined;
  }

  private readCommandBlock(offset: number, size: AccessSize): number {
    if (offset === 0) return this.readData(size);
    if (size === 1) return this.readRegister(offset);
    // A wide access to the byte registers reads consecutive registers, lowest first.
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + (offset + i < 8 ? this.readRegister(offset + i) : 0xff);
    return v >>> 0;
  }

  private writeCommandBlock(offset: number, size: AccessSize, value: number): void {
    if (offset === 0) return this.writeData(size, value);
    for (let i = 0; i < size && offset + i < 8; i++) this.writeRegister(offset + i, (value >>> (8 * i)) & 0xff);
  }

  private readRegister(reg: number): number {
    const tf = this.taskFiles[this.unit];
    const hob = (this.control & CONTROL_HOB) !== 0;
    // With no drive on the channel every register reads 0, as in QEMU, so probes give up at once.
    if (!this.anyDrive) {
      if (reg === 7) this.setPending(false);
      return 0;
    }
    switch (reg) {
      case 1:
        if (!this.selectedPresent) return 0;
        return hob ? tf.hobFeature : tf.error;
      case 2:
        return hob ? tf.hobSectorCount : tf.sectorCount;
      case 3:
        return hob ? tf.hobLbaLow : tf.lbaLow;
      case 4:
        return hob ? tf.hobLbaMid : tf.lbaMid;
      case 5:
        return hob ? tf.hobLbaHigh : tf.lbaHigh;
      case 6:
        return tf.device;
      default: {
        // Reading Status acknowledges the interrupt; Alternate Status does not.
        this.setPending(false);
        return this.selectedPresent ? tf.status : 0;
      }
    }
  }

  private writeRegister(reg: number, value: number): void {
    if (reg === 7) return this.writeCommand(value);
    if (reg === 6) {
      this.unit = value & DEVICE_DEV ? 1 : 0;
      this.taskFiles[0].device = (value & ~DEVICE_DEV) | DEVICE_OBSOLETE;
      this.taskFiles[1].device = value | DEVICE_DEV | DEVICE_OBSOLETE;
      return;
    }
    // Writing any command block register clears HOB (ATA-6 7.9.5).
    this.control &= ~CONTROL_HOB;
    for (const tf of this.taskFiles) {
      switch (reg) {
        case 1:
          tf.hobFeature = tf.feature;
          tf.feature = value;
          break;
        case 2:
          tf.hobSectorCount = tf.sectorCount;
          tf.sectorCount = value;
          break;
        case 3:
          tf.hobLbaLow = tf.lbaLow;
          tf.lbaLow = value;
          break;
        case 4:
          tf.hobLbaMid = tf.lbaMid;
          tf.lbaMid = value;
          break;
        case 5:
          tf.hobLbaHigh = tf.lbaHigh;
          tf.lbaHigh = value;
          break;
      }
    }
  }

  private writeCommand(command: number): void {
    this.control &= ~CONTROL_HOB;
    this.setPending(false);
    const drive = this.drives[this.unit];
    if (!drive) return; // commands to an absent device are ignored
    const tf = this.taskFiles[this.unit];
    // Only DEVICE RESET may interrupt an ATAPI device that is busy or has DRQ set.
    if (tf.status & (ATA_STATUS.BSY | ATA_STATUS.DRQ) && !(command === 0x08 && drive.kind === 'atapi')) return;
    if (command === 0x08 && drive.kind === 'atapi') {
      this.pio[this.unit].direction = PIO_NONE;
      if (this.dmaWaiting === this.unit) this.dmaWaiting = -1;
    }
    drive.executeCommand(command);
  }

  private readAltStatus(): number {
    if (!this.anyDrive || !this.selectedPresent) return 0;
    return this.taskFiles[this.unit].status;
  }

  private writeDeviceControl(value: number): void {
    const before = this.control;
    this.control = value & (CONTROL_HOB | CONTROL_SRST | CONTROL_NIEN);
    if (value & CONTROL_SRST && !(before & CONTROL_SRST)) {
      // Entering soft reset: both devices abandon their commands and stay busy until SRST drops.
      this.dmaWaiting = -1;
      this.setPending(false);
      for (let slot = 0; slot < 2; slot++) {
        this.pio[slot].direction = PIO_NONE;
        const drive = this.drives[slot];
        if (!drive) continue;
        drive.reset();
        this.taskFiles[slot].status |= ATA_STATUS.BSY;
      }
    } else if (!(value & CONTROL_SRST) && before & CONTROL_SRST) {
      // Leaving soft reset: the signatures loaded by reset() become visible; device 0 is selected.
      this.unit = 0;
      for (let slot = 0; slot < 2; slot++) {
        this.taskFiles[slot].status &= ~ATA_STATUS.BSY;
        this.taskFiles[slot].device = (this.taskFiles[slot].device & ~DEVICE_DEV) | (slot ? DEVICE_DEV : 0);
      }
    }
    this.irq.set(this.interruptLevel);
  }

  // ---- PIO data port ---------------------------------------------------------------------

  private readData(size: AccessSize): number {
    // The data register is 16 bits wide; a byte read returns nothing useful (QEMU reads 0xff).
    if (size === 1) return 0xff;
    const slot = this.unit;
    const p = this.pio[slot];
    const tf = this.taskFiles[slot];
    if (!(tf.status & ATA_STATUS.DRQ) || p.direction !== PIO_IN || p.pos + size > p.end) return 0;
    const b = p.buffer;
    const i = p.pos;
    const v = size === 2 ? b[i] | (b[i + 1] << 8) : (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
    p.pos += size;
    if (p.pos >= p.end) this.finishPio(slot);
    return v;
  }

  private writeData(size: AccessSize, value: number): void {
    if (size === 1) return;
    const slot = this.unit;
    const p = this.pio[slot];
    const tf = this.taskFiles[slot];
    if (!(tf.status & ATA_STATUS.DRQ) || p.direction !== PIO_OUT || p.pos + size > p.end) return;
    for (let k = 0; k < size; k++) p.buffer[p.pos + k] = (value >>> (8 * k)) & 0xff;
    p.pos += size;
    if (p.pos >= p.end) this.finishPio(slot);
  }

  private finishPio(slot: number): void {
    this.pio[slot].direction = PIO_NONE;
    this.taskFiles[slot].status &= ~ATA_STATUS.DRQ;
    this.drives[slot]?.pioTransferDone();
  }

  // ---- interrupt and DMA -----------------------------------------------------------------

  private setPending(pending: boolean): void {
    this.interruptPending = pending;
    this.irq.set(this.interruptLevel);
  }

  private raiseInterrupt(): void {
    this.setPending(true);
    if (this.interruptLevel) this.busMaster?.interrupt();
  }

  private onDmaEngineStarted(): void {
    const slot = this.dmaWaiting;
    if (slot < 0) return;
    this.dmaWaiting = -1;
    this.drives[slot]?.dmaStart();
  }

  private makePort(slot: 0 | 1): IdeDrivePort {
    const p = this.pio[slot];
    const tf = this.taskFiles[slot];
    const bm = this.busMaster;
    return {
      slot,
      taskFile: tf,
      clock: this.clock,
      startPioIn: (data, interrupt) => {
        const n = Math.min(data.length, PIO_BUFFER_SIZE);
        p.buffer.set(data.subarray(0, n));
        // An odd ATAPI byte count still ends on a whole word: the host reads a pad byte.
        if (n & 1) p.buffer[n] = 0;
        p.pos = 0;
        p.end = n + (n & 1);
        p.direction = PIO_IN;
        tf.status = (tf.status | ATA_STATUS.DRQ) & ~ATA_STATUS.BSY;
        if (interrupt) this.raiseInterrupt();
      },
      startPioOut: (length, interrupt) => {
        p.pos = 0;
        p.end = Math.min(length, PIO_BUFFER_SIZE);
        p.direction = PIO_OUT;
        tf.status = (tf.status | ATA_STATUS.DRQ) & ~ATA_STATUS.BSY;
        if (interrupt) this.raiseInterrupt();
      },
      pioData: () => p.buffer.slice(0, p.end),
      stopPio: () => {
        p.direction = PIO_NONE;
        tf.status &= ~ATA_STATUS.DRQ;
      },
      raiseInterrupt: () => this.raiseInterrupt(),
      dmaAvailable: bm !== undefined,
      requestDma: () => {
        if (bm?.active) {
          this.dmaWaiting = -1;
          this.drives[slot]?.dmaStart();
        } else {
          this.dmaWaiting = slot;
        }
      },
      dmaToMemory: (data) => (bm ? bm.toMemory(data) : false),
      dmaFromMemory: (length) => (bm ? bm.fromMemory(length) : new Uint8Array(0)),
      endDma: (error) => bm?.end(error),
      track: (work) => {
        const settled: Promise<void> = work.then(
          () => undefined,
          (e: unknown) => {
            this.asyncFailure ??= e;
          },
        );
        const entry = settled.finally(() => this.inflight.delete(entry));
        this.inflight.add(entry);
      },
    };
  }
}

/** Store `text` in IDENTIFY words as ATA strings: space padded, two characters per word, first in the high byte. */
export function putIdentifyString(words: Uint16Array, first: number, wordCount: number, text: string): void {
  for (let i = 0; i < wordCount; i++) {
    const hi = text.charCodeAt(2 * i) || 0x20;
    const lo = text.charCodeAt(2 * i + 1) || 0x20;
    words[first + i] = ((hi & 0xff) << 8) | (lo & 0xff);
  }
}

/** The IDENTIFY words as the 512 bytes the host reads (little-endian words). */
export function identifyBytes(words: Uint16Array): Uint8Array {
  const out = new Uint8Array(512);
  for (let i = 0; i < 256; i++) {
    out[2 * i] = words[i] & 0xff;
    out[2 * i + 1] = words[i] >> 8;
  }
  return out;
}

/** Transfer mode chosen with SET FEATURES 03h: 'pio', or a DMA kind with its mode number. */
export interface TransferMode {
  multiwordDma: number; // -1 when not selected
  ultraDma: number; // -1 when not selected
}

/**
 * SET FEATURES 03h (set transfer mode), the mode in the Sector Count register. Returns false
 * for a mode the drive does not support (the command then aborts). Supported: PIO 0-4,
 * multiword DMA 0-2, Ultra DMA 0-5, as the IDENTIFY data says.
 */
export function setTransferMode(mode: TransferMode, value: number): boolean {
  const kind = value >> 3;
  const n = value & 7;
  if (kind === 0 || kind === 1) {
    // PIO default (00h/01h) or flow-control PIO mode n: DMA modes stay as they were.
    return kind === 0 ? n <= 1 : n <= 4;
  }
  if (kind === 4 && n <= 2) {
    mode.multiwordDma = n;
    mode.ultraDma = -1;
    return true;
  }
  if (kind === 8 && n <= 5) {
    mode.ultraDma = n;
    mode.multiwordDma = -1;
    return true;
  }
  return false;
}
