/**
 * The RealTek RTL8139C 10/100 Ethernet controller as a PCI function (10ec:8139, revision 10h):
 * I/O BAR0 and memory BAR1 of 256 bytes each over the same registers, INTA#.
 *
 * Follows the RTL8139C(L) datasheet (register descriptions, receive buffer and transmit
 * descriptor formats, the 93C46 serial EEPROM interface of the 9346CR register) and what
 * drivers rely on:
 * - TCR reports the RTL8139C hardware version (bits 30:26 = 11101b, 23:22 = 00b) and the PCI
 *   revision is 10h, so Linux binds 8139too (it leaves revision >= 20h, the C+, to 8139cp).
 * - 8139too reads the MAC from EEPROM words 7-9 and detects a 93C46 by reading word 0 with
 *   eight address bits: word 0 holds 8129h, so that read comes back different.
 * - FreeBSD's rl driver does not drop chip select between EEPROM reads: after sixteen data bits
 *   the EEPROM waits for a new start bit (as QEMU's model does).
 * - The Windows driver reads TSAD (60h, transmit status of all descriptors), CSCR (74h) and
 *   single bytes of TCR; it gets the values QEMU gives it.
 * Receive: frames are filtered (promiscuous, broadcast, multicast through the 64-bit CRC hash
 * in MAR0-7, own address), padded to 60 bytes, and written at CBR with a 4-byte header (status
 * word, length including the 4-byte CRC) and a real CRC after the data, CBR advancing to the
 * next dword. With RCR.WRAP clear a frame wraps to the buffer start; with it set the frame runs
 * on past the end (drivers allocate slack). No room (CAPR+16 is the read pointer) means
 * RXOVW and the missed-packet counter. Frames longer than 4 KiB with CRC are dropped (the
 * chip's LONG error; error frames are never accepted). Transmit: the four descriptors go out
 * in order as their OWN bits are cleared; short frames are padded to 60 bytes, frames over the
 * chip's 1792-byte limit are aborted (TABT, TER), TCR.CRC set means the guest's buffer ends in
 * its own FCS (removed, the wire here carries none), TCR loopback feeds the receiver.
 * C+ mode (descriptor rings, CpCmd at E0h) works when a guest enables it, without checksum
 * or segmentation offload and VLAN tags.
 *
 * Frames the network delivers while the card is inside one of its own register handlers
 * (a transmit whose reply comes back synchronously) are queued and received right after it.
 *
 * Left out: early receive/transmit thresholds (frames move whole), power management and
 * wake-up frames (their registers are plain storage), the FIFO and twister parameter registers
 * beyond storage, MII PHY loopback and forced media (the link is always 100 Mbit/s full duplex,
 * autonegotiated, or down by setLinkUp(false)), interrupt mitigation, and the C+ tally dump beyond
 * the first five counters. Reserved registers inside the BARs read as zero, as on QEMU's card.
 */
import type { AccessSize } from '../bus/access-range.ts';
import type { Clock, TimerHandle } from '../bus/clock.ts';
import { checkStateVersion, type Device, type DeviceState } from '../bus/device.ts';
import type { DmaMemory } from '../bus/dma-memory.ts';
import type { PciFunction, PciFunctionInfo } from '../bus/pci.ts';
import { crc32, isBroadcast, isMulticast, macEquals, MIN_FRAME_BYTES, multicastHashIndex } from '../net/ethernet.ts';
import type { NetworkPort } from '../net/network-port.ts';

// Interrupt status/mask bits.
export const INT_ROK = 0x0001;
export const INT_RER = 0x0002;
export const INT_TOK = 0x0004;
export const INT_TER = 0x0008;
export const INT_RXOVW = 0x0010;
export const INT_LINK_CHANGE = 0x0020;
export const INT_FIFO_OVERFLOW = 0x0040;
export const INT_TX_DESC_UNAVAILABLE = 0x0080;
export const INT_SOFTWARE = 0x0100;
export const INT_TIMEOUT = 0x4000;
export const INT_SYSTEM_ERROR = 0x8000;
const INT_BITS = 0xe1ff;

// Transmit status (TSD) bits.
export const TSD_OWN = 1 << 13;
export const TSD_TUN = 1 << 14;
export const TSD_TOK = 1 << 15;
export const TSD_TABT = 1 << 30;

// Receive packet header bits.
export const RX_ROK = 0x0001;
export const RX_BAR = 0x2000;
export const RX_PAM = 0x4000;
export const RX_MAR = 0x8000;

// Receive configuration bits.
export const RCR_AAP = 0x01;
export const RCR_APM = 0x02;
export const RCR_AM = 0x04;
export const RCR_AB = 0x08;
export const RCR_WRAP = 0x80;
const RCR_WRITABLE = 0x0f03ffbf;

const CR_BUFE = 0x01;
const CR_TE = 0x04;
const CR_RE = 0x08;
const CR_RST = 0x10;

/** RTL8139C: hardware version bits 30:26 = 11101b, 23:22 = 00b. */
export const TCR_HWVERID_RTL8139C = 0x74000000;
const TCR_WRITABLE = 0x030707f0;
const TCR_CRC = 1 << 16;
const TCR_LOOPBACK = 3 << 17;

