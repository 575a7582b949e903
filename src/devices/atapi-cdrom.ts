/**
 * An ATAPI CD/DVD-ROM drive on an IDE channel, presenting itself as QEMU's "QEMU DVD-ROM".
 *
 * Follows ATA/ATAPI-6 (T13/1410D) for the PACKET protocol (byte count limit in LBA Mid/High,
 * interrupt reason CoD/IO in Sector Count, one DRQ block per interrupt) and for IDENTIFY PACKET
 * DEVICE; MMC-3/MMC-5 and SPC-3 for the SCSI commands: TEST UNIT READY, REQUEST SENSE (fixed
 * format), INQUIRY, READ CAPACITY, READ(10)/(12), READ TOC/PMA/ATIP formats 0 and 1 (MSF or
 * LBA), MODE SENSE(10) pages 01h, 0Dh, 0Eh, 2Ah and 3Fh, GET CONFIGURATION, GET EVENT STATUS
 * NOTIFICATION (polled, media class), START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL,
 * MECHANISM STATUS, READ DISC INFORMATION, SEEK(10) and SET CD SPEED (no-ops). Sectors are
 * 2048 bytes (a plain ISO image). Data moves by PIO or, with the DMA bit of the PACKET
 * features, by the channel's bus master.
 *
 * Media: `insert(backend)` loads a disc (the next command gets UNIT ATTENTION 06/28/00,
 * once), `eject()` removes it (NOT READY 02/3A/00 afterwards). The guest can open the tray
 * with START STOP UNIT unless it locked the medium; the disc stays in the tray and a later
 * load closes it again.
 *
 * Left out: audio (PLAY, READ SUB-CHANNEL, READ CD raw sectors), MODE SELECT, MODE SENSE(6),
 * READ TOC format 2 (raw TOC), DVD structures, recordable media, and the READ CD / 2352-byte
 * sector forms.
 */
import { checkStateVersion, type DeviceState } from '../bus/device.ts';
import type { BlockBackend } from '../storage/block-backend.ts';
import {
  ATA_ERROR,
  ATA_STATUS,
  identifyBytes,
  type IdeDrive,
  type IdeDrivePort,
  putIdentifyString,
  setTransferMode,
  type TransferMode,
} from './ide-channel.ts';

const CD_SECTOR = 2048;
/** A disc larger than an 80-minute CD is reported as a DVD (as QEMU does). */
const CD_MAX_SECTORS = 80 * 60 * 75;
/** Sectors fetched from the backend per request. */
const CHUNK_SECTORS = 32;

const { ERR, DRQ, DSC, DRDY } = ATA_STATUS;
/** Interrupt reason (Sector Count) bits. */
const REASON_COD = 0x01;
const REASON_IO = 0x02;

/** SCSI sense keys and additional sense codes used here. */
const SENSE = {
  NONE: 0x00,
  NOT_READY: 0x02,
  MEDIUM_ERROR: 0x03,
  ILLEGAL_REQUEST: 0x05,
  UNIT_ATTENTION: 0x06,
} as const;
const ASC_INVALID_OPCODE = 0x20;
const ASC_LBA_OUT_OF_RANGE = 0x21;
const ASC_INVALID_FIELD = 0x24;
const ASC_MEDIUM_MAY_HAVE_CHANGED = 0x28;
const ASC_SAVING_NOT_SUPPORTED = 0x39;
const ASC_MEDIUM_NOT_PRESENT = 0x3a;
const ASC_UNRECOVERED_READ_ERROR = 0x11;
const ASC_MEDIUM_REMOVAL_PREVENTED = 0x53;

/** GET EVENT STATUS NOTIFICATION media event codes. */
const EVENT_NONE = 0;
const EVENT_NEW_MEDIA = 2;
const EVENT_MEDIA_REMOVAL = 3;

export interface AtapiCdromOptions {
  /** The disc in the drive at power-on, if any. */
  backend?: BlockBackend;
  serial?: string;
  model?: string;
  firmware?: string;
  /** Called when the guest opens the tray (START STOP UNIT with LoEj), for the user interface. */
  onGuestEject?: () => void;
}

type Phase = 'idle' | 'packet' | 'data-in' | 'dma-wait';

class CheckCondition {
  constructor(
    readonly key: number,
    readonly asc: number,
    readonly ascq = 0,
  ) {}
}

