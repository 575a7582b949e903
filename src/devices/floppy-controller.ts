/**
 * Floppy disk controller: Intel 82077AA in PC-AT mode, at 0x3F0-0x3F5 and 0x3F7, IRQ 6, ISA DMA
 * channel 2, with up to four drives (the machine wires two: fda and fdb).
 *
 * Follows the Intel 82077AA CHMOS Single-Chip Floppy Disk Controller datasheet (registers, command
 * set, status bytes, result-phase C/H/R/N rules) for: SPECIFY, SENSE DRIVE STATUS, SENSE INTERRUPT
 * STATUS, RECALIBRATE, SEEK (and relative seek), READ DATA, WRITE DATA, READ ID, FORMAT TRACK,
 * VERSION, CONFIGURE, LOCK/UNLOCK, DUMPREG and PERPENDICULAR MODE. Data moves by DMA, or through
 * the FIFO when SPECIFY selects non-DMA mode.
 *
 * Quirks kept on purpose:
 * - Data commands always seek to the cylinder they name (implied seek), whatever CONFIGURE's EIS
 *   bit says: SeaBIOS issues READ DATA without a SEEK and relies on this, as QEMU behaves.
 * - After a hardware reset the DOR reads 0x0C (controller running, DMA and IRQ gate open), as on
 *   QEMU; SeaBIOS only sets the reset bit and would never see IRQ 6 with the gate closed.
 * - A transfer that reaches EOT without DMA terminal count ends with ST0 abnormal and ST1 EN, as
 *   on the real part (non-DMA transfers always end this way; drivers expect it).
 * - The programmed data rate must match the medium, else ST1 MA: SeaBIOS senses the medium by
 *   trying READ ID at each rate.
 * - No medium, no drive, or FM (MFM=0) commands: the command ends at once with ST0 abnormal and
 *   ST1 MA rather than waiting forever for index pulses, so a BIOS probe never hangs.
 *
 * Left out: VERIFY, SCAN, READ TRACK, READ/WRITE DELETED DATA (invalid command), sector sizes
 * other than 512 bytes (N != 2 gives ST1 ND), the FIFO threshold and overrun timing, power-down
 * mode, PS/2 and Model 30 status registers (0x3F0/0x3F1 read all ones), mechanical timing (seeks
 * and transfers complete instantly), and the drive-busy bits of the MSR.
 */
import { type Device, type DeviceState, checkStateVersion } from '../bus/device.ts';
import type { IoBus } from '../bus/io-bus.ts';
import type { IrqLine } from '../bus/irq-line.ts';

/** A floppy image held by the machine; synchronous, byte-addressed. */
export interface FloppyMedia {
  readonly size: number;
  readonly readOnly: boolean;
  read(offset: number, length: number): Uint8Array;
  write(offset: number, data: Uint8Array): void;
}

/** The DMA channel the controller is wired to (ISA DMA channel 2 on the PC). */
export interface FloppyDmaChannel {
  holdRequest(service: () => void): void;
  releaseRequest(): void;
  /** Device to memory; returns the bytes the channel took. */
  writeMemory(src: Uint8Array): number;
  /** Memory to device; returns the bytes filled. */
  readMemory(dest: Uint8Array): number;
  /** True once the channel reached terminal count since the request was held. */
  terminalCount(): boolean;
}

export interface FloppyGeometry {
  cylinders: number;
  heads: number;
  sectorsPerTrack: number;
  /** Data rate code as written to the DSR/CCR: 0 = 500 kb/s, 1 = 300, 2 = 250, 3 = 1 Mb/s. */
  rate: number;
  /** CMOS drive type of the drive that naturally holds this medium. */
  driveType: number;
}

/** CMOS register 0x10 drive types. */
export const FLOPPY_DRIVE_NONE = 0;
export const FLOPPY_DRIVE_360K = 1;
export const FLOPPY_DRIVE_1200K = 2;
export const FLOPPY_DRIVE_720K = 3;
export const FLOPPY_DRIVE_1440K = 4;
export const FLOPPY_DRIVE_2880K = 5;