const PCI_REVISION = 0x10;
const MAX_TX_BYTES = 1792;
const MAX_RX_BYTES = 4096; // with CRC
const PCI_CLOCK_HZ = 33_000_000;
const EEPROM_WORDS = 64;

// C+ mode.
const CPCMD_TX_ENABLE = 0x0001;
const CPCMD_RX_ENABLE = 0x0002;
const DESC_OWN = 0x80000000;
const DESC_EOR = 0x40000000;
const DESC_FS = 0x20000000;
const DESC_LS = 0x10000000;

export interface Rtl8139Options {
  /** The card's address: EEPROM words 7-9 and IDR0-5 after reset. */
  mac: Uint8Array;
  /** Guest physical memory as a bus master sees it. */
  memory: DmaMemory;
  clock: Clock;
  /** Where frames go: a switch port. Without one the cable is unplugged (frames vanish). */
  port?: NetworkPort;
  /**
   * Bytes of RAM from physical address 0. DMA beyond it is a master abort: the frame is
   * dropped, ISR.SERR and PCI status "received master abort" are set, `stats` counts it.
   */
  ramBytes?: number;
  name?: string;
  /** Option ROM shown through the expansion ROM BAR (iPXE's pxe-rtl8139.rom for network boot). */
  rom?: Uint8Array;
}

/** What the card did with frames, for diagnostics and tests. */
export interface Rtl8139Stats {
  txFrames: number;
  txBytes: number;
  /** Descriptors larger than the chip's 1792-byte limit, aborted. */
  txOversize: number;
  txDmaErrors: number;
  rxFrames: number;
  rxBytes: number;
  /** Frames no receive filter accepted. */
  rxFiltered: number;
  /** Frames that arrived with the receiver disabled or the clock halted. */
  rxDisabled: number;
  /** Ring full or (C+) no descriptor: RXOVW and the missed-packet counter. */
  rxOverflow: number;
  rxOversize: number;
  /** Frames shorter than an address pair. */
  rxMalformed: number;
  rxRuntPadded: number;
  rxDmaErrors: number;
}

function newStats(): Rtl8139Stats {
  return {
    txFrames: 0, txBytes: 0, txOversize: 0, txDmaErrors: 0, rxFrames: 0, rxBytes: 0, rxFiltered: 0,
    rxDisabled: 0, rxOverflow: 0, rxOversize: 0, rxMalformed: 0, rxRuntPadded: 0, rxDmaErrors: 0,
  };
}

/** The 93C46 serial EEPROM behind 9346CR: 64 words, read/write/erase, write enable latch. */
class Eeprom93c46 {
  words = new Uint16Array(EEPROM_WORDS);
  state: 'idle' | 'start' | 'command' | 'read' | 'write' | 'writeAll' = 'idle';
  bits = 0;
  shift = 0;
  address = 0;
  writeEnabled = false;
  cs = false;
  sk = false;
  out = 0;

  setPins(cs: boolean, sk: boolean, di: boolean): void {
    const rising = sk && !this.sk;
    if (cs && !this.cs) {
      this.state = 'start';
      this.out = 0;
    }
    this.cs = cs;
    this.sk = sk;
    if (!cs) {
      this.state = 'idle';
      return;
    }
    if (rising) this.clock(di ? 1 : 0);
  }

  private clock(bit: number): void {
    switch (this.state) {
      case 'start':
        if (bit) {
          this.state = 'command';
          this.bits = 0;
          this.shift = 0;
        }
        return;
      case 'command':
        this.shift = (this.shift << 1) | bit;
        if (++this.bits === 8) this.decode(this.shift >> 6, this.shift & 0x3f);
        return;
      case 'read':
        this.out = (this.shift >> 15) & 1;
        this.shift = (this.shift << 1) & 0xffff;
        // After sixteen bits wait for the next start bit (drivers that keep CS high rely on it).
        if (++this.bits === 16) this.state = 'start';
        return;
      case 'write':
      case 'writeAll':
        this.shift = ((this.shift << 1) | bit) & 0xffff;
        if (++this.bits === 16) {
          if (this.writeEnabled) {
            if (this.state === 'write') this.words[this.address] = this.shift;
            else this.words.fill(this.shift);
          }
          this.state = 'idle';
        }
        return;
    }
  }

  private decode(opcode: number, address: number): void {
    this.bits = 0;
    this.address = address;
    switch (opcode) {
      case 2: // READ: a dummy 0, then D15..D0 on the following clocks
        this.shift = this.words[address];
        this.out = 0;
        this.state = 'read';
        return;
      case 1:
        this.shift = 0;
        this.state = 'write';
        return;
      case 3:
        if (this.writeEnabled) this.words[address] = 0xffff;
        this.state = 'idle';
        return;
    }
    switch (address >> 4) {
      case 3:
        this.writeEnabled = true;
        break;
      case 0:
        this.writeEnabled = false;
        break;
      case 2:
        if (this.writeEnabled) this.words.fill(0xffff);
        break;
      case 1:
        this.shift = 0;
        this.state = 'writeAll';
        return;
    }
    this.state = 'idle';
  }
}

