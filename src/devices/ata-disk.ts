/**
 * An ATA hard disk on an IDE channel, presenting itself as QEMU's "QEMU HARDDISK".
 *
 * Follows ATA/ATAPI-6 (T13/1410D): IDENTIFY DEVICE, PIO and DMA reads and writes in 28-bit
 * (LBA or CHS) and 48-bit forms, READ/WRITE MULTIPLE, READ VERIFY, SEEK, FLUSH CACHE, SET
 * FEATURES, INITIALIZE DEVICE PARAMETERS, the power-management commands (as no-ops: the
 * disk is always active) and EXECUTE DEVICE DIAGNOSTIC. The default geometry is the standard
 * translation (16 heads, 63 sectors per track, at most 16383 cylinders).
 *
 * Media is a BlockBackend that answers asynchronously: the disk sets BSY, and sets DRQ or
 * finishes the DMA and interrupts once the data is there. A read-only backend is a
 * write-protected medium: writes abort with WP and ABRT in the Error register.
 *
 * Left out: SMART, security, host protected area (READ NATIVE MAX), DOWNLOAD MICROCODE,
 * TRIM, write-cache emulation (writes go to the backend at once; FLUSH CACHE waits for
 * backend.flush()), and sleep mode (SLEEP acts like STANDBY IMMEDIATE).
 */
import { checkStateVersion, type DeviceState } from '../bus/device.ts';
import type { BlockBackend } from '../storage/block-backend.ts';
import {
  ATA_ERROR,
  ATA_STATUS,
  DEVICE_LBA,
  identifyBytes,
  type IdeDrive,
  type IdeDrivePort,
  putIdentifyString,
  setTransferMode,
  type TransferMode,
} from './ide-channel.ts';

const SECTOR = 512;
/** Largest READ/WRITE MULTIPLE block, advertised in IDENTIFY word 47. */
const MAX_MULTIPLE = 16;
/** Sectors fetched from the backend per request during long PIO reads and DMA. */
const CHUNK_SECTORS = 128;

const { ERR, DRQ, DSC, DRDY, BSY } = ATA_STATUS;

export interface AtaDiskOptions {
  backend: BlockBackend;
  /** Serial number in IDENTIFY (20 characters at most); default "QM00001". */
  serial?: string;
  /** Model in IDENTIFY (40 characters at most); default "QEMU HARDDISK". */
  model?: string;
  /** Firmware revision in IDENTIFY (8 characters at most); default "2.5+". */
  firmware?: string;
}

type Operation = 'none' | 'pio-read' | 'pio-write' | 'dma-read' | 'dma-write';

export class AtaDisk implements IdeDrive {
  readonly kind = 'ata';
  readonly backend: BlockBackend;
  readonly totalSectors: number;
  private readonly serial: string;
  private readonly model: string;
  private readonly firmware: string;
  private port!: IdeDrivePort;

  // Default and current (INITIALIZE DEVICE PARAMETERS) CHS geometry.
  readonly cylinders: number;
  readonly heads = 16;
  readonly sectorsPerTrack = 63;
  private currentHeads = 16;
  private currentSectors = 63;

  private multipleSectors = MAX_MULTIPLE;
  private writeCache = true;
  private readonly mode: TransferMode = { multiwordDma: -1, ultraDma: 5 };

  // The command in progress: next sector, sectors left, addressing used to report progress.
  private operation: Operation = 'none';
  private lba = 0;
  private remaining = 0;
  private blockSectors = 1;
  private lba48 = false;
  private chs = false;
  /** Sectors read ahead for a PIO read, not yet given to the host. */
  private readAhead: Uint8Array = new Uint8Array(0);
  /** Bumped whenever a command is abandoned, so late media completions are dropped. */
  private generation = 0;

  constructor(options: AtaDiskOptions) {
    this.backend = options.backend;
    this.totalSectors = Math.floor(options.backend.size / SECTOR);
    this.serial = (options.serial ?? 'QM00001').slice(0, 20);
    this.model = (options.model ?? 'QEMU HARDDISK').slice(0, 40);
    this.firmware = (options.firmware ?? '2.5+').slice(0, 8);
    this.cylinders = Math.min(16383, Math.max(2, Math.floor(this.totalSectors / (16 * 63))));
  }