const FORMATS: FloppyGeometry[] = [
  { cylinders: 40, heads: 1, sectorsPerTrack: 8, rate: 2, driveType: FLOPPY_DRIVE_360K }, // 160K
  { cylinders: 40, heads: 1, sectorsPerTrack: 9, rate: 1, driveType: FLOPPY_DRIVE_360K }, // 180K
  { cylinders: 40, heads: 2, sectorsPerTrack: 8, rate: 2, driveType: FLOPPY_DRIVE_360K }, // 320K
  { cylinders: 40, heads: 2, sectorsPerTrack: 9, rate: 1, driveType: FLOPPY_DRIVE_360K }, // 360K
  { cylinders: 80, heads: 2, sectorsPerTrack: 9, rate: 2, driveType: FLOPPY_DRIVE_720K }, // 720K
  { cylinders: 80, heads: 2, sectorsPerTrack: 15, rate: 0, driveType: FLOPPY_DRIVE_1200K }, // 1.2M
  { cylinders: 80, heads: 2, sectorsPerTrack: 18, rate: 0, driveType: FLOPPY_DRIVE_1440K }, // 1.44M
  { cylinders: 80, heads: 2, sectorsPerTrack: 21, rate: 0, driveType: FLOPPY_DRIVE_1440K }, // 1.68M DMF
  { cylinders: 80, heads: 2, sectorsPerTrack: 36, rate: 3, driveType: FLOPPY_DRIVE_2880K }, // 2.88M
];

const SECTOR = 512;

/** The geometry of a floppy image of `size` bytes, or undefined for a size no format has. */
export function floppyGeometry(size: number): FloppyGeometry | undefined {
  return FORMATS.find((f) => f.cylinders * f.heads * f.sectorsPerTrack * SECTOR === size);
}

/** Image sizes the controller accepts, for error messages. */
export const FLOPPY_IMAGE_SIZES: readonly number[] = FORMATS.map((f) => f.cylinders * f.heads * f.sectorsPerTrack * SECTOR);

export interface FloppyDriveOptions {
  media?: FloppyMedia;
  /** CMOS drive type; default: the type that fits the media, or 4 (1.44 MB) with no media. */
  type?: number;
}

export interface FloppyControllerOptions {
  io: IoBus;
  /** IRQ 6. */
  irq: IrqLine;
  /** ISA DMA channel 2. */
  dma: FloppyDmaChannel;
  /** Drives 0-3 that exist (fda, fdb, ...); a missing entry is no drive. */
  drives?: FloppyDriveOptions[];
}

// ST0
const ST0_ABNORMAL = 0x40;
const ST0_INVALID = 0x80;
const ST0_READY_CHANGE = 0xc0;
const ST0_SEEK_END = 0x20;
const ST0_EQUIPMENT = 0x10;
// ST1
const ST1_EN = 0x80;
const ST1_ND = 0x04;
const ST1_NW = 0x02;
const ST1_MA = 0x01;
// MSR
const MSR_RQM = 0x80;
const MSR_DIO = 0x40;
const MSR_NDMA = 0x20;
const MSR_CB = 0x10;
// DOR
const DOR_RESET_N = 0x04;
const DOR_GATE = 0x08;

const PHASE_COMMAND = 0;
const PHASE_EXECUTION = 1;
const PHASE_RESULT = 2;

const OP_NONE = 0;
const OP_READ = 1;
const OP_WRITE = 2;
const OP_FORMAT = 3;

/** Parameter bytes (including the opcode) of each command, keyed by the opcode's low 5 bits. */
const DATA_COMMANDS: Record<number, number> = { 0x06: 9, 0x05: 9, 0x0a: 2, 0x0d: 6 };
const OTHER_COMMANDS: Record<number, number> = {
  0x03: 3, 0x04: 2, 0x07: 2, 0x08: 1, 0x0e: 1, 0x0f: 3, 0x8f: 3, 0xcf: 3, 0x10: 1, 0x12: 2, 0x13: 4, 0x14: 1, 0x94: 1,
};

interface Drive {
  present: boolean;
  type: number;
  media: FloppyMedia | undefined;
  geometry: FloppyGeometry | undefined;
  /** Present cylinder number as the controller counts it. */
  pcn: number;
  /** DSKCHG: set at power-on and media change, cleared by a step with a disk in. */
  changed: boolean;
}