export class Rtl8139 implements PciFunction, Device {
  readonly name: string;
  readonly info: PciFunctionInfo;
  readonly config = new Uint8Array(256);
  setInterrupt?: (level: boolean) => void;
  readonly stats: Rtl8139Stats = newStats();

  private readonly memory: DmaMemory;
  private readonly clock: Clock;
  private readonly port?: NetworkPort;
  private readonly ramBytes?: number;
  private readonly eeprom = new Eeprom93c46();

  // Registers.
  private idr = new Uint8Array(6);
  private mar = new Uint8Array(8);
  private tsd = new Uint32Array(4);
  private tsad = new Uint32Array(4);
  private rbstart = 0;
  private command = 0; // RE and TE
  private rxRead = 0; // CAPR + 16
  private rxWrite = 0; // CBR
  private imr = 0;
  private isr = 0;
  private tcr = TCR_HWVERID_RTL8139C;
  private rcr = 0;
  private timerBase = 0;
  private timerInt = 0;
  private missed = 0;
  private cfg9346 = 0;
  private configBytes = new Uint8Array([0x00, 0x0c, 0x01, 0x00, 0x00]); // Config0, 1, 3, 4, 5
  private multiInt = 0;
  private bmcr = 0x1000;
  private anar = 0x05e1;
  private linkUp = true;
  private clockRunning = true;
  private nextTx = 0;
  private storage = new Uint8Array(256); // plain registers: wake-up frames, PHY parameters
  // C+ mode.
  private cplus = false;
  private cpcmd = 0;
  private rxRing = new Uint32Array(2);
  private cplusRxIndex = 0;
  private cplusTxIndex = 0;
  private txThreshold = 0;

  private irqLevel = false;
  private timer?: TimerHandle;
  private busy = 0;
  private pending: Uint8Array[] = [];

  constructor(options: Rtl8139Options) {
    if (options.mac.length !== 6) throw new RangeError('rtl8139: the MAC address must be 6 bytes');
    this.name = options.name ?? 'rtl8139';
    this.memory = options.memory;
    this.clock = options.clock;
    this.port = options.port;
    this.ramBytes = options.ramBytes;
    const range = {
      owner: this.name,
      sizes: 1 | 2 | 4,
      read: (offset: number, size: AccessSize) => this.read(offset, size),
      write: (offset: number, size: AccessSize, value: number) => this.write(offset, size, value),
    };
    this.info = {
      vendorId: 0x10ec,
      deviceId: 0x8139,
      classCode: 0x020000,
      revision: PCI_REVISION,
      subsystemVendorId: 0x10ec,
      subsystemId: 0x8139,
      interruptPin: 1,
      bars: [{ kind: 'io', size: 256, range }, { kind: 'memory', size: 256, range }],
      rom: options.rom,
    };
    this.config[0x3e] = 0x20; // MIN_GNT
    this.config[0x3f] = 0x40; // MAX_LAT
    const w = this.eeprom.words;
    w[0] = 0x8129;
    w[1] = 0x10ec;
    w[2] = 0x8139;
    w[3] = 0x10ec;
    w[4] = 0x8139;
    w[5] = 0x4020; // MAX_LAT, MIN_GNT
    for (let i = 0; i < 3; i++) w[7 + i] = options.mac[2 * i] | (options.mac[2 * i + 1] << 8);
    if (this.port) this.port.onReceive = (frame) => this.deliver(frame);
    this.reset();
  }

  /** Plugs or unplugs the virtual cable: PHY and media status follow, with a link-change interrupt. */
  setLinkUp(up: boolean): void {
    if (up === this.linkUp) return;
    this.linkUp = up;
    this.raise(INT_LINK_CHANGE);
  }

  /** Power-on reset (RSTB): registers to defaults, the MAC reloaded from the EEPROM. */
  reset(): void {
    for (let i = 0; i < 3; i++) {
      this.idr[2 * i] = this.eeprom.words[7 + i] & 0xff;
      this.idr[2 * i + 1] = this.eeprom.words[7 + i] >> 8;
    }
    this.mar.fill(0);
    this.rbstart = 0;
    this.tsad.fill(0);
    this.tcr = TCR_HWVERID_RTL8139C;
    this.rcr = 0;
    this.missed = 0;
    this.cfg9346 = 0;
    this.configBytes.set([0x00, 0x0c, 0x01, 0x00, 0x00]);
    this.multiInt = 0;
    this.bmcr = 0x1000;
    this.anar = 0x05e1;
    this.clockRunning = true;
    this.storage.fill(0);
    this.timerInt = 0;
    this.timerBase = this.clock.now();
    this.eeprom.state = 'idle';
    this.eeprom.writeEnabled = false;
    this.eeprom.cs = this.eeprom.sk = false;
    this.softReset();
  }