  connect(port: IdeDrivePort): void {
    this.port = port;
  }

  reset(): void {
    this.generation++;
    this.operation = 'none';
    this.readAhead = new Uint8Array(0);
    const tf = this.port.taskFile;
    tf.setSignature(false);
    tf.status = DRDY | DSC;
    tf.error = 0x01; // diagnostic passed
  }

  // ---- commands --------------------------------------------------------------------------

  executeCommand(command: number): void {
    const tf = this.port.taskFile;
    tf.error = 0;
    switch (command) {
      case 0xec:
        return this.identify();
      case 0x20:
      case 0x21:
        return this.startPio('pio-read', false, 1);
      case 0x24:
        return this.startPio('pio-read', true, 1);
      case 0x30:
      case 0x31:
        return this.startPio('pio-write', false, 1);
      case 0x34:
        return this.startPio('pio-write', true, 1);
      case 0xc4:
      case 0x29:
      case 0xc5:
      case 0x39:
        if (this.multipleSectors === 0) return this.abort(); // SET MULTIPLE MODE not done
        return this.startPio(command === 0xc4 || command === 0x29 ? 'pio-read' : 'pio-write', command < 0x80, this.multipleSectors);
      case 0xc6:
        return this.setMultipleMode();
      case 0xc8:
      case 0xc9:
        return this.startDma('dma-read', false);
      case 0x25:
        return this.startDma('dma-read', true);
      case 0xca:
      case 0xcb:
        return this.startDma('dma-write', false);
      case 0x35:
        return this.startDma('dma-write', true);
      case 0x40:
      case 0x41:
      case 0x42:
        return this.readVerify(command === 0x42);
      case 0xe7:
      case 0xea:
        return this.flushCache();
      case 0xef:
        return this.setFeatures();
      case 0x91:
        return this.initializeDeviceParameters();
      case 0x90:
        return this.executeDeviceDiagnostic();
      case 0xe5:
      case 0x98:
        // CHECK POWER MODE: FFh = active or idle.
        tf.sectorCount = 0xff;
        return this.complete();
      case 0xe0: // STANDBY IMMEDIATE
      case 0xe1: // IDLE IMMEDIATE
      case 0xe2: // STANDBY
      case 0xe3: // IDLE
      case 0xe6: // SLEEP
      case 0x94:
      case 0x95:
      case 0x96:
      case 0x97:
      case 0x99:
        return this.complete();
      default:
        // SEEK (7xh) and RECALIBRATE (1xh) only check the address / do nothing on a virtual disk.
        if ((command & 0xf0) === 0x70) return this.seek();
        if ((command & 0xf0) === 0x10) return this.complete();
        return this.abort();
    }
  }