export class FloppyController implements Device {
  readonly name = 'floppy';
  private readonly irq: IrqLine;
  private readonly dma: FloppyDmaChannel;
  private readonly drives: Drive[] = [];

  private dor = 0;
  private tdr = 0;
  private rate = 2;
  private phase = PHASE_COMMAND;
  private command: number[] = [];
  private commandLength = 0;
  private result: number[] = [];
  private resultPos = 0;
  private interrupt = false;
  /** The result comes from an execution phase: reading its first byte clears the interrupt. */
  private resultClearsInterrupt = false;
  /** SENSE INTERRUPT STATUS answers waiting: [ST0, PCN] pairs. */
  private senseQueue: [number, number][] = [];
  // SPECIFY, CONFIGURE, LOCK, PERPENDICULAR, last EOT (for DUMPREG)
  private specify1 = 0;
  private specify2 = 0;
  private config = 0x20;
  private pretrk = 0;
  private locked = false;
  private perpendicular = 0;
  private lastEot = 0;
  // The data command being executed.
  private op = OP_NONE;
  private xDrive = 0;
  private xCyl = 0;
  private xHead = 0;
  private xSector = 0;
  private xN = 2;
  private xEot = 0;
  private xMultiTrack = false;
  private xSeekEnd = false;
  private xFormatLeft = 0;
  private xFill = 0;
  private pio = false;
  private buffer = new Uint8Array(SECTOR);
  private bufferPos = 0;
  private dmaHeld = false;

  constructor(options: FloppyControllerOptions) {
    this.irq = options.irq;
    this.dma = options.dma;
    for (let i = 0; i < 4; i++) {
      const d = options.drives?.[i];
      const drive: Drive = { present: !!d, type: FLOPPY_DRIVE_NONE, media: undefined, geometry: undefined, pcn: 0, changed: true };
      this.drives.push(drive);
      if (!d) continue;
      if (d.media) this.insertMedia(i, d.media);
      drive.type = d.type ?? drive.geometry?.driveType ?? FLOPPY_DRIVE_1440K;
    }
    options.io.register({
      owner: 'floppy',
      base: 0x3f0,
      length: 6,
      read: (offset) => this.readRegister(offset),
      write: (offset, _size, value) => this.writeRegister(offset, value & 0xff),
    });
    options.io.register({
      owner: 'floppy-dir',
      base: 0x3f7,
      length: 1,
      read: () => this.readRegister(7),
      write: (_offset, _size, value) => this.writeRegister(7, value & 0xff),
    });
    this.reset();
  }

  /** CMOS drive type of drive `n` (0 = no drive); the machine writes it to CMOS 0x10. */
  driveType(n = 0): number {
    const d = this.drives[n];
    return d?.present ? d.type : FLOPPY_DRIVE_NONE;
  }

  /** Put a medium in drive `n`; throws for an image size that is no floppy format. */
  insertMedia(n: number, media: FloppyMedia): void {
    const d = this.drives[n];
    if (!d?.present) throw new RangeError(`floppy: no drive ${n}`);
    const geometry = floppyGeometry(media.size);
    if (!geometry) {
      const sizes = FLOPPY_IMAGE_SIZES.map((s) => `${s / 1024}K`).join(', ');
      throw new Error(`floppy: an image of ${media.size} bytes is no floppy format (sizes: ${sizes})`);
    }
    d.media = media;
    d.geometry = geometry;
    d.changed = true;
  }

  ejectMedia(n: number): void {
    const d = this.drives[n];
    if (!d) return;
    d.media = undefined;
    d.geometry = undefined;
    d.changed = true;
  }

  reset(): void {
    this.specify1 = 0;
    this.specify2 = 0;
    this.locked = false;
    this.config = 0x20;
    this.pretrk = 0;
    this.perpendicular = 0;
    this.lastEot = 0;
    this.rate = 2;
    this.tdr = 0;
    this.softReset();
    this.senseQueue = [];
    this.dor = DOR_RESET_N | DOR_GATE;
    for (const d of this.drives) {
      d.pcn = 0;
      d.changed = true;
    }
    this.updateIrq();
  }

  // --- registers --------------------------------------------------------------------------