export class AtapiCdrom implements IdeDrive {
  readonly kind = 'atapi';
  private readonly serial: string;
  private readonly model: string;
  private readonly firmware: string;
  private readonly onGuestEject?: () => void;
  private port!: IdeDrivePort;

  private backend: BlockBackend | undefined;
  private trayOpen = false;
  private locked = false;
  private unitAttention = false;
  private mediaEvent = EVENT_NONE;
  private senseKey: number = SENSE.NONE;
  private asc = 0;
  private ascq = 0;
  private readonly mode: TransferMode = { multiwordDma: -1, ultraDma: 5 };

  // The command in progress.
  private phase: Phase = 'idle';
  private dma = false;
  private byteCountLimit = 0xfffe;
  /** Reply bytes ready to send. */
  private pending: Uint8Array = new Uint8Array(0);
  /** Disc sectors still to fetch for a READ. */
  private readLba = 0;
  private readRemaining = 0;
  private generation = 0;

  constructor(options: AtapiCdromOptions = {}) {
    this.backend = options.backend;
    this.serial = (options.serial ?? 'QM00003').slice(0, 20);
    this.model = (options.model ?? 'QEMU DVD-ROM').slice(0, 40);
    this.firmware = (options.firmware ?? '2.5+').slice(0, 8);
    this.onGuestEject = options.onGuestEject;
  }

  connect(port: IdeDrivePort): void {
    this.port = port;
  }

  // ---- host media API --------------------------------------------------------------------

  /** Put a disc in the drive (closing the tray); the guest is told the medium may have changed. */
  insert(backend: BlockBackend): void {
    this.backend = backend;
    this.trayOpen = false;
    this.unitAttention = true;
    this.mediaEvent = EVENT_NEW_MEDIA;
  }

  /**
   * Take the disc out. A read already in flight still delivers its sectors; the next sector
   * fetch of that command finds no medium and ends it with NOT READY.
   */
  eject(): void {
    if (!this.backend) return;
    this.backend = undefined;
    this.mediaEvent = EVENT_MEDIA_REMOVAL;
  }

  /** True when a disc is in the drive and the tray is closed. */
  get mediaPresent(): boolean {
    return this.backend !== undefined && !this.trayOpen;
  }

  private get discSectors(): number {
    return this.backend ? Math.floor(this.backend.size / CD_SECTOR) : 0;
  }

  // ---- ATA commands ----------------------------------------------------------------------

  reset(): void {
    this.generation++;
    this.phase = 'idle';
    this.pending = new Uint8Array(0);
    this.readRemaining = 0;
    const tf = this.port.taskFile;
    tf.setSignature(true);
    tf.status = 0; // an ATAPI device does not set DRDY after reset
    tf.error = 0x01;
  }

  executeCommand(command: number): void {
    const tf = this.port.taskFile;
    switch (command) {
      case 0xa0:
        return this.packetCommand();
      case 0xa1:
        tf.error = 0;
        tf.status = DRDY | DSC;
        return this.port.startPioIn(identifyBytes(this.identifyWords()), true);
      case 0x08: // DEVICE RESET: no interrupt
        this.reset();
        return;
      case 0x90:
        this.reset();
        return this.port.raiseInterrupt();
      case 0xef:
        if (tf.feature === 0x03 ? !setTransferMode(this.mode, tf.sectorCount) : ![0x02, 0x82, 0x55, 0xaa, 0x66, 0xcc].includes(tf.feature)) {
          return this.abort(false);
        }
        return this.ataComplete();
      case 0xe5:
      case 0x98:
        tf.sectorCount = 0xff;
        return this.ataComplete();
      case 0xe0:
      case 0xe1:
      case 0xe2:
      case 0xe3:
      case 0xe7:
        return this.ataComplete();
      default:
        // Not in the ATAPI command set: abort with the signature loaded, as ATA-6 requires,
        // so that a probe with IDENTIFY DEVICE learns it found a packet device.
        return this.abort(command !== 0x00);
    }
  }

  private ataComplete(): void {
    const tf = this.port.taskFile;
    tf.error = 0;
    tf.status = DRDY | DSC;
    this.port.raiseInterrupt();
  }