  private identify(): void {
    const w = new Uint16Array(256);
    const total = this.totalSectors;
    w[0] = 0x0040; // fixed device
    w[1] = this.cylinders;
    w[3] = this.heads;
    w[4] = SECTOR * this.sectorsPerTrack;
    w[5] = SECTOR;
    w[6] = this.sectorsPerTrack;
    putIdentifyString(w, 10, 10, this.serial);
    w[20] = 3;
    w[21] = 512;
    w[22] = 4;
    putIdentifyString(w, 23, 4, this.firmware);
    putIdentifyString(w, 27, 20, this.model);
    w[47] = 0x8000 | MAX_MULTIPLE;
    w[48] = 1; // 32-bit PIO
    w[49] = (1 << 11) | (1 << 9) | (1 << 8); // IORDY, LBA, DMA
    w[51] = 0x200;
    w[52] = 0x200;
    w[53] = 0x7; // words 54-58, 64-70 and 88 are valid
    const cur = this.currentGeometry();
    w[54] = cur.cylinders;
    w[55] = cur.heads;
    w[56] = cur.sectors;
    const chsCapacity = cur.cylinders * cur.heads * cur.sectors;
    w[57] = chsCapacity & 0xffff;
    w[58] = chsCapacity >>> 16;
    if (this.multipleSectors) w[59] = 0x100 | this.multipleSectors;
    const lba28 = Math.min(total, 0x0fffffff);
    w[60] = lba28 & 0xffff;
    w[61] = lba28 >>> 16;
    w[62] = 0x07; // single-word DMA 0-2 (obsolete, kept as QEMU reports it)
    w[63] = 0x07 | (this.mode.multiwordDma >= 0 ? 0x100 << this.mode.multiwordDma : 0);
    w[64] = 0x03; // PIO 3 and 4
    w[65] = w[66] = w[67] = w[68] = 120;
    w[80] = 0xf0; // ATA-4 to ATA-7
    w[81] = 0x16;
    w[82] = (1 << 14) | (1 << 5); // NOP, write cache
    w[83] = (1 << 14) | (1 << 13) | (1 << 12) | (1 << 10); // FLUSH CACHE EXT, FLUSH CACHE, 48-bit
    w[84] = 1 << 14;
    w[85] = (1 << 14) | (this.writeCache ? 1 << 5 : 0);
    w[86] = (1 << 13) | (1 << 12) | (1 << 10);
    w[87] = 1 << 14;
    w[88] = 0x3f | (this.mode.ultraDma >= 0 ? 0x100 << this.mode.ultraDma : 0);
    // Hardware reset result: device 0 passed, and CBLID- above VIH (an 80-conductor cable),
    // which Linux and Windows need to see before they use UDMA modes above 2.
    w[93] = 0x6001;
    for (let i = 0; i < 4; i++) w[100 + i] = Math.floor(total / 2 ** (16 * i)) & 0xffff;
    this.port.taskFile.status = DRDY | DSC;
    this.port.startPioIn(identifyBytes(w), true);
  }

  private setMultipleMode(): void {
    const n = this.port.taskFile.sectorCount;
    // Only powers of two up to the advertised maximum; 0 disables multiple mode.
    if (n > MAX_MULTIPLE || (n & (n - 1)) !== 0) return this.abort();
    this.multipleSectors = n;
    this.complete();
  }

  private setFeatures(): void {
    const tf = this.port.taskFile;
    switch (tf.feature) {
      case 0x03:
        if (!setTransferMode(this.mode, tf.sectorCount)) return this.abort();
        break;
      case 0x02:
        this.writeCache = true;
        break;
      case 0x82:
        this.writeCache = false;
        break;
      case 0x55: // read look-ahead off/on
      case 0xaa:
      case 0x66: // keep/revert to power-on defaults
      case 0xcc:
        break;
      default:
        return this.abort();
    }
    this.complete();
  }

  private initializeDeviceParameters(): void {
    const tf = this.port.taskFile;
    const sectors = tf.sectorCount;
    if (sectors === 0) return this.abort();
    this.currentHeads = (tf.device & 0x0f) + 1;
    this.currentSectors = sectors;
    this.complete();
  }

  private executeDeviceDiagnostic(): void {
    const tf = this.port.taskFile;
    tf.setSignature(false);
    tf.error = 0x01;
    tf.status = DRDY | DSC;
    this.port.raiseInterrupt();
  }

  private seek(): void {
    const target = this.decodeAddress(false);
    if (target.lba < 0 || target.lba >= this.totalSectors) return this.fail(ATA_ERROR.IDNF);
    this.complete();
  }

  private readVerify(ext: boolean): void {
    const { lba, count } = this.decodeAddress(ext);
    if (lba < 0 || lba + count > this.totalSectors) return this.fail(ATA_ERROR.IDNF);
    // The data is on a virtual disk; report success with the address of the last sector.
    this.lba48 = ext;
    this.chs = !(this.port.taskFile.device & DEVICE_LBA);
    if (count > 0) this.reportAddress(lba + count - 1);
    this.complete();
  }

  private flushCache(): void {
    const tf = this.port.taskFile;
    tf.status = DRDY | BSY;
    const gen = this.generation;
    this.port.track(
      this.backend.flush().then(
        () => {
          if (gen === this.generation) this.complete();
        },
        () => {
          if (gen === this.generation) this.fail(ATA_ERROR.ABRT);
        },
      ),
    );
  }