  private readRegister(offset: number): number {
    switch (offset) {
      case 2:
        return this.dor;
      case 3:
        return this.tdr;
      case 4:
        return this.msr();
      case 5:
        return this.readFifo();
      case 7: {
        // Only DSKCHG is driven in PC-AT mode; the drive is selected only while its motor runs.
        const sel = this.dor & 3;
        const d = this.drives[sel];
        return d.present && d.changed && this.dor & (0x10 << sel) ? 0x80 : 0x00;
      }
      default:
        return 0xff; // SRA/SRB exist only in PS/2 modes
    }
  }

  private writeRegister(offset: number, value: number): void {
    switch (offset) {
      case 2:
        this.writeDor(value);
        break;
      case 3:
        this.tdr = value & 3;
        break;
      case 4: // DSR
        this.rate = value & 3;
        if (value & 0x80) {
          this.softReset();
          if (this.dor & DOR_RESET_N) this.leaveReset();
        }
        break;
      case 5:
        this.writeFifo(value);
        break;
      case 7: // CCR
        this.rate = value & 3;
        break;
    }
  }

  private writeDor(value: number): void {
    const old = this.dor;
    this.dor = value;
    if (!(value & DOR_RESET_N)) {
      if (old & DOR_RESET_N) this.softReset();
    } else if (!(old & DOR_RESET_N)) {
      this.leaveReset();
    }
    this.syncDmaRequest();
    this.updateIrq();
  }

  private msr(): number {
    if (!(this.dor & DOR_RESET_N)) return 0;
    switch (this.phase) {
      case PHASE_COMMAND:
        return MSR_RQM | (this.command.length ? MSR_CB : 0);
      case PHASE_RESULT:
        return MSR_RQM | MSR_DIO | MSR_CB;
      default:
        if (!this.pio) return MSR_CB;
        return MSR_RQM | MSR_NDMA | MSR_CB | (this.op === OP_READ ? MSR_DIO : 0);
    }
  }

  /** Software reset (DOR bit 2 low, DSR bit 7): abort everything, keep SPECIFY and locked settings. */
  private softReset(): void {
    this.releaseDma();
    this.phase = PHASE_COMMAND;
    this.command = [];
    this.result = [];
    this.resultPos = 0;
    this.resultClearsInterrupt = false;
    this.op = OP_NONE;
    this.pio = false;
    this.interrupt = false;
    this.senseQueue = [];
    this.perpendicular &= 0x3c; // GAP and WGATE clear, drive bits stay
    if (!this.locked) {
      this.config = 0x20;
      this.pretrk = 0;
    }
    this.updateIrq();
  }

  /** Leaving reset with polling enabled: one interrupt, then four ready-change statuses. */
  private leaveReset(): void {
    if (this.config & 0x10) return; // POLL disabled
    this.senseQueue = [0, 1, 2, 3].map((d) => [ST0_READY_CHANGE | d, this.drives[d].pcn] as [number, number]);
    this.interrupt = true;
    this.updateIrq();
  }

  private updateIrq(): void {
    // In PC-AT mode the DMA gate bit also gates the INT output.
    this.irq.set(this.interrupt && (this.dor & DOR_GATE) !== 0 && (this.dor & DOR_RESET_N) !== 0);
  }

  private raiseInterrupt(): void {
    this.interrupt = true;
    this.updateIrq();
  }

  // --- FIFO and command decoding --------------------------------------------------------------

  private readFifo(): number {
    if (!(this.dor & DOR_RESET_N)) return 0;
    if (this.phase === PHASE_RESULT) {
      if (this.resultPos === 0 && this.resultClearsInterrupt) {
        this.resultClearsInterrupt = false;
        this.interrupt = false; // reading the first result byte clears the interrupt
        this.updateIrq();
      }
      const value = this.result[this.resultPos++] ?? 0;
      if (this.resultPos >= this.result.length) {
        this.phase = PHASE_COMMAND;
        this.result = [];
        this.resultPos = 0;
      }
      return value;
    }
    if (this.phase === PHASE_EXECUTION && this.pio && this.op === OP_READ) {
      const value = this.buffer[this.bufferPos++];
      if (this.bufferPos === SECTOR) this.pioSectorDone();
      return value;
    }
    return 0;
  }