  /** CR.RST: transmitter and receiver off, pointers and descriptors to their initial state. */
  private softReset(): void {
    this.command = 0;
    this.tsd.fill(TSD_OWN);
    this.nextTx = 0;
    this.rxRead = 0;
    this.rxWrite = 0;
    this.imr = 0;
    this.isr = 0;
    this.cplus = false;
    this.cpcmd = 0;
    this.rxRing.fill(0);
    this.cplusRxIndex = 0;
    this.cplusTxIndex = 0;
    this.txThreshold = 0;
    this.pending = [];
    this.updateIrq();
    this.scheduleTimer();
  }

  // ---- register access ----

  private read(offset: number, size: AccessSize): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + this.readByte((offset + i) & 0xff);
    return v >>> 0;
  }

  private readByte(offset: number): number {
    const [start, width] = registerAt(offset);
    return (this.readRegister(start, width) >>> (8 * (offset - start))) & 0xff;
  }

  private write(offset: number, size: AccessSize, value: number): void {
    this.busy++;
    try {
      let o = offset & 0xff;
      const end = Math.min(256, o + size);
      while (o < end) {
        const [start, width] = registerAt(o);
        let merged = this.readRegister(start, width);
        let mask = 0;
        for (let b = 0; b < width; b++) {
          const at = start + b;
          if (at < o || at >= end) continue;
          const byte = (value >>> (8 * (at - offset))) & 0xff;
          merged = (merged & ~(0xff << (8 * b))) | (byte << (8 * b));
          mask |= 0xff << (8 * b);
        }
        this.writeRegister(start, merged >>> 0, mask >>> 0);
        o = start + width;
      }
    } finally {
      this.busy--;
    }
    this.drainPending();
  }

  private readRegister(start: number, width: number): number {
    if (start < 0x06) return this.idr[start];
    if (start < 0x08) return 0;
    if (start < 0x10) return this.mar[start - 0x08];
    if (start < 0x20) return this.tsd[(start - 0x10) >> 2];
    if (start < 0x30) return this.tsad[(start - 0x20) >> 2];
    switch (start) {
      case 0x30: return this.rbstart;
      case 0x37: return this.command | (this.rxWrite === this.rxRead ? CR_BUFE : 0);
      case 0x38: return (this.rxRead - 16) & 0xffff;
      case 0x3a: return this.rxWrite & 0xffff;
      case 0x3c: return this.imr;
      case 0x3e: return this.isr;
      case 0x40: return this.tcr;
      case 0x44: return this.rcr;
      case 0x48: return this.timerCount();
      case 0x4c: return this.missed;
      case 0x50: return this.cfg9346 | ((this.cfg9346 & 0xc0) === 0x80 && this.eeprom.cs ? this.eeprom.out : 0);
      case 0x51: return this.configBytes[0];
      case 0x52: return this.configBytes[1];
      case 0x54: return this.timerInt;
      // Media status: TXFCE, RXFCE, AUX; LINKB (bit 2) set while the link is down; 100 Mbit/s.
      case 0x58: return 0xd0 | (this.linkUp ? 0 : 0x04);
      case 0x59: return this.configBytes[2];
      case 0x5a: return this.configBytes[3];
      case 0x5b: return this.clockRunning ? 1 : 0;
      case 0x5c: return this.multiInt;
      case 0x5e: return PCI_REVISION;
      case 0x60: return this.transmitSummary();
      case 0x62: return this.bmcr;
      // Basic mode status: 100BASE-TX/10BASE-T full and half, autonegotiation complete, link.
      case 0x64: return 0x7809 | 0x0020 | (this.linkUp ? 0x0004 : 0);
      case 0x66: return this.anar;
      case 0x68: return this.linkUp ? 0x05e1 : 0;
      case 0x6a: return 0x0001;
      case 0x74: return 0x0340; // CSCR: LD, HEART_BIT, F_LINK_100 (QEMU's value)
      case 0xd8: return this.configBytes[4];
      case 0xe0: return this.cpcmd;
      case 0xe4: return this.rxRing[0];
      case 0xe8: return this.rxRing[1];
      case 0xec: return this.txThreshold;
    }
    if ((start >= 0x78 && start < 0xd8) || start === 0x70 || start === 0x72) {
      let v = 0;
      for (let i = width - 1; i >= 0; i--) v = v * 256 + this.storage[start + i];
      return v >>> 0;
    }
    return 0;
  }

  private writeRegister(start: number, value: number, mask: number): void {
    if (start < 0x06) {
      this.idr[start] = value;
      return;
    }
    if (start < 0x08) return;
    if (start < 0x10) {
      this.mar[start - 0x08] = value;
      return;
    }
    if (start < 0x20) {
      if (this.cplus) return this.dumpTally(start, value);
      const n = (start - 0x10) >> 2;
      // Size, OWN and the early threshold are the guest's; the status bits clear on a write.
      this.tsd[n] = (value & 0x003f3fff) | (this.tsd[n] & 0x00c00000);
      this.transmitDescriptors();
      return;
    }
    if (start < 0x30) {
      this.tsad[(start - 0x20) >> 2] = value;
      return;
    }
    switch (start) {
      case 0x30:
        this.rbstart = value;
        return;
      case 0x37:
        return this.writeCommand(value);
      case 0x38:
        this.rxRead = (value + 16) % this.rxBufferSize();
        return;
      case 0x3c:
        this.imr = value & INT_BITS;
        return this.updateIrq();
      case 0x3e:
        this.isr &= ~(value & mask & INT_BITS);
        return this.updateIrq();
      case 0x40:
        // As on the chip (and QEMU), TCR only takes writes while the transmitter is enabled.
        if (this.command & CR_TE) this.tcr = ((this.tcr & ~TCR_WRITABLE) | (value & TCR_WRITABLE)) >>> 0;
        return;
      case 0x44:
        this.rcr = (value & RCR_WRITABLE) >>> 0;
        return;
      case 0x48:
        this.timerBase = this.clock.now(); // any write restarts the count from zero
        return this.scheduleTimer();
      case 0x4c:
        this.missed = 0;
        return;
      case 0x50:
        return this.write9346(value);
      case 0x51:
      case 0x52:
      case 0x59:
      case 0x5a: {
        if ((this.cfg9346 & 0xc0) !== 0xc0) return; // config writes need 9346CR EEM = 11b
        const index = start === 0x51 ? 0 : start === 0x52 ? 1 : start === 0x59 ? 2 : 3;
        const readOnly = [0xf8, 0x0c, 0x70, 0xf5][index];
        this.configBytes[index] = (this.configBytes[index] & readOnly) | (value & ~readOnly);
        return;
      }
      case 0x54:
        this.timerInt = value;
        return this.scheduleTimer();
      case 0x5b:
        if (value === 0x52) this.clockRunning = true; // 'R'
        else if (value === 0x48) this.clockRunning = false; // 'H'
        return;
      case 0x5c:
        this.multiInt = value & 0x0fff;
        return;
      case 0x62:
        // Reset (bit 15) and restart autonegotiation (bit 9) complete at once; the PHY's speed,
        // duplex and autonegotiation stay as negotiated.
        if (value & 0x8000) this.anar = 0x05e1;
        return;
      case 0x66:
        this.anar = (value & 0x05e0) | 0x0001;
        return;
      case 0xd8:
        this.configBytes[4] = value & 0x7f;
        return;
      case 0xd9:
        if (value & 0x40) this.cplusTransmit();
        return;
      case 0xe0:
        this.cplus = true;
        this.cpcmd = value & 0x007b;
        return;
      case 0xe4:
        this.rxRing[0] = value;
        return;
      case 0xe8:
        this.rxRing[1] = value;
        return;
      case 0xec:
        this.txThreshold = value;
        return;
    }
    if ((start >= 0x78 && start < 0xd8) || start === 0x70 || start === 0x72) {
      const [, width] = registerAt(start);
      for (let i = 0; i < width; i++) if (mask & (0xff << (8 * i))) this.storage[start + i] = (value >>> (8 * i)) & 0xff;
    }
  }

  private writeCommand(value: number): void {
    if (value & CR_RST) return this.softReset();
    const before = this.command;
    this.command = value & (CR_RE | CR_TE);
    // Enabling the receiver starts it at the beginning of the buffer (8139too sets its read
    // pointer to 0 each time it re-enables reception after an error).
    if (this.command & CR_RE && !(before & CR_RE)) {
      this.rxRead = 0;
      this.rxWrite = 0;
      this.cplusRxIndex = 0;
    }
    if (this.command & CR_TE && !(before & CR_TE)) this.cplusTxIndex = 0;
    if (this.command & CR_TE) this.transmitDescriptors();
  }

  private write9346(value: number): void {
    const mode = value & 0xc0;
    if (mode === 0x40) {
      // Auto-load: reload from the EEPROM as at power-on, then back to normal mode.
      this.reset();
      return;
    }
    this.cfg9346 = value & 0xce;
    if (mode === 0x80) this.eeprom.setPins((value & 0x08) !== 0, (value & 0x04) !== 0, (value & 0x02) !== 0);
    else this.eeprom.setPins(false, false, false);
  }

  private transmitSummary(): number {
    let v = 0;
    for (let n = 0; n < 4; n++) {
      const s = this.tsd[n];
      if (s & TSD_TOK) v |= 0x1000 << n;
      if (s & TSD_TUN) v |= 0x100 << n;
      if (s & TSD_TABT) v |= 0x10 << n;
      if (s & TSD_OWN) v |= 0x1 << n;
    }
    return v;
  }

  // ---- interrupts and timer ----

  private raise(bits: number): void {
    this.isr |= bits;
    this.updateIrq();
  }

  private updateIrq(): void {
    const level = (this.isr & this.imr) !== 0;
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    this.setInterrupt?.(level);
  }

  private timerCount(): number {
    return Math.floor(((this.clock.now() - this.timerBase) * PCI_CLOCK_HZ) / 1e9) % 2 ** 32;
  }

  /** TimerInt: when the 33 MHz count passes it (once per 2^32 wrap), ISR.TimeOut is set. */
  private scheduleTimer(): void {
    this.clock.cancel(this.timer);
    this.timer = undefined;
    if (this.timerInt === 0) return;
    const period = (2 ** 32 * 1e9) / PCI_CLOCK_HZ;
    let at = this.timerBase + Math.ceil((this.timerInt * 1e9) / PCI_CLOCK_HZ);
    const now = this.clock.now();
    if (at <= now) at += Math.ceil((now - at) / period + 1e-9) * period;
    this.timer = this.clock.schedule(at, () => {
      this.timer = undefined;
      if (this.clockRunning) this.raise(INT_TIMEOUT);
      this.scheduleTimer();
    });
  }

  // ---- DMA ----

  private dmaAllowed(address: number, length: number): boolean {
    if (!(this.config[4] & 0x04)) return false; // bus mastering disabled: no cycles at all
    if (address + length > 2 ** 32 || (this.ramBytes !== undefined && address + length > this.ramBytes)) {
      this.config[7] |= 0x20; // received master abort
      this.raise(INT_SYSTEM_ERROR);
      return false;
    }
    return true;
  }

  // ---- transmit ----

  private transmitDescriptors(): void {
    if (this.cplus || !(this.command & CR_TE)) return;
    for (let guard = 0; guard < 4 && !(this.tsd[this.nextTx] & TSD_OWN); guard++) {
      const n = this.nextTx;
      this.nextTx = (n + 1) & 3;
      const size = this.tsd[n] & 0x1fff;
      if (size > MAX_TX_BYTES) {
        this.stats.txOversize++;
        this.tsd[n] |= TSD_OWN | TSD_TABT;
        this.raise(INT_TER);
        continue;
      }
      const buffer = new Uint8Array(size);
      if (!this.dmaAllowed(this.tsad[n], size)) {
        this.stats.txDmaErrors++;
        this.tsd[n] |= TSD_OWN | TSD_TABT;
        this.raise(INT_TER);
        continue;
      }
      this.memory.read(this.tsad[n], buffer);
      this.tsd[n] = (this.tsd[n] | TSD_OWN | TSD_TOK) & ~TSD_TABT;
      this.sendFrame(buffer);
      this.raise(INT_TOK);
    }
  }

  private sendFrame(data: Uint8Array): void {
    // With TCR.CRC set the driver appended its own FCS; the virtual wire carries none.
    let frame = this.tcr & TCR_CRC ? data.subarray(0, Math.max(0, data.length - 4)) : data;
    if (frame.length === 0) return;
    if (frame.length < MIN_FRAME_BYTES) {
      const padded = new Uint8Array(MIN_FRAME_BYTES);
      padded.set(frame);
      frame = padded;
    }
    this.stats.txFrames++;
    this.stats.txBytes += frame.length;
    if ((this.tcr & TCR_LOOPBACK) === TCR_LOOPBACK) this.pending.push(frame.slice());
    else if (this.linkUp) this.port?.send(frame);
  }

  private cplusTransmit(): void {
    if (!(this.command & CR_TE) || !(this.cpcmd & CPCMD_TX_ENABLE)) return;
    let assembled: Uint8Array[] = [];
    for (let guard = 0; guard < 64; guard++) {
      const desc = this.tsad[0] + 16 * this.cplusTxIndex;
      if (this.tsad[1] !== 0 || !this.dmaAllowed(desc, 16)) {
        this.stats.txDmaErrors++;
        return this.raise(INT_TER);
      }
      const dw0 = this.memory.readU32(desc);
      if (!(dw0 & DESC_OWN)) break;
      const size = dw0 & 0xffff;
      const address = this.memory.readU32(desc + 8);
      const high = this.memory.readU32(desc + 12);
      if (dw0 & DESC_FS) assembled = [];
      if (high !== 0 || !this.dmaAllowed(address, size)) {
        this.stats.txDmaErrors++;
        assembled = [];
      } else {
        const chunk = new Uint8Array(size);
        this.memory.read(address, chunk);
        assembled.push(chunk);
      }
      this.memory.writeU32(desc, dw0 & ~DESC_OWN & ~0x03f00000);
      this.cplusTxIndex = dw0 & DESC_EOR ? 0 : (this.cplusTxIndex + 1) & 63;
      if (dw0 & DESC_LS && assembled.length) {
        const total = assembled.reduce((n, c) => n + c.length, 0);
        if (total > 1 << 16) this.stats.txOversize++;
        else {
          const frame = new Uint8Array(total);
          let at = 0;
          for (const c of assembled) {
            frame.set(c, at);
            at += c.length;
          }
          this.sendFrame(frame);
        }
        assembled = [];
        this.raise(INT_TOK);
      }
    }
  }

  private dumpTally(start: number, value: number): void {
    // DTCCR (10h-17h in C+ mode): bit 3 of the low dword asks for a 64-byte counter dump.
    if (start === 0x10 && value & 0x08) {
      const address = (value & ~0x3f) >>> 0;
      if (this.tsd[1] === 0 && this.dmaAllowed(address, 64)) {
        const out = new Uint8Array(64);
        const view = new DataView(out.buffer);
        view.setUint32(0, this.stats.txFrames, true);
        view.setUint32(8, this.stats.rxFrames, true);
        view.setUint32(16, this.stats.txOversize + this.stats.txDmaErrors, true);
        view.setUint32(24, this.stats.rxOverflow + this.stats.rxOversize, true);
        view.setUint16(28, this.missed & 0xffff, true);
        this.memory.write(address, out);
      }
      this.tsd[0] = value & ~0x08;
      return;
    }
    this.tsd[(start - 0x10) >> 2] = value;
  }

  // ---- receive ----

  private deliver(frame: Uint8Array): void {
    if (this.busy) {
      this.pending.push(frame.slice());
      return;
    }
    this.receive(frame);
  }

  private drainPending(): void {
    while (!this.busy && this.pending.length) this.receive(this.pending.shift()!);
  }

  /** Runs one frame through the receive filters into the ring (or the C+ descriptors). */
  private receive(input: Uint8Array): void {
    if (!(this.command & CR_RE) || !this.clockRunning || !this.linkUp) {
      this.stats.rxDisabled++;
      return;
    }
    if (input.length < 12) {
      this.stats.rxMalformed++;
      return;
    }
    if (input.length + 4 > MAX_RX_BYTES) {
      this.stats.rxOversize++;
      return;
    }
    const destination = input.subarray(0, 6);
    let status = RX_ROK;
    if (isBroadcast(destination)) status |= RX_BAR;
    else if (isMulticast(destination)) status |= RX_MAR;
    else if (macEquals(destination, this.idr)) status |= RX_PAM;
    if (!(this.rcr & RCR_AAP)) {
      const accepted =
        status & RX_BAR ? (this.rcr & RCR_AB) !== 0
        : status & RX_MAR ? (this.rcr & RCR_AM) !== 0 && this.multicastHashHit(destination)
        : status & RX_PAM ? (this.rcr & RCR_APM) !== 0
        : false;
      if (!accepted) {
        this.stats.rxFiltered++;
        return;
      }
    }
    let frame = input;
    if (frame.length < MIN_FRAME_BYTES) {
      this.stats.rxRuntPadded++;
      frame = new Uint8Array(MIN_FRAME_BYTES);
      frame.set(input);
    }
    const withCrc = new Uint8Array(frame.length + 4);
    withCrc.set(frame);
    new DataView(withCrc.buffer).setUint32(frame.length, crc32(frame), true);
    const ok = this.cplus && this.cpcmd & CPCMD_RX_ENABLE ? this.receiveCplus(withCrc, status) : this.receiveRing(withCrc, status);
    if (!ok) return;
    this.stats.rxFrames++;
    this.stats.rxBytes += frame.length;
    this.raise(INT_ROK);
  }

  private multicastHashHit(mac: Uint8Array): boolean {
    const bit = multicastHashIndex(mac);
    return (this.mar[bit >> 3] & (1 << (bit & 7))) !== 0;
  }

  private rxBufferSize(): number {
    return 8192 << ((this.rcr >> 11) & 3);
  }

  private receiveRing(data: Uint8Array, status: number): boolean {
    const size = this.rxBufferSize();
    const needed = (4 + data.length + 3) & ~3;
    const free = (this.rxRead - this.rxWrite + size) % size;
    // Equal pointers mean empty, so a frame may never fill the ring up to the read pointer.
    if ((free === 0 ? size : free) <= needed) {
      this.stats.rxOverflow++;
      this.missed = (this.missed + 1) & 0xffffff;
      this.raise(INT_RXOVW);
      return false;
    }
    const record = new Uint8Array(4 + data.length);
    const view = new DataView(record.buffer);
    view.setUint16(0, status, true);
    view.setUint16(2, data.length, true);
    record.set(data, 4);
    // WRAP set: the frame runs on past the end (not possible with the 64 KiB buffer).
    const linear = this.rcr & RCR_WRAP && size < 65536;
    const first = linear ? record.length : Math.min(record.length, size - this.rxWrite);
    const chunks: [number, Uint8Array][] = [[this.rbstart + this.rxWrite, record.subarray(0, first)]];
    if (first < record.length) chunks.push([this.rbstart, record.subarray(first)]);
    for (const [address, bytes] of chunks) {
      if (!this.dmaAllowed(address, bytes.length)) {
        this.stats.rxDmaErrors++;
        return false;
      }
    }
    for (const [address, bytes] of chunks) this.memory.write(address, bytes);
    this.rxWrite = (this.rxWrite + needed) % size;
    return true;
  }

  private receiveCplus(data: Uint8Array, status: number): boolean {
    const desc = this.rxRing[0] + 16 * this.cplusRxIndex;
    if (this.rxRing[1] !== 0 || !this.dmaAllowed(desc, 16)) {
      this.stats.rxDmaErrors++;
      return false;
    }
    const dw0 = this.memory.readU32(desc);
    const address = this.memory.readU32(desc + 8);
    if (!(dw0 & DESC_OWN) || (dw0 & 0x1fff) < data.length) {
      this.stats.rxOverflow++;
      this.missed = (this.missed + 1) & 0xffffff;
      this.raise(INT_RXOVW);
      return false;
    }
    if (this.memory.readU32(desc + 12) !== 0 || !this.dmaAllowed(address, data.length)) {
      this.stats.rxDmaErrors++;
      return false;
    }
    this.memory.write(address, data);
    const typeBits = (status & RX_BAR ? 1 << 24 : 0) | (status & RX_PAM ? 1 << 25 : 0) | (status & RX_MAR ? 1 << 26 : 0);
    this.memory.writeU32(desc, ((dw0 & DESC_EOR) | DESC_FS | DESC_LS | typeBits | data.length) >>> 0);
    this.memory.writeU32(desc + 4, 0);
    this.cplusRxIndex = dw0 & DESC_EOR ? 0 : (this.cplusRxIndex + 1) & 63;
    return true;
  }

  // ---- state ----

  saveState(): DeviceState {
    const e = this.eeprom;
    return {
      version: 1,
      idr: this.idr.slice(), mar: this.mar.slice(), tsd: this.tsd.slice(), tsad: this.tsad.slice(),
      rbstart: this.rbstart, command: this.command, rxRead: this.rxRead, rxWrite: this.rxWrite,
      imr: this.imr, isr: this.isr, tcr: this.tcr, rcr: this.rcr,
      timerElapsed: this.clock.now() - this.timerBase, timerInt: this.timerInt, missed: this.missed,
      cfg9346: this.cfg9346, configBytes: this.configBytes.slice(), multiInt: this.multiInt,
      bmcr: this.bmcr, anar: this.anar, linkUp: this.linkUp, clockRunning: this.clockRunning,
      nextTx: this.nextTx, storage: this.storage.slice(),
      cplus: this.cplus, cpcmd: this.cpcmd, rxRing: this.rxRing.slice(),
      cplusRxIndex: this.cplusRxIndex, cplusTxIndex: this.cplusTxIndex, txThreshold: this.txThreshold,
      eepromWords: e.words.slice(), eepromState: e.state, eepromBits: e.bits, eepromShift: e.shift,
      eepromAddress: e.address, eepromWriteEnabled: e.writeEnabled, eepromCs: e.cs, eepromSk: e.sk, eepromOut: e.out,
    };
  }

  loadState(s: DeviceState): void {
    checkStateVersion(this.name, s, 1);
    this.idr.set(s.idr as Uint8Array);
    this.mar.set(s.mar as Uint8Array);
    this.tsd.set(s.tsd as Uint32Array);
    this.tsad.set(s.tsad as Uint32Array);
    this.rbstart = s.rbstart as number;
    this.command = s.command as number;
    this.rxRead = s.rxRead as number;
    this.rxWrite = s.rxWrite as number;
    this.imr = s.imr as number;
    this.isr = s.isr as number;
    this.tcr = s.tcr as number;
    this.rcr = s.rcr as number;
    this.timerBase = this.clock.now() - (s.timerElapsed as number);
    this.timerInt = s.timerInt as number;
    this.missed = s.missed as number;
    this.cfg9346 = s.cfg9346 as number;
    this.configBytes.set(s.configBytes as Uint8Array);
    this.multiInt = s.multiInt as number;
    this.bmcr = s.bmcr as number;
    this.anar = s.anar as number;
    this.linkUp = s.linkUp as boolean;
    this.clockRunning = s.clockRunning as boolean;
    this.nextTx = s.nextTx as number;
    this.storage.set(s.storage as Uint8Array);
    this.cplus = s.cplus as boolean;
    this.cpcmd = s.cpcmd as number;
    this.rxRing.set(s.rxRing as Uint32Array);
    this.cplusRxIndex = s.cplusRxIndex as number;
    this.cplusTxIndex = s.cplusTxIndex as number;
    this.txThreshold = s.txThreshold as number;
    const e = this.eeprom;
    e.words.set(s.eepromWords as Uint16Array);
    e.state = s.eepromState as Eeprom93c46['state'];
    e.bits = s.eepromBits as number;
    e.shift = s.eepromShift as number;
    e.address = s.eepromAddress as number;
    e.writeEnabled = s.eepromWriteEnabled as boolean;
    e.cs = s.eepromCs as boolean;
    e.sk = s.eepromSk as boolean;
    e.out = s.eepromOut as number;
    this.pending = [];
    this.irqLevel = (this.isr & this.imr) !== 0;
    this.setInterrupt?.(this.irqLevel);
    this.scheduleTimer();
  }
}

/** The register containing `offset`: its first byte and width. */
function registerAt(offset: number): [number, number] {
  if (offset < 0x10) return [offset, 1];
  if (offset < 0x34) return [offset & ~3, 4];
  if (offset < 0x36) return [0x34, 2];
  if (offset < 0x38) return [offset, 1];
  if (offset < 0x40) return [offset & ~1, 2];
  if (offset < 0x50) return [offset & ~3, 4];
  if (offset < 0x54) return [offset, 1];
  if (offset < 0x58) return [0x54, 4];
  if (offset < 0x5c) return [offset, 1];
  if (offset < 0x5e) return [0x5c, 2];
  if (offset < 0x60) return [offset, 1];
  if (offset < 0x78) return [offset & ~1, 2];
  if (offset < 0x80) return [offset & ~3, 4];
  if (offset >= 0xe0 && offset < 0xe4) return [offset & ~1, 2];
  if (offset >= 0xe4 && offset < 0xec) return [offset & ~3, 4];
  return [offset, 1];
}