  // ---- addressing ------------------------------------------------------------------------

  private currentGeometry(): { cylinders: number; heads: number; sectors: number } {
    const heads = this.currentHeads;
    const sectors = this.currentSectors;
    const cylinders = Math.min(65535, Math.floor(Math.min(this.totalSectors, 16514064) / (heads * sectors)));
    return { cylinders, heads, sectors };
  }

  /** The starting sector and count of the command in the task file; lba -1 for an impossible CHS address. */
  private decodeAddress(ext: boolean): { lba: number; count: number } {
    const tf = this.port.taskFile;
    if (ext) {
      const lba =
        tf.lbaLow + tf.lbaMid * 2 ** 8 + tf.lbaHigh * 2 ** 16 + tf.hobLbaLow * 2 ** 24 + tf.hobLbaMid * 2 ** 32 + tf.hobLbaHigh * 2 ** 40;
      const count = tf.sectorCount | (tf.hobSectorCount << 8);
      return { lba, count: count || 65536 };
    }
    const count = tf.sectorCount || 256;
    if (tf.device & DEVICE_LBA) {
      return { lba: tf.lbaLow | (tf.lbaMid << 8) | (tf.lbaHigh << 16) | ((tf.device & 0x0f) * 2 ** 24), count };
    }
    const { heads, sectors } = this.currentGeometry();
    const cylinder = tf.lbaMid | (tf.lbaHigh << 8);
    const head = tf.device & 0x0f;
    const sector = tf.lbaLow;
    if (sector === 0 || sector > sectors || head >= heads) return { lba: -1, count };
    return { lba: (cylinder * heads + head) * sectors + sector - 1, count };
  }

  /** Write `lba` back into the task file in the command's addressing form. */
  private reportAddress(lba: number): void {
    const tf = this.port.taskFile;
    if (this.chs) {
      const { heads, sectors } = this.currentGeometry();
      const cylinder = Math.floor(lba / (heads * sectors));
      const rest = lba % (heads * sectors);
      tf.lbaMid = cylinder & 0xff;
      tf.lbaHigh = (cylinder >> 8) & 0xff;
      tf.device = (tf.device & 0xf0) | Math.floor(rest / sectors);
      tf.lbaLow = (rest % sectors) + 1;
    } else if (this.lba48) {
      tf.lbaLow = lba & 0xff;
      tf.lbaMid = (lba >>> 8) & 0xff;
      tf.lbaHigh = (lba >>> 16) & 0xff;
      tf.hobLbaLow = Math.floor(lba / 2 ** 24) & 0xff;
      tf.hobLbaMid = Math.floor(lba / 2 ** 32) & 0xff;
      tf.hobLbaHigh = Math.floor(lba / 2 ** 40) & 0xff;
    } else {
      tf.lbaLow = lba & 0xff;
      tf.lbaMid = (lba >>> 8) & 0xff;
      tf.lbaHigh = (lba >>> 16) & 0xff;
      tf.device = (tf.device & 0xf0) | ((lba >>> 24) & 0x0f);
    }
  }

  /** Validate a read/write command; sets up the transfer state and returns false after failing it. */
  private prepareTransfer(op: Operation, ext: boolean, blockSectors: number): boolean {
    const { lba, count } = this.decodeAddress(ext);
    this.lba48 = ext;
    this.chs = !(this.port.taskFile.device & DEVICE_LBA);
    if ((op === 'pio-write' || op === 'dma-write') && this.backend.readOnly) {
      this.fail(ATA_ERROR.WP | ATA_ERROR.ABRT);
      return false;
    }
    if (lba < 0 || lba + count > this.totalSectors) {
      this.fail(ATA_ERROR.IDNF);
      return false;
    }
    this.operation = op;
    this.lba = lba;
    this.remaining = count;
    this.blockSectors = blockSectors;
    this.readAhead = new Uint8Array(0);
    return true;
  }