  private writeFifo(value: number): void {
    if (!(this.dor & DOR_RESET_N)) return;
    if (this.phase === PHASE_EXECUTION) {
      if (this.pio && this.op === OP_WRITE) {
        this.buffer[this.bufferPos++] = value;
        if (this.bufferPos === SECTOR) this.pioSectorDone();
      } else if (this.pio && this.op === OP_FORMAT) {
        this.buffer[this.bufferPos++] = value;
        if (this.bufferPos === 4) this.formatSectorId(this.buffer.subarray(0, 4));
      }
      return;
    }
    if (this.phase !== PHASE_COMMAND) return; // writes during the result phase are ignored
    if (this.command.length === 0) {
      const length = DATA_COMMANDS[value & 0x1f] ?? OTHER_COMMANDS[value];
      if (length === undefined) {
        this.finishCommand([ST0_INVALID]);
        return;
      }
      this.commandLength = length;
    }
    this.command.push(value);
    if (this.command.length >= this.commandLength) {
      const cmd = this.command;
      this.command = [];
      this.execute(cmd);
    }
  }

  private finishCommand(result: number[], clearsInterrupt = false): void {
    this.resultClearsInterrupt = clearsInterrupt;
    this.result = result;
    this.resultPos = 0;
    this.phase = result.length ? PHASE_RESULT : PHASE_COMMAND;
  }

  private execute(cmd: number[]): void {
    const c0 = cmd[0];
    switch (DATA_COMMANDS[c0 & 0x1f] ? c0 & 0x1f : c0) {
      case 0x06:
        return this.startData(cmd, OP_READ);
      case 0x05:
        return this.startData(cmd, OP_WRITE);
      case 0x0d:
        return this.startFormat(cmd);
      case 0x0a:
        return this.readId(cmd);
      case 0x03:
        this.specify1 = cmd[1];
        this.specify2 = cmd[2];
        return this.finishCommand([]);
      case 0x04:
        return this.finishCommand([this.st3(cmd[1])]);
      case 0x07:
        return this.seek(cmd[1] & 3, (cmd[1] >> 2) & 1, 0, true);
      case 0x0f:
        return this.seek(cmd[1] & 3, (cmd[1] >> 2) & 1, cmd[2], false);
      case 0x8f:
      case 0xcf: {
        // Relative seek: DIR (bit 6) set steps inward, to higher cylinders.
        const d = this.drives[cmd[1] & 3];
        const target = c0 & 0x40 ? Math.min(255, d.pcn + cmd[2]) : Math.max(0, d.pcn - cmd[2]);
        return this.seek(cmd[1] & 3, (cmd[1] >> 2) & 1, target, false);
      }
      case 0x08:
        return this.senseInterrupt();
      case 0x10:
        return this.finishCommand([0x90]);
      case 0x12:
        // OW set: drive bits D0-D3 update; GAP and WGATE always do.
        this.perpendicular = cmd[1] & 0x80 ? cmd[1] & 0x3f : (this.perpendicular & 0x3c) | (cmd[1] & 3);
        return this.finishCommand([]);
      case 0x13:
        this.config = cmd[2] & 0x7f;
        this.pretrk = cmd[3];
        return this.finishCommand([]);
      case 0x14:
      case 0x94:
        this.locked = (c0 & 0x80) !== 0;
        return this.finishCommand([this.locked ? 0x10 : 0x00]);
      case 0x0e:
        return this.finishCommand([
          this.drives[0].pcn, this.drives[1].pcn, this.drives[2].pcn, this.drives[3].pcn,
          this.specify1, this.specify2, this.lastEot,
          (this.locked ? 0x80 : 0) | (this.perpendicular & 0x3f),
          this.config, this.pretrk,
        ]);
    }
  }

  private st3(b1: number): number {
    const d = this.drives[b1 & 3];
    let st3 = 0x28 | (b1 & 7);
    if (d.present && d.pcn === 0) st3 |= 0x10;
    if (d.media?.readOnly) st3 |= 0x40;
    return st3;
  }

  private senseInterrupt(): void {
    const entry = this.senseQueue.shift();
    this.interrupt = false;
    this.updateIrq();
    this.finishCommand(entry ? [entry[0], entry[1]] : [ST0_INVALID]);
  }

