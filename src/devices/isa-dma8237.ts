/**
 * The PC/AT ISA DMA: two cascaded Intel 8237A controllers, as integrated in the PIIX3/PIIX4.
 *
 * Follows the Intel 8237A datasheet and the 82371 (PIIX) DMA register description:
 * - DMA1, channels 0-3, byte transfers: ports 0x00-0x0F.
 * - DMA2, channels 4-7, word transfers: ports 0xC0-0xDE (even ports; odd ports are holes).
 *   Channel 4 is the cascade input from DMA1: while it is masked DMA1 cannot get the bus.
 * - Page registers 0x81-0x8F (address bits 16-23) and the EISA/PIIX high page registers
 *   0x481-0x48B (bits 24-31). As on EISA, writing a low page register clears the channel's high
 *   page, so software that knows only the low page gets 24-bit addresses.
 * Word channels shift the address left by one and ignore bit 0 of the page, so they address
 * 128 KiB blocks; byte channels wrap at 64 KiB. Counts are programmed as transfers minus one.
 *
 * Devices use a channel through `channel(n)`: they hold DREQ with a service callback, which the
 * controller calls when the channel can run (at once, or when the guest later unmasks it), and
 * inside it move data with `writeMemory` (device to memory) or `readMemory` (memory to device).
 * The transfer is instantaneous in guest time: a device that wants bus timing schedules its own
 * completion.
 *
 * Left out: memory-to-memory transfers (command bit 0), priority rotation, extended write and
 * DACK/DREQ polarity (stored, no effect), and cycle timing. Single, demand and block mode move
 * the same data here because the device offers all of it at once.
 */
import { type Device, type DeviceState, checkStateVersion } from '../bus/device.ts';
import type { DmaMemory } from '../bus/dma-memory.ts';
import type { IoBus } from '../bus/io-bus.ts';

export interface IsaDma8237Options {
  io: IoBus;
  /** Guest physical memory as the DMA controller sees it. */
  memory: DmaMemory;
}

/** Mode register transfer types (bits 3-2). */
export const DMA_VERIFY = 0;
/** Device to memory ("write" from the 8237's point of view: it writes memory). */
export const DMA_WRITE = 1;
/** Memory to device. */
export const DMA_READ = 2;

/** What a device holds on to: one DMA channel. */
export interface IsaDmaChannel {
  /**
   * Assert DREQ. `service` is called whenever the channel can transfer (unmasked, controller
   * enabled, and for channels 0-3 the cascade channel 4 unmasked): immediately if it can now.
   * It is called again after each unmask while the request is held.
   */
  holdRequest(service: () => void): void;
  /** Drop DREQ. */
  releaseRequest(): void;
  /** Transfer type programmed in the mode register: DMA_VERIFY, DMA_WRITE, DMA_READ (3 illegal). */
  transferType(): number;
  /**
   * Device to memory: offer `src`; returns how many bytes the channel took (less than offered
   * when terminal count was reached). In verify or read mode the cycles run but memory is
   * untouched, as on the bus.
   */
  writeMemory(src: Uint8Array): number;
  /** Memory to device: fill `dest` up to terminal count; returns the number of bytes filled. */
  readMemory(dest: Uint8Array): number;
  /** True once the channel reached terminal count since its request was last held. */
  terminalCount(): boolean;
}

interface Channel {
  baseAddress: number;
  currentAddress: number;
  baseCount: number;
  currentCount: number;
  mode: number;
  page: number;
  highPage: number;
  /** DREQ from a device (not saved: the device re-asserts it from its own state). */
  service: (() => void) | undefined;
  reachedTc: boolean;
}

interface Controller {
  command: number;
  /** Bits 0-3 terminal count reached (cleared on read), 4-7 software requests. */
  status: number;
  request: number;
  mask: number;
  flipFlop: boolean;
}

/** Page register offset from 0x80 for each channel (0x80 itself belongs to the POST port). */
const PAGE_PORT = [0x07, 0x03, 0x01, 0x02, 0x0f, 0x0b, 0x09, 0x0a];

export class IsaDma8237 implements Device {
  readonly name = 'isa-dma';
  private readonly memory: DmaMemory;
  private readonly channels: Channel[] = [];
  private readonly controllers: Controller[] = [];
  /** The page register file 0x80-0x8F; the unused ones are plain scratch registers. */
  private readonly pageFile = new Uint8Array(16);
  private servicing = false;