  // ---- PIO -------------------------------------------------------------------------------

  private startPio(op: 'pio-read' | 'pio-write', ext: boolean, blockSectors: number): void {
    if (!this.prepareTransfer(op, ext, blockSectors)) return;
    if (op === 'pio-read') return this.nextReadBlock();
    // The first block of a PIO write is requested without an interrupt.
    this.port.taskFile.status = DRDY | DSC;
    this.port.startPioOut(Math.min(this.remaining, this.blockSectors) * SECTOR, false);
  }

  private nextReadBlock(): void {
    const n = Math.min(this.remaining, this.blockSectors);
    if (this.readAhead.length >= n * SECTOR) {
      const block = this.readAhead.subarray(0, n * SECTOR);
      this.readAhead = this.readAhead.subarray(n * SECTOR);
      this.port.taskFile.status = DRDY | DSC;
      this.port.startPioIn(block, true);
      return;
    }
    // Fetch a chunk ahead so most blocks are served without waiting for the media.
    const sectors = Math.min(this.remaining, Math.max(n, CHUNK_SECTORS));
    this.port.taskFile.status = DRDY | BSY;
    const gen = this.generation;
    this.port.track(
      this.backend.read(this.lba * SECTOR, sectors * SECTOR).then(
        (data) => {
          if (gen !== this.generation) return;
          this.readAhead = data;
          this.nextReadBlock();
        },
        () => {
          if (gen !== this.generation) return;
          this.reportAddress(this.lba);
          this.fail(ATA_ERROR.UNC);
        },
      ),
    );
  }

  pioTransferDone(): void {
    const n = Math.min(this.remaining, this.blockSectors);
    if (this.operation === 'pio-read') {
      this.lba += n;
      this.remaining -= n;
      this.port.taskFile.sectorCount = this.remaining & 0xff;
      this.reportAddress(this.lba - 1);
      if (this.remaining > 0) return this.nextReadBlock();
      // No interrupt after the last block of a read: the host already has the data.
      this.operation = 'none';
      this.port.taskFile.status = DRDY | DSC;
      return;
    }
    if (this.operation !== 'pio-write') return;
    const data = this.port.pioData().subarray(0, n * SECTOR);
    this.port.taskFile.status = DRDY | BSY;
    const gen = this.generation;
    this.port.track(
      this.backend.write(this.lba * SECTOR, data).then(
        () => {
          if (gen !== this.generation) return;
          this.lba += n;
          this.remaining -= n;
          this.port.taskFile.sectorCount = this.remaining & 0xff;
          this.reportAddress(this.lba - 1);
          if (this.remaining > 0) {
            this.port.taskFile.status = DRDY | DSC;
            this.port.startPioOut(Math.min(this.remaining, this.blockSectors) * SECTOR, true);
          } else {
            this.operation = 'none';
            this.complete();
          }
        },
        (e: unknown) => {
          if (gen !== this.generation) return;
          this.reportAddress(this.lba);
          this.fail(this.backend.readOnly || (e as Error)?.name === 'BlockReadOnlyError' ? ATA_ERROR.WP | ATA_ERROR.ABRT : ATA_ERROR.ABRT);
        },
      ),
    );
  }

  // ---- DMA -------------------------------------------------------------------------------

  private startDma(op: 'dma-read' | 'dma-write', ext: boolean): void {
    if (!this.port.dmaAvailable) return this.abort();
    if (!this.prepareTransfer(op, ext, CHUNK_SECTORS)) return;
    // DRQ stays set while the drive waits for (and runs) the bus-master transfer.
    this.port.taskFile.status = DRDY | DSC | DRQ;
    this.port.requestDma();
  }

  dmaStart(): void {
    if (this.operation === 'dma-read') this.dmaReadChunk();
    else if (this.operation === 'dma-write') this.dmaWriteChunk();
  }