  /** Move drive `n`'s head; a step with a disk in clears its disk-change flag. */
  private moveHead(n: number, cylinder: number): boolean {
    const d = this.drives[n];
    if (d.pcn === cylinder) return false;
    d.pcn = cylinder;
    if (d.media) d.changed = false;
    return true;
  }

  private seek(n: number, head: number, cylinder: number, recalibrate: boolean): void {
    const d = this.drives[n];
    let st0 = ST0_SEEK_END | (head << 2) | n;
    if (recalibrate && !d.present) {
      // No track 0 signal after 79 step pulses: equipment check.
      d.pcn = Math.max(0, d.pcn - 79);
      st0 |= ST0_ABNORMAL | ST0_EQUIPMENT;
    } else {
      this.moveHead(n, cylinder);
    }
    this.finishCommand([]);
    // A seek completion replaces the ready-change statuses left from a reset.
    this.senseQueue = this.senseQueue.filter((e) => (e[0] & 0xc0) !== ST0_READY_CHANGE && (e[0] & 3) !== n);
    this.senseQueue.push([st0, d.pcn]);
    this.raiseInterrupt();
  }

  /** Why drive `n`, head `head` cannot be read at all now (ST1 bits), or 0. */
  private trackError(n: number, head: number, mfm: boolean): number {
    const d = this.drives[n];
    const g = d.geometry;
    if (!d.present || !g || !mfm || this.rate !== g.rate) return ST1_MA;
    if (d.pcn >= g.cylinders || head >= g.heads) return ST1_MA;
    return 0;
  }

  private readId(cmd: number[]): void {
    const n = cmd[1] & 3;
    const head = (cmd[1] >> 2) & 1;
    const d = this.drives[n];
    const st1 = this.trackError(n, head, (cmd[0] & 0x40) !== 0);
    const st0 = (st1 ? ST0_ABNORMAL : 0) | (head << 2) | n;
    this.finishCommand([st0, st1, 0, d.pcn, head, 1, 2], true);
    this.raiseInterrupt();
  }

  // --- data transfers ---------------------------------------------------------------------

  private startData(cmd: number[], op: number): void {
    const n = cmd[1] & 3;
    const head = (cmd[1] >> 2) & 1;
    this.xDrive = n;
    this.xCyl = cmd[2];
    this.xHead = head;
    this.xSector = cmd[4];
    this.xN = cmd[5];
    this.xEot = cmd[6];
    this.lastEot = cmd[6];
    this.xMultiTrack = (cmd[0] & 0x80) !== 0;
    this.xSeekEnd = this.moveHead(n, cmd[2]);
    const d = this.drives[n];
    let st1 = this.trackError(n, head, (cmd[0] & 0x40) !== 0);
    if (!st1 && this.xN !== 2) st1 = ST1_ND;
    if (!st1 && (this.xSector < 1 || this.xSector > d.geometry!.sectorsPerTrack)) st1 = ST1_ND;
    if (!st1 && op === OP_WRITE && d.media!.readOnly) st1 = ST1_NW;
    if (st1) return this.endTransfer(ST0_ABNORMAL, st1, 0);
    this.beginExecution(op);
  }

  private startFormat(cmd: number[]): void {
    const n = cmd[1] & 3;
    const head = (cmd[1] >> 2) & 1;
    const d = this.drives[n];
    this.xDrive = n;
    this.xHead = head;
    this.xCyl = d.pcn;
    this.xSector = 1;
    this.xN = cmd[2];
    this.xFormatLeft = cmd[3];
    this.xFill = cmd[5];
    this.xMultiTrack = false;
    this.xSeekEnd = false;
    let st1 = this.trackError(n, head, (cmd[0] & 0x40) !== 0);
    if (!st1 && d.media!.readOnly) st1 = ST1_NW;
    if (st1) return this.endTransfer(ST0_ABNORMAL, st1, 0);
    if (this.xFormatLeft === 0) return this.endTransfer(0, 0, 0);
    this.beginExecution(OP_FORMAT);
  }

  private beginExecution(op: number): void {
    this.op = op;
    this.phase = PHASE_EXECUTION;
    this.bufferPos = 0;
    this.pio = (this.specify2 & 1) !== 0;
    if (this.pio) {
      if (op === OP_READ) this.loadSector();
      // In non-DMA mode the interrupt asks the host to move data.
      this.raiseInterrupt();
    } else {
      this.syncDmaRequest();
    }
  }