  constructor(options: IsaDma8237Options) {
    this.memory = options.memory;
    for (let i = 0; i < 8; i++) {
      this.channels.push({ baseAddress: 0, currentAddress: 0, baseCount: 0, currentCount: 0, mode: 0, page: 0, highPage: 0, service: undefined, reachedTc: false });
    }
    for (let i = 0; i < 2; i++) this.controllers.push({ command: 0, status: 0, request: 0, mask: 0xf, flipFlop: false });
    const io = options.io;
    io.register({
      owner: 'isa-dma1',
      base: 0x00,
      length: 16,
      read: (offset) => this.readRegister(0, offset),
      write: (offset, _size, value) => this.writeRegister(0, offset, value & 0xff),
    });
    io.register({
      owner: 'isa-dma2',
      base: 0xc0,
      length: 32,
      read: (offset) => (offset & 1 ? 0xff : this.readRegister(1, offset >> 1)),
      write: (offset, _size, value) => {
        if (!(offset & 1)) this.writeRegister(1, offset >> 1, value & 0xff);
      },
    });
    io.register({
      owner: 'isa-dma-page',
      base: 0x81,
      length: 15,
      read: (offset) => this.readPage(offset + 1),
      write: (offset, _size, value) => this.writePage(offset + 1, value & 0xff),
    });
    io.register({
      owner: 'isa-dma-high-page',
      base: 0x481,
      length: 11,
      read: (offset) => {
        const ch = PAGE_PORT.indexOf(offset + 1);
        return ch >= 0 && ch !== 4 ? this.channels[ch].highPage : 0xff;
      },
      write: (offset, _size, value) => {
        const ch = PAGE_PORT.indexOf(offset + 1);
        if (ch >= 0 && ch !== 4) this.channels[ch].highPage = value & 0xff;
      },
    });
    this.reset();
  }

  /** The device-facing handle for channel `n` (0-7). */
  channel(n: number): IsaDmaChannel {
    if (!Number.isInteger(n) || n < 0 || n > 7 || n === 4) throw new RangeError(`isa-dma: no usable DMA channel ${n}`);
    const ch = this.channels[n];
    return {
      holdRequest: (service) => {
        ch.service = service;
        ch.reachedTc = false;
        this.runRequests();
      },
      releaseRequest: () => {
        ch.service = undefined;
      },
      transferType: () => (ch.mode >> 2) & 3,
      writeMemory: (src) => this.transfer(n, src, true),
      readMemory: (dest) => this.transfer(n, dest, false),
      terminalCount: () => ch.reachedTc,
    };
  }

  reset(): void {
    for (const c of this.controllers) this.masterClear(c);
    for (const ch of this.channels) {
      ch.baseAddress = ch.currentAddress = ch.baseCount = ch.currentCount = 0;
      ch.mode = ch.page = ch.highPage = 0;
      ch.reachedTc = false;
    }
    this.pageFile.fill(0);
  }