  private dmaReadChunk(): void {
    const n = Math.min(this.remaining, CHUNK_SECTORS);
    const gen = this.generation;
    this.port.track(
      this.backend.read(this.lba * SECTOR, n * SECTOR).then(
        (data) => {
          if (gen !== this.generation) return;
          if (!this.port.dmaToMemory(data)) return this.dmaTableEnded();
          this.dmaAdvance(n);
        },
        () => {
          if (gen !== this.generation) return;
          this.dmaFailed(ATA_ERROR.UNC);
        },
      ),
    );
  }

  private dmaWriteChunk(): void {
    const n = Math.min(this.remaining, CHUNK_SECTORS);
    const data = this.port.dmaFromMemory(n * SECTOR);
    // A PRD table shorter than the command: write the whole sectors it gave, then stop.
    const whole = Math.floor(data.length / SECTOR);
    const gen = this.generation;
    this.port.track(
      this.backend.write(this.lba * SECTOR, data.subarray(0, whole * SECTOR)).then(
        () => {
          if (gen !== this.generation) return;
          if (whole < n) {
            this.lba += whole;
            this.remaining -= whole;
            return this.dmaTableEnded();
          }
          this.dmaAdvance(n);
        },
        () => {
          if (gen !== this.generation) return;
          this.dmaFailed(ATA_ERROR.ABRT);
        },
      ),
    );
  }

  private dmaAdvance(n: number): void {
    this.lba += n;
    this.remaining -= n;
    if (this.remaining > 0) {
      if (this.operation === 'dma-read') this.dmaReadChunk();
      else this.dmaWriteChunk();
      return;
    }
    this.operation = 'none';
    this.port.taskFile.sectorCount = 0;
    this.reportAddress(this.lba - 1);
    this.port.taskFile.status = DRDY | DSC;
    this.port.endDma(false);
    this.port.raiseInterrupt();
  }

  /**
   * The PRD table ran out before the command's data did. As QEMU's PIIX model does, the
   * engine has already cleared Active; the drive gives up quietly, without an interrupt.
   */
  private dmaTableEnded(): void {
    this.operation = 'none';
    this.reportAddress(Math.max(0, this.lba - 1));
    this.port.taskFile.status = DRDY | DSC;
    this.port.endDma(false);
  }

  private dmaFailed(error: number): void {
    this.operation = 'none';
    this.reportAddress(this.lba);
    this.port.endDma(true);
    this.fail(error);
  }

  // ---- completion ------------------------------------------------------------------------

  private complete(): void {
    const tf = this.port.taskFile;
    tf.status = DRDY | DSC;
    this.port.raiseInterrupt();
  }

  private fail(error: number): void {
    const tf = this.port.taskFile;
    this.operation = 'none';
    this.port.stopPio();
    tf.error = error;
    tf.status = DRDY | ERR;
    this.port.raiseInterrupt();
  }

  private abort(): void {
    this.fail(ATA_ERROR.ABRT);
  }

  // ---- state -----------------------------------------------------------------------------

  saveState(): DeviceState {
    return {
      version: 1,
      currentHeads: this.currentHeads,
      currentSectors: this.currentSectors,
      multipleSectors: this.multipleSectors,
      writeCache: this.writeCache,
      multiwordDma: this.mode.multiwordDma,
      ultraDma: this.mode.ultraDma,
      operation: this.operation,
      lba: this.lba,
      remaining: this.remaining,
      blockSectors: this.blockSectors,
      lba48: this.lba48,
      chs: this.chs,
      readAhead: this.readAhead.slice(),
    };
  }

  loadState(state: DeviceState): void {
    checkStateVersion('ata-disk', state, 1);
    this.generation++;
    this.currentHeads = Number(state.currentHeads);
    this.currentSectors = Number(state.currentSectors);
    this.multipleSectors = Number(state.multipleSectors);
    this.writeCache = !!state.writeCache;
    this.mode.multiwordDma = Number(state.multiwordDma);
    this.mode.ultraDma = Number(state.ultraDma);
    this.operation = state.operation as Operation;
    this.lba = Number(state.lba);
    this.remaining = Number(state.remaining);
    this.blockSectors = Number(state.blockSectors);
    this.lba48 = !!state.lba48;
    this.chs = !!state.chs;
    this.readAhead = (state.readAhead as Uint8Array).slice();
  }
}