  private abort(signature: boolean): void {
    const tf = this.port.taskFile;
    if (signature) tf.setSignature(true);
    tf.error = ATA_ERROR.ABRT;
    tf.status = DRDY | ERR;
    this.port.raiseInterrupt();
  }

  private identifyWords(): Uint16Array {
    const w = new Uint16Array(256);
    // ATAPI, CD-ROM, removable, accelerated DRQ (50 us), 12-byte packets.
    w[0] = (2 << 14) | (5 << 8) | (1 << 7) | (2 << 5);
    putIdentifyString(w, 10, 10, this.serial);
    w[20] = 3;
    w[21] = 512;
    w[22] = 4;
    putIdentifyString(w, 23, 4, this.firmware);
    putIdentifyString(w, 27, 20, this.model);
    w[49] = (1 << 9) | (1 << 8); // LBA, DMA
    w[53] = 7;
    w[62] = 7;
    w[63] = 0x07 | (this.mode.multiwordDma >= 0 ? 0x100 << this.mode.multiwordDma : 0);
    w[64] = 0x03;
    w[65] = 0xb4;
    w[66] = 0xb4;
    w[67] = 0x12c;
    w[68] = 0xb4;
    w[71] = 30;
    w[72] = 30;
    w[80] = 0x1e; // ATA/ATAPI-1 to -4
    w[88] = 0x3f | (this.mode.ultraDma >= 0 ? 0x100 << this.mode.ultraDma : 0);
    w[93] = 0x6001;
    return w;
  }

  // ---- PACKET protocol -------------------------------------------------------------------

  private packetCommand(): void {
    const tf = this.port.taskFile;
    this.dma = (tf.feature & 1) !== 0;
    if (this.dma && !this.port.dmaAvailable) return this.abort(false);
    let limit = tf.lbaMid | (tf.lbaHigh << 8);
    // FFFFh and 0 are not usable limits; hosts that send them expect the largest even one.
    if (limit === 0xffff || limit === 0) limit = 0xfffe;
    this.byteCountLimit = limit;
    tf.error = 0;
    tf.sectorCount = REASON_COD; // the device wants the command packet
    tf.status = DRDY | DSC;
    this.phase = 'packet';
    this.port.startPioOut(12, false);
  }

  pioTransferDone(): void {
    if (this.phase === 'packet') {
      this.phase = 'idle';
      this.runScsi(this.port.pioData());
    } else if (this.phase === 'data-in') {
      this.sendData();
    }
  }

  private runScsi(cdb: Uint8Array): void {
    try {
      const reply = this.scsiCommand(cdb);
      if (reply === 'read') return this.sendData();
      this.clearSense();
      const allocation = reply.allocation;
      this.pending = reply.data.subarray(0, Math.min(reply.data.length, allocation));
      this.readRemaining = 0;
      this.sendData();
    } catch (e) {
      if (!(e instanceof CheckCondition)) throw e;
      this.checkCondition(e);
    }
  }

  /** Send the next part of the reply, fetch more disc sectors, or finish the command. */
  private sendData(): void {
    const tf = this.port.taskFile;
    if (this.pending.length === 0 && this.readRemaining > 0) return this.fetchSectors();
    if (this.pending.length === 0) return this.finish();
    if (this.dma) {
      this.phase = 'dma-wait';
      tf.status = DRDY | DSC | DRQ;
      this.port.requestDma();
      return;
    }
    let size = this.pending.length;
    if (size > this.byteCountLimit) size = this.byteCountLimit & ~1;
    const chunk = this.pending.subarray(0, size);
    this.pending = this.pending.subarray(size);
    tf.lbaMid = size & 0xff;
    tf.lbaHigh = size >> 8;
    tf.sectorCount = REASON_IO;
    tf.status = DRDY | DSC;
    this.phase = 'data-in';
    this.port.startPioIn(chunk, true);
  }

  dmaStart(): void {
    if (this.phase !== 'dma-wait') return;
    if (!this.port.dmaToMemory(this.pending)) {
      // The PRD table ended first: the engine already dropped Active; stop without an interrupt.
      this.phase = 'idle';
      this.pending = new Uint8Array(0);
      this.readRemaining = 0;
      this.port.taskFile.status = DRDY | DSC;
      this.port.endDma(false);
      return;
    }
    this.pending = new Uint8Array(0);
    if (this.readRemaining > 0) return this.fetchSectors();
    this.port.endDma(false);
    this.finish();
  }