  /** DREQ follows "DMA execution in progress and the DOR gate open". */
  private syncDmaRequest(): void {
    const want = this.phase === PHASE_EXECUTION && !this.pio && (this.dor & DOR_GATE) !== 0 && (this.dor & DOR_RESET_N) !== 0;
    if (want && !this.dmaHeld) {
      this.dmaHeld = true;
      this.dma.holdRequest(() => this.serviceDma());
    } else if (!want) {
      this.releaseDma();
    }
  }

  private releaseDma(): void {
    if (this.dmaHeld) {
      this.dmaHeld = false;
      this.dma.releaseRequest();
    }
  }

  private mediaOffset(): number {
    const g = this.drives[this.xDrive].geometry!;
    return ((this.xCyl * g.heads + this.xHead) * g.sectorsPerTrack + this.xSector - 1) * SECTOR;
  }

  /** The current sector exists on the medium (EOT may name sectors past the end of the track). */
  private sectorExists(): boolean {
    const g = this.drives[this.xDrive].geometry;
    return !!g && this.xSector >= 1 && this.xSector <= g.sectorsPerTrack && this.xCyl < g.cylinders && this.xHead < g.heads;
  }

  private loadSector(): void {
    this.buffer = Uint8Array.from(this.drives[this.xDrive].media!.read(this.mediaOffset(), SECTOR));
    this.bufferPos = 0;
  }

  /**
   * Step to the next sector after one was transferred, updating C/H/R as the result phase
   * reports them. Returns true at the end of the cylinder (EOT done, on the last head for MT).
   */
  private nextSector(): boolean {
    if (this.xSector !== this.xEot) {
      this.xSector++;
      return false;
    }
    this.xSector = 1;
    if (this.xMultiTrack && this.xHead === 0) {
      this.xHead = 1;
      return false;
    }
    if (this.xMultiTrack) this.xHead = 0;
    this.xCyl++;
    return true;
  }

  private serviceDma(): void {
    if (this.phase !== PHASE_EXECUTION || this.pio) return;
    for (;;) {
      if (this.op === OP_FORMAT) {
        const id = new Uint8Array(4);
        const got = this.dma.readMemory(id);
        if (got === 0 && !this.dma.terminalCount()) return;
        if (this.formatSectorId(id) || this.dma.terminalCount()) {
          if (this.phase === PHASE_EXECUTION) this.endTransfer(0, 0, 0);
          return;
        }
        continue;
      }
      if (!this.sectorExists()) return this.endTransfer(ST0_ABNORMAL, ST1_ND, 0);
      const media = this.drives[this.xDrive].media!;
      if (this.op === OP_READ) {
        const data = media.read(this.mediaOffset(), SECTOR);
        const taken = this.dma.writeMemory(data);
        if (taken === 0 && !this.dma.terminalCount()) return; // channel not ready: wait
      } else {
        // A short sector (terminal count inside it) is padded with zeros, as the FDC does.
        const data = new Uint8Array(SECTOR);
        const got = this.dma.readMemory(data);
        if (got === 0 && !this.dma.terminalCount()) return;
        media.write(this.mediaOffset(), data);
      }
      const endOfCylinder = this.nextSector();
      if (this.dma.terminalCount()) return this.endTransfer(0, 0, 0);
      if (endOfCylinder) return this.endTransfer(ST0_ABNORMAL, ST1_EN, 0);
    }
  }

  /** A sector of a non-DMA transfer went through the FIFO. */
  private pioSectorDone(): void {
    if (this.op === OP_WRITE) this.drives[this.xDrive].media!.write(this.mediaOffset(), this.buffer);
    // Without a TC signal a non-DMA transfer runs to EOT and ends with EN.
    if (this.nextSector()) return this.endTransfer(ST0_ABNORMAL, ST1_EN, 0);
    if (!this.sectorExists()) return this.endTransfer(ST0_ABNORMAL, ST1_ND, 0);
    if (this.op === OP_READ) this.loadSector();
    else this.bufferPos = 0;
  }