  saveState(): DeviceState {
    return {
      version: 1,
      channels: this.channels.map((c) => ({
        baseAddress: c.baseAddress,
        currentAddress: c.currentAddress,
        baseCount: c.baseCount,
        currentCount: c.currentCount,
        mode: c.mode,
        page: c.page,
        highPage: c.highPage,
        reachedTc: c.reachedTc,
      })),
      controllers: this.controllers.map((c) => ({ command: c.command, status: c.status, request: c.request, mask: c.mask, flipFlop: c.flipFlop })),
      pageFile: Uint8Array.from(this.pageFile),
    };
  }

  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
    const channels = state.channels as Omit<Channel, 'service'>[];
    const controllers = state.controllers as Controller[];
    channels.forEach((c, i) => Object.assign(this.channels[i], c));
    controllers.forEach((c, i) => Object.assign(this.controllers[i], c));
    this.pageFile.set(state.pageFile as Uint8Array);
  }

  // --- registers --------------------------------------------------------------------------

  private readRegister(ctl: number, reg: number): number {
    const c = this.controllers[ctl];
    if (reg < 8) {
      const ch = this.channels[ctl * 4 + (reg >> 1)];
      const value = reg & 1 ? ch.currentCount : ch.currentAddress;
      const high = c.flipFlop;
      c.flipFlop = !c.flipFlop;
      return high ? value >> 8 : value & 0xff;
    }
    switch (reg) {
      case 8: {
        // Status: terminal counts (cleared by this read) and pending requests.
        let requests = c.request;
        for (let i = 0; i < 4; i++) if (this.channels[ctl * 4 + i].service) requests |= 1 << i;
        const value = (c.status & 0x0f) | (requests << 4);
        c.status &= ~0x0f;
        return value;
      }
      case 0x0d:
        return 0; // temporary register: only memory-to-memory transfers fill it
      case 0x0f:
        return 0xf0 | c.mask; // the PIIX lets software read back all mask bits here
      default:
        return 0xff; // write-only registers
    }
  }

  private writeRegister(ctl: number, reg: number, value: number): void {
    const c = this.controllers[ctl];
    if (reg < 8) {
      const ch = this.channels[ctl * 4 + (reg >> 1)];
      const high = c.flipFlop;
      c.flipFlop = !c.flipFlop;
      // Writing programs the base and the current register together.
      if (reg & 1) {
        ch.baseCount = high ? (ch.baseCount & 0xff) | (value << 8) : (ch.baseCount & 0xff00) | value;
        ch.currentCount = ch.baseCount;
      } else {
        ch.baseAddress = high ? (ch.baseAddress & 0xff) | (value << 8) : (ch.baseAddress & 0xff00) | value;
        ch.currentAddress = ch.baseAddress;
      }
      return;
    }
    switch (reg) {
      case 8:
        c.command = value;
        break;
      case 9:
        // Software request: only meaningful for memory-to-memory transfers; shown in status.
        c.request = value & 4 ? c.request | (1 << (value & 3)) : c.request & ~(1 << (value & 3));
        break;
      case 0x0a:
        c.mask = value & 4 ? c.mask | (1 << (value & 3)) : c.mask & ~(1 << (value & 3));
        break;
      case 0x0b:
        this.channels[ctl * 4 + (value & 3)].mode = value & 0xfc;
        break;
      case 0x0c:
        c.flipFlop = false;
        break;
      case 0x0d:
        this.masterClear(c);
        break;
      case 0x0e:
        c.mask = 0;
        break;
      case 0x0f:
        c.mask = value & 0x0f;
        break;
    }
    this.runRequests();
  }

  private masterClear(c: Controller): void {
    c.command = 0;
    c.status = 0;
    c.request = 0;
    c.flipFlop = false;
    c.mask = 0x0f;
  }

  private readPage(reg: number): number {
    const ch = PAGE_PORT.indexOf(reg);
    return ch >= 0 && ch !== 4 ? this.channels[ch].page : this.pageFile[reg];
  }

  private writePage(reg: number, value: number): void {
    const ch = PAGE_PORT.indexOf(reg);
    if (ch >= 0 && ch !== 4) {
      this.channels[ch].page = value;
      this.channels[ch].highPage = 0;
    } else {
      this.pageFile[reg] = value;
    }
  }

  // --- transfers --------------------------------------------------------------------------

  private canRun(n: number): boolean {
    const ctl = this.controllers[n >> 2];
    if (ctl.mask & (1 << (n & 3))) return false;
    if (ctl.command & 4) return false; // controller disabled
    if ((this.channels[n].mode >> 6) === 3) return false; // cascade mode: no transfers of its own
    if (n < 4) {
      const dma2 = this.controllers[1];
      if (dma2.mask & 1 || dma2.command & 4) return false;
    }
    return true;
  }

  /** Call the service of every channel that holds a request and can run now. */
  private runRequests(): void {
    if (this.servicing) return;
    this.servicing = true;
    try {
      for (let n = 0; n < 8; n++) {
        const service = this.channels[n].service;
        if (service && this.canRun(n)) service();
      }
    } finally {
      this.servicing = false;
    }
  }

  private transfer(n: number, data: Uint8Array, toMemory: boolean): number {
    if (!this.canRun(n)) return 0;
    const ch = this.channels[n];
    const word = n >= 4;
    const unit = word ? 2 : 1;
    const type = (ch.mode >> 2) & 3;
    const decrement = (ch.mode & 0x20) !== 0;
    const units = Math.floor(data.length / unit);
    let done = 0;
    while (done < units) {
      // A run of units up to terminal count and, when incrementing, up to the wrap of the
      // 16-bit address counter (the page register does not carry).
      let run = Math.min(units - done, ch.currentCount + 1);
      if (!decrement) run = Math.min(run, 0x10000 - ch.currentAddress);
      else run = 1;
      const address = this.physicalAddress(n, ch.currentAddress);
      const bytes = data.subarray(done * unit, (done + run) * unit);
      if (toMemory) {
        if (type === DMA_WRITE) this.memory.write(address, bytes);
      } else if (type === DMA_READ) {
        this.memory.read(address, bytes);
      } else {
        bytes.fill(0xff); // nothing drives the data bus
      }
      done += run;
      ch.currentAddress = (decrement ? ch.currentAddress - run : ch.currentAddress + run) & 0xffff;
      const count = ch.currentCount - run;
      ch.currentCount = count & 0xffff;
      if (count < 0) {
        this.terminalCountReached(n);
        break;
      }
    }
    return done * unit;
  }

  private physicalAddress(n: number, address: number): number {
    const ch = this.channels[n];
    const high = ch.highPage * 0x1000000;
    return n >= 4 ? high + (ch.page & 0xfe) * 0x10000 + address * 2 : high + ch.page * 0x10000 + address;
  }

  private terminalCountReached(n: number): void {
    const ch = this.channels[n];
    const ctl = this.controllers[n >> 2];
    ctl.status |= 1 << (n & 3);
    ch.reachedTc = true;
    if (ch.mode & 0x10) {
      ch.currentAddress = ch.baseAddress;
      ch.currentCount = ch.baseCount;
    } else {
      ctl.mask |= 1 << (n & 3);
    }
  }
}