  private fetchSectors(): void {
    const backend = this.backend;
    if (!backend || this.trayOpen) return this.checkCondition(new CheckCondition(SENSE.NOT_READY, ASC_MEDIUM_NOT_PRESENT));
    const n = Math.min(this.readRemaining, CHUNK_SECTORS);
    const tf = this.port.taskFile;
    tf.status = ATA_STATUS.BSY | DRDY;
    const gen = this.generation;
    this.port.track(
      backend.read(this.readLba * CD_SECTOR, n * CD_SECTOR).then(
        (data) => {
          if (gen !== this.generation) return;
          this.readLba += n;
          this.readRemaining -= n;
          this.pending = data;
          if (this.dma && this.phase === 'dma-wait') this.dmaStart();
          else this.sendData();
        },
        () => {
          if (gen !== this.generation) return;
          this.checkCondition(new CheckCondition(SENSE.MEDIUM_ERROR, ASC_UNRECOVERED_READ_ERROR));
        },
      ),
    );
  }

  private finish(): void {
    const tf = this.port.taskFile;
    this.phase = 'idle';
    tf.error = 0;
    tf.sectorCount = REASON_IO | REASON_COD;
    tf.status = DRDY | DSC;
    this.port.raiseInterrupt();
  }

  private checkCondition(c: CheckCondition): void {
    const tf = this.port.taskFile;
    if (this.phase === 'dma-wait') this.port.endDma(true);
    this.phase = 'idle';
    this.pending = new Uint8Array(0);
    this.readRemaining = 0;
    this.senseKey = c.key;
    this.asc = c.asc;
    this.ascq = c.ascq;
    this.port.stopPio();
    tf.error = (c.key << 4) | (c.key === SENSE.ILLEGAL_REQUEST ? ATA_ERROR.ABRT : 0);
    tf.sectorCount = REASON_IO | REASON_COD;
    tf.status = DRDY | ERR;
    this.port.raiseInterrupt();
  }

  private clearSense(): void {
    this.senseKey = SENSE.NONE;
    this.asc = 0;
    this.ascq = 0;
  }

  // ---- SCSI commands ---------------------------------------------------------------------