  /** FORMAT TRACK got one sector ID (C, H, R, N): fill that sector. Returns true when done. */
  private formatSectorId(id: Uint8Array): boolean {
    const d = this.drives[this.xDrive];
    const g = d.geometry!;
    const [c, h, r, n] = id;
    // The image can only hold the standard layout; IDs that do not fit it are not stored.
    if (n === 2 && c === d.pcn && h < g.heads && r >= 1 && r <= g.sectorsPerTrack && c < g.cylinders) {
      d.media!.write(((c * g.heads + h) * g.sectorsPerTrack + r - 1) * SECTOR, new Uint8Array(SECTOR).fill(this.xFill));
    }
    this.xSector = r;
    this.bufferPos = 0;
    if (--this.xFormatLeft > 0) return false;
    if (this.pio) this.endTransfer(0, 0, 0);
    return true;
  }

  private endTransfer(st0: number, st1: number, st2: number): void {
    this.releaseDma();
    this.op = OP_NONE;
    this.pio = false;
    const status = st0 | (this.xSeekEnd ? ST0_SEEK_END : 0) | (this.xHead << 2) | this.xDrive;
    this.finishCommand([status, st1, st2, this.xCyl & 0xff, this.xHead, this.xSector & 0xff, this.xN], true);
    this.raiseInterrupt();
  }

  // --- state ------------------------------------------------------------------------------

  saveState(): DeviceState {
    return {
      version: 1,
      dor: this.dor,
      tdr: this.tdr,
      rate: this.rate,
      phase: this.phase,
      command: this.command.slice(),
      commandLength: this.commandLength,
      result: this.result.slice(),
      resultPos: this.resultPos,
      interrupt: this.interrupt,
      resultClearsInterrupt: this.resultClearsInterrupt,
      senseQueue: this.senseQueue.map((e) => e.slice()),
      specify1: this.specify1,
      specify2: this.specify2,
      config: this.config,
      pretrk: this.pretrk,
      locked: this.locked,
      perpendicular: this.perpendicular,
      lastEot: this.lastEot,
      op: this.op,
      transfer: [this.xDrive, this.xCyl, this.xHead, this.xSector, this.xN, this.xEot, this.xFormatLeft, this.xFill],
      multiTrack: this.xMultiTrack,
      seekEnd: this.xSeekEnd,
      pio: this.pio,
      buffer: Uint8Array.from(this.buffer),
      bufferPos: this.bufferPos,
      drivePcn: this.drives.map((d) => d.pcn),
      driveChanged: this.drives.map((d) => d.changed),
    };
  }

  loadState(s: DeviceState): void {
    checkStateVersion(this.name, s, 1);
    this.releaseDma();
    this.dor = s.dor as number;
    this.tdr = s.tdr as number;
    this.rate = s.rate as number;
    this.phase = s.phase as number;
    this.command = (s.command as number[]).slice();
    this.commandLength = s.commandLength as number;
    this.result = (s.result as number[]).slice();
    this.resultPos = s.resultPos as number;
    this.interrupt = s.interrupt as boolean;
    this.resultClearsInterrupt = s.resultClearsInterrupt as boolean;
    this.senseQueue = (s.senseQueue as [number, number][]).map((e) => [e[0], e[1]]);
    this.specify1 = s.specify1 as number;
    this.specify2 = s.specify2 as number;
    this.config = s.config as number;
    this.pretrk = s.pretrk as number;
    this.locked = s.locked as boolean;
    this.perpendicular = s.perpendicular as number;
    this.lastEot = s.lastEot as number;
    this.op = s.op as number;
    [this.xDrive, this.xCyl, this.xHead, this.xSector, this.xN, this.xEot, this.xFormatLeft, this.xFill] = s.transfer as number[];
    this.xMultiTrack = s.multiTrack as boolean;
    this.xSeekEnd = s.seekEnd as boolean;
    this.pio = s.pio as boolean;
    this.buffer = Uint8Array.from(s.buffer as ArrayLike<number>);
    this.bufferPos = s.bufferPos as number;
    (s.drivePcn as number[]).forEach((p, i) => (this.drives[i].pcn = p));
    (s.driveChanged as boolean[]).forEach((c, i) => (this.drives[i].changed = c));
    this.updateIrq();
    this.syncDmaRequest();
  }
}