  /** Runs one command: returns its data-in reply, 'read' after setting up a disc read, or throws CheckCondition. */
  private scsiCommand(cdb: Uint8Array): { data: Uint8Array; allocation: number } | 'read' {
    const op = cdb[0];
    const be16 = (i: number) => (cdb[i] << 8) | cdb[i + 1];
    const be32 = (i: number) => ((cdb[i] << 24) | (cdb[i + 1] << 16) | (cdb[i + 2] << 8) | cdb[i + 3]) >>> 0;
    const none = { data: new Uint8Array(0), allocation: 0 };

    // A changed medium is reported once, to the first command that is not allowed to pass it.
    const passesUnitAttention = op === 0x12 || op === 0x03 || op === 0x46 || op === 0x4a;
    if (this.unitAttention && !passesUnitAttention) {
      this.unitAttention = false;
      throw new CheckCondition(SENSE.UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED);
    }
    const needMedium = () => {
      if (!this.mediaPresent) throw new CheckCondition(SENSE.NOT_READY, ASC_MEDIUM_NOT_PRESENT);
    };

    switch (op) {
      case 0x00: // TEST UNIT READY
        needMedium();
        return none;
      case 0x03: // REQUEST SENSE
        return { data: this.requestSense(), allocation: cdb[4] };
      case 0x12: // INQUIRY
        if (cdb[1] & 1) throw new CheckCondition(SENSE.ILLEGAL_REQUEST, ASC_INVALID_FIELD); // no VPD pages
        return { data: this.inquiry(), allocation: be16(3) };
      case 0x1b: // START STOP UNIT
        this.startStopUnit(cdb[4]);
        return none;
      case 0x1e: // PREVENT ALLOW MEDIUM REMOVAL
        this.locked = (cdb[4] & 1) !== 0;
        return none;
      case 0x25: {
        // READ CAPACITY: last LBA and block length
        needMedium();
        const d = new Uint8Array(8);
        putBe32(d, 0, this.discSectors - 1);
        putBe32(d, 4, CD_SECTOR);
        return { data: d, allocation: 8 };
      }
      case 0x28: // READ(10)
        return this.startRead(be32(2), be16(7));
      case 0xa8: // READ(12)
        return this.startRead(be32(2), be32(6));
      case 0x2b: // SEEK(10)
        needMedium();
        if (be32(2) >= this.discSectors) throw new CheckCondition(SENSE.ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
        return none;
      case 0x43: // READ TOC/PMA/ATIP
        needMedium();
        return { data: this.readToc(cdb), allocation: be16(7) };
      case 0x46: // GET CONFIGURATION
        return { data: this.getConfiguration(cdb[1] & 3, be16(2)), allocation: be16(7) };
      case 0x4a: // GET EVENT STATUS NOTIFICATION
        if (!(cdb[1] & 1)) throw new CheckCondition(SENSE.ILLEGAL_REQUEST, ASC_INVALID_FIELD); // only polled
        return { data: this.eventStatus(cdb[4]), allocation: be16(7) };
      case 0x51: // READ DISC INFORMATION
        needMedium();
        if (cdb[1] & 7) throw new CheckCondition(SENSE.ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        return { data: this.discInformation(), allocation: be16(7) };
      case 0x5a: // MODE SENSE(10)
        return { data: this.modeSense(cdb[2] >> 6, cdb[2] & 0x3f), allocation: be16(7) };
      case 0xbb: // SET CD SPEED
        return none;
      case 0xbd: {
        // MECHANISM STATUS: header only, no changer slots
        const d = new Uint8Array(8);
        d[1] = this.trayOpen ? 0x10 : 0;
        return { data: d, allocation: be16(8) };
      }
      default:
        throw new CheckCondition(SENSE.ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
    }
  }

  private startRead(lba: number, count: number): 'read' | { data: Uint8Array; allocation: number } {
    if (!this.mediaPresent) throw new CheckCondition(SENSE.NOT_READY, ASC_MEDIUM_NOT_PRESENT);
    if (lba + count > this.discSectors) throw new CheckCondition(SENSE.ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
    this.clearSense();
    if (count === 0) return { data: new Uint8Array(0), allocation: 0 };
    this.readLba = lba;
    this.readRemaining = count;
    this.pending = new Uint8Array(0);
    return 'read';
  }

  private requestSense(): Uint8Array {
    const d = new Uint8Array(18);
    d[0] = 0x70; // current error, fixed format
    d[2] = this.senseKey;
    d[7] = 10; // additional sense length
    d[12] = this.asc;
    d[13] = this.ascq;
    // A pending unit attention is what REQUEST SENSE reports (and consumes).
    if (this.unitAttention) {
      d[2] = SENSE.UNIT_ATTENTION;
      d[12] = ASC_MEDIUM_MAY_HAVE_CHANGED;
      d[13] = 0;
      this.unitAttention = false;
    }
    return d;
  }

  private inquiry(): Uint8Array {
    const d = new Uint8Array(36);
    d[0] = 0x05; // CD/DVD device
    d[1] = 0x80; // removable
    d[2] = 0x00;
    d[3] = 0x21; // ATAPI transport, response data format 1
    d[4] = 31;
    putAscii(d, 8, 8, 'QEMU');
    putAscii(d, 16, 16, this.model);
    putAscii(d, 32, 4, this.firmware);
    return d;
  }

  private startStopUnit(control: number): void {
    const loadEject = (control & 2) !== 0;
    const start = (control & 1) !== 0;
    if (!loadEject) return;
    if (!start) {
      if (this.locked) throw new CheckCondition(SENSE.ILLEGAL_REQUEST, ASC_MEDIUM_REMOVAL_PREVENTED, 0x02);
      if (!this.trayOpen) {
        this.trayOpen = true;
        if (this.backend) this.mediaEvent = EVENT_MEDIA_REMOVAL;
        this.onGuestEject?.();
      }
    } else if (this.trayOpen) {
      this.trayOpen = false;
      if (this.backend) {
        this.unitAttention = true;
        this.mediaEvent = EVENT_NEW_MEDIA;
      }
    }
  }

  private get isDvd(): boolean {
    return this.discSectors > CD_MAX_SECTORS;
  }

  private readToc(cdb: Uint8Array): Uint8Array {
    const msf = (cdb[1] & 2) !== 0;
    // MMC puts the format in byte 2; older (SFF-8020) hosts put it in the top bits of byte 9.
    const format = cdb[2] & 0x0f || cdb[9] >> 6;
    const track = cdb[6];
    const out: number[] = [0, 0, 1, 1];
    const address = (lba: number) => {
      if (!msf) return [(lba >>> 24) & 0xff, (lba >>> 16) & 0xff, (lba >>> 8) & 0xff, lba & 0xff];
      const f = lba + 150;
      return [0, Math.floor(f / 4500), Math.floor(f / 75) % 60, f % 75];
    };
    if (format === 0) {
      if (track > 1 && track !== 0xaa) throw new CheckCondition(SENSE.ILLEGAL_REQUEST, ASC_INVALID_FIELD);
      if (track <= 1) out.push(0, 0x14, 1, 0, ...address(0)); // track 1, data
      out.push(0, 0x14, 0xaa, 0, ...address(this.discSectors)); // lead-out
    } else if (format === 1) {
      // Multisession information: one session, starting with track 1 at LBA 0.
      out.push(0, 0x14, 1, 0, ...address(0));
    } else {
      throw new CheckCondition(SENSE.ILLEGAL_REQUEST, ASC_INVALID_FIELD);
    }
    const d = Uint8Array.from(out);
    d[0] = (d.length - 2) >> 8;
    d[1] = (d.length - 2) & 0xff;
    return d;
  }

  private getConfiguration(requestType: number, startFeature: number): Uint8Array {
    const present = this.mediaPresent;
    const profile = !present ? 0 : this.isDvd ? 0x0010 : 0x0008;
    const features: { code: number; bytes: number[] }[] = [
      // Profile list: DVD-ROM, CD-ROM, with the current one flagged.
      { code: 0x0000, bytes: [0x00, 0x00, 0x03, 8, 0x00, 0x10, profile === 0x10 ? 1 : 0, 0, 0x00, 0x08, profile === 0x08 ? 1 : 0, 0] },
      // Core: ATAPI physical interface, version 1, persistent and current.
      { code: 0x0001, bytes: [0x00, 0x01, 0x07, 8, 0, 0, 0, 2, 0, 0, 0, 0] },
      // Removable medium: tray loading, eject, lock.
      { code: 0x0003, bytes: [0x00, 0x03, 0x03, 4, 0x29 | (this.locked ? 0x02 : 0), 0, 0, 0] },
    ];
    const selected = features.filter((f) => (requestType === 2 ? f.code === startFeature : f.code >= startFeature));
    const out = [0, 0, 0, 0, 0, 0, profile >> 8, profile & 0xff];
    for (const f of selected) out.push(...f.bytes);
    const d = Uint8Array.from(out);
    putBe32(d, 0, d.length - 4);
    return d;
  }

  private eventStatus(classes: number): Uint8Array {
    if (!(classes & 0x10)) return Uint8Array.from([0, 2, 0x80, 0x10]); // no event class we support was asked for
    const d = Uint8Array.from([0, 6, 0x04, 0x10, this.mediaEvent, 0, 0, 0]);
    d[5] = (this.trayOpen ? 1 : 0) | (this.mediaPresent ? 2 : 0);
    this.mediaEvent = EVENT_NONE;
    return d;
  }

  private discInformation(): Uint8Array {
    const d = new Uint8Array(34);
    d[1] = 32;
    d[2] = 0x0e; // last session complete, disc finalized
    d[3] = 1; // first track
    d[4] = 1; // sessions
    d[5] = 1; // first track of last session
    d[6] = 1; // last track of last session
    d.fill(0xff, 16, 24); // no lead-in / lead-out for a pressed disc
    return d;
  }

  private modeSense(pageControl: number, page: number): Uint8Array {
    if (pageControl === 3) throw new CheckCondition(SENSE.ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED);
    const pages: Record<number, number[]> = {
      // Read/write error recovery: 5 read retries.
      0x01: [0x01, 0x06, 0x00, 0x05, 0, 0, 0, 0],
      // CD device parameters: 60 seconds per minute, 75 frames per second.
      0x0d: [0x0d, 0x06, 0, 0, 0, 60, 0, 75],
      // CD audio control: both channels on ports 0 and 1 at full volume.
      0x0e: [0x0e, 0x0e, 0x04, 0, 0, 0, 0, 75, 0x01, 0xff, 0x02, 0xff, 0, 0, 0, 0],
      0x2a: this.capabilitiesPage(),
    };
    let body: number[];
    if (page === 0x3f) body = [0x01, 0x0d, 0x0e, 0x2a].flatMap((p) => pages[p]);
    else if (pages[page]) body = pages[page];
    else throw new CheckCondition(SENSE.ILLEGAL_REQUEST, ASC_INVALID_FIELD);
    // Changeable values: nothing can be changed.
    if (pageControl === 1) body = this.zeroPageBodies(body);
    const d = new Uint8Array(8 + body.length);
    d.set(body, 8);
    d[0] = (d.length - 2) >> 8;
    d[1] = (d.length - 2) & 0xff;
    d[2] = this.trayOpen ? 0x71 : this.mediaPresent ? 0x01 : 0x70; // medium type (door/disc)
    return d;
  }

  private zeroPageBodies(pages: number[]): number[] {
    const out = pages.slice();
    for (let i = 0; i < out.length; i += out[i + 1] + 2) out.fill(0, i + 2, i + 2 + out[i + 1]);
    return out;
  }

  private capabilitiesPage(): number[] {
    const p = new Array<number>(22).fill(0);
    p[0] = 0x2a;
    p[1] = 0x14;
    p[2] = 0x3b; // reads CD-R, CD-RW, method 2, DVD-ROM, DVD-R
    p[3] = 0x00; // writes nothing
    p[4] = 0x71; // audio play, mode 2 form 1 and 2, multisession
    p[5] = 0x01; // CD-DA commands
    p[6] = 0x29 | (this.locked ? 0x02 : 0); // tray, eject, lock (and current lock state)
    p[7] = 0x03; // separate volume and mute per channel
    p[8] = 706 >> 8; // maximum speed, kB/s (4x)
    p[9] = 706 & 0xff;
    p[10] = 0x01; // 256 volume levels
    p[11] = 0x00;
    p[12] = 512 >> 8; // buffer size, KiB
    p[13] = 512 & 0xff;
    p[14] = 706 >> 8; // current speed
    p[15] = 706 & 0xff;
    return p;
  }

  // ---- state -----------------------------------------------------------------------------

  saveState(): DeviceState {
    return {
      version: 1,
      trayOpen: this.trayOpen,
      locked: this.locked,
      unitAttention: this.unitAttention,
      mediaEvent: this.mediaEvent,
      sense: [this.senseKey, this.asc, this.ascq],
      multiwordDma: this.mode.multiwordDma,
      ultraDma: this.mode.ultraDma,
      phase: this.phase,
      dma: this.dma,
      byteCountLimit: this.byteCountLimit,
      pending: this.pending.slice(),
      readLba: this.readLba,
      readRemaining: this.readRemaining,
    };
  }

  loadState(state: DeviceState): void {
    checkStateVersion('atapi-cdrom', state, 1);
    this.generation++;
    this.trayOpen = !!state.trayOpen;
    this.locked = !!state.locked;
    this.unitAttention = !!state.unitAttention;
    this.mediaEvent = Number(state.mediaEvent);
    [this.senseKey, this.asc, this.ascq] = (state.sense as number[]).map(Number);
    this.mode.multiwordDma = Number(state.multiwordDma);
    this.mode.ultraDma = Number(state.ultraDma);
    this.phase = state.phase as Phase;
    this.dma = !!state.dma;
    this.byteCountLimit = Number(state.byteCountLimit);
    this.pending = (state.pending as Uint8Array).slice();
    this.readLba = Number(state.readLba);
    this.readRemaining = Number(state.readRemaining);
  }
}

function putBe32(d: Uint8Array, i: number, v: number): void {
  d[i] = (v >>> 24) & 0xff;
  d[i + 1] = (v >>> 16) & 0xff;
  d[i + 2] = (v >>> 8) & 0xff;
  d[i + 3] = v & 0xff;
}

function putAscii(d: Uint8Array, at: number, length: number, text: string): void {
  for (let i = 0; i < length; i++) d[at + i] = i < text.length ? text.charCodeAt(i) & 0x7f : 0x20;
}
